package flow_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// outcome is one login run through the same code path as the command:
// discover, start the callback server, start the login, play the browser,
// wait.
type outcome struct {
	res        *flow.LoginResult
	err        error
	pageStatus int
	page       string
	login      *flow.Login
}

func newClient() *http.Client {
	return flow.NewHTTPClient(flow.ClientOptions{Timeout: 5 * time.Second})
}

func discover(t *testing.T, idp *testidp.IdP) *flow.Provider {
	t.Helper()
	p, err := flow.DiscoverProvider(context.Background(), newClient(), idp.DiscoveryURL())
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	return p
}

// serveCallback starts a callback server on redirectURI that stops when
// the test ends.
func serveCallback(t *testing.T, redirectURI string, opts flow.CallbackOptions) *flow.CallbackServer {
	t.Helper()
	srv, err := flow.StartCallbackServer(redirectURI, opts)
	if err != nil {
		t.Fatalf("callback server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// startLogin discovers idp and starts a login with baseConfig whose
// callback comes to a server on redirectURI; both stop when the test ends.
func startLogin(t *testing.T, idp *testidp.IdP, redirectURI string, opts flow.CallbackOptions) (*flow.CallbackServer, *flow.Login) {
	t.Helper()
	p := discover(t, idp)
	srv := serveCallback(t, redirectURI, opts)
	l, err := p.StartLogin(srv, baseConfig(idp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return srv, l
}

func baseConfig(idp *testidp.IdP) flow.LoginConfig {
	return flow.LoginConfig{
		ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Roles: flow.RoleAssignment{Mappings: []flow.RoleMapping{{Group: "admins", Role: "admin"}, {Group: "engineers", Role: "member"}}},
		Wait:  10 * time.Second,
	}
}

func runLogin(t *testing.T, p *flow.Provider, cfg flow.LoginConfig) outcome {
	t.Helper()
	srv := serveCallback(t, "http://localhost:0/callback", flow.CallbackOptions{})
	l, err := p.StartLogin(srv, cfg)
	if err != nil {
		t.Fatalf("start login: %v", err)
	}
	type result struct {
		res *flow.LoginResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := l.Wait(context.Background())
		done <- result{res, err}
	}()
	status, page, berr := testidp.Browse(l.AuthURL())
	if berr != nil {
		t.Fatalf("browser leg: %v", berr)
	}
	r := <-done
	return outcome{res: r.res, err: r.err, pageStatus: status, page: page, login: l}
}

func TestLoginSucceedsAndMapsProfile(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if o.err != nil {
		t.Fatalf("login failed: %v", o.err)
	}
	p := o.res.Profile
	if p.IDPID != "user-42" || p.Email != "ada@example.com" || p.FirstName != "Ada" || p.LastName != "Lovelace" {
		t.Errorf("profile = %+v", p)
	}
	if strings.Join(p.Groups, ",") != "engineers,admins" || strings.Join(p.Roles, ",") != "admin,member" {
		t.Errorf("groups %v roles %v", p.Groups, p.Roles)
	}
	if o.res.UsedUserinfo || idp.UserinfoHits() != 0 {
		t.Error("userinfo asked although the ID token had every mapped claim")
	}
	if o.pageStatus != http.StatusOK || !strings.Contains(o.page, "Signed in") {
		t.Errorf("browser page %d %q", o.pageStatus, o.page)
	}
}

func TestAuthorizationRequestCarriesStateNoncePKCEAndScopes(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	srv, l := startLogin(t, idp, "http://127.0.0.1:0/cb", flow.CallbackOptions{})
	u := mustParse(t, l.AuthURL())
	q := u.Query()
	if q.Get("state") != l.State() || len(q.Get("state")) < 40 || q.Get("nonce") == "" || q.Get("nonce") == q.Get("state") {
		t.Errorf("state/nonce: %v", q)
	}
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE: %v", q)
	}
	if q.Get("scope") != "openid email profile groups" { // groups: the metadata lists it
		t.Errorf("scope = %q", q.Get("scope"))
	}
	if q.Get("redirect_uri") != srv.RedirectURI() || strings.HasSuffix(srv.RedirectURI(), ":0/cb") {
		t.Errorf("redirect_uri %q, server %q", q.Get("redirect_uri"), srv.RedirectURI())
	}
}

// TestHostileProvider runs every ID token and token endpoint rule against a
// provider that breaks it, through the same code path as the command.
func TestHostileProvider(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cases := []struct {
		name    string
		opts    testidp.Options
		setup   func(*testidp.IdP, *flow.LoginConfig)
		code    string // expected *flow.Error code; "" = must succeed
		message string // a part of the message the person sees
	}{
		{name: "bad signature", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignForged) }, code: "bad_signature", message: `key "key-1"`},
		{name: "alg none", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignNone) }, code: "alg_none"},
		{name: "not a JWT", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignUnsigned) }, code: "malformed_id_token"},
		{name: "unadvertised algorithm", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignES256) }, code: "alg_not_advertised", message: "ES256"},
		{name: "advertised ES256 accepted", opts: testidp.Options{Algs: []string{"RS256", "ES256"}}, setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignES256) }},
		{name: "wrong issuer", setup: tamper(func(c map[string]any) { c["iss"] = c["iss"].(string) + "/" }), code: "wrong_issuer", message: "expected:"},
		{name: "wrong audience", setup: tamper(func(c map[string]any) { c["aud"] = "someone-else" }), code: "wrong_audience", message: "someone-else"},
		{name: "expired beyond skew", setup: tamper(func(c map[string]any) {
			c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-90*time.Second).Unix()
		}), code: "token_expired", message: "expired 1m"}, // 1m30s ago, and seconds more on a slow machine
		{name: "expired within skew accepted", setup: tamper(func(c map[string]any) {
			c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-30*time.Second).Unix()
		})},
		{name: "iat in the future", setup: tamper(func(c map[string]any) { c["iat"] = now.Add(2 * time.Minute).Unix() }), code: "iat_future"},
		{name: "iat slightly ahead accepted", setup: tamper(func(c map[string]any) { c["iat"] = now.Add(30 * time.Second).Unix() })},
		{name: "iat missing", setup: tamper(func(c map[string]any) { delete(c, "iat") }), code: "iat_missing"},
		{name: "nbf in the future", setup: tamper(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), code: "nbf_future"},
		{name: "missing sub", setup: tamper(func(c map[string]any) { delete(c, "sub") }), code: "sub_missing"},
		{name: "empty sub", setup: tamper(func(c map[string]any) { c["sub"] = "" }), code: "sub_missing"},
		{name: "wrong nonce", setup: tamper(func(c map[string]any) { c["nonce"] = "replayed" }), code: "nonce_mismatch"},
		{name: "azp mismatch with several audiences", setup: tamper(func(c map[string]any) {
			c["aud"], c["azp"] = []any{c["aud"], "other-app"}, "other-app"
		}), code: "azp_mismatch"},
		{name: "azp missing with several audiences", setup: tamper(func(c map[string]any) { c["aud"] = []any{c["aud"], "other-app"} }), code: "azp_mismatch"},
		{name: "several audiences with our azp accepted", setup: tamper(func(c map[string]any) {
			c["azp"], c["aud"] = c["aud"], []any{c["aud"], "other-app"}
		})},
		{name: "at_hash mismatch", setup: tamper(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }), code: "at_hash_mismatch"},
		{name: "no at_hash accepted", setup: tamper(func(c map[string]any) { delete(c, "at_hash") })},
		{name: "no id_token", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.OmitIDToken() }, code: "no_id_token"},
		{name: "wrong client secret", setup: func(_ *testidp.IdP, c *flow.LoginConfig) { c.ClientSecret = "wrong" }, code: "invalid_client", message: "client secret is wrong or expired"},
		{name: "token endpoint 401 without body", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.FailToken(http.StatusUnauthorized, "", "") }, code: "invalid_client"},
		{name: "invalid_grant", setup: func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.FailToken(http.StatusBadRequest, "invalid_grant", "code expired")
		}, code: "invalid_grant", message: "code expired"},
		{name: "redirect mismatch at token endpoint", setup: func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.FailToken(http.StatusBadRequest, "invalid_grant", "The redirect_uri does not match")
		}, code: "redirect_uri_mismatch"},
		{name: "unauthorized_client", setup: func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.FailToken(http.StatusBadRequest, "unauthorized_client", "")
		}, code: "unauthorized_client", message: "not allowed"},
		{name: "JWKS 500", setup: func(i *testidp.IdP, _ *flow.LoginConfig) { i.FailJWKS(http.StatusInternalServerError) }, code: "jwks_unreachable", message: "/jwks"},
		{name: "IdP error= callback", setup: func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.FailAuthorize("access_denied", "User is not assigned to the app")
		}, code: "access_denied", message: "User is not assigned to the app"},
		{name: "userinfo sub mismatch", setup: func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.OmitClaims("email")
			i.SetUserinfoSub("someone-else")
		}, code: "userinfo_sub_mismatch", message: "someone-else"},
		{name: "only unsupported auth methods", opts: testidp.Options{AuthMethods: []string{"private_key_jwt"}}, code: "auth_method_unsupported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := testidp.New(t, tc.opts)
			cfg := baseConfig(idp)
			if tc.setup != nil {
				tc.setup(idp, &cfg)
			}
			p := discover(t, idp)
			if tc.code == "auth_method_unsupported" {
				srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
				_, err := p.StartLogin(srv, cfg)
				assertCode(t, err, tc.code, tc.message)
				return
			}
			o := runLogin(t, p, cfg)
			if tc.code == "" {
				if o.err != nil {
					t.Fatalf("want success, got %v", o.err)
				}
				return
			}
			assertCode(t, o.err, tc.code, tc.message)
			if o.res != nil {
				t.Error("a failed login returned a result")
			}
			if !strings.Contains(o.page, "Sign-in failed") {
				t.Errorf("browser page does not say it failed: %q", o.page)
			}
		})
	}
}

