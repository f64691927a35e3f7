package flow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// testIdP is a configurable OpenID Provider on loopback. doc builds the
// discovery document from the server's base URL; keys is the JWKS.
type testIdP struct {
	wellKnownPath string // where the document is served; default flow.WellKnownPath
	doc           func(base string) map[string]any
	jwks          func(w http.ResponseWriter)
	discovery     http.HandlerFunc // replaces the discovery handler entirely
	date          func() time.Time // the Date header, when set
}

func (p testIdP) start(t testing.TB) *httptest.Server {
	t.Helper()
	path := p.wellKnownPath
	if path == "" {
		path = flow.WellKnownPath
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.date != nil {
			w.Header().Set("Date", p.date().UTC().Format(http.TimeFormat))
		}
		switch {
		case r.URL.Path == path && p.discovery != nil:
			p.discovery(w, r)
		case r.URL.Path == path:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(p.doc(srv.URL))
		case r.URL.Path == "/jwks" && p.jwks != nil:
			p.jwks(w)
		case r.URL.Path == "/jwks":
			writeJSON(w, map[string]any{"keys": []any{rsaKey("sig", "RS256")}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// goodDoc is a complete, correct discovery document for an issuer.
func goodDoc(issuer, base string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"userinfo_endpoint":                     base + "/userinfo",
		"jwks_uri":                              base + "/jwks",
		"response_types_supported":              []string{"code", "id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"claims_supported":                      []string{"sub", "email", "given_name", "family_name", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
}

// docWith is goodDoc at the server's root with some fields changed; a nil
// value deletes the field.
func docWith(changes map[string]any) func(base string) map[string]any {
	return func(base string) map[string]any {
		d := goodDoc(base, base)
		for k, v := range changes {
			if v == nil {
				delete(d, k)
				continue
			}
			if s, ok := v.(string); ok {
				v = strings.ReplaceAll(s, "{base}", base)
			}
			d[k] = v
		}
		return d
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsaKey is an RSA public JWK; its modulus is arbitrary bytes of the right
// length, which is all the discovery check looks at.
func rsaKey(use, alg string) map[string]any {
	k := map[string]any{"kty": "RSA", "kid": "rsa-" + use, "n": b64(make([]byte, 256)), "e": "AQAB"}
	if use != "" {
		k["use"] = use
	}
	if alg != "" {
		k["alg"] = alg
	}
	return k
}

func ecKey(t testing.TB, curve elliptic.Curve, crv string) map[string]any {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (curve.Params().BitSize + 7) / 8
	return map[string]any{"kty": "EC", "crv": crv, "use": "sig",
		"x": b64(priv.X.FillBytes(make([]byte, size))), "y": b64(priv.Y.FillBytes(make([]byte, size)))}
}

func edKey(t testing.TB) map[string]any {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
}

func validate(t testing.TB, input string, timeout time.Duration, opts flow.ValidateOptions) *flow.Report {
	t.Helper()
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: timeout})
	return flow.Validate(context.Background(), client, input, opts)
}

func find(t testing.TB, r *flow.Report, id string) flow.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %q check in %s", id, dump(r))
	return flow.Check{}
}

func dump(r *flow.Report) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// expect asserts one check's status and that its detail (and, unless it
// passed, its fix) contains the given fragments.
func expect(t testing.TB, r *flow.Report, id string, status flow.CheckStatus, detailHas ...string) flow.Check {
	t.Helper()
	c := find(t, r, id)
	if c.Status != status {
		t.Fatalf("%s: status %s, want %s\n%s", id, c.Status, status, dump(r))
	}
	for _, s := range detailHas {
		if !strings.Contains(c.Detail, s) {
			t.Errorf("%s: detail %q lacks %q", id, c.Detail, s)
		}
	}
	if status != flow.Pass && c.Fix == "" {
		t.Errorf("%s: %s without a fix", id, status)
	}
	return c
}

func ids(r *flow.Report) []string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.ID)
	}
	return out
}

// assertInvariants holds for every report: OK means no failure, and every
// check that did not pass carries a fix.
func assertInvariants(t testing.TB, r *flow.Report) {
	t.Helper()
	failed := false
	for _, c := range r.Checks {
		failed = failed || c.Status == flow.Fail
		if c.Status != flow.Pass && c.Fix == "" {
			t.Errorf("%s is %s without a fix", c.ID, c.Status)
		}
	}
	if r.OK == failed {
		t.Errorf("OK=%v but failed=%v", r.OK, failed)
	}
}

func TestValidateGoodProvider(t *testing.T) {
	t.Parallel()
	srv := testIdP{doc: docWith(nil)}.start(t)
	r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
	assertInvariants(t, r)
	if !r.OK {
		t.Fatalf("good provider failed:\n%s", dump(r))
	}
	want := "reachable json issuer required_fields https_endpoints jwks scopes claims token_auth pkce clock"
	if got := strings.Join(ids(r), " "); got != want {
		t.Errorf("checks %q, want %q", got, want)
	}
	for _, c := range r.Checks {
		if c.Status != flow.Pass {
			t.Errorf("%s: %s %q", c.ID, c.Status, c.Detail)
		}
	}
	if r.Issuer != srv.URL || r.DiscoveryURL != srv.URL+flow.WellKnownPath {
		t.Errorf("issuer %q, discovery URL %q", r.Issuer, r.DiscoveryURL)
	}
	if r.Metadata == nil || r.Metadata.TokenEndpoint != srv.URL+"/token" || len(r.RawMetadata) == 0 || !strings.Contains(string(r.RawJWKS), `"keys"`) {
		t.Errorf("metadata or raw documents not kept: %+v, %d bytes, %q", r.Metadata, len(r.RawMetadata), r.RawJWKS)
	}
}

func TestValidateKeyTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		algs   []string
		keys   func(t testing.TB) []any
		status flow.CheckStatus
		detail string
	}{
		{"ES256 with P-256", []string{"ES256"}, func(t testing.TB) []any { return []any{ecKey(t, elliptic.P256(), "P-256")} }, flow.Pass, "ES256"},
		{"ES256 with only P-384", []string{"ES256"}, func(t testing.TB) []any { return []any{ecKey(t, elliptic.P384(), "P-384")} }, flow.Fail, "1 EC P-384 key"},
		{"EdDSA with Ed25519", []string{"EdDSA"}, func(t testing.TB) []any { return []any{edKey(t)} }, flow.Pass, "EdDSA"},
		{"RS256 with an EC key only", []string{"RS256"}, func(t testing.TB) []any { return []any{ecKey(t, elliptic.P256(), "P-256")} }, flow.Fail, "RS256"},
		{"PS256 with an RSA key", []string{"PS256"}, func(t testing.TB) []any { return []any{rsaKey("sig", "")} }, flow.Pass, "PS256"},
		{"key alg not advertised", []string{"RS256"}, func(t testing.TB) []any { return []any{rsaKey("sig", "RS512")} }, flow.Fail, "RSA for RS512"},
		{"encryption keys only", []string{"RS256"}, func(t testing.TB) []any { return []any{rsaKey("enc", "RSA-OAEP"), rsaKey("enc", "")} }, flow.Fail, "2 for encryption only"},
		{"encryption and signing key", []string{"RS256"}, func(t testing.TB) []any { return []any{rsaKey("enc", "RSA-OAEP"), rsaKey("sig", "RS256")} }, flow.Pass, "1 of 2 keys"},
		{"only HS256 advertised", []string{"HS256"}, func(t testing.TB) []any { return []any{rsaKey("sig", "")} }, flow.Fail, "HS256"},
		{"truncated RSA key", []string{"RS256"}, func(t testing.TB) []any { return []any{map[string]any{"kty": "RSA", "e": "AQAB"}} }, flow.Fail, "incomplete RSA key"},
		{"empty key set", []string{"RS256"}, func(t testing.TB) []any { return []any{} }, flow.Fail, "holds no keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := tc.keys(t)
			srv := testIdP{
				doc:  docWith(map[string]any{"id_token_signing_alg_values_supported": tc.algs}),
				jwks: func(w http.ResponseWriter) { writeJSON(w, map[string]any{"keys": keys}) },
			}.start(t)
			r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
			assertInvariants(t, r)
			expect(t, r, flow.CheckJWKS, tc.status, tc.detail)
		})
	}
}

func TestValidateJWKSFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		jwks   func(w http.ResponseWriter)
		detail string
	}{
		{"HTTP 500", func(w http.ResponseWriter) { http.Error(w, "oops", http.StatusInternalServerError) }, "HTTP 500"},
		{"not JSON", func(w http.ResponseWriter) { w.Write([]byte("<html>keys</html>")) }, "not a JSON Web Key Set"},
		{"no keys member", func(w http.ResponseWriter) { writeJSON(w, map[string]any{}) }, "holds no keys"},
		{"too large", func(w http.ResponseWriter) { w.Write(make([]byte, 2<<20)) }, "more than 1024 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testIdP{doc: docWith(nil), jwks: tc.jwks}.start(t)
			r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
			assertInvariants(t, r)
			if r.OK {
				t.Fatal("report OK despite a broken JWKS")
			}
			expect(t, r, flow.CheckJWKS, flow.Fail, tc.detail)
			expect(t, r, flow.CheckIssuer, flow.Pass)
		})
	}
}

// TestValidateDiscoveryFailures: when the document cannot be had, the
// report names the reason and runs no check that needs the document.
func TestValidateDiscoveryFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		handler   http.HandlerFunc
		wantIDs   string
		failing   string
		detailHas string
	}{
		{"HTML login page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><body><form>Sign in</form></body></html>"))
		}, "reachable json", flow.CheckJSON, "HTML page"},
		{"HTTP 404", http.NotFound, "reachable", flow.CheckReachable, "HTTP 404"},
		{"JSON array", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, []string{"issuer"}) }, "reachable json", flow.CheckJSON, "not a JSON object"},
		{"field of the wrong type", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"issuer": 42}`))
		}, "reachable json", flow.CheckJSON, "wrong type"},
		{"5 MiB body with Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5242880")
			w.Write(make([]byte, 5<<20))
		}, "reachable json", flow.CheckJSON, "more than 1024 KiB"},
		{"5 MiB body, chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"issuer":"`))
			w.(http.Flusher).Flush()
			chunk := []byte(strings.Repeat("a", 64<<10))
			for range 80 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, "reachable json", flow.CheckJSON, "more than 1024 KiB"},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}, "reachable", flow.CheckReachable, "redirects"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testIdP{discovery: tc.handler}.start(t)
			r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
			assertInvariants(t, r)
			if got := strings.Join(ids(r), " "); got != tc.wantIDs {
				t.Fatalf("checks %q, want %q\n%s", got, tc.wantIDs, dump(r))
			}
			expect(t, r, tc.failing, flow.Fail, tc.detailHas)
			if r.OK || r.Metadata != nil || r.Issuer != "" {
				t.Errorf("OK=%v metadata=%v issuer=%q", r.OK, r.Metadata, r.Issuer)
			}
		})
	}
}

