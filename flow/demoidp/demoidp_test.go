package demoidp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
)

// redirectURI is registered for the client but never contacted: the test
// browser stops at it.
const redirectURI = "http://127.0.0.1:9/callback"

func start(t *testing.T, opts demoidp.Options) *demoidp.IdP {
	t.Helper()
	idp, err := demoidp.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := idp.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return idp
}

// login is one authorization request made by the test, as a relying party would.
type login struct {
	idp         *demoidp.IdP
	provider    *oidc.Provider
	config      oauth2.Config
	state       string
	nonce       string
	verifier    string
	redirectURI string
}

func newLogin(t *testing.T, idp *demoidp.IdP, redirect string, style oauth2.AuthStyle) *login {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), idp.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	return &login{
		idp:      idp,
		provider: provider,
		config: oauth2.Config{
			ClientID:     idp.ClientID,
			ClientSecret: idp.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  redirect,
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
		},
		state:       oauth2.GenerateVerifier(),
		nonce:       oauth2.GenerateVerifier(),
		verifier:    oauth2.GenerateVerifier(),
		redirectURI: redirect,
	}
}

func (l *login) authURL() string {
	return l.config.AuthCodeURL(l.state, oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce))
}

// browser follows redirects except the one to the redirect URI, which it
// returns as the response.
func browser(redirect string) *http.Client {
	return &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func get(t *testing.T, client *http.Client, target string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, client, req)
}

func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// signInForm is the login page's form as a browser sees it.
type signInForm struct {
	action string
	fields url.Values
}

func parseForm(t *testing.T, page string) signInForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse login page: %v", err)
	}
	var form signInForm
	var found bool
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "form":
			found = true
			form.action = attr(n, "action")
			form.fields = url.Values{}
		case "input":
			if found {
				form.fields.Set(attr(n, "name"), attr(n, "value"))
			}
		}
	}
	if !found {
		t.Fatalf("no form on the login page:\n%s", page)
	}
	return form
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// openLoginPage opens the authorization URL and returns the final page and its URL.
func openLoginPage(t *testing.T, client *http.Client, authURL string) (*http.Response, string) {
	t.Helper()
	resp, body := get(t, client, authURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorization: HTTP %d, want the login page: %s", resp.StatusCode, body)
	}
	return resp, body
}

func submit(t *testing.T, client *http.Client, page *http.Response, form signInForm) (*http.Response, string) {
	t.Helper()
	action, err := page.Request.URL.Parse(form.action)
	if err != nil {
		t.Fatalf("form action %q: %v", form.action, err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, action.String(), strings.NewReader(form.fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, client, req)
}

// signIn drives the login page with a plain HTTP client and returns the
// redirect to the redirect URI.
func (l *login) signIn(t *testing.T) *url.URL {
	t.Helper()
	client := browser(l.redirectURI)
	page, body := openLoginPage(t, client, l.authURL())
	resp, body := submit(t, client, page, parseForm(t, body))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign in: HTTP %d, want 302 to the redirect URI: %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func (l *login) code(t *testing.T, callback *url.URL) string {
	t.Helper()
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != l.redirectURI {
		t.Fatalf("redirected to %s, want %s", got, l.redirectURI)
	}
	q := callback.Query()
	if q.Get("error") != "" {
		t.Fatalf("callback error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != l.state {
		t.Fatalf("state = %q, want %q", q.Get("state"), l.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", callback)
	}
	return q.Get("code")
}

func (l *login) exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	return l.config.Exchange(ctx, code, oauth2.VerifierOption(l.verifier))
}

func (l *login) verify(t *testing.T, token *oauth2.Token) *oidc.IDToken {
	t.Helper()
	raw, ok := token.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token in the token response")
	}
	idToken, err := l.provider.Verifier(&oidc.Config{ClientID: l.idp.ClientID}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idToken.Nonce != l.nonce {
		t.Fatalf("nonce = %q, want %q", idToken.Nonce, l.nonce)
	}
	return idToken
}

type claims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	Groups        []string `json:"groups"`
}

func wantClaims(t *testing.T, got claims, u demoidp.User) {
	t.Helper()
	want := claims{u.Subject, u.Email, u.EmailVerified, u.GivenName, u.FamilyName, u.Groups}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}
}

func TestCodeFlowBasic(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)

	token, err := l.exchange(t.Context(), l.code(t, l.signIn(t)))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idToken := l.verify(t, token)
	if idToken.Issuer != idp.Issuer || !slices.Equal(idToken.Audience, []string{idp.ClientID}) {
		t.Fatalf("iss %q aud %v, want %q [%s]", idToken.Issuer, idToken.Audience, idp.Issuer, idp.ClientID)
	}
	var got claims
	if err := idToken.Claims(&got); err != nil {
		t.Fatal(err)
	}
	wantClaims(t, got, idp.User)
	if len(got.Groups) == 0 {
		t.Fatal("the demo user has no groups")
	}

	info, err := l.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(token))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var fromInfo claims
	if err := info.Claims(&fromInfo); err != nil {
		t.Fatal(err)
	}
	wantClaims(t, fromInfo, idp.User)
}

func TestCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	code := l.code(t, l.signIn(t))
	if _, err := l.exchange(t.Context(), code); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err := l.exchange(t.Context(), code)
	wantOAuthError(t, err, "invalid_grant")
}

func TestWrongVerifierRefused(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	code := l.code(t, l.signIn(t))
	_, err := l.config.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantOAuthError(t, err, "invalid_grant")
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Fatalf("exchange succeeded, want %s", code)
	}
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("exchange error = %v, want %s", err, code)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	if !strings.HasPrefix(idp.Issuer, "http://127.0.0.1:") {
		t.Fatalf("issuer = %q", idp.Issuer)
	}
	if idp.DiscoveryURL != idp.Issuer+"/.well-known/openid-configuration" {
		t.Fatalf("discovery URL = %q", idp.DiscoveryURL)
	}
	d, err := flow.FetchDiscovery(t.Context(), flow.NewHTTPClient(flow.ClientOptions{}), idp.DiscoveryURL)
	if err != nil {
		t.Fatalf("FetchDiscovery: %v", err)
	}
	m := d.Metadata
	if m.Issuer != idp.Issuer {
		t.Errorf("issuer = %q, want %q", m.Issuer, idp.Issuer)
	}
	wantAll := func(name string, got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s = %v, missing %q", name, got, w)
			}
		}
	}
	wantAll("scopes_supported", m.ScopesSupported, "openid", "email", "profile", "groups")
	wantAll("claims_supported", m.ClaimsSupported,
		"sub", "email", "email_verified", "given_name", "family_name", "groups")
	if !slices.Equal(m.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", m.CodeChallengeMethodsSupported)
	}
	if !slices.Equal(m.TokenEndpointAuthMethodsSupported, []string{"client_secret_basic"}) {
		t.Errorf("token_endpoint_auth_methods_supported = %v", m.TokenEndpointAuthMethodsSupported)
	}
	if !slices.Equal(m.ResponseTypesSupported, []string{"code"}) {
		t.Errorf("response_types_supported = %v", m.ResponseTypesSupported)
	}
	if !slices.Equal(m.IDTokenSigningAlgValuesSupported, []string{"RS256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v", m.IDTokenSigningAlgValuesSupported)
	}
	resp, body := get(t, http.DefaultClient, m.JWKSURI)
	var jwks struct {
		Keys []struct{ Kty, Alg, Use, Kid string } `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &jwks); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: HTTP %d %v: %s", resp.StatusCode, err, body)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Kid == "" {
		t.Fatalf("JWKS keys = %+v, want one RSA RS256 key with a kid", jwks.Keys)
	}
}

func TestWrongPasswordReshowsForm(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	client := browser(redirectURI)
	page, body := openLoginPage(t, client, l.authURL())
	if !strings.Contains(body, "oidc-onboard demo IdP") {
		t.Errorf("the login page does not say it is the demo IdP:\n%s", body)
	}
	form := parseForm(t, body)
	for _, name := range []string{"id", "username", "password"} {
		if form.fields.Get(name) == "" {
			t.Fatalf("field %q is missing or empty in %v", name, form.fields)
		}
	}
	if form.fields.Get("username") != idp.User.Username || form.fields.Get("password") != idp.User.Password {
		t.Fatalf("the form is not pre-filled with the demo user's credentials: %v", form.fields)
	}
	id := form.fields.Get("id")
	form.fields.Set("password", "not-the-password")

	resp, body := submit(t, client, page, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Wrong username or password") {
		t.Fatalf("wrong password: HTTP %d, want the form again with an error:\n%s", resp.StatusCode, body)
	}
	again := parseForm(t, body)
	if again.fields.Get("id") != id || again.fields.Get("username") != idp.User.Username {
		t.Fatalf("the form shown again lost the request or the username: %v", again.fields)
	}

	// The same request can still be completed.
	again.fields.Set("password", idp.User.Password)
	resp, body = submit(t, client, page, again)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("right password after a wrong one: HTTP %d: %s", resp.StatusCode, body)
	}
	loc, _ := resp.Location()
	l.code(t, loc)
}

func TestUnknownAuthRequestOnLoginPage(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	resp, body := get(t, http.DefaultClient, idp.Issuer+"/login?id=nope")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown or has expired") {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
}

func TestUnregisteredRedirectRefused(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	for _, uri := range []string{
		"http://127.0.0.1:9/other",
		"http://localhost:8976/callback", // loopback, but loopback redirects are not allowed here
		"https://attacker.example/callback",
	} {
		l := newLogin(t, idp, uri, oauth2.AuthStyleInHeader)
		resp, body := get(t, browser(uri), l.authURL())
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: HTTP %d Location %q, want 400 and no redirect: %s",
				uri, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if _, err := idp.SignIn(t.Context(), l.authURL()); err == nil || !strings.Contains(err.Error(), "redirect_uri") {
			t.Errorf("SignIn with %s: err = %v, want a redirect_uri refusal", uri, err)
		}
	}
}

func TestLoopbackRedirects(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{AllowLoopbackRedirects: true})
	for _, uri := range []string{
		"http://localhost:8976/callback/conn_7h3kq9",
		"http://127.0.0.1:1234/cb",
		"http://[::1]:5555/",
	} {
		l := newLogin(t, idp, uri, oauth2.AuthStyleInHeader)
		code := l.code(t, l.signIn(t))
		token, err := l.exchange(t.Context(), code)
		if err != nil {
			t.Fatalf("%s: exchange: %v", uri, err)
		}
		l.verify(t, token)
	}
	for _, uri := range []string{
		"https://localhost:8976/callback",
		"http://localhost/callback", // no port
		"http://localhost:1@attacker.example/cb",
		"http://attacker.example:8976/callback",
		"http://127.0.0.2:8976/callback",
	} {
		l := newLogin(t, idp, uri, oauth2.AuthStyleInHeader)
		resp, body := get(t, browser(uri), l.authURL())
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d Location %q, want 400: %s", uri, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
}

func TestPKCEAndNonceRequired(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	for name, authURL := range map[string]string{
		"no PKCE":  l.config.AuthCodeURL(l.state, oidc.Nonce(l.nonce)),
		"plain":    l.config.AuthCodeURL(l.state, oidc.Nonce(l.nonce), oauth2.SetAuthURLParam("code_challenge", l.verifier)),
		"no nonce": l.config.AuthCodeURL(l.state, oauth2.S256ChallengeOption(l.verifier)),
	} {
		loc, err := idp.SignIn(t.Context(), authURL)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		q := loc.Query()
		if q.Get("error") != "invalid_request" || q.Get("state") != l.state || q.Get("code") != "" {
			t.Errorf("%s: redirected to %s, want error=invalid_request with the state", name, loc)
		}
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	loc, err := idp.SignIn(t.Context(), l.authURL())
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	token, err := l.exchange(t.Context(), l.code(t, loc))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	l.verify(t, token)

	if _, err := idp.SignIn(t.Context(), "http://127.0.0.1:9/authorize"); err == nil {
		t.Fatal("SignIn accepted a URL of another server")
	}
}

func TestClientSecretPost(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}, AuthMethod: demoidp.AuthMethodPost})
	d, err := flow.FetchDiscovery(t.Context(), flow.NewHTTPClient(flow.ClientOptions{}), idp.DiscoveryURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Metadata.TokenEndpointAuthMethodsSupported; !slices.Equal(got, []string{"client_secret_post"}) {
		t.Errorf("token_endpoint_auth_methods_supported = %v, want [client_secret_post]", got)
	}

	post := newLogin(t, idp, redirectURI, oauth2.AuthStyleInParams)
	token, err := post.exchange(t.Context(), post.code(t, post.signIn(t)))
	if err != nil {
		t.Fatalf("exchange with client_secret_post: %v", err)
	}
	post.verify(t, token)

	basic := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	_, err = basic.exchange(t.Context(), basic.code(t, basic.signIn(t)))
	wantOAuthError(t, err, "invalid_client")
}

func TestClientSecretBasicRefusesPost(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	post := newLogin(t, idp, redirectURI, oauth2.AuthStyleInParams)
	_, err := post.exchange(t.Context(), post.code(t, post.signIn(t)))
	wantOAuthError(t, err, "invalid_client")
}

func TestWrongClientSecretRefused(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	l.config.ClientSecret = "wrong-secret"
	_, err := l.exchange(t.Context(), l.code(t, l.signIn(t)))
	if err == nil {
		t.Fatal("exchange with a wrong secret succeeded")
	}
}

func TestParallelIdPsDoNotInterfere(t *testing.T) {
	t.Parallel()
	a := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	b := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}, ClientID: "other-client", ClientSecret: "another-demo-secret-of-24-chars"})
	if a.Issuer == b.Issuer {
		t.Fatalf("both IdPs have issuer %s", a.Issuer)
	}
	la := newLogin(t, a, redirectURI, oauth2.AuthStyleInHeader)
	lb := newLogin(t, b, redirectURI, oauth2.AuthStyleInHeader)

	var wg sync.WaitGroup
	codes := make([]string, 2)
	for i, l := range []*login{la, lb} {
		wg.Go(func() {
			loc, err := l.idp.SignIn(t.Context(), l.authURL())
			if err != nil {
				t.Errorf("SignIn at %s: %v", l.idp.Issuer, err)
				return
			}
			codes[i] = loc.Query().Get("code")
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// A's code is unknown to B, even with B's own credentials.
	cross := *lb
	cross.verifier = la.verifier
	_, err := cross.exchange(t.Context(), codes[0])
	wantOAuthError(t, err, "invalid_grant")

	tokA, err := la.exchange(t.Context(), codes[0])
	if err != nil {
		t.Fatalf("exchange at A: %v", err)
	}
	la.verify(t, tokA)
	// A's ID token does not verify against B.
	raw, _ := tokA.Extra("id_token").(string)
	if _, err := lb.provider.Verifier(&oidc.Config{ClientID: a.ClientID}).Verify(t.Context(), raw); err == nil {
		t.Fatal("A's ID token verified with B's issuer and keys")
	}
	tokB, err := lb.exchange(t.Context(), codes[1])
	if err != nil {
		t.Fatalf("exchange at B: %v", err)
	}
	lb.verify(t, tokB)
}

func TestAddrInUse(t *testing.T) {
	t.Parallel()
	a := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	addr := strings.TrimPrefix(a.Issuer, "http://")
	_, err := demoidp.Start(t.Context(), demoidp.Options{Addr: addr, RedirectURIs: []string{redirectURI}})
	if !flow.IsCode(err, "demo_idp_listen") {
		t.Fatalf("Start on a used address: err = %v, want demo_idp_listen", err)
	}
	msg, fix := flow.Explain(err)
	if !strings.Contains(msg, addr) || fix == "" {
		t.Fatalf("message %q fix %q: want the address and a fix", msg, fix)
	}
}

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]demoidp.Options{
		"not loopback":     {Addr: "0.0.0.0:0", RedirectURIs: []string{redirectURI}},
		"no port":          {Addr: "127.0.0.1", RedirectURIs: []string{redirectURI}},
		"bad auth method":  {AuthMethod: "private_key_jwt", RedirectURIs: []string{redirectURI}},
		"no redirect URIs": {},
	} {
		if _, err := demoidp.Start(t.Context(), opts); !flow.IsCode(err, "demo_idp_options") {
			t.Errorf("%s: err = %v, want demo_idp_options", name, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	if idp.ClientID != demoidp.DefaultClientID || idp.ClientSecret != demoidp.DefaultClientSecret ||
		len(idp.ClientSecret) < 24 || idp.AuthMethod != demoidp.AuthMethodBasic {
		t.Fatalf("defaults: client %q, secret of %d chars, method %q", idp.ClientID, len(idp.ClientSecret), idp.AuthMethod)
	}
}

func TestCloseStopsServing(t *testing.T) {
	t.Parallel()
	idp, err := demoidp.Start(t.Context(), demoidp.Options{RedirectURIs: []string{redirectURI}})
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := idp.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if resp, err := http.Get(idp.DiscoveryURL); err == nil {
		resp.Body.Close()
		t.Fatal("the IdP still answers after Close")
	}
	// The address is free again.
	again, err := demoidp.Start(t.Context(), demoidp.Options{Addr: strings.TrimPrefix(idp.Issuer, "http://"), RedirectURIs: []string{redirectURI}})
	if err != nil {
		t.Fatalf("Start on the closed IdP's address: %v", err)
	}
	again.Close()
}

func TestGroupsWithoutProfileScopes(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
	l.config.Scopes = []string{oidc.ScopeOpenID}
	token, err := l.exchange(t.Context(), l.code(t, l.signIn(t)))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	var got claims
	if err := l.verify(t, token).Claims(&got); err != nil {
		t.Fatal(err)
	}
	want := claims{Subject: idp.User.Subject, Groups: idp.User.Groups}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claims with scope openid = %+v, want only sub and groups %+v", got, want)
	}
}

// BenchmarkStart measures starting (RSA key generation included) and closing an IdP.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		idp, err := demoidp.Start(b.Context(), demoidp.Options{RedirectURIs: []string{redirectURI}})
		if err != nil {
			b.Fatal(err)
		}
		idp.Close()
	}
}

// BenchmarkLogin measures one whole login: sign-in, code exchange, ID token verification.
func BenchmarkLogin(b *testing.B) {
	idp, err := demoidp.Start(b.Context(), demoidp.Options{RedirectURIs: []string{redirectURI}})
	if err != nil {
		b.Fatal(err)
	}
	defer idp.Close()
	provider, err := oidc.NewProvider(b.Context(), idp.Issuer)
	if err != nil {
		b.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: idp.ClientID})
	config := oauth2.Config{ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	config.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	for b.Loop() {
		pkce := oauth2.GenerateVerifier()
		loc, err := idp.SignIn(b.Context(), config.AuthCodeURL("state", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce")))
		if err != nil {
			b.Fatal(err)
		}
		token, err := config.Exchange(b.Context(), loc.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := verifier.Verify(b.Context(), token.Extra("id_token").(string)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRequestsBeforeReadyWait: Start returns before the signing key is
// made; what asks the IdP in that moment is answered once it is ready,
// not refused.
func TestRequestsBeforeReadyWait(t *testing.T) {
	t.Parallel()
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	client := flow.NewHTTPClient(flow.ClientOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			d, err := flow.FetchDiscovery(t.Context(), client, idp.DiscoveryURL)
			if err == nil && d.Metadata.Issuer != idp.Issuer {
				err = fmt.Errorf("issuer %q", d.Metadata.Issuer)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := idp.Ready(t.Context()); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

// recordingHandler counts the records logged through it.
type recordingHandler struct {
	slog.Handler
	n *atomic.Int32
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h recordingHandler) Handle(context.Context, slog.Record) error { h.n.Add(1); return nil }

// TestWrongClientLogsNothing: a wrong client secret or ID, or the other
// auth method, is answered by the demo IdP itself as invalid_client, and
// nothing reaches the process's default logger (op logs its errors there,
// which would write over the wizard's screen). Not parallel: it watches
// the default logger.
func TestWrongClientLogsNothing(t *testing.T) {
	var logged atomic.Int32
	previous := slog.Default()
	slog.SetDefault(slog.New(recordingHandler{Handler: slog.DiscardHandler, n: &logged}))
	defer slog.SetDefault(previous)
	idp := start(t, demoidp.Options{RedirectURIs: []string{redirectURI}})
	for name, tweak := range map[string]func(*login){
		"wrong secret": func(l *login) { l.config.ClientSecret = "wrong-secret" },
		"wrong id":     func(l *login) { l.config.ClientID = "someone-else" },
		"other method": func(l *login) { l.config.Endpoint.AuthStyle = oauth2.AuthStyleInParams },
	} {
		l := newLogin(t, idp, redirectURI, oauth2.AuthStyleInHeader)
		code := l.code(t, l.signIn(t))
		tweak(l)
		_, err := l.exchange(t.Context(), code)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("%s: err = %v, want invalid_client", name, err)
		}
	}
	if n := logged.Load(); n != 0 {
		t.Errorf("%d records reached the default logger", n)
	}
}
