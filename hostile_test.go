package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// hostile is what a hostile IdP (or customer) puts in a text field: OSC 52
// (writes the clipboard), CSI 2J (clears the screen), an OSC 8 hyperlink,
// a DCS string, a C1 CSI (U+009B, read as ESC [ by some terminals) and a
// bidi override (U+202E) that makes the rest read backwards.
const hostile = "\x1b]52;c;SGFja2Vk\x07" + "\x1b[2J" + "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\" +
	"\x1bP1$r0m\x1b\\" + "\u009b31m" + "\u202eliame"

// assertTerminalSafe fails when text holds anything a terminal would act
// on rather than show: a C0 control other than a line feed or a tab, DEL,
// a C1 control, a byte that is not UTF-8, or a bidi control.
func assertTerminalSafe(t *testing.T, what, text string) {
	t.Helper()
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		bad := r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f ||
			r == utf8.RuneError && size == 1 ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
		if bad {
			t.Errorf("%s holds %U at byte %d: …%q…", what, r, i, text[max(i-40, 0):min(i+40, len(text))])
			return
		}
		i += size
	}
}

// hostileIdP serves a discovery document and a key set in which every
// text field carries the hostile sequences; issuer is its issuer, written
// as served ("" for the server's address followed by hostile).
func hostileIdP(t *testing.T, issuer string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case flow.WellKnownPath:
			iss := issuer
			if iss == "" {
				iss = base + "/" + hostile
			}
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": iss, "authorization_endpoint": base + "/authorize" + hostile,
				"token_endpoint": base + "/token", "jwks_uri": base + "/jwks", "userinfo_endpoint": hostile,
				"response_types_supported":              []string{"code", hostile},
				"subject_types_supported":               []string{hostile},
				"id_token_signing_alg_values_supported": []string{"RS256", "HS256" + hostile},
				"scopes_supported":                      []string{"openid", "email", hostile},
				"claims_supported":                      []string{"sub", "email", hostile},
				"token_endpoint_auth_methods_supported": []string{hostile},
				"code_challenge_methods_supported":      []string{"plain" + hostile},
			})
		case "/jwks":
			json.NewEncoder(w).Encode(map[string]any{"keys": []any{
				map[string]any{"kty": "RSA" + hostile, "kid": hostile, "alg": "RS256" + hostile, "use": hostile, "n": hostile, "e": "AQAB"},
			}})
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><title>%s</title><body>%s\x9b2J</body></html>", hostile, hostile)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCheckTextShowsAHostileIdPSafely: `check` prints what a hostile
// discovery document and key set hold without a single control sequence;
// `check --json` keeps the values as served, escaped by the encoder.
func TestCheckTextShowsAHostileIdPSafely(t *testing.T) {
	t.Parallel()
	srv := hostileIdP(t, "")
	for _, url := range []string{srv.URL, srv.URL + "/an-error-page" + flow.WellKnownPath} {
		code, stdout, stderr := runBinary(t, []string{"NO_COLOR=1"}, "check", url)
		if code != 1 {
			t.Errorf("check %s: exit %d, want 1 (failed checks)\n%s%s", url, code, stdout, stderr)
		}
		assertTerminalSafe(t, "check's text", stdout+stderr)
	}
	code, stdout, _ := runBinary(t, nil, "check", "--json", srv.URL)
	r := decodeReport(t, stdout)
	if code != 1 || r.Issuer != srv.URL+"/"+hostile {
		t.Errorf("check --json: exit %d, issuer %q; want the issuer as served", code, r.Issuer)
	}
	if !strings.Contains(stdout, `\u001b]52;c;`) || strings.Contains(stdout, "\x1b") {
		t.Errorf("check --json does not escape the issuer as JSON does:\n%s", stdout)
	}
}

