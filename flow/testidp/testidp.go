// Package testidp is a small OpenID Provider for tests, run on loopback with
// httptest. By default it behaves: it signs ID tokens with its own RSA key,
// checks the client's authentication, the PKCE verifier and the redirect
// URI. Each of its knobs makes it misbehave in one way a real IdP can (bad
// signature, alg "none", wrong claims, rotated keys, failing endpoints), so
// that tests can show the login engine refuses — or, for key rotation,
// accepts — exactly what it should.
//
// Its authorization endpoint signs the user in at once and redirects to the
// redirect URI, so a plain HTTP client GETting the authorization URL plays
// the browser.
package testidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing modes for ID tokens.
const (
	SignGood     = "good"      // the published current key
	SignForged   = "forged"    // another key, claiming the current key's kid
	SignNone     = "none"      // alg "none", no signature
	SignES256    = "es256"     // a published EC key, with an algorithm the metadata does not advertise
	SignUnsigned = "malformed" // not a JWT at all
)

// Options shape the provider's metadata.
type Options struct {
	// AuthMethods is token_endpoint_auth_methods_supported; default
	// client_secret_basic. The token endpoint accepts only these.
	AuthMethods []string
	// Algs is id_token_signing_alg_values_supported; default RS256.
	Algs []string
	// Scopes is scopes_supported; default openid, email, profile, groups.
	Scopes []string
	// NoUserinfo leaves the userinfo endpoint out of the metadata.
	NoUserinfo bool
}

// TokenRequest is what the token endpoint received, for assertions.
type TokenRequest struct {
	Authorization string
	Form          url.Values
}

// IdP is the running provider.
type IdP struct {
	Server       *httptest.Server
	ClientID     string
	ClientSecret string
	// User holds the claims of the signed-in user; ID tokens carry them.
	User map[string]any

	opts Options

	mu           sync.Mutex
	key          *rsa.PrivateKey
	kid          string
	ecKey        *ecdsa.PrivateKey
	grants       map[string]grant
	sign         string
	tamper       func(map[string]any)
	omitIDToken  bool
	omitClaims   []string
	tokenErr     *tokenErr
	jwksStatus   int
	authErr      [2]string
	userinfoSub  string
	echoSecret   bool
	registered   string   // the one auth method the client is registered for; "" = any advertised
	granted      []string // the scopes the token response grants; nil = all asked
	tokenReqs    []TokenRequest
	jwksFetches  int
	userinfoHits int
}

type grant struct {
	clientID, redirectURI, nonce, challenge string
}

type tokenErr struct {
	status      int
	code, descr string
}

