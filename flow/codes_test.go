package flow_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// declaredCodes reads codes.go: each Code constant's name and string, and
// how often each name appears among the cases of Code.Step.
func declaredCodes(t *testing.T) (values map[string]string, inStep map[string]int) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	values, inStep = map[string]string{}, map[string]int{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				vs, ok := s.(*ast.ValueSpec)
				if !ok || d.Tok != token.CONST {
					continue
				}
				if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Code" {
					continue
				}
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s is not a string literal", name.Name)
					}
					values[name.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		case *ast.FuncDecl:
			if d.Name.Name != "Step" || d.Recv == nil {
				continue
			}
			ast.Inspect(d.Body, func(n ast.Node) bool {
				if cc, ok := n.(*ast.CaseClause); ok {
					for _, e := range cc.List {
						if id, ok := e.(*ast.Ident); ok {
							inStep[id.Name]++
						}
					}
				}
				return true
			})
		}
	}
	return values, inStep
}

// Every code is declared once, with a string no other code has, is given a
// step by Code.Step exactly once, and reads back from JSON as itself.
func TestEveryCodeIsUniqueHasAStepAndRoundTripsThroughJSON(t *testing.T) {
	t.Parallel()
	values, inStep := declaredCodes(t)
	if len(values) < 100 {
		t.Fatalf("only %d codes read from codes.go", len(values))
	}
	steps := []flow.Step{flow.StepOrganization, flow.StepRedirectURI, flow.StepCredentials, flow.StepValidate,
		flow.StepClaims, flow.StepRoles, flow.StepTestLogin, flow.StepReview, flow.StepIdP, flow.StepOutside}
	seen := map[string]string{}
	for name, value := range values {
		if other, dup := seen[value]; dup {
			t.Errorf("%s and %s are both %q", name, other, value)
		}
		seen[value] = name
		if n := inStep[name]; n != 1 {
			t.Errorf("%s is named %d times in Code.Step, want once", name, n)
		}
		code := flow.Code(value)
		if !slices.Contains(steps, code.Step()) {
			t.Errorf("%s (%q) has step %q", name, value, code.Step())
		}
		type wire struct {
			Code flow.Code `json:"code"`
		}
		b, err := json.Marshal(wire{code})
		if err != nil || string(b) != `{"code":`+strconv.Quote(value)+`}` {
			t.Errorf("%s marshals to %s, %v", name, b, err)
		}
		var back wire
		if err := json.Unmarshal(b, &back); err != nil || back.Code != code {
			t.Errorf("%s reads back as %q, %v", name, back.Code, err)
		}
	}
	if got := flow.Code("an_idp_code_of_its_own").Step(); got != "" {
		t.Errorf("an unknown code has step %q", got)
	}
}

