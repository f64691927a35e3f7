package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// The binary these tests run is built once by TestMain (check_test.go).

// loginRun is one run of `oidc-onboard login` whose browser leg the test
// plays once the authorization URL is on standard error.
type loginRun struct {
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	authURL chan string
	read    chan struct{}
}

func startLogin(t *testing.T, secret string, stdin io.Reader, args ...string) *loginRun {
	t.Helper()
	r := &loginRun{authURL: make(chan string, 1), read: make(chan struct{})}
	r.cmd = exec.Command(binary, append([]string{"login", "--no-browser", "--db", filepath.Join(t.TempDir(), "db")}, args...)...)
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if secret != "" {
		r.cmd.Env = append(r.cmd.Env, "OIDC_CLIENT_SECRET="+secret)
	}
	r.cmd.Stdin = stdin
	r.cmd.Stdout = &r.stdout
	pipe, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.read)
		defer close(r.authURL)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			r.stderr.WriteString(line + "\n")
			if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") {
				r.authURL <- u
			}
		}
	}()
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	return r
}

// url waits for the printed authorization URL; "" if the run ended first.
func (r *loginRun) url() string { return <-r.authURL }

// wait waits for the run to end and returns its exit code.
func (r *loginRun) wait(t *testing.T) int {
	t.Helper()
	<-r.read
	err := r.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func loginArgs(idp *testidp.IdP, extra ...string) []string {
	return append([]string{"--discovery", idp.Issuer(), "--client-id", idp.ClientID,
		"--redirect-uri", "http://127.0.0.1:0/callback", "--timeout", "5s", "--wait", "30s"}, extra...)
}

// loginOutput is the --json contract, decoded strictly.
type loginOutput struct {
	Profile  flow.Profile   `json:"profile"`
	Claims   map[string]any `json:"claims"`
	Warnings []string       `json:"warnings"`
}

// output decodes stdout strictly as the --json contract: one value, no
// field beyond it, and the profile with exactly the contract's fields.
func (r *loginRun) output(t *testing.T) loginOutput {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.stdout.Bytes()))
	dec.DisallowUnknownFields()
	var out loginOutput
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("stdout is not the contract's JSON: %v\n%s", err, r.stdout.String())
	}
	if dec.More() {
		t.Fatal("more than one JSON value on stdout")
	}
	// The contract's profile fields, spelled here rather than taken from
	// flow.Profile, so that a field renamed there fails this test.
	want := []string{"email", "first_name", "groups", "idp_id", "last_name", "roles"}
	var raw struct{ Profile map[string]json.RawMessage }
	if err := json.Unmarshal(r.stdout.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(raw.Profile)); !slices.Equal(got, want) {
		t.Fatalf("profile fields %q, the contract's are %q", got, want)
	}
	return out
}

// signIn plays the browser leg with browse and wants the run to sign in
// and exit 0.
func (r *loginRun) signIn(t *testing.T, browse func(authURL string) (int, string, error)) {
	t.Helper()
	status, page, err := browse(r.url())
	if err != nil || status != http.StatusOK || !strings.Contains(page, "Signed in") {
		t.Fatalf("browser leg: %d %v %s", status, err, page)
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, r.stderr.String())
	}
}

// signInDemo signs idp's user in through its sign-in form.
func signInDemo(idp *demoidp.IdP) func(string) (int, string, error) {
	return func(authURL string) (int, string, error) { return testidp.SignInDemo(idp, authURL) }
}

func TestLoginJSONContract(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp, "--json", "--role-map", "admins=admin", "--role-map", "engineers=member", "--claim", "email=email")...)
	run.signIn(t, testidp.Browse)
	out := run.output(t)
	p := out.Profile
	if p.IDPID != "user-42" || p.Email != "ada@example.com" || p.FirstName != "Ada" || p.LastName != "Lovelace" ||
		strings.Join(p.Groups, ",") != "engineers,admins" || strings.Join(p.Roles, ",") != "admin,member" {
		t.Errorf("profile %+v", p)
	}
	if out.Claims["iss"] != idp.Issuer() || out.Claims["sub"] != "user-42" {
		t.Errorf("claims %v", out.Claims)
	}
	if out.Warnings == nil || len(out.Warnings) != 0 { // the field is there, empty: nothing to warn of
		t.Errorf("warnings %#v, want []", out.Warnings)
	}
	if all := run.stdout.String() + run.stderr.String(); strings.Contains(all, idp.ClientSecret) {
		t.Error("the client secret was printed")
	}
	if !strings.Contains(run.stderr.String(), "Open this URL in a browser and sign in") {
		t.Errorf("stderr: %s", run.stderr.String())
	}
}