// TestValidateServerNeverAnswers: the check ends with a timeout failure
// once the client's timeout has passed, however long the server stalls.
func TestValidateServerNeverAnswers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := testIdP{discovery: func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}}.start(t)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	done := make(chan *flow.Report, 1)
	go func() { done <- validate(t, srv.URL, 300*time.Millisecond, flow.ValidateOptions{}) }()
	select {
	case r := <-done:
		assertInvariants(t, r)
		expect(t, r, flow.CheckReachable, flow.Fail, "did not answer in time")
	case <-time.After(30 * time.Second):
		t.Fatal("Validate did not end although the client timeout is 300ms")
	}
}

func TestValidateUnusableInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "not a url", "ftp://idp.example.com", "http://idp.example.com"} {
		r := validate(t, in, time.Second, flow.ValidateOptions{})
		assertInvariants(t, r)
		if got := strings.Join(ids(r), " "); got != flow.CheckURL {
			t.Errorf("%q: checks %q, want only url", in, got)
		}
	}
}

func TestValidateIssuerMismatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		issuer   string // {base} is the server's URL, {port} its port
		path     string // where the document is served
		input    string // appended to the server's URL
		kind     string
		fixHas   string
		expected string // the expected prefix, after {base}
	}{
		{"scheme", "https://{hostport}", "", "", "its scheme", "https://127.0.0.1:", ""},
		{"host", "http://localhost:{port}", "", "", "its host", "public address", ""},
		{"port", "http://127.0.0.1:1", "", "", "its port", "public address", ""},
		{"path", "{base}/realms/other", "/realms/acme" + flow.WellKnownPath, "/realms/acme", "its path", "/realms/other" + flow.WellKnownPath, "/realms/acme"},
		{"letter case", "{base}/Realms/Acme", "/realms/acme" + flow.WellKnownPath, "/realms/acme", "letter case", "spelled as the IdP spells it", "/realms/acme"},
		{"trailing slash", "{base}/tenant", "/tenant//.well-known/openid-configuration", "/tenant//.well-known/openid-configuration", "trailing slash", "differ only by a", "/tenant/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var srv *httptest.Server
			p := testIdP{wellKnownPath: tc.path, doc: func(base string) map[string]any {
				iss := strings.NewReplacer("{base}", base, "{hostport}", srv.Listener.Addr().String(),
					"{port}", strings.TrimPrefix(srv.Listener.Addr().String(), "127.0.0.1:")).Replace(tc.issuer)
				return goodDoc(iss, base)
			}}
			srv = p.start(t)
			r := validate(t, srv.URL+tc.input, 5*time.Second, flow.ValidateOptions{})
			assertInvariants(t, r)
			c := expect(t, r, flow.CheckIssuer, flow.Fail, tc.kind)
			lines := strings.Split(c.Detail, "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[1], "  expected  "+srv.URL+tc.expected) || !strings.HasPrefix(lines[2], "  issuer    "+r.Metadata.Issuer) {
				t.Errorf("detail does not show the two values one above the other:\n%s", c.Detail)
			}
			if want := strings.TrimPrefix(lines[1], "  expected  "); want != srv.URL+tc.expected {
				t.Errorf("expected value %q, want %q", want, srv.URL+tc.expected)
			}
			if !strings.Contains(c.Fix, tc.fixHas) {
				t.Errorf("fix %q lacks %q", c.Fix, tc.fixHas)
			}
			if r.Issuer != r.Metadata.Issuer {
				t.Errorf("report issuer %q, want the discovered %q", r.Issuer, r.Metadata.Issuer)
			}
		})
	}
}