// No file of flow builds an Error with a literal code: each names a constant.
func TestFlowBuildsErrorsOnlyWithDeclaredCodes(t *testing.T) {
	t.Parallel()
	literal := regexp.MustCompile(`Code:\s*"`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".go" || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if loc := literal.FindIndex(b); loc != nil {
			t.Errorf("%s builds an Error with a literal code: %s", path, b[loc[0]:min(loc[1]+30, len(b))])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serve is a server answering every request with body as contentType; doc,
// when set, builds the body from the server's own URL.
func serve(t *testing.T, contentType, body string, doc func(base string) map[string]any) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if doc != nil {
			writeJSON(w, doc(srv.URL))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An error names the step whose setting caused it. Each case breaks one
// setting a step owns — the Redirect URI, or the client ID, the client
// secret and the Discovery Endpoint of the Credentials step — runs it
// through the engine as a login does, and expects the resulting code to
// lead back to that step. Together they produce every code the test login
// step pointed back to before the codes had a table, but two: a port only
// root may use (codes_internal_test.go: the tests may run as root) and an
// incomplete connection (steps builds that one).
func TestAnErrorLeadsBackToTheStepWhoseSettingCausedIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	discoverURL := func(u string) error {
		_, err := flow.DiscoverProvider(ctx, newClient(), u)
		return err
	}
	discoverDoc := func(changes map[string]any) func(t *testing.T) error {
		return func(t *testing.T) error {
			return discoverURL(serve(t, "", "", docWith(changes)).URL + flow.WellKnownPath)
		}
	}
	typed := func(input string) func(*testing.T) error {
		return func(*testing.T) error {
			_, _, err := flow.DiscoveryURLFor(input)
			return err
		}
	}
	callbackServer := func(uri string) func(*testing.T) error {
		return func(*testing.T) error {
			srv, err := flow.StartCallbackServer(uri, flow.CallbackOptions{})
			if err == nil {
				srv.Close()
			}
			return err
		}
	}
	login := func(setup func(*testidp.IdP, *flow.LoginConfig)) func(*testing.T) error {
		return func(t *testing.T) error {
			idp := testidp.New(t, testidp.Options{})
			cfg := baseConfig(idp)
			setup(idp, &cfg)
			return runLogin(t, discover(t, idp), cfg).err
		}
	}
	startLogin := func(change func(*flow.LoginConfig)) func(*testing.T) error {
		return func(t *testing.T) error {
			idp := testidp.New(t, testidp.Options{})
			cfg := baseConfig(idp)
			change(&cfg)
			srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
			_, err := discover(t, idp).StartLogin(srv, cfg)
			return err
		}
	}
	entra := func(number string, atToken bool) func(*testing.T) error {
		return func(t *testing.T) error {
			code, desc := entraError(t, number)
			return login(func(i *testidp.IdP, _ *flow.LoginConfig) {
				if atToken {
					i.FailToken(http.StatusUnauthorized, code, desc)
				} else {
					i.FailAuthorize(code, desc)
				}
			})(t)
		}
	}
	cases := []struct {
		name  string
		step  flow.Step // the step whose setting is broken
		code  flow.Code // what the engine calls it
		run   func(*testing.T) error
		entra bool // the step comes from the Entra code the message quotes
	}{
		{"redirect URI with a query", flow.StepRedirectURI, "bad_redirect_uri", callbackServer("http://localhost:0/callback?x=1"), false},
		{"redirect URI on another host", flow.StepRedirectURI, "redirect_not_loopback", callbackServer("http://app.example.com:8976/callback"), false},
		{"https redirect URI on this machine", flow.StepRedirectURI, "redirect_https_loopback", callbackServer("https://localhost:0/callback"), false},
		{"redirect URI on a port no one can listen on", flow.StepRedirectURI, "listen_failed", callbackServer("http://127.0.0.1:99999/callback"), false},
		{"redirect URI on a busy port", flow.StepRedirectURI, "port_busy", func(t *testing.T) error {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			return callbackServer("http://" + ln.Addr().String() + "/callback")(t)
		}, false},
		{"redirect URI the callback server does not serve", flow.StepRedirectURI, "redirect_uri_server", func(t *testing.T) error {
			srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
			_, _, err := srv.Register("https://other.example.com/callback", "s")
			return err
		}, false},
		{"redirect URI the IdP does not know", flow.StepRedirectURI, "redirect_uri_mismatch", login(func(i *testidp.IdP, _ *flow.LoginConfig) {
			i.FailAuthorize("invalid_request", "The redirect_uri is not registered for this client")
		}), false},
		{"redirect URI Entra does not know", flow.StepRedirectURI, "redirect_uri_mismatch", entra("50011", false), true},

		{"wrong client secret", flow.StepCredentials, "invalid_client", login(func(_ *testidp.IdP, c *flow.LoginConfig) { c.ClientSecret = "wrong" }), false},
		{"no client ID", flow.StepCredentials, "no_client_id", startLogin(func(c *flow.LoginConfig) { c.ClientID = "" }), false},
		{"no client secret", flow.StepCredentials, "no_client_secret", startLogin(func(c *flow.LoginConfig) { c.ClientSecret = "" }), false},
		{"client ID of another app", flow.StepCredentials, "wrong_audience", login(tamper(func(c map[string]any) { c["aud"] = "another-app" })), false},
		{"client ID of another party", flow.StepCredentials, "azp_mismatch", login(tamper(func(c map[string]any) {
			c["aud"], c["azp"] = []any{c["aud"], "another-app"}, "another-app"
		})), false},
		{"Entra secret ID instead of its value", flow.StepCredentials, "invalid_client", entra("7000215", true), true},
		{"expired Entra secret", flow.StepCredentials, "invalid_client", entra("7000222", true), true},
		{"client ID unknown to the Entra tenant", flow.StepCredentials, "unauthorized_client", entra("700016", true), true},
		{"discovery endpoint of another issuer", flow.StepCredentials, "wrong_issuer", login(tamper(func(c map[string]any) { c["iss"] = "https://other.example.com" })), false},
		{"discovery endpoint of another IdP's keys", flow.StepCredentials, "bad_signature", login(func(i *testidp.IdP, _ *flow.LoginConfig) { i.SetSigning(testidp.SignForged) }), false},
		{"discovery endpoint of another IdP's callback", flow.StepCredentials, "callback_issuer_mismatch", func(t *testing.T) error {
			idp := testidp.New(t, testidp.Options{})
			srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
			l, err := discover(t, idp).StartLogin(srv, baseConfig(idp))
			if err != nil {
				t.Fatal(err)
			}
			back, _ := url.Parse(redirectTarget(t, l.AuthURL()))
			q := back.Query()
			q.Set("iss", "https://other.example.com")
			back.RawQuery = q.Encode()
			if err := srv.Deliver(back.String()); err != nil {
				t.Fatal(err)
			}
			_, err = l.Wait(ctx)
			return err
		}, false},
		{"no discovery endpoint", flow.StepCredentials, "empty_url", typed("  "), false},
		{"discovery endpoint that is not a URL", flow.StepCredentials, "bad_url", typed("idp.example.com/x y"), false},
		{"discovery endpoint over plain http", flow.StepCredentials, "insecure_url", typed("http://idp.example.com"), false},
		{"discovery endpoint that does not exist", flow.StepCredentials, "http_status", func(t *testing.T) error {
			return discoverURL(testidp.New(t, testidp.Options{}).Issuer() + "/no" + flow.WellKnownPath)
		}, false},
		{"discovery endpoint that is a login page", flow.StepCredentials, "html_page", func(t *testing.T) error {
			return discoverURL(serve(t, "text/html", "<html><body>Sign in</body></html>", nil).URL + flow.WellKnownPath)
		}, false},
		{"discovery endpoint that serves a JSON list", flow.StepCredentials, "not_json", func(t *testing.T) error {
			return discoverURL(serve(t, "application/json", "[1, 2]", nil).URL + flow.WellKnownPath)
		}, false},
		{"discovery endpoint of another issuer's document", flow.StepCredentials, "issuer_mismatch", discoverDoc(map[string]any{"issuer": "https://other.example.com"}), false},
		{"discovery endpoint whose document is not metadata", flow.StepCredentials, "bad_metadata", discoverDoc(map[string]any{"jwks_uri": 42}), false},
		{"discovery endpoint whose document lacks the keys", flow.StepCredentials, "missing_field", discoverDoc(map[string]any{"jwks_uri": nil}), false},
		{"discovery endpoint whose keys are not at a URL", flow.StepCredentials, "bad_metadata_url", discoverDoc(map[string]any{"jwks_uri": "keys.json"}), false},
		{"discovery endpoint whose keys are not on the web", flow.StepCredentials, "bad_url_scheme", discoverDoc(map[string]any{"jwks_uri": "ftp://127.0.0.1/jwks"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.run(t)
			if !flow.IsCode(err, tc.code) {
				t.Fatalf("want code %q, got %v", tc.code, err)
			}
			code := tc.code
			if tc.entra {
				msg, _ := flow.Explain(err)
				code = flow.EntraCode(msg)
			}
			if got := code.Step(); got != tc.step {
				t.Errorf("%s leads back to %q, want %q", code, got, tc.step)
			}
		})
	}
}
