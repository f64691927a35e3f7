package flow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultCallbackWait is how long a login waits for the browser to come
// back to the redirect URI.
const DefaultCallbackWait = 5 * time.Minute

// LoginConfig is what one test login needs besides the IdP itself. Build it
// from flags, or from a stored connection with LoginConfigFromConnection.
type LoginConfig struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	// ExtraScopes are requested after "openid email profile". Nil means the
	// default: "groups" when the IdP's scopes_supported lists it.
	ExtraScopes []string
	Claims      ClaimMapping
	Roles       RoleAssignment
	// TokenAuthMethod is how the client authenticates at the token
	// endpoint (AuthMethodBasic or AuthMethodPost); "" chooses from what
	// the IdP advertises, client_secret_basic first.
	TokenAuthMethod string
	// Wait bounds the wait for the browser's callback; zero means
	// DefaultCallbackWait.
	Wait time.Duration
}

// LoginConfigFromConnection is the login configuration of a stored
// connection; its provider comes from DiscoverProvider(c.DiscoveryURL).
func LoginConfigFromConnection(c Connection) LoginConfig {
	return LoginConfig{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURI:  c.RedirectURI,
		Claims:       c.Claims,
		Roles:        c.Roles(),

		TokenAuthMethod: c.TokenAuthMethod,
	}
}

// LoginResult is a successful login: the verified ID token's claims (with
// what userinfo added), and the profile mapped from them.
type LoginResult struct {
	Profile Profile
	// Claims are the ID token's claims, plus the userinfo claims the ID
	// token lacked when userinfo was asked.
	Claims map[string]any
	// IDTokenClaims are the verified ID token's claims alone.
	IDTokenClaims map[string]any
	// UsedUserinfo reports whether the userinfo endpoint was asked.
	UsedUserinfo bool
	// Warnings name what could not be filled, in plain words.
	Warnings []string
}

// Login is one authorization code login in progress: state, nonce and PKCE
// verifier, registered with a CallbackServer until Close.
type Login struct {
	p        *Provider
	cfg      LoginConfig
	oauth    oauth2.Config
	state    string
	nonce    string
	verifier string
	notes    []string
	callback <-chan *Callback
	cancel   func()
}

// StartLogin prepares a login against p with cfg and registers its state
// with srv, so the callback is routed to it. Call AuthURL for the URL to
// open, Wait for the outcome, and Close when done.
func (p *Provider) StartLogin(srv *CallbackServer, cfg LoginConfig) (*Login, error) {
	l := &Login{p: p}
	cfg.ClientID = l.trimmed(cfg.ClientID, "client ID")
	cfg.ClientSecret = l.trimmed(cfg.ClientSecret, "client secret")
	if cfg.ClientID == "" {
		return nil, &Error{Code: CodeNoClientID, Message: "no client ID given", Fix: "copy the Client ID from the app in the IdP"}
	}
	if cfg.ClientSecret == "" {
		return nil, &Error{Code: CodeNoClientSecret, Message: "no client secret given",
			Fix: "set OIDC_CLIENT_SECRET or pass --client-secret-file with the app's Client Secret"}
	}
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = srv.RedirectURI()
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultCallbackWait
	}
	style, err := authStyle(p.md, cfg.TokenAuthMethod)
	if err != nil {
		return nil, err
	}
	if m := cfg.TokenAuthMethod; m != "" && !slices.Contains(p.md.TokenAuthMethods(), m) {
		l.notes = append(l.notes, fmt.Sprintf("the IdP does not advertise %s (it lists %s); using it as set", m, strings.Join(p.md.TokenAuthMethods(), ", ")))
	}
	if cfg.ExtraScopes == nil && slices.Contains(p.md.ScopesSupported, "groups") {
		cfg.ExtraScopes = []string{"groups"}
	}
	l.cfg = cfg
	l.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  cfg.RedirectURI,
		Scopes:       scopes(cfg.ExtraScopes),
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.md.AuthorizationEndpoint,
			TokenURL:  p.md.TokenEndpoint,
			AuthStyle: style,
		},
	}
	l.state, l.nonce, l.verifier = randomToken(), randomToken(), oauth2.GenerateVerifier()
	l.callback, l.cancel, err = srv.Register(cfg.RedirectURI, l.state)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// AuthURL is the authorization URL the person opens in a browser.