// TestValidateIssuerTrailingSlash: Auth0's issuers end in "/", which the
// discovery URL drops (Discovery 4.1); that is valid, from either input.
func TestValidateIssuerTrailingSlash(t *testing.T) {
	t.Parallel()
	srv := testIdP{doc: func(base string) map[string]any { return goodDoc(base+"/", base) }}.start(t)
	for _, in := range []string{srv.URL + "/", srv.URL, srv.URL + flow.WellKnownPath} {
		r := validate(t, in, 5*time.Second, flow.ValidateOptions{})
		assertInvariants(t, r)
		expect(t, r, flow.CheckIssuer, flow.Pass, `terminating "/"`)
		if !r.OK || r.Issuer != srv.URL+"/" {
			t.Errorf("%s: OK=%v issuer %q", in, r.OK, r.Issuer)
		}
	}
}

func TestValidateEntraTenantTemplate(t *testing.T) {
	t.Parallel()
	srv := testIdP{wellKnownPath: "/common/v2.0" + flow.WellKnownPath, doc: func(base string) map[string]any {
		d := goodDoc(base+"/{tenantid}/v2.0", base)
		delete(d, "code_challenge_methods_supported")
		return d
	}}.start(t)
	r := validate(t, srv.URL+"/common/v2.0", 5*time.Second, flow.ValidateOptions{})
	assertInvariants(t, r)
	c := expect(t, r, flow.CheckIssuerTemplate, flow.Fail, "{tenantid}", "template", `"common"`)
	if want := srv.URL + "/<your-tenant-id>/v2.0/.well-known/openid-configuration"; !strings.Contains(c.Fix, want) {
		t.Errorf("fix %q does not give the tenant-specific URL %s", c.Fix, want)
	}
	if !strings.Contains(c.Fix, "Entra admin center") || !strings.Contains(c.Fix, "Tenant ID") {
		t.Errorf("fix %q does not say where the tenant ID is", c.Fix)
	}
	for _, id := range ids(r) {
		if id == flow.CheckIssuer {
			t.Error("issuer check reported as well as issuer_template")
		}
	}
	if r.OK {
		t.Error("a template issuer must fail: no ID token can match it")
	}
}