func tamper(f func(map[string]any)) func(*testidp.IdP, *flow.LoginConfig) {
	return func(i *testidp.IdP, _ *flow.LoginConfig) { i.Tamper(f) }
}

func assertCode(t *testing.T, err error, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %q, got success", code)
	}
	if !flow.IsCode(err, flow.Code(code)) {
		t.Fatalf("want error code %q, got %v", code, err)
	}
	msg, fix := flow.Explain(err)
	if fix == "" {
		t.Errorf("error %q has no fix", code)
	}
	if !strings.Contains(msg, message) {
		t.Errorf("message %q lacks %q", msg, message)
	}
}

func TestFailedIDTokenNeverReachesUserinfo(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.OmitClaims("email") // would make a valid login ask userinfo
	idp.SetSigning(testidp.SignForged)
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	assertCode(t, o.err, "bad_signature", "")
	if n := idp.UserinfoHits(); n != 0 {
		t.Errorf("userinfo called %d times with a rejected ID token", n)
	}
}

func TestUserinfoFillsMissingClaims(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.OmitClaims("given_name", "groups")
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if o.err != nil {
		t.Fatal(o.err)
	}
	if !o.res.UsedUserinfo || idp.UserinfoHits() != 1 {
		t.Fatalf("userinfo not asked (hits %d)", idp.UserinfoHits())
	}
	if o.res.Profile.FirstName != "Ada" || len(o.res.Profile.Roles) != 2 {
		t.Errorf("profile %+v", o.res.Profile)
	}
	if _, ok := o.res.IDTokenClaims["given_name"]; ok {
		t.Error("ID token claims should be the token's alone")
	}
}