func (l *Login) AuthURL() string {
	return l.oauth.AuthCodeURL(l.state,
		oauth2.SetAuthURLParam("nonce", l.nonce),
		oauth2.S256ChallengeOption(l.verifier))
}

// State is the login's state value, which routes its callback.
func (l *Login) State() string { return l.state }

// RedirectURI is the redirect URI the login sends.
func (l *Login) RedirectURI() string { return l.cfg.RedirectURI }

// Notes are remarks about the input, e.g. whitespace removed from a pasted
// secret, for the caller to show.
func (l *Login) Notes() []string { return l.notes }

// Close forgets the login's state; a late callback then gets HTTP 400.
func (l *Login) Close() { l.cancel() }

// Wait waits for the callback (at most the configured wait, or until ctx
// ends), exchanges the code, verifies the ID token, asks userinfo for mapped
// claims the ID token lacks, and maps the profile. The browser is told the
// outcome. Every failure is an *Error.
func (l *Login) Wait(ctx context.Context) (*LoginResult, error) {
	defer l.Close()
	cb, err := waitCallback(ctx, l.callback, l.cfg.Wait, l.cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	res, err := l.complete(ctx, cb)
	if err != nil {
		msg, _ := Explain(err)
		cb.Reply(ResultPage{Title: "Sign-in failed", Message: "The test login did not succeed: " + msg + ". Return to the terminal for what to do."})
		return nil, err
	}
	cb.Reply(ResultPage{OK: true, Title: "Signed in", Message: "The test login worked. You can close this tab and return to the terminal."})
	return res, nil
}

func (l *Login) complete(ctx context.Context, cb *Callback) (*LoginResult, error) {
	// What the IdP writes is redacted as it arrives, so that no echo of
	// the secret, the code or the verifier reaches a screen, the store or
	// the audit log.
	ec := l.errorContext(cb.Code)
	if cb.Error != "" {
		return nil, callbackError(Code(ec.redact(cb.Error)), ec.redact(cb.ErrorDescription), ec)
	}
	if cb.Issuer != "" && cb.Issuer != l.p.md.Issuer {
		return nil, &Error{Code: CodeCallbackIssuerMismatch,
			Message: fmt.Sprintf("the callback came from another issuer:\n  expected: %s\n  callback: %s", l.p.md.Issuer, cb.Issuer),
			Fix:     "another IdP answered this login; check that the discovery URL and the app belong to the same IdP"}
	}
	if cb.Code == "" {
		return nil, &Error{Code: CodeNoCode, Message: "the callback carried neither a code nor an error",
			Fix: "ask the IdP admin to check that the app uses the Authorization Code flow (response type \"code\")"}
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, l.p.client)
	tok, err := l.oauth.Exchange(hctx, cb.Code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		return nil, tokenError(err, l.p.md.TokenEndpoint, ec)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, &Error{Code: CodeNoIDToken, Message: "the token response has no id_token, so the login cannot be verified",
			Fix: "ask the IdP admin to make the app an OpenID Connect app and allow the openid scope"}
	}
	idt, err := l.p.verifyIDToken(ctx, rawID, idTokenExpectations{
		clientID: l.cfg.ClientID, nonce: l.nonce, accessToken: tok.AccessToken, now: time.Now()})
	if err != nil {
		return nil, err // never call userinfo on a token that failed
	}
	res := &LoginResult{IDTokenClaims: idt.Claims, Claims: idt.Claims}
	if missing := missingClaims(idt.Claims, l.cfg.Claims, l.cfg.Roles); len(missing) > 0 && l.p.md.UserinfoEndpoint != "" && tok.AccessToken != "" {
		merged, warn, err := l.p.addUserinfo(hctx, tok.AccessToken, idt)
		if err != nil {
			return nil, err
		}
		res.Claims, res.UsedUserinfo = merged, true
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
	}
	var warnings []string
	res.Profile, warnings = MapProfile(res.Claims, l.cfg.Claims, l.cfg.Roles)
	if granted, short := l.scopesNotGranted(tok); len(short) > 0 {
		missing := missingClaims(res.Claims, l.cfg.Claims, l.cfg.Roles)
		if w := scopeWarning(granted, l.oauth.Scopes, short, missing); w != "" {
			res.Warnings = append(res.Warnings, w)
			warnings = withoutClaims(warnings, missing)
		}
	}
	res.Warnings = append(res.Warnings, warnings...)
	return res, nil
}

// scopesNotGranted lists the scopes asked that the token response's
// "scope" leaves out; none when it has no "scope" (then all were granted,
// RFC 6749 5.1).
func (l *Login) scopesNotGranted(tok *oauth2.Token) (granted string, short []string) {
	granted, _ = tok.Extra("scope").(string)
	if strings.TrimSpace(granted) == "" {
		return "", nil
	}
	have := strings.Fields(granted)
	for _, s := range l.oauth.Scopes {
		if !slices.Contains(have, s) {
			short = append(short, s)
		}
	}
	return strings.Join(have, " "), short
}

// scopeWarning says that mapped claims are missing because the IdP
// granted fewer scopes than asked, or "" when no claim is missing.
func scopeWarning(granted string, asked, short, missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("the IdP granted only the scopes %q of the %q asked, so the claims lack %s: "+
		"the scopes %s were not granted (the app is not allowed them, or they were left out at consent), not a claim the IdP forgot; "+
		"allow %s for this app in the IdP (or approve them on the consent screen) and run the login again",
		granted, strings.Join(asked, " "), strings.Join(missing, ", "), strings.Join(short, ", "), strings.Join(short, ", "))
}

// withoutClaims drops the mapping's warnings about the named claims, which
// the scope warning explains.
func withoutClaims(warnings, claims []string) []string {
	return slices.DeleteFunc(warnings, func(w string) bool {
		return slices.ContainsFunc(claims, func(c string) bool { return strings.Contains(w, fmt.Sprintf("have no %q", c)) })
	})
}

// missingClaims lists the mapped claims the ID token lacks.
func missingClaims(claims map[string]any, m ClaimMapping, r RoleAssignment) []string {
	var missing []string
	for _, name := range MappedClaims(m, r) {
		if v, ok := claims[name]; !ok || v == nil || v == "" {
			missing = append(missing, name)
		}
	}
	return missing
}

// addUserinfo asks the userinfo endpoint with the access token and adds the
// claims the ID token lacks. Its sub must be the ID token's. An endpoint
// that does not answer usefully is only a warning: the login itself is
// verified.
func (p *Provider) addUserinfo(ctx context.Context, accessToken string, idt *VerifiedIDToken) (map[string]any, string, error) {
	info, err := p.userinfo(ctx, accessToken)
	if err != nil {
		msg, _ := Explain(err)
		return idt.Claims, "userinfo could not fill the missing claims: " + msg, nil
	}
	sub, _ := info["sub"].(string)
	if sub != idt.Subject {
		return nil, "", &Error{Code: CodeUserinfoSubMismatch,
			Message: fmt.Sprintf("the userinfo endpoint describes another user (sub %q) than the ID token (sub %q)", sub, idt.Subject),
			Fix:     "the IdP's userinfo answer cannot be trusted for this login; ask the IdP admin to check the userinfo endpoint"}
	}
	merged := make(map[string]any, len(idt.Claims)+len(info))
	for k, v := range info {
		merged[k] = v
	}
	for k, v := range idt.Claims {
		merged[k] = v // the signed ID token wins over userinfo
	}
	return merged, "", nil
}

func (p *Provider) userinfo(ctx context.Context, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.md.UserinfoEndpoint, nil)
	if err != nil {
		return nil, &Error{Code: CodeBadURL, Message: "the userinfo_endpoint is not a URL", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &Error{Code: CodeUserinfoUnreachable, Message: "could not reach the userinfo endpoint", Err: shortErr(err)}
	}
	body, err := ReadBody(resp)
	if err != nil {
		return nil, &Error{Code: CodeUserinfoUnreachable, Message: "could not read the userinfo answer", Err: shortErr(err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Code: CodeUserinfoStatus, Message: fmt.Sprintf("the userinfo endpoint answered HTTP %d", resp.StatusCode)}
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, &Error{Code: CodeUserinfoNotJSON, Message: "the userinfo answer is not a JSON object (signed userinfo is not supported)"}
	}
	return info, nil
}

// The client authentication methods a login can use at the token endpoint.
const (
	AuthMethodBasic = "client_secret_basic" // the secret in a Basic header
	AuthMethodPost  = "client_secret_post"  // the secret in the form body
)

// ValidTokenAuthMethod reports whether m is a method a login can be told
// to use, or "" (choose from what the IdP advertises).
func ValidTokenAuthMethod(m string) bool {
	return m == "" || m == AuthMethodBasic || m == AuthMethodPost
}

// OffersBothAuthMethods reports whether the IdP advertises both
// client_secret_basic and client_secret_post: the app may be registered
// for one only, so the connection's method is worth choosing.
func OffersBothAuthMethods(md *Metadata) bool {
	return md != nil && slices.Contains(md.TokenAuthMethods(), AuthMethodBasic) && slices.Contains(md.TokenAuthMethods(), AuthMethodPost)
}

// authStyle picks the client authentication: the one the connection
// names, else the one the IdP offers, the secret in a Basic header when
// offered, else in the form body; never both, and never auto-detected, so
// a failure names the method that was used.
func authStyle(md *Metadata, want string) (oauth2.AuthStyle, error) {
	switch want {
	case AuthMethodBasic:
		return oauth2.AuthStyleInHeader, nil
	case AuthMethodPost:
		return oauth2.AuthStyleInParams, nil
	case "":
	default:
		return 0, usageError("the token auth method %q is neither %s nor %s", want, AuthMethodBasic, AuthMethodPost)
	}
	methods := md.TokenAuthMethods()
	switch {
	case slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader, nil
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams, nil
	default:
		return 0, &Error{Code: CodeAuthMethodUnsupported,
			Message: fmt.Sprintf("the IdP offers only %s to authenticate the app at the token endpoint", strings.Join(methods, ", ")),
			Fix:     "ask the IdP admin to allow client_secret_basic or client_secret_post for this app"}
	}
}

// AuthMethod names the token endpoint authentication the login uses.
func (l *Login) AuthMethod() string {
	if l.oauth.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		return AuthMethodPost
	}
	return AuthMethodBasic
}

func scopes(extra []string) []string {
	s := []string{"openid", "email", "profile"}
	for _, e := range extra {
		for f := range strings.FieldsSeq(e) {
			if !slices.Contains(s, f) {
				s = append(s, f)
			}
		}
	}
	return s
}

// trimmed strips whitespace pasted around a value, with a note.
func (l *Login) trimmed(v, what string) string {
	t := strings.TrimSpace(v)
	if t != v && t != "" {
		l.notes = append(l.notes, fmt.Sprintf("removed spaces or line breaks pasted around the %s", what))
	}
	return t
}

// randomToken is 32 bytes of crypto randomness, base64url: for state and
// nonce.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