func TestValidateClockSkew(t *testing.T) {
	t.Parallel()
	t.Run("Date header 5 minutes ahead", func(t *testing.T) {
		t.Parallel()
		srv := testIdP{doc: docWith(nil), date: func() time.Time { return time.Now().Add(5 * time.Minute) }}.start(t)
		r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
		assertInvariants(t, r)
		c := expect(t, r, flow.CheckClock, flow.Warn, "ahead of", "iat/exp")
		if !regexp.MustCompile(`(4m59s|5m0s|5m1s) ahead`).MatchString(c.Detail) {
			t.Errorf("detail %q does not say 5 minutes", c.Detail)
		}
		if !r.OK {
			t.Error("clock skew is a warning, not a failure")
		}
	})
	t.Run("our clock 10 minutes ahead", func(t *testing.T) {
		t.Parallel()
		srv := testIdP{doc: docWith(nil)}.start(t)
		r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{Now: func() time.Time { return time.Now().Add(10 * time.Minute) }})
		c := expect(t, r, flow.CheckClock, flow.Warn, "behind")
		if !regexp.MustCompile(`(9m59s|10m0s|10m1s) behind`).MatchString(c.Detail) {
			t.Errorf("detail %q does not say 10 minutes", c.Detail)
		}
	})
	t.Run("within a minute", func(t *testing.T) {
		t.Parallel()
		srv := testIdP{doc: docWith(nil), date: func() time.Time { return time.Now().Add(-30 * time.Second) }}.start(t)
		r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
		expect(t, r, flow.CheckClock, flow.Pass)
	})
}

// TestValidateDocumentChecks covers the checks that judge the document's
// fields, one change from a good document at a time.
func TestValidateDocumentChecks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]any
		id      string
		status  flow.CheckStatus
		detail  string
	}{
		{"missing fields", map[string]any{"token_endpoint": nil, "subject_types_supported": nil}, flow.CheckRequiredFields, flow.Fail, "missing: token_endpoint, subject_types_supported"},
		{"no code flow", map[string]any{"response_types_supported": []string{"id_token"}}, flow.CheckRequiredFields, flow.Fail, `"code"`},
		{"not OIDC at all", map[string]any{"issuer": nil, "authorization_endpoint": nil, "token_endpoint": nil}, flow.CheckRequiredFields, flow.Fail, "not an OpenID Connect discovery document"},
		{"no jwks_uri", map[string]any{"jwks_uri": nil}, flow.CheckJWKS, flow.Fail, "no jwks_uri"},
		{"http endpoint off loopback", map[string]any{"token_endpoint": "http://idp.example.com/token"}, flow.CheckHTTPSEndpoints, flow.Fail, "token_endpoint uses http"},
		{"relative endpoint", map[string]any{"userinfo_endpoint": "/userinfo"}, flow.CheckHTTPSEndpoints, flow.Fail, "not a full URL"},
		{"plain http on loopback said as it is", nil, flow.CheckHTTPSEndpoints, flow.Pass, "no https: all 4 endpoints are plain http on loopback"},
		{"https and loopback http mixed", map[string]any{"token_endpoint": "https://idp.example.com/token"}, flow.CheckHTTPSEndpoints, flow.Pass, "1 of 4 endpoints use https; plain http on loopback: authorization_endpoint, userinfo_endpoint, jwks_uri"},
		{"no S256", map[string]any{"code_challenge_methods_supported": nil}, flow.CheckPKCE, flow.Warn, "not listed"},
		{"plain only", map[string]any{"code_challenge_methods_supported": []string{"plain"}}, flow.CheckPKCE, flow.Warn, "only as plain"},
		{"no client_secret methods", map[string]any{"token_endpoint_auth_methods_supported": []string{"private_key_jwt", "tls_client_auth"}}, flow.CheckTokenAuth, flow.Fail, "private_key_jwt, tls_client_auth"},
		{"auth methods absent", map[string]any{"token_endpoint_auth_methods_supported": nil}, flow.CheckTokenAuth, flow.Pass, "client_secret_basic applies"},
		{"post only", map[string]any{"token_endpoint_auth_methods_supported": []string{"client_secret_post"}}, flow.CheckTokenAuth, flow.Pass, "client_secret_post"},
		{"scopes absent", map[string]any{"scopes_supported": nil}, flow.CheckScopes, flow.Warn, "optional"},
		{"no openid scope", map[string]any{"scopes_supported": []string{"email", "profile"}}, flow.CheckScopes, flow.Fail, `"openid"`},
		{"no email scope", map[string]any{"scopes_supported": []string{"openid", "profile"}}, flow.CheckScopes, flow.Warn, "not email"},
		{"claims absent", map[string]any{"claims_supported": nil}, flow.CheckClaims, flow.Warn, "only be confirmed by a test login"},
		{"claims missing names", map[string]any{"claims_supported": []string{"sub", "email"}}, flow.CheckClaims, flow.Warn, "given_name, family_name"},
		{"no groups claim", map[string]any{"claims_supported": []string{"sub", "email", "given_name", "family_name"}}, flow.CheckClaims, flow.Pass, `"groups" is not listed`},
		{"no issuer", map[string]any{"issuer": nil}, flow.CheckIssuer, flow.Fail, "no issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testIdP{doc: docWith(tc.changes)}.start(t)
			r := validate(t, srv.URL, 5*time.Second, flow.ValidateOptions{})
			assertInvariants(t, r)
			expect(t, r, tc.id, tc.status, tc.detail)
			for _, c := range r.Checks {
				if c.ID != tc.id && c.Status == flow.Fail && c.ID != flow.CheckRequiredFields && tc.id != flow.CheckRequiredFields && tc.id != flow.CheckIssuer {
					t.Errorf("unrelated failure %s: %s", c.ID, c.Detail)
				}
			}
		})
	}
}