// TestCheckTextCutsAHugeIssuer: a 900 KB issuer is shown cut to
// flow.MaxShownBytes, saying how long it was.
func TestCheckTextCutsAHugeIssuer(t *testing.T) {
	t.Parallel()
	huge := "https://idp.example/" + strings.Repeat("a", 900<<10)
	srv := hostileIdP(t, huge)
	start := time.Now()
	_, stdout, stderr := runBinary(t, []string{"NO_COLOR=1"}, "check", srv.URL)
	if len(stdout) > 32<<10 || !strings.Contains(stdout, " bytes)") {
		t.Errorf("check's text is %d bytes, want the issuer cut with its length (%s):\n%.3000s", len(stdout), stderr, stdout)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("check took %s", d)
	}
}

// TestLoginHumanOutputShowsHostileClaimsSafely: claims and an IdP's
// errors (its error_description, its error page) reach `login`'s
// standard output and standard error only as visible stand-ins; --json
// keeps the claims as signed.
func TestLoginHumanOutputShowsHostileClaimsSafely(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.User["given_name"] = hostile
	idp.User["family_name"] = strings.Repeat("b", 300<<10) // as much as the token response may hold
	idp.User["groups"] = []any{"engineers", hostile}
	idp.User["x"+hostile] = hostile

	run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp)...)
	run.signIn(t, testidp.Browse)
	out := run.stdout.String()
	assertTerminalSafe(t, "login's standard output", out)
	assertTerminalSafe(t, "login's standard error", run.stderr.String())
	if !strings.Contains(out, "␛]52;c;") || len(out) > 64<<10 {
		t.Errorf("login's output (%d bytes) does not show the claims cut and with stand-ins:\n%.3000s", len(out), out)
	}

	run = startLogin(t, idp.ClientSecret, nil, loginArgs(idp, "--json")...)
	run.signIn(t, testidp.Browse)
	if got := run.output(t); got.Claims["given_name"] != hostile || got.Profile.FirstName != hostile {
		t.Errorf("login --json changed the claim: %q, profile %q", got.Claims["given_name"], got.Profile.FirstName)
	}
}

// TestLoginErrorsShowAHostileIdPSafely: an IdP's error and
// error_description, and its HTML error page at the token endpoint, reach
// `login`'s standard error only as visible stand-ins.
func TestLoginErrorsShowAHostileIdPSafely(t *testing.T) {
	t.Parallel()
	for name, misbehave := range map[string]func(idp *testidp.IdP){
		"error and error_description": func(idp *testidp.IdP) {
			idp.FailAuthorize("access_denied"+hostile, hostile+"\r\nUser is not assigned")
		},
		"an HTML error page at the token endpoint": func(idp *testidp.IdP) {
			next := idp.Server.Config.Handler
			idp.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/token" {
					next.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, "<html><body><h1>%s</h1>\x9b2J %s</body></html>", hostile, hostile)
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			idp := testidp.New(t, testidp.Options{})
			misbehave(idp)
			run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp)...)
			if _, _, err := testidp.Browse(run.url()); err != nil {
				t.Fatal(err)
			}
			if code := run.wait(t); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			assertTerminalSafe(t, "login's standard error", run.stderr.String())
		})
	}
}