func TestMissingClaimWithoutUserinfoIsAWarning(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{NoUserinfo: true})
	idp.OmitClaims("family_name")
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if o.err != nil {
		t.Fatal(o.err)
	}
	if len(o.res.Warnings) != 1 || !strings.Contains(o.res.Warnings[0], "family_name") {
		t.Errorf("warnings %q", o.res.Warnings)
	}
}

func TestKeyRotationIsAcceptedAfterRefetch(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	p := discover(t, idp) // one provider, reused like a stored connection's
	if o := runLogin(t, p, baseConfig(idp)); o.err != nil {
		t.Fatal(o.err)
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times for the first login, want 1", n)
	}
	if o := runLogin(t, p, baseConfig(idp)); o.err != nil {
		t.Fatal(o.err)
	}
	if n := idp.JWKSFetches(); n != 1 {
		t.Fatalf("known key fetched again: %d fetches", n)
	}
	idp.Rotate()
	if o := runLogin(t, p, baseConfig(idp)); o.err != nil {
		t.Fatalf("login after rotation: %v", o.err)
	}
	if n := idp.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times, want a refetch on the new kid (2)", n)
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	t.Run("basic preferred", func(t *testing.T) {
		t.Parallel()
		idp := testidp.New(t, testidp.Options{AuthMethods: []string{"client_secret_post", "client_secret_basic"}})
		if o := runLogin(t, discover(t, idp), baseConfig(idp)); o.err != nil {
			t.Fatal(o.err)
		}
		req := idp.TokenRequests()[0]
		if !strings.HasPrefix(req.Authorization, "Basic ") {
			t.Errorf("no Basic header: %q", req.Authorization)
		}
		if req.Form.Has("client_secret") {
			t.Error("secret also sent in the body")
		}
	})
	t.Run("post when only post is offered", func(t *testing.T) {
		t.Parallel()
		idp := testidp.New(t, testidp.Options{AuthMethods: []string{"client_secret_post"}})
		if o := runLogin(t, discover(t, idp), baseConfig(idp)); o.err != nil {
			t.Fatal(o.err)
		}
		req := idp.TokenRequests()[0]
		if req.Authorization != "" {
			t.Errorf("Authorization header sent: %q", req.Authorization)
		}
		if req.Form.Get("client_secret") != idp.ClientSecret || req.Form.Get("client_id") != idp.ClientID {
			t.Errorf("credentials not in the body: %v", req.Form)
		}
	})
}