func TestLoginHumanOutputWithSecretFromStdin(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{AuthMethods: []string{"client_secret_post"}})
	run := startLogin(t, "", strings.NewReader(idp.ClientSecret+"\n"), loginArgs(idp, "--client-secret-file", "-")...)
	if _, _, err := testidp.Browse(run.url()); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, run.stderr.String())
	}
	out := run.stdout.String()
	for _, want := range []string{"✓ Signed in", "client_secret_post", "idp_id      user-42", "Claims (ID token)", `"ada@example.com"`} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(run.stderr.String(), "Note:") {
		t.Errorf("the file's final newline produced a note:\n%s", run.stderr.String())
	}
}

func TestLoginIdPErrorCallback(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.FailAuthorize("access_denied", "User is not assigned to the application")
	run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp)...)
	_, page, err := testidp.Browse(run.url())
	if err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	stderr := run.stderr.String()
	if !strings.Contains(stderr, "User is not assigned to the application") || !strings.Contains(stderr, "Fix:") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if !strings.Contains(page, "Sign-in failed") || run.stdout.Len() != 0 {
		t.Errorf("page %q stdout %q", page, run.stdout.String())
	}
}

func TestLoginUnknownStateKeepsWaiting(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp, "--json")...)
	auth, err := url.Parse(run.url())
	if err != nil {
		t.Fatal(err)
	}
	forged := auth.Query().Get("redirect_uri") + "?" + url.Values{"state": {"forged"}, "code": {"x"}}.Encode()
	status, _, err := testidp.Browse(forged)
	if err != nil || status != http.StatusBadRequest {
		t.Fatalf("forged state: %d %v", status, err)
	}
	if _, _, err := testidp.Browse(auth.String()); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 0 {
		t.Fatalf("exit %d after the real callback, stderr:\n%s", code, run.stderr.String())
	}
}

func TestLoginBusyPort(t *testing.T) {
	t.Parallel()
	port := testidp.BusyPort(t)
	idp := testidp.New(t, testidp.Options{})
	run := startLogin(t, idp.ClientSecret, nil, "--discovery", idp.Issuer(), "--client-id", idp.ClientID,
		"--redirect-uri", "http://127.0.0.1:"+port+"/callback")
	if u := run.url(); u != "" {
		t.Fatalf("printed an authorization URL despite the busy port: %s", u)
	}
	if code := run.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if s := run.stderr.String(); !strings.Contains(s, "port "+port+" ") || !strings.Contains(s, "Fix:") {
		t.Errorf("stderr:\n%s", s)
	}
}

func TestLoginUsageErrors(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	cases := []struct {
		name   string
		secret string
		args   []string
		want   string
	}{
		{"missing secret", "", loginArgs(idp), "OIDC_CLIENT_SECRET"},
		{"unknown claim attribute", "s", loginArgs(idp, "--claim", "phone=phone_number"), "idp_id, email, first_name, last_name"},
		{"bad role map", "s", loginArgs(idp, "--role-map", "admins"), "GROUP=ROLE"},
		{"missing client id", "s", []string{"--discovery", idp.Issuer(), "--redirect-uri", "http://127.0.0.1:0/cb"}, "--client-id is required"},
		{"secret as a flag value", "s", loginArgs(idp, "--client-secret", "x"), "unknown flag"},
		{"unknown auth method", "s", loginArgs(idp, "--auth-method", "private_key_jwt"), `--auth-method "private_key_jwt": want client_secret_basic or client_secret_post`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := startLogin(t, tc.secret, nil, tc.args...)
			if code := run.wait(t); code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, run.stderr.String())
			}
			if !strings.Contains(run.stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, run.stderr.String())
			}
		})
	}
}

// TestLoginBinaryAgainstARealProvider runs the built binary against
// zitadel's OpenID Provider (flow/demoidp), posting its sign-in form.
func TestLoginBinaryAgainstARealProvider(t *testing.T) {
	t.Parallel()
	idp := testidp.StartDemo(t, demoidp.Options{})
	run := startLogin(t, idp.ClientSecret, nil, "--discovery", idp.DiscoveryURL, "--client-id", idp.ClientID,
		"--redirect-uri", "http://localhost:0/callback", "--json", "--role-map", "oidc-admins=admin")
	run.signIn(t, signInDemo(idp))
	out := run.output(t)
	if out.Profile.IDPID != idp.User.Subject || out.Profile.Email != idp.User.Email || strings.Join(out.Profile.Roles, ",") != "admin" {
		t.Errorf("profile %+v", out.Profile)
	}
}

