// Package demoidp is a real OpenID Provider for demos and end-to-end tests:
// one confidential client, one user, started in-process on loopback.
//
// It is built on github.com/zitadel/oidc/v3/pkg/op with a small storage of
// its own: the module's example storage keeps its clients in a package-level
// map, so two providers started by parallel tests would share them.
//
// What it serves, below Issuer ("http://127.0.0.1:PORT"):
//
//	/.well-known/openid-configuration  discovery
//	/keys                               JWKS (one RSA key, generated at Start, RS256)
//	/authorize                          authorization code flow; PKCE S256 and a nonce are required
//	/login                              the sign-in page (see below)
//	/oauth/token                        code exchange, client authentication per Options.AuthMethod only
//	/userinfo                           the user's claims for the access token
//
// The sign-in page: /authorize answers 302 to "/login?id=ID". GET shows an
// HTML form, pre-filled with the demo user's credentials, that POSTs to
// "/login" (application/x-www-form-urlencoded) the fields "id" (hidden, the
// auth request ID), "username" and "password". Right credentials answer 302
// to "/authorize/callback?id=ID", which answers 302 to the redirect URI with
// "code" and "state". Wrong credentials answer 200 with the form again and an
// error. [IdP.SignIn] does all of this for a test, without a browser.
//
// The ID token carries sub, email, email_verified (scope email), name,
// preferred_username, given_name, family_name (scope profile) and groups
// (always, whatever the scopes: the "groups" scope is accepted but not needed).
package demoidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Defaults for Options and the demo user.
const (
	DefaultAddr         = "127.0.0.1:0"
	DefaultClientID     = "oidc-onboard-demo"
	DefaultClientSecret = "demo-secret-not-for-production-use"
	AuthMethodBasic     = string(oidc.AuthMethodBasic)
	AuthMethodPost      = string(oidc.AuthMethodPost)
)

// Options configure a demo IdP. The zero value is usable once RedirectURIs
// or AllowLoopbackRedirects is set.
type Options struct {
	// Addr is the listen address; default DefaultAddr. It must be a loopback address.
	Addr string
	// ClientID of the one registered client; default DefaultClientID.
	ClientID string
	// ClientSecret of that client; default DefaultClientSecret.
	ClientSecret string
	// RedirectURIs are the exact redirect URIs accepted for the client.
	RedirectURIs []string
	// AllowLoopbackRedirects also accepts any http://localhost|127.0.0.1|[::1]:<port>/<path>
	// redirect URI (for --demo, where each connection has its own redirect URI).
	AllowLoopbackRedirects bool
	// AuthMethod is how the client authenticates at the token endpoint:
	// AuthMethodBasic (default) or AuthMethodPost. Only that one is accepted.
	AuthMethod string
	// ErrorLog receives the HTTP server's own errors (a failed accept, a
	// handler's panic); nil means the log package's default logger, that
	// is standard error. The provider's library (zitadel's op) logs its
	// request errors to slog.Default whatever is set here.
	ErrorLog *log.Logger
}

// User is the demo user the IdP signs in.
type User struct {
	Subject, Username, Password, Email string
	EmailVerified                      bool
	GivenName, FamilyName              string
	Groups                             []string
}

// DemoUser returns the user every demo IdP signs in.
func DemoUser() User {
	return User{
		Subject:       "demo-user-0001",
		Username:      "ada",
		Password:      "demo-password",
		Email:         "ada.lovelace@example.com",
		EmailVerified: true,
		GivenName:     "Ada",
		FamilyName:    "Lovelace",
		Groups:        []string{"engineering", "oidc-admins"},
	}
}

// IdP is a running demo OpenID Provider.
type IdP struct {
	// Issuer is "http://127.0.0.1:PORT" (or the loopback address listened on).
	Issuer string
	// DiscoveryURL is Issuer + "/.well-known/openid-configuration".
	DiscoveryURL string
	// ClientID and ClientSecret are the registered client's credentials.
	ClientID, ClientSecret string
	// AuthMethod is the one token endpoint auth method accepted (and advertised).
	AuthMethod string
	// User is the demo user.
	User User

	server    *http.Server
	served    chan error
	ready     chan struct{} // closed once handler or startErr is set
	handler   http.Handler
	startErr  error
	closeOnce sync.Once
	closeErr  error
}

// WizardAddr is where `oidc-onboard --demo` (and `serve --demo`) listens
// unless the port is taken, so that a demo draft resumed in a later run
// still finds its IdP at the discovery URL it saved.
const WizardAddr = "127.0.0.1:8977"