func TestPastedWhitespaceIsStrippedWithANote(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	cfg := baseConfig(idp)
	cfg.ClientID, cfg.ClientSecret = " "+cfg.ClientID+"\n", "\t"+cfg.ClientSecret+" \r\n"
	o := runLogin(t, discover(t, idp), cfg)
	if o.err != nil {
		t.Fatal(o.err)
	}
	if notes := o.login.Notes(); len(notes) != 2 {
		t.Errorf("notes %q", notes)
	}
}

func TestForgedStateIsRefusedAndLoginKeepsWaiting(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	srv, l := startLogin(t, idp, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
	done := make(chan error, 1)
	go func() { _, err := l.Wait(context.Background()); done <- err }()

	status, page, err := testidp.Browse(srv.RedirectURI() + "?code=stolen&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || strings.Contains(page, "stolen") {
		t.Errorf("forged state: %d %q", status, page)
	}
	select {
	case err := <-done:
		t.Fatalf("login ended on a forged state: %v", err)
	default:
	}
	if _, _, err := testidp.Browse(l.AuthURL()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("login with the real state: %v", err)
	}
}

func TestCallbackTimeout(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
	cfg := baseConfig(idp)
	cfg.Wait = 20 * time.Millisecond
	l, err := discover(t, idp).StartLogin(srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Wait(context.Background())
	assertCode(t, err, "callback_timeout", "did the browser reach "+srv.RedirectURI())
}

func TestOneServerCarriesConcurrentLogins(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	p := discover(t, idp)
	srv := serveCallback(t, "http://localhost:0/callback", flow.CallbackOptions{})
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		l, err := p.StartLogin(srv, baseConfig(idp))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		go func() { defer wg.Done(); _, err := l.Wait(context.Background()); errs <- err }()
		go func() { defer wg.Done(); _, _, _ = testidp.Browse(l.AuthURL()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestDiscoverProviderRefusesIssuerMismatch(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"http://127.0.0.1:1/other","authorization_endpoint":"http://127.0.0.1:1/a","token_endpoint":"http://127.0.0.1:1/t","jwks_uri":"http://127.0.0.1:1/k"}`))
	}))
	defer srv.Close()
	_, err := flow.DiscoverProvider(context.Background(), newClient(), srv.URL+flow.WellKnownPath)
	assertCode(t, err, "issuer_mismatch", "document says: http://127.0.0.1:1/other")

	_, err = flow.NewProvider(&flow.Metadata{Issuer: srv.URL}, newClient())
	assertCode(t, err, "missing_field", "authorization_endpoint")
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