// New starts a provider on loopback; it stops when the test ends.
func New(t testing.TB, opts Options) *IdP {
	t.Helper()
	if len(opts.AuthMethods) == 0 {
		opts.AuthMethods = []string{"client_secret_basic"}
	}
	if len(opts.Algs) == 0 {
		opts.Algs = []string{"RS256"}
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = []string{"openid", "email", "profile", "groups"}
	}
	p := &IdP{
		ClientID:     "test-client",
		ClientSecret: "s3cret-value-for-tests",
		User: map[string]any{
			"sub": "user-42", "email": "ada@example.com", "email_verified": true,
			"given_name": "Ada", "family_name": "Lovelace", "groups": []any{"engineers", "admins"},
		},
		opts:   opts,
		key:    mustRSA(),
		kid:    "key-1",
		ecKey:  mustEC(),
		grants: map[string]grant{},
		sign:   SignGood,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.Server = httptest.NewUnstartedServer(mux)
	p.Server.Start()
	t.Cleanup(p.Server.Close)
	return p
}

// Issuer is the provider's issuer URL.
func (p *IdP) Issuer() string { return p.Server.URL }

// DiscoveryURL is the provider's discovery endpoint.
func (p *IdP) DiscoveryURL() string { return p.Server.URL + "/.well-known/openid-configuration" }

// SetSigning picks how the next ID tokens are signed (Sign* constants).
func (p *IdP) SetSigning(mode string) { p.with(func() { p.sign = mode }) }

// Tamper changes the claims of the next ID tokens just before signing.
func (p *IdP) Tamper(f func(claims map[string]any)) { p.with(func() { p.tamper = f }) }

// OmitIDToken makes the token response carry no id_token.
func (p *IdP) OmitIDToken() { p.with(func() { p.omitIDToken = true }) }

// OmitClaims leaves the named user claims out of ID tokens (userinfo still
// has them).
func (p *IdP) OmitClaims(names ...string) { p.with(func() { p.omitClaims = names }) }

// FailToken makes the token endpoint answer with an OAuth error.
func (p *IdP) FailToken(status int, code, description string) {
	p.with(func() { p.tokenErr = &tokenErr{status, code, description} })
}

// EchoSecret makes the token endpoint refuse the client as a careless IdP
// does, echoing what it received: "Invalid client secret: <the secret>",
// with the code and the PKCE verifier.
func (p *IdP) EchoSecret() { p.with(func() { p.echoSecret = true }) }

// RegisterFor registers the client for one client authentication method
// only, as Hydra and Okta do, while the metadata still advertises all of
// Options.AuthMethods; a token request with another method gets Hydra's
// answer, which names both.
func (p *IdP) RegisterFor(method string) { p.with(func() { p.registered = method }) }

// GrantOnly makes the token response grant only these scopes (its "scope"
// says so), and leaves the claims of the others out of the ID token and
// userinfo: email and email_verified for "email", given_name and
// family_name for "profile", groups for "groups".
func (p *IdP) GrantOnly(scopes ...string) { p.with(func() { p.granted = scopes }) }

// FailJWKS makes the JWKS endpoint answer with status (0 = serve normally).
func (p *IdP) FailJWKS(status int) { p.with(func() { p.jwksStatus = status }) }

// FailAuthorize makes the authorization endpoint redirect back with
// error=code and error_description=description.
func (p *IdP) FailAuthorize(code, description string) {
	p.with(func() { p.authErr = [2]string{code, description} })
}

// SetUserinfoSub makes userinfo answer with another sub.
func (p *IdP) SetUserinfoSub(sub string) { p.with(func() { p.userinfoSub = sub }) }

// Rotate replaces the signing key with a new one under a new kid; the JWKS
// then publishes only the new key.
func (p *IdP) Rotate() {
	k := mustRSA()
	p.with(func() { p.key, p.kid = k, p.kid+"-rotated" })
}

// TokenRequests returns what the token endpoint received so far.
func (p *IdP) TokenRequests() []TokenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokenReqs)
}

// JWKSFetches counts the JWKS requests so far.
func (p *IdP) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksFetches
}

// UserinfoHits counts the userinfo requests so far.
func (p *IdP) UserinfoHits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userinfoHits
}