// TestValidateProgress: Progress sees every check of the report exactly
// once, whatever stage the validation stopped at.
func TestValidateProgress(t *testing.T) {
	t.Parallel()
	good := testIdP{doc: docWith(nil)}.start(t)
	notFound := testIdP{discovery: http.NotFound}.start(t)
	noKeys := testIdP{doc: docWith(nil), jwks: func(w http.ResponseWriter) { writeJSON(w, map[string]any{"keys": []any{}}) }}.start(t)
	for name, input := range map[string]string{
		"good provider": good.URL,
		"HTTP 404":      notFound.URL,
		"empty key set": noKeys.URL,
		"not a URL":     "not a url",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var seen []flow.Check
			r := validate(t, input, 5*time.Second, flow.ValidateOptions{Progress: func(c flow.Check) { seen = append(seen, c) }})
			if len(seen) != len(r.Checks) {
				t.Fatalf("progress saw %d checks, the report has %d:\n%+v\n%s", len(seen), len(r.Checks), seen, dump(r))
			}
			for _, c := range r.Checks {
				n := 0
				for _, s := range seen {
					if s == c {
						n++
					}
				}
				if n != 1 {
					t.Errorf("progress saw %s %d times", c.ID, n)
				}
			}
		})
	}
}

// TestValidateProgressBeforeKeys: the checks of the document reach
// Progress while the key set is still being fetched. The JWKS endpoint
// answers only once Progress has seen the clock check, the last of them.
func TestValidateProgressBeforeKeys(t *testing.T) {
	t.Parallel()
	docChecksSeen := make(chan struct{})
	srv := testIdP{doc: docWith(nil), jwks: func(w http.ResponseWriter) {
		select {
		case <-docChecksSeen:
			writeJSON(w, map[string]any{"keys": []any{rsaKey("sig", "RS256")}})
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}}.start(t)
	var order []string
	r := validate(t, srv.URL, 10*time.Second, flow.ValidateOptions{Progress: func(c flow.Check) {
		order = append(order, c.ID)
		if c.ID == flow.CheckClock {
			close(docChecksSeen)
		}
	}})
	expect(t, r, flow.CheckJWKS, flow.Pass)
	if order[len(order)-1] != flow.CheckJWKS {
		t.Errorf("progress order %v: the key set check should come last", order)
	}
}