// TestStoredHostileTextIsShownSafely: what a hostile IdP sent and was
// stored (a validation, a test login's claims and error) and names stored
// before names were checked, and audit details, reach `connections
// list|show`, `transcript`, `verify` and `invite list` only as visible
// stand-ins; --json keeps the values.
func TestStoredHostileTextIsShownSafely(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	ctx := context.Background()
	srv := hostileIdP(t, "")
	c := &flow.Connection{Organization: "Acme " + hostile, Name: "OIDC " + hostile, DiscoveryURL: srv.URL + flow.WellKnownPath,
		Issuer: srv.URL + "/" + hostile, ClientID: "acme-app", ClientSecret: "Zq8~pLk3RtY7vBn2MxC5wE9aS4dF6gH1jK0lP3oI", RedirectURI: "http://localhost:8976/callback"}
	if err := e.st.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	r := flow.Validate(ctx, flow.NewHTTPClient(flow.ClientOptions{}), c.DiscoveryURL, flow.ValidateOptions{})
	if err := e.st.SaveValidation(ctx, c.ID, *r); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Activate(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("c", 900<<10)
	claims := map[string]any{"sub": hostile, "email": "ana@acme.example", "given_name": hostile, "family_name": huge, "x" + hostile: hostile}
	if _, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: true, Claims: claims,
		Profile: &flow.Profile{IDPID: hostile, Email: "ana@acme.example", FirstName: hostile, LastName: huge, Groups: []string{hostile}, Roles: []string{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: false, Error: "the IdP says: " + hostile + "\nsent " + hostile}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Audit(ctx, store.Event{Actor: "ssh:" + hostile, Action: "connection.save", ConnectionID: c.ID, Detail: hostile}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.CreateInvite(ctx, c.Organization, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"connections", "list"}, {"connections", "show", c.ID}, {"transcript", c.ID}, {"verify", c.ID}, {"invite", "list"}} {
		_, stdout, stderr := runBinary(t, e.env, args...)
		assertTerminalSafe(t, strings.Join(args, " "), stdout+stderr)
		if !strings.Contains(stdout, "␛") {
			t.Errorf("%v shows no stand-in for the escape sequences:\n%.2000s", args, stdout)
		}
		if len(stdout) > 128<<10 {
			t.Errorf("%v printed %d bytes: the 900 KB claim was not cut", args, len(stdout))
		}
	}
	_, stdout, _ := runBinary(t, e.env, "transcript", c.ID, "--json")
	var tr flow.Transcript
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil || tr.Organization != c.Organization || tr.Name != c.Name {
		t.Errorf("transcript --json: %v, organization %q, name %q; want them as stored", err, tr.Organization, tr.Name)
	}
	_, stdout, _ = runBinary(t, e.env, "connections", "show", c.ID, "--json")
	var shown flow.ConnectionDetails
	if err := json.Unmarshal([]byte(stdout), &shown); err != nil || shown.Issuer != c.Issuer || shown.LastTestLogin == nil || !strings.Contains(shown.LastTestLogin.Error, hostile) {
		t.Errorf("connections show --json: %v, %+v; want the values as stored", err, shown)
	}
}

// TestTypedNamesRefuseControlCharacters: `invite --org` and `connections
// import` refuse an organization or connection name with a control or
// bidi-override character, naming the problem.
func TestTypedNamesRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "onboard.db")
	for _, org := range []string{"Acme\u202eproC", "Acme\x1b[2J"} {
		code, stdout, stderr := runBinary(t, nil, "--db", db, "invite", "--org", org)
		if code != 2 || !strings.Contains(stderr, "control character") || stdout != "" {
			t.Errorf("invite --org %q: exit %d, %s%s", org, code, stdout, stderr)
		}
		assertTerminalSafe(t, "invite's error", stderr)
	}
	for _, doc := range []string{
		`{"organization":"Acme\u202eproC","name":"Acme OIDC","discovery_url":"https://idp.acme.test","client_id":"c"}`,
		`{"organization":"Acme Corp","name":"Acme \u009b2J OIDC","discovery_url":"https://idp.acme.test","client_id":"c"}`,
	} {
		file := filepath.Join(t.TempDir(), "conn.json")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runBinary(t, []string{"OIDC_CLIENT_SECRET=s3cret-value"}, "--db", db, "connections", "import", file)
		if code != 1 || !strings.Contains(stderr, "control character") || stdout != "" {
			t.Errorf("import %s: exit %d, %s%s", doc, code, stdout, stderr)
		}
	}
	if _, stdout, _ := runBinary(t, nil, "--db", db, "connections", "list", "--json"); strings.TrimSpace(stdout) != "[]" {
		t.Errorf("a refused import was stored: %s", stdout)
	}
}