// TestLoginStoredConnection tests a connection imported into the store:
// its sealed secret and mappings drive the login, and the outcome is
// recorded with it.
func TestLoginStoredConnection(t *testing.T) {
	t.Parallel()
	idp := testidp.StartDemo(t, demoidp.Options{})
	db := filepath.Join(t.TempDir(), "onboard.db")
	id := importConnection(t, db, idp.ClientSecret, fmt.Sprintf(`{"organization":"Acme Corp","name":"Acme OIDC","discovery_url":%q,"client_id":%q,
		"redirect_uri":"http://127.0.0.1:0/callback/acme","role_mappings":[{"group":"oidc-admins","role":"admin"}]}`,
		idp.DiscoveryURL, idp.ClientID))

	// Flags that name another IdP or client conflict with --connection.
	if code, _, stderr := runBinary(t, nil, "--db", db, "login", "--connection", id, "--client-id", "x"); code != 2 || !strings.Contains(stderr, "--client-id cannot be combined") {
		t.Errorf("--connection with --client-id: exit %d, %s", code, stderr)
	}

	// --redirect-uri overrides the stored one for this login only.
	override := startLogin(t, "", nil, "--db", db, "--connection", id, "--redirect-uri", "http://127.0.0.1:0/override")
	if au, err := url.Parse(override.url()); err != nil || !strings.HasSuffix(au.Query().Get("redirect_uri"), "/override") {
		t.Errorf("--redirect-uri with --connection: authorization URL %v, %v", au, err)
	}
	_ = override.cmd.Process.Kill()

	// No OIDC_CLIENT_SECRET here: the stored, sealed secret is used.
	run := startLogin(t, "", nil, "--db", db, "--connection", id, "--json")
	run.signIn(t, signInDemo(idp))
	out := run.output(t)
	if strings.Join(out.Profile.Roles, ",") != "admin" {
		t.Errorf("roles %v, want the stored mapping's [admin]", out.Profile.Roles)
	}

	code, stdout, stderr := runBinary(t, nil, "--db", db, "connections", "show", id, "--json")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, stderr)
	}
	var shown struct {
		LastTestLogin *struct {
			OK bool `json:"ok"`
		} `json:"last_test_login"`
	}
	if err := json.Unmarshal([]byte(stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.LastTestLogin == nil || !shown.LastTestLogin.OK {
		t.Errorf("the test login was not recorded as a success: %s", stdout)
	}
}

// importConnection imports the connection doc into db with secret and
// returns its ID.
func importConnection(t *testing.T, db, secret, doc string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "conn.json")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBinary(t, []string{"OIDC_CLIENT_SECRET=" + secret}, "--db", db, "connections", "import", f)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// TestLoginNeverShowsOrStoresAnEchoedSecret runs a stored connection's
// test login against a token endpoint that echoes the client secret (and
// the code, the PKCE verifier and the Basic header) in its
// error_description: neither login's output nor anything stored or shown
// later carries them.
func TestLoginNeverShowsOrStoresAnEchoedSecret(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.EchoSecret()
	db := filepath.Join(t.TempDir(), "onboard.db")
	id := importConnection(t, db, idp.ClientSecret, fmt.Sprintf(`{"organization":"Acme Corp","name":"Acme OIDC","discovery_url":%q,"client_id":%q,"redirect_uri":"http://127.0.0.1:0/callback/acme"}`,
		idp.DiscoveryURL(), idp.ClientID))

	var leaks []string // what the login sent the token endpoint
	for _, asJSON := range []bool{false, true} {
		args := []string{"--db", db, "--connection", id}
		if asJSON {
			args = append(args, "--json")
		}
		run := startLogin(t, "", nil, args...)
		if _, _, err := testidp.Browse(run.url()); err != nil {
			t.Fatal(err)
		}
		if code := run.wait(t); code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, run.stderr.String())
		}
		r := idp.TokenRequests()[len(idp.TokenRequests())-1]
		_, basic, _ := strings.Cut(r.Authorization, "Basic ")
		leaks = append(leaks, r.Form.Get("code"), r.Form.Get("code_verifier"), basic)
		out := run.stdout.String() + run.stderr.String()
		if !strings.Contains(out, "Invalid client secret: [secret removed]") || !strings.Contains(out, "client_secret_basic") {
			t.Errorf("login (json %v) does not show the IdP's redacted answer:\n%s", asJSON, out)
		}
		assertNone(t, fmt.Sprintf("login (json %v)", asJSON), out, append(leaks, idp.ClientSecret)...)
	}
	leaks = append(leaks, idp.ClientSecret)

	for _, args := range [][]string{{"connections", "show", id}, {"connections", "show", id, "--json"}, {"transcript", id}, {"transcript", id, "--json"}} {
		code, stdout, stderr := runBinary(t, nil, append([]string{"--db", db}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		if !strings.Contains(stdout, "Invalid client secret: [secret removed]") {
			t.Errorf("%v does not show the failed login:\n%s", args, stdout)
		}
		assertNone(t, strings.Join(args, " "), stdout+stderr, leaks...)
	}

	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	logins, err := st.ListTestLogins(ctx, id)
	if err != nil || len(logins) != 2 {
		t.Fatalf("test logins %v %v", logins, err)
	}
	for _, l := range logins {
		assertNone(t, "test_logins.error", l.Error, leaks...)
	}
	events, err := st.ListAudit(ctx, store.AuditQuery{ConnectionID: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		assertNone(t, "audit_events.detail", e.Detail, leaks...)
	}
	// Nothing in the database file holds them in plain text either.
	for _, f := range []string{db, db + "-wal"} {
		if b, err := os.ReadFile(f); err == nil {
			assertNone(t, filepath.Base(f), string(b), leaks...)
		}
	}
}

// assertNone fails when text holds any of secrets.
func assertNone(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows %q:\n%s", where, s, text)
		}
	}
}