// StartForWizard starts the demo IdP the wizard uses: on WizardAddr when
// it can, else on a free loopback port, accepting any loopback Redirect URI.
// Its HTTP server's errors go to errorLog (see Options.ErrorLog).
func StartForWizard(ctx context.Context, errorLog *log.Logger) (*IdP, error) {
	idp, err := Start(ctx, Options{Addr: WizardAddr, AllowLoopbackRedirects: true, ErrorLog: errorLog})
	if flow.IsCode(err, flow.CodeDemoIdPListen) {
		idp, err = Start(ctx, Options{AllowLoopbackRedirects: true, ErrorLog: errorLog})
	}
	return idp, err
}

// Start listens on opts.Addr and serves the provider until Close. ctx
// bounds the start only. It is listening when Start returns, so its
// Issuer and DiscoveryURL are known at once; the slow part (an RSA signing
// key) is made in the background, and a request that comes before it is
// ready waits for it. Ready reports when it is.
func Start(ctx context.Context, opts Options) (*IdP, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	ln, err := listen(ctx, opts.Addr)
	if err != nil {
		return nil, err
	}
	user := DemoUser()
	idp := &IdP{
		Issuer:       "http://" + ln.Addr().String(),
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		AuthMethod:   opts.AuthMethod,
		User:         user,
		served:       make(chan error, 1),
		ready:        make(chan struct{}),
	}
	idp.DiscoveryURL = idp.Issuer + flow.WellKnownPath
	idp.server = &http.Server{
		Handler:           http.HandlerFunc(idp.serveWhenReady),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          opts.ErrorLog,
	}
	go func() {
		defer close(idp.ready)
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			idp.startErr = fmt.Errorf("demo IdP: generate signing key: %w", err)
			return
		}
		idp.handler, idp.startErr = newHandler(idp.Issuer, opts, user, key)
	}()
	go func() { idp.served <- idp.server.Serve(ln) }()
	return idp, nil
}

// Ready waits until the provider can answer (its signing key made) and
// returns what stopped it from starting, if anything.
func (p *IdP) Ready(ctx context.Context) error {
	select {
	case <-p.ready:
		return p.startErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveWhenReady holds a request until the provider is ready.
func (p *IdP) serveWhenReady(w http.ResponseWriter, r *http.Request) {
	if err := p.Ready(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	p.handler.ServeHTTP(w, r)
}

// Close stops the server, waiting up to five seconds for requests in flight.
// Calling it again returns the first call's result.
func (p *IdP) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.shutdown() })
	return p.closeErr
}

func (p *IdP) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = p.server.Close()
	}
	if serveErr := <-p.served; !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(err, serveErr)
	}
	return err
}

func withDefaults(opts Options) (Options, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.AuthMethod == "" {
		opts.AuthMethod = AuthMethodBasic
	}
	opts.RedirectURIs = slices.Clone(opts.RedirectURIs)
	if opts.AuthMethod != AuthMethodBasic && opts.AuthMethod != AuthMethodPost {
		return opts, optionError(fmt.Sprintf("auth method %q is not supported", opts.AuthMethod),
			"use client_secret_basic or client_secret_post")
	}
	if len(opts.RedirectURIs) == 0 && !opts.AllowLoopbackRedirects {
		return opts, optionError("no redirect URI is accepted",
			"set RedirectURIs, AllowLoopbackRedirects, or both")
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil || !flow.IsLoopbackHost(host) {
		return opts, optionError(fmt.Sprintf("listen address %q is not a loopback host:port", opts.Addr),
			"use an address such as 127.0.0.1:0 or [::1]:8080; the demo IdP never listens on the network")
	}
	return opts, nil
}

func optionError(message, fix string) error {
	return &flow.Error{Code: flow.CodeDemoIdPOptions, Message: "demo IdP: " + message, Fix: fix}
}

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, &flow.Error{
			Code:    flow.CodeDemoIdPListen,
			Message: fmt.Sprintf("demo IdP: cannot listen on %s", addr),
			Fix:     "the port is probably taken by another program: pick another one, or port 0 for any free port",
			Err:     err,
		}
	}
	return ln, nil
}

// newHandler builds the provider and the routes around it.
func newHandler(issuer string, opts Options, user User, key *rsa.PrivateKey) (http.Handler, error) {
	store := newStorage(opts, user, key)
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("demo IdP: generate crypto key: %w", err)
	}
	config := &op.Config{
		CryptoKey:       cryptoKey,
		CodeMethodS256:  true,
		AuthMethodPost:  opts.AuthMethod == AuthMethodPost,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile, scopeGroups},
		SupportedClaims: supportedClaims(),
	}
	provider, err := op.NewProvider(config, store, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("demo IdP: create provider: %w", err)
	}
	return newRoutes(issuer, provider, store, opts), nil
}

// supportedClaims lists what the ID token can carry.
func supportedClaims() []string {
	return []string{
		"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash", "c_hash",
		"name", "preferred_username", "given_name", "family_name",
		"email", "email_verified", claimGroups,
	}
}