func (p *IdP) with(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := p.Issuer()
	md := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": p.opts.Algs,
		"token_endpoint_auth_methods_supported": p.opts.AuthMethods,
		"scopes_supported":                      p.opts.Scopes,
		"claims_supported":                      []string{"sub", "email", "given_name", "family_name", "groups"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if !p.opts.NoUserinfo {
		md["userinfo_endpoint"] = iss + "/userinfo"
	}
	writeJSON(w, http.StatusOK, md)
}

func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") == "" || q.Get("nonce") == "" || !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	p.mu.Lock()
	authErr := p.authErr
	if authErr[0] == "" {
		code := random()
		p.grants[code] = grant{q.Get("client_id"), q.Get("redirect_uri"), q.Get("nonce"), q.Get("code_challenge")}
		back.Set("code", code)
		back.Set("iss", p.Issuer())
	} else {
		back.Set("error", authErr[0])
		back.Set("error_description", authErr[1])
	}
	p.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenReqs = append(p.tokenReqs, TokenRequest{Authorization: r.Header.Get("Authorization"), Form: r.PostForm})
	if p.tokenErr != nil {
		oauthError(w, p.tokenErr.status, p.tokenErr.code, p.tokenErr.descr)
		return
	}
	if p.echoSecret {
		_, secret, _ := r.BasicAuth()
		secret, _ = url.QueryUnescape(secret)
		if s := r.PostForm.Get("client_secret"); s != "" {
			secret = s
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("Invalid client secret: %s (code %s, code_verifier %s, Authorization %s)",
			secret, r.PostForm.Get("code"), r.PostForm.Get("code_verifier"), r.Header.Get("Authorization")))
		return
	}
	if !p.clientAuthOK(w, r) {
		return
	}
	code := r.PostForm.Get("code")
	g, ok := p.grants[code]
	delete(p.grants, code)
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	case g.redirectURI != r.PostForm.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	case s256(r.PostForm.Get("code_verifier")) != g.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	access := random()
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300}
	if p.granted != nil {
		resp["scope"] = strings.Join(p.granted, " ")
	}
	if !p.omitIDToken {
		resp["id_token"] = p.mintLocked(g, access)
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientAuthOK accepts exactly one advertised client authentication
// method; like ADFS it refuses a request that carries two.
func (p *IdP) clientAuthOK(w http.ResponseWriter, r *http.Request) bool {
	user, pass, basic := r.BasicAuth()
	_, inBody := r.PostForm["client_secret"]
	var id, secret, method string
	switch {
	case basic && inBody:
		oauthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
		return false
	case basic:
		id, _ = url.QueryUnescape(user)
		secret, _ = url.QueryUnescape(pass)
		method = "client_secret_basic"
	case inBody:
		id, secret, method = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), "client_secret_post"
	}
	if p.registered != "" && method != p.registered && slices.Contains(p.opts.AuthMethods, method) {
		// Ory Hydra's answer, word for word.
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, "+
			"or unsupported authentication method). The OAuth 2.0 Client supports client authentication method '"+p.registered+"', but method '"+method+
			"' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept '"+method+"'.")
		return false
	}
	if !slices.Contains(p.opts.AuthMethods, method) || id != p.ClientID || secret != p.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return false
	}
	return true
}

func (p *IdP) mintLocked(g grant, accessToken string) string {
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer(), "aud": g.clientID, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"at_hash": atHash(accessToken),
	}
	for k, v := range p.User {
		if !slices.Contains(p.omitClaims, k) && p.grantedLocked(k) {
			claims[k] = v
		}
	}
	if p.tamper != nil {
		p.tamper(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	switch p.sign {
	case SignNone:
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return h + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	case SignUnsigned:
		return "not-a-jwt"
	case SignForged:
		return signJWT(jose.RS256, mustRSA(), p.kid, payload)
	case SignES256:
		return signJWT(jose.ES256, p.ecKey, "ec-1", payload)
	default:
		return signJWT(jose.RS256, p.key, p.kid, payload)
	}
}

// grantedLocked reports whether the claim's scope was granted.
func (p *IdP) grantedLocked(claim string) bool {
	if p.granted == nil {
		return true
	}
	scope := map[string]string{"email": "email", "email_verified": "email", "given_name": "profile", "family_name": "profile", "groups": "groups"}[claim]
	return scope == "" || slices.Contains(p.granted, scope)
}

func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.jwksFetches++
	status := p.jwksStatus
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: p.key.Public(), KeyID: p.kid, Algorithm: "RS256", Use: "sig"},
		{Key: p.ecKey.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}}
	p.mu.Unlock()
	if status != 0 {
		http.Error(w, "key service down", status)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.userinfoHits++
	info := make(map[string]any, len(p.User))
	for k, v := range p.User {
		if p.grantedLocked(k) {
			info[k] = v
		}
	}
	if p.userinfoSub != "" {
		info["sub"] = p.userinfoSub
	}
	p.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// Browse plays the browser: it GETs the authorization URL and follows the
// redirects to the callback, returning the final status and page.
func Browse(authURL string) (int, string, error) {
	resp, err := http.Get(authURL)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func signJWT(alg jose.SignatureAlgorithm, key crypto.Signer, kid string, payload []byte) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return s
}

func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// String describes the provider for test logs.
func (p *IdP) String() string { return fmt.Sprintf("testidp at %s", p.Issuer()) }