// TestLoginAuthMethod: an IdP that offers both methods while the app is
// registered for client_secret_post only. The login says so and how to
// switch; --auth-method client_secret_post signs in.
func TestLoginAuthMethod(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{AuthMethods: []string{"client_secret_basic", "client_secret_post"}})
	idp.RegisterFor("client_secret_post")
	run := startLogin(t, idp.ClientSecret, nil, loginArgs(idp)...)
	if _, _, err := testidp.Browse(run.url()); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	stderr := run.stderr.String()
	for _, want := range []string{"registered for client_secret_post", "sent the client secret with client_secret_basic", "OAuth error invalid_client",
		"Fix:   switch to client_secret_post here", "--auth-method client_secret_post"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "secret is wrong") {
		t.Errorf("blamed the secret:\n%s", stderr)
	}
	run = startLogin(t, idp.ClientSecret, nil, loginArgs(idp, "--auth-method", "client_secret_post")...)
	if _, _, err := testidp.Browse(run.url()); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 0 {
		t.Fatalf("--auth-method client_secret_post: exit %d:\n%s", code, run.stderr.String())
	}
	if !strings.Contains(run.stdout.String(), "client authentication client_secret_post") {
		t.Errorf("stdout:\n%s", run.stdout.String())
	}
}

// TestStoredAuthMethod: a connection's token auth method goes through
// import, show and export (only when set, so existing exports are as they
// were), and its test login uses it.
func TestStoredAuthMethod(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{AuthMethods: []string{"client_secret_basic", "client_secret_post"}})
	idp.RegisterFor("client_secret_post")
	db := filepath.Join(t.TempDir(), "onboard.db")
	doc := func(name, extra string) string {
		return fmt.Sprintf(`{"organization":"Acme Corp","name":%q,"discovery_url":%q,"client_id":%q,"redirect_uri":"http://127.0.0.1:0/callback/acme"%s}`,
			name, idp.DiscoveryURL(), idp.ClientID, extra)
	}
	post := importConnection(t, db, idp.ClientSecret, doc("Post", `,"token_auth_method":"client_secret_post"`))
	auto := importConnection(t, db, idp.ClientSecret, doc("Auto", ""))
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(doc("Bad", `,"token_auth_method":"private_key_jwt"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runBinary(t, nil, "--db", db, "connections", "import", bad); code != 1 || !strings.Contains(stderr, `"token_auth_method"`) {
		t.Errorf("a method a login cannot use was imported: exit %d %s", code, stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"connections", "export", post}, `"token_auth_method": "client_secret_post"`},
		{[]string{"connections", "show", post, "--json"}, `"token_auth_method": "client_secret_post"`},
		{[]string{"connections", "show", post}, "Token auth method  client_secret_post"},
	} {
		if code, stdout, stderr := runBinary(t, nil, append([]string{"--db", db}, tc.args...)...); code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%v: exit %d, lacks %q:\n%s%s", tc.args, code, tc.want, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"connections", "export", auto}, {"connections", "show", auto}, {"connections", "show", auto, "--json"}} {
		if _, stdout, _ := runBinary(t, nil, append([]string{"--db", db}, args...)...); strings.Contains(strings.ToLower(stdout), "token_auth_method") || strings.Contains(stdout, "Token auth method") {
			t.Errorf("%v shows a method that is not set:\n%s", args, stdout)
		}
	}

	run := startLogin(t, "", nil, "--db", db, "--connection", post)
	run.signIn(t, testidp.Browse)
	if !strings.Contains(run.stdout.String(), "client authentication client_secret_post") {
		t.Errorf("the stored method was not used:\n%s", run.stdout.String())
	}
	// --auth-method overrides it for one login.
	run = startLogin(t, "", nil, "--db", db, "--connection", post, "--auth-method", "client_secret_basic")
	if _, _, err := testidp.Browse(run.url()); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 1 || !strings.Contains(run.stderr.String(), "sent the client secret with client_secret_basic") {
		t.Errorf("--auth-method with --connection: exit %d\n%s", code, run.stderr.String())
	}
}
