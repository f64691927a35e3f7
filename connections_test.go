package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
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

// connCLI runs the built binary against one database.
type connCLI struct {
	bin  string
	home string // HOME of the runs; the database is under it unless env says otherwise
	env  []string
}

// connResult is what one run printed and its exit code.
type connResult struct {
	stdout, stderr string
	code           int
}

func newConnCLI(t *testing.T, bin string, env ...string) *connCLI {
	home := t.TempDir()
	return &connCLI{bin: bin, home: home, env: append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}, env...)}
}

// dbPath is where the runs' database lives by default (XDG_DATA_HOME unset).
func (c *connCLI) dbPath() string {
	return filepath.Join(c.home, ".local", "share", "oidc-onboard", "onboard.db")
}

func (c *connCLI) run(t *testing.T, stdin string, extraEnv []string, args ...string) connResult {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return connResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// ok runs and fails the test unless the exit code is 0.
func (c *connCLI) ok(t *testing.T, stdin string, extraEnv []string, args ...string) connResult {
	t.Helper()
	r := c.run(t, stdin, extraEnv, args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (c *connCLI) listJSON(t *testing.T) []flow.ConnectionExport {
	t.Helper()
	var out []flow.ConnectionExport
	if err := json.Unmarshal([]byte(c.ok(t, "", nil, "connections", "list", "--json").stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	importSecret = "env-secret-value-never-shown-7c1d"
	fileSecret   = "secret-inside-the-file-ignored-0000"
)

func acmeJSON(extra string) string {
	return `{"organization": "Acme Corp", "name": "Acme OIDC", "status": "active",
		"discovery_url": "https://idp.acme.test", "client_id": "client-123", "client_secret": "` + fileSecret + `",
		"redirect_uri": "http://localhost:8976/callback/acme",
		"claims": {"email": "upn"}, "role_mappings": [{"group": "g-admins", "role": "admin"}]` + extra + `}`
}

func TestConnectionsCommands(t *testing.T) {
	bin := binary // built once by TestMain (check_test.go)

	t.Run("import, list, show, export round trip", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		secretEnv := []string{"OIDC_CLIENT_SECRET=" + importSecret}
		r := c.ok(t, acmeJSON(""), secretEnv, "connections", "import", "-")
		id := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(id, "conn_") || strings.Contains(id, "\n") {
			t.Fatalf("import printed %q, want one ID", r.stdout)
		}
		if fi, err := os.Stat(filepath.Dir(c.dbPath())); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("database folder: %v, %v; want 0700", fi, err)
		}

		list := c.ok(t, "", nil, "connections", "list")
		for _, want := range []string{"ID", "ORGANIZATION", id, "Acme Corp", "Acme OIDC", "active", "https://idp.acme.test"} {
			if !strings.Contains(list.stdout, want) {
				t.Errorf("list lacks %q:\n%s", want, list.stdout)
			}
		}
		show := c.ok(t, "", nil, "connections", "show", strings.ToUpper(id))
		for _, want := range []string{id, "https://idp.acme.test/.well-known/openid-configuration", "••••7c1d", "g-admins → admin", "email=upn", "idp_id=sub"} {
			if !strings.Contains(show.stdout, want) {
				t.Errorf("show lacks %q:\n%s", want, show.stdout)
			}
		}

		var exported flow.ConnectionExport
		exp := c.ok(t, "", nil, "connections", "export", id, "--json")
		if err := json.Unmarshal([]byte(exp.stdout), &exported); err != nil {
			t.Fatal(err)
		}
		want := flow.ConnectionExport{ID: id, Organization: "Acme Corp", Name: "Acme OIDC", Status: "active",
			DiscoveryURL: "https://idp.acme.test/.well-known/openid-configuration", Issuer: "https://idp.acme.test",
			ClientID: "client-123", ClientSecret: "••••7c1d", RedirectURI: "http://localhost:8976/callback/acme",
			Claims:      flow.ClaimMapping{IDPID: "sub", Email: "upn", FirstName: "given_name", LastName: "family_name"},
			GroupsClaim: "groups", RoleMappings: []flow.RoleMapping{{Group: "g-admins", Role: "admin"}}}
		if !sameConnectionJSON(exported, want) {
			t.Fatalf("export:\n got %+v\nwant %+v", exported, want)
		}
		assertKeys(t, exp.stdout, "id", "organization", "name", "status", "discovery_url", "issuer", "client_id",
			"client_secret", "redirect_uri", "claims", "groups_claim", "role_mappings", "default_role")

		for _, out := range []connResult{list, show, exp, c.ok(t, "", nil, "connections", "list", "--json"),
			c.ok(t, "", nil, "connections", "show", id, "--json")} {
			if strings.Contains(out.stdout+out.stderr, importSecret) || strings.Contains(out.stdout+out.stderr, fileSecret) {
				t.Fatalf("a secret was printed:\n%s%s", out.stdout, out.stderr)
			}
		}
		full := c.ok(t, "", nil, "connections", "export", id, "--include-secret")
		if !strings.Contains(full.stdout, `"client_secret": "`+importSecret+`"`) {
			t.Fatalf("--include-secret did not export the secret from OIDC_CLIENT_SECRET:\n%s", full.stdout)
		}

		// The export imports on another machine: same connection, same ID.
		other := newConnCLI(t, bin)
		if got := strings.TrimSpace(other.ok(t, full.stdout, secretEnv, "connections", "import", "-").stdout); got != id {
			t.Fatalf("import on another machine gave ID %q, want %q", got, id)
		}
		moved := other.listJSON(t)
		if len(moved) != 1 || !sameConnectionJSON(moved[0], exported) {
			t.Fatalf("moved connection:\n got %+v\nwant %+v", moved, exported)
		}
	})

	t.Run("import updates by ID, then by organization and name", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		id := strings.TrimSpace(c.ok(t, acmeJSON(""), []string{"OIDC_CLIENT_SECRET=" + importSecret}, "connections", "import", "-").stdout)

		// Same organization and name, no secret given: updated, secret kept.
		changed := strings.Replace(acmeJSON(""), `"client-123"`, `"client-456"`, 1)
		// (--yes: it changes the client ID of an active connection.)
		r := c.ok(t, changed, nil, "connections", "import", "-", "--yes")
		if strings.TrimSpace(r.stdout) != id || !strings.Contains(r.stderr, "Updated") {
			t.Fatalf("re-import: stdout %q stderr %q, want the same ID updated", r.stdout, r.stderr)
		}
		if all := c.listJSON(t); len(all) != 1 || all[0].ClientID != "client-456" || all[0].ClientSecret != "••••7c1d" {
			t.Fatalf("after the update by name: %+v", all)
		}
		// By ID, with a new name and a secret from a file.
		secretFile := filepath.Join(t.TempDir(), "secret.txt")
		if err := os.WriteFile(secretFile, []byte("file-flag-secret-abcd\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		renamed := strings.Replace(acmeJSON(`, "id": "`+id+`"`), `"Acme OIDC"`, `"Acme SSO"`, 1)
		c.ok(t, renamed, nil, "connections", "import", "-", "--client-secret-file", secretFile, "--yes")
		all := c.listJSON(t)
		if len(all) != 1 || all[0].ID != id || all[0].Name != "Acme SSO" {
			t.Fatalf("after updates: %+v", all)
		}
		full := c.ok(t, "", nil, "connections", "export", id, "--include-secret").stdout
		if !strings.Contains(full, `"file-flag-secret-abcd"`) {
			t.Fatalf("secret from --client-secret-file not stored:\n%s", full)
		}

		// The secret on standard input, the connection from a file.
		connFile := filepath.Join(t.TempDir(), "conn.json")
		if err := os.WriteFile(connFile, []byte(strings.Replace(acmeJSON(""), `"Acme OIDC"`, `"Second"`, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		second := strings.TrimSpace(c.ok(t, "stdin-secret-wxyz\n", nil, "connections", "import", connFile, "--client-secret-file", "-").stdout)
		if second == id || !strings.Contains(c.ok(t, "", nil, "connections", "export", second, "--include-secret").stdout, `"stdin-secret-wxyz"`) {
			t.Fatalf("second connection %s did not get the secret from standard input", second)
		}
	})

	t.Run("import refuses bad files and writes nothing", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		cases := []struct{ name, input, want string }{
			{"no organization", `{"name": "n", "discovery_url": "https://idp.test", "client_id": "c"}`, `"organization"`},
			{"no name", `{"organization": "o", "discovery_url": "https://idp.test", "client_id": "c"}`, `"name"`},
			{"no discovery_url", `{"organization": "o", "name": "n", "client_id": "c"}`, `"discovery_url"`},
			{"no client_id", `{"organization": "o", "name": "n", "discovery_url": "https://idp.test"}`, `"client_id"`},
			{"plain http", `{"organization": "o", "name": "n", "discovery_url": "http://idp.test", "client_id": "c"}`, `"discovery_url"`},
			{"bad status", `{"organization": "o", "name": "n", "discovery_url": "https://idp.test", "client_id": "c", "status": "on"}`, `"status"`},
			{"wrong type", `{"organization": "o", "name": ["n"], "discovery_url": "https://idp.test", "client_id": "c"}`, `"name"`},
			{"half a role mapping", `{"organization": "o", "name": "n", "discovery_url": "https://idp.test", "client_id": "c", "role_mappings": [{"group": "g"}]}`, `role_mappings[0]`},
			{"not JSON", "organization: o\n", "not valid JSON"},
			{"unknown key", `{"organization": "o", "name": "n", "discovery_url": "https://idp.test", "client_id": "c", "emial": "a@o.test"}`, `"emial" is unknown: a connection has no such field`},
			{"unknown claim key", `{"organization": "o", "name": "n", "discovery_url": "https://idp.test", "client_id": "c", "claims": {"emial": "upn"}}`, `"emial"`},
		}
		for _, tc := range cases {
			r := c.run(t, tc.input, []string{"OIDC_CLIENT_SECRET=" + importSecret}, "connections", "import", "-")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was imported") || r.stdout != "" {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 naming %s", tc.name, r.code, r.stdout, r.stderr, tc.want)
			}
		}
		if got := c.listJSON(t); len(got) != 0 {
			t.Fatalf("bad imports wrote %+v", got)
		}
		if r := c.run(t, "", nil, "connections", "import", "-", "--client-secret-file", "-"); r.code != 2 {
			t.Fatalf("both on standard input: exit %d, want 2", r.code)
		}
	})

	t.Run("unknown IDs and usage errors", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		for _, args := range [][]string{{"show", "conn_nope22"}, {"export", "conn_nope22"}, {"delete", "conn_nope22", "--yes"}} {
			r := c.run(t, "", nil, append([]string{"connections"}, args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, `"conn_nope22"`) || !strings.Contains(r.stderr, "oidc-onboard connections list") {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
		}
		for _, args := range [][]string{{"show"}, {"export"}, {"delete"}, {"import"}, {"list", "extra"}, {"bogus"}, {"list", "--bogus"}} {
			if r := c.run(t, "", nil, append([]string{"connections"}, args...)...); r.code != 2 {
				t.Errorf("%v: exit %d, want 2 (usage); stderr %q", args, r.code, r.stderr)
			}
		}
	})

	t.Run("delete needs --yes without a terminal", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		id := strings.TrimSpace(c.ok(t, acmeJSON(""), nil, "connections", "import", "-").stdout)
		r := c.run(t, "y\n", nil, "connections", "delete", id)
		if r.code != 2 || !strings.Contains(r.stderr, "--yes") {
			t.Fatalf("delete without --yes: exit %d, stderr %q", r.code, r.stderr)
		}
		if len(c.listJSON(t)) != 1 {
			t.Fatal("deleted without confirmation")
		}
		c.ok(t, "", nil, "connections", "delete", id, "--yes")
		if got := c.listJSON(t); len(got) != 0 {
			t.Fatalf("after delete --yes: %+v", got)
		}
	})

	t.Run("database path: --db, OIDC_ONBOARD_DB, XDG_DATA_HOME", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		envDB, flagDB, xdg := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db"), filepath.Join(dir, "xdg")
		c := newConnCLI(t, bin, "XDG_DATA_HOME="+xdg)
		c.ok(t, acmeJSON(""), nil, "connections", "import", "-")
		c.ok(t, acmeJSON(""), []string{"OIDC_ONBOARD_DB=" + envDB}, "connections", "import", "-")
		c.ok(t, acmeJSON(""), []string{"OIDC_ONBOARD_DB=" + envDB}, "--db", flagDB, "connections", "import", "-")
		for _, p := range []string{filepath.Join(xdg, "oidc-onboard", "onboard.db"), envDB, flagDB} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want a 0600 database", p, fi, err)
			}
		}
		if _, err := os.Stat(c.dbPath()); !os.IsNotExist(err) {
			t.Errorf("HOME's default database was used although XDG_DATA_HOME is set: %v", err)
		}
	})

	t.Run("bad database files get one-line errors and stay intact", func(t *testing.T) {
		t.Parallel()
		c := newConnCLI(t, bin)
		dir := t.TempDir()
		r := c.run(t, "", nil, "--db", dir, "connections", "list")
		if r.code != 1 || !strings.Contains(r.stderr, "is a folder") {
			t.Errorf("folder: exit %d, stderr %q", r.code, r.stderr)
		}
		notes := filepath.Join(dir, "notes.db")
		content := bytes.Repeat([]byte("not a database at all\n"), 300)
		if err := os.WriteFile(notes, content, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"connections", "list"}, {"connections", "import", "-"}} {
			r := c.run(t, acmeJSON(""), nil, append([]string{"--db", notes}, args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "not an oidc-onboard database") || strings.Count(r.stderr, "\n") != 2 {
				t.Errorf("%v on a non-SQLite file: exit %d, stderr %q; want an error line and a fix line", args, r.code, r.stderr)
			}
		}
		if got, _ := os.ReadFile(notes); !bytes.Equal(got, content) {
			t.Fatal("the non-SQLite file was changed")
		}
	})

	t.Run("a read-only database is refused unchanged", func(t *testing.T) {
		t.Parallel()
		testReadOnlyDatabase(t, bin)
	})

	t.Run("delete asks on a terminal", func(t *testing.T) {
		t.Parallel()
		testDeleteOnTerminal(t, bin)
	})

	t.Run("import asks on a terminal before changing an active connection", func(t *testing.T) {
		t.Parallel()
		testImportAsksOnTerminal(t, bin)
	})
}

// sameConnectionJSON compares two exports field by field.
func sameConnectionJSON(a, b flow.ConnectionExport) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// assertKeys checks that a JSON object has exactly the given keys.
func assertKeys(t *testing.T, doc string, keys ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(keys) {
		t.Errorf("export has %d keys, want %d: %s", len(m), len(keys), doc)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("export lacks %q", k)
		}
	}
}

// fileSum hashes a file and its WAL, to show it was not changed.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return sha256.Sum256(all)
}

// TestImportMinimalFileKeepsStoredFields: updating a connection from the
// documented minimal file (the four required fields) changes those fields
// and keeps everything else as stored, status included.
func TestImportMinimalFileKeepsStoredFields(t *testing.T) {
	t.Parallel()
	cli := newConnCLI(t, binary, "OIDC_CLIENT_SECRET=first-secret-value-123")
	cli.ok(t, acmeJSON(""), nil, "connections", "import", "-")
	minimal := `{"organization": "Acme Corp", "name": "Acme OIDC", "discovery_url": "https://idp.acme.test", "client_id": "client-456"}`
	r := cli.ok(t, minimal, nil, "connections", "import", "-", "--json", "--yes")
	var out struct{ ID, Action string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Action != "updated" {
		t.Fatalf("import --json: %q, %v", r.stdout, err)
	}
	got := cli.listJSON(t)
	if len(got) != 1 {
		t.Fatalf("%d connections, want 1", len(got))
	}
	c := got[0]
	if c.ClientID != "client-456" || c.Status != "active" || c.RedirectURI != "http://localhost:8976/callback/acme" ||
		c.Claims.Email != "upn" || len(c.RoleMappings) != 1 || c.RoleMappings[0].Role != "admin" {
		t.Errorf("after a minimal update: %+v", c)
	}
	r = cli.ok(t, "", nil, "connections", "delete", c.ID, "--yes", "--json")
	if !strings.Contains(r.stdout, `"deleted": true`) {
		t.Errorf("delete --json printed %q", r.stdout)
	}
}

// TestImportChangingAnActiveConnection: an import that changes an active
// connection's credentials shows the differences (the secret masked) and
// needs --yes; the connection then shows "changed since its last test
// login". A connection imported into an empty database is "never tested".
func TestImportChangingAnActiveConnection(t *testing.T) {
	t.Parallel()
	c := newConnCLI(t, binary)
	r := c.ok(t, acmeJSON(""), []string{"OIDC_CLIENT_SECRET=" + importSecret}, "connections", "import", "-")
	id := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "active and never tested") {
		t.Errorf("import into an empty database: %s", r.stderr)
	}
	for _, args := range [][]string{{"list"}, {"show", id}} {
		if out := c.ok(t, "", nil, append([]string{"connections"}, args...)...).stdout; !strings.Contains(out, "active") || !strings.Contains(out, "never tested") {
			t.Errorf("%v of a connection imported active: %s", args, out)
		}
	}

	// A test login passed (recorded as `login --connection` does).
	st, err := store.OpenFromEnv("", func(k string) string { return map[string]string{"HOME": c.home}[k] })
	if err != nil {
		t.Fatal(err)
	}
	conn, err := st.Connection(t.Context(), id)
	if err == nil {
		_, err = st.RecordTestLogin(t.Context(), conn, flow.TestLogin{OK: true, Profile: &flow.Profile{IDPID: "u1", Email: "ada@acme.test"},
			Claims: map[string]any{"sub": "u1", "upn": "ada@acme.test"}}, store.Event{Actor: "test"})
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := c.ok(t, "", nil, "connections", "list").stdout; !strings.Contains(out, "passed") {
		t.Errorf("list after a test login passed: %s", out)
	}

	changed := strings.Replace(acmeJSON(""), `"client-123"`, `"client-456"`, 1)
	newSecret := []string{"OIDC_CLIENT_SECRET=another-secret-value-9f2a"}
	for _, extra := range [][]string{nil, {"--json"}} {
		r = c.run(t, changed, newSecret, append([]string{"connections", "import", "-"}, extra...)...)
		if r.code != 2 || !strings.Contains(r.stderr, `client_id: "client-123" → "client-456"`) ||
			!strings.Contains(r.stderr, "client_secret: ••••7c1d → ••••9f2a") || !strings.Contains(r.stderr, "add --yes") {
			t.Errorf("change of an active connection without --yes %v: exit %d\nstdout %s\nstderr %s", extra, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, importSecret) || strings.Contains(r.stdout+r.stderr, "another-secret-value") {
			t.Errorf("a secret was printed:\n%s%s", r.stdout, r.stderr)
		}
	}
	if got := c.listJSON(t); got[0].ClientID != "client-123" || got[0].ClientSecret != "••••7c1d" {
		t.Fatalf("imported without --yes: %+v", got[0])
	}
	r = c.ok(t, changed, newSecret, "connections", "import", "-", "--yes")
	if !strings.Contains(r.stderr, "client_id") || c.listJSON(t)[0].ClientID != "client-456" {
		t.Fatalf("import --yes: %s", r.stderr)
	}
	for _, args := range [][]string{{"connections", "list"}, {"connections", "show", id}, {"transcript", id}} {
		if out := c.ok(t, "", nil, args...).stdout; !strings.Contains(out, "changed since its last test login") {
			t.Errorf("%v after the credentials changed: %s", args, out)
		}
	}
	var shown struct {
		TestState string `json:"test_state"`
	}
	if err := json.Unmarshal([]byte(c.ok(t, "", nil, "connections", "show", id, "--json").stdout), &shown); err != nil || shown.TestState != "changed_since_last_test_login" {
		t.Errorf("show --json test_state %q, %v", shown.TestState, err)
	}
	// The same file again changes nothing: no question.
	c.ok(t, changed, nil, "connections", "import", "-")
}

// TestCommandsGiveAMissingArgumentASentence: a missing argument is
// named in words, not cobra's "accepts 1 arg(s), received 0".
func TestCommandsGiveAMissingArgumentASentence(t *testing.T) {
	t.Parallel()
	c := newConnCLI(t, binary)
	for args, want := range map[string]string{
		"connections show":   "connections show needs the connection's ID, e.g. oidc-onboard connections show conn_7h3kq9",
		"connections export": "connections export needs the connection's ID",
		"connections delete": "connections delete needs the connection's ID",
		"connections remap":  "connections remap needs the connection's ID",
		"connections import": "connections import needs the file to import (- for standard input)",
		"transcript":         "transcript needs the connection's ID, e.g. oidc-onboard transcript conn_7h3kq9",
		"invite revoke":      "invite revoke needs the invite's ID",
	} {
		r := c.run(t, "", nil, strings.Fields(args)...)
		if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "arg(s)") {
			t.Errorf("%s: exit %d, stderr %q; want %q", args, r.code, r.stderr, want)
		}
	}
	if r := c.run(t, "", nil, "connections", "show", "conn_a1b2", "conn_c3d4"); r.code != 2 || !strings.Contains(r.stderr, "takes only the connection's ID, got 2 arguments") {
		t.Errorf("two IDs: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestJSONFailuresOnStandardOutput: every command given --json prints
// {"ok":false,"error":{"code","message","fix"}} on standard output when it
// fails, as well as the error on standard error; exit codes stay.
func TestJSONFailuresOnStandardOutput(t *testing.T) {
	t.Parallel()
	c := newConnCLI(t, binary)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"connections", "show", "conn_nope22", "--json"}, 1, "unknown_connection"},
		{[]string{"connections", "show", "--json"}, 2, "usage"},
		{[]string{"connections", "export", "conn_nope22", "--json"}, 1, "unknown_connection"},
		{[]string{"connections", "delete", "conn_nope22", "--yes", "--json"}, 1, "unknown_connection"},
		{[]string{"connections", "remap", "conn_nope22", "--json"}, 1, "unknown_connection"},
		{[]string{"connections", "import", "-", "--json"}, 1, "import_json"},
		{[]string{"connections", "list", "--json", "--db", t.TempDir()}, 1, "db_is_folder"},
		{[]string{"transcript", "conn_nope22", "--json"}, 1, "unknown_connection"},
		{[]string{"verify", "conn_nope22", "--json"}, 1, "unknown_connection"},
		{[]string{"invite", "--json"}, 2, "usage"},
		{[]string{"invite", "list", "--json", "--db", t.TempDir()}, 1, "db_is_folder"},
		{[]string{"check", "--json", "ftp://idp.test"}, 2, "usage"},
		{[]string{"login", "--json", "--discovery", "https://idp.test", "--client-id", "c", "--redirect-uri", "http://127.0.0.1:0/cb"}, 2, "usage"},
	}
	for _, tc := range cases {
		r := c.run(t, "not json", nil, tc.args...)
		var out struct {
			OK    *bool `json:"ok"`
			Error struct{ Code, Message, Fix string }
		}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		err := dec.Decode(&out)
		if r.code != tc.code || err != nil || out.OK == nil || *out.OK || out.Error.Code != tc.want || out.Error.Message == "" || !strings.Contains(r.stderr, "Error: "+out.Error.Message) {
			t.Errorf("%v: exit %d, %v\nstdout %s\nstderr %s", tc.args, r.code, err, r.stdout, r.stderr)
		}
	}
	// Without --json, standard output stays empty.
	if r := c.run(t, "", nil, "connections", "show", "conn_nope22"); r.stdout != "" {
		t.Errorf("stdout without --json: %q", r.stdout)
	}
}

// TestLoginAndRemapOfAFailingProfile: a login that signs in with email
// mapped from preferred_username ("ada") exits 0 (the ID token verified)
// but says the profile fails, in the text, on standard error and in the
// --json warnings, naming the claim that holds an address; the stored
// test login is failed. Remapping the active connection asks (--yes for
// scripts), and saving a failing profile records the override.
func TestLoginAndRemapOfAFailingProfile(t *testing.T) {
	t.Parallel()
	idp := testidp.StartDemo(t, demoidp.Options{})
	c := newConnCLI(t, binary)
	db := filepath.Join(t.TempDir(), "onboard.db")
	conn := fmt.Sprintf(`{"organization":"Acme Corp","name":"Acme OIDC","status":"active","discovery_url":%q,"client_id":%q,
		"redirect_uri":"http://127.0.0.1:0/callback/acme","claims":{"email":"preferred_username"}}`, idp.DiscoveryURL, idp.ClientID)
	id := strings.TrimSpace(c.ok(t, conn, []string{"OIDC_CLIENT_SECRET=" + idp.ClientSecret}, "--db", db, "connections", "import", "-").stdout)
	const problem = `email "ada" (claim "preferred_username") is not an email address — the claim "email" holds an address: map email to it (--claim email=email)`

	run := startLogin(t, "", nil, "--db", db, "--connection", id, "--json")
	run.signIn(t, signInDemo(idp))
	if out := run.output(t); !slices.Contains(out.Warnings, problem) {
		t.Errorf("--json warnings %q lack %q", out.Warnings, problem)
	}
	if !strings.Contains(run.stderr.String(), "Warning: "+problem) {
		t.Errorf("stderr:\n%s", run.stderr.String())
	}
	show := c.ok(t, "", nil, "--db", db, "connections", "show", id).stdout
	if !strings.Contains(show, "failed: signed in, but the mapped profile fails: "+problem) {
		t.Errorf("show after the login:\n%s", show)
	}
	human := startLogin(t, idp.ClientSecret, nil, "--discovery", idp.DiscoveryURL, "--client-id", idp.ClientID,
		"--redirect-uri", "http://127.0.0.1:0/callback", "--claim", "email=preferred_username")
	human.signIn(t, signInDemo(idp))
	for _, want := range []string{"✓ Signed in", "✗ But the mapped profile cannot sign anyone in:", "  ✗ " + problem, "email       ada"} {
		if !strings.Contains(human.stdout.String(), want) {
			t.Errorf("login's text lacks %q:\n%s", want, human.stdout.String())
		}
	}

	// The fix, on an active connection: asked for, --yes for scripts.
	r := c.run(t, "", nil, "--db", db, "connections", "remap", id, "--claim", "email=email")
	if r.code != 2 || !strings.Contains(r.stderr, "add --yes") {
		t.Fatalf("remap of an active connection without --yes: exit %d, stderr %s", r.code, r.stderr)
	}
	if got := c.ok(t, "", nil, "--db", db, "connections", "export", id).stdout; !strings.Contains(got, `"email": "preferred_username"`) {
		t.Fatalf("remapped without confirmation:\n%s", got)
	}
	c.ok(t, "", nil, "--db", db, "connections", "remap", id, "--claim", "email=email", "--yes")
	// Back to the failing mapping: refused without --yes, in words that say it fails; recorded as an override with it.
	r = c.run(t, "", nil, "--db", db, "connections", "remap", id, "--claim", "email=preferred_username", "--json")
	if r.code != 2 || !strings.Contains(r.stderr, "the profile of the active connection "+id+" fails") || !strings.Contains(r.stdout, `"ok": false`) {
		t.Fatalf("failing remap without --yes: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = c.ok(t, "", nil, "--db", db, "connections", "remap", id, "--claim", "email=preferred_username", "--yes", "--json")
	var out flow.RemapResult
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || !out.Saved || !slices.Contains(out.Warnings, problem) {
		t.Errorf("remap --yes --json: %v\n%s", err, r.stdout)
	}
	if tr := c.ok(t, "", nil, "--db", db, "transcript", id).stdout; !strings.Contains(tr, "saved with an override: signed in, but the mapped profile fails: "+problem) {
		t.Errorf("transcript lacks the override:\n%s", tr)
	}
}

// TestInviteNamesWhereServeListens: `invite` prints the ssh command with
// the address `serve` recorded (or --ssh-host), says so when neither is
// known, and its JSON carries the id that `invite revoke` takes.
func TestInviteNamesWhereServeListens(t *testing.T) {
	t.Parallel()
	c := newConnCLI(t, binary)
	var made struct {
		ID, Code, Command string
		PageURL           string `json:"page_url"`
	}
	decode := func(r connResult) {
		t.Helper()
		made.ID, made.Code, made.Command, made.PageURL = "", "", "", ""
		if err := json.Unmarshal([]byte(r.stdout), &made); err != nil || made.Code == "" {
			t.Fatalf("invite --json printed %q: %v", r.stdout, err)
		}
	}
	if r := c.ok(t, "", nil, "invite", "--org", "Acme"); !strings.Contains(r.stdout, "The server's address is not known") || strings.Contains(r.stdout, "localhost") {
		t.Errorf("with no server known, invite printed:\n%s", r.stdout)
	}
	decode(c.ok(t, "", nil, "invite", "--org", "Acme", "--json"))
	if made.Command != "" || !strings.HasPrefix(made.ID, "inv_") {
		t.Errorf("with no server known: %+v", made)
	}

	st, err := store.Open(c.dbPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.SetServeAddresses(t.Context(), "onboard.example.com:2222", "https://onboard.example.com")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	decode(c.ok(t, "", nil, "invite", "--org", "Acme", "--json"))
	if made.Command != "ssh -p 2222 setup@onboard.example.com" || made.PageURL != "https://onboard.example.com/i/"+made.Code {
		t.Errorf("after serve recorded its address: %+v", made)
	}
	decode(c.ok(t, "", nil, "invite", "--org", "Acme", "--json", "--ssh-host", "ssh.example.com"))
	if made.Command != "ssh setup@ssh.example.com" {
		t.Errorf("--ssh-host gave command %q", made.Command)
	}
	if r := c.ok(t, "", nil, "invite", "revoke", made.ID); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("invite revoke %s: %s", made.ID, r.stdout)
	}
}

// TestInviteLabel: `invite --label` says who the invite is for; its text,
// its JSON and `invite list` carry it.
func TestInviteLabel(t *testing.T) {
	t.Parallel()
	c := newConnCLI(t, binary)
	r := c.ok(t, "", nil, "invite", "--org", "Acme", "--label", "Jane at Acme IT", "--json")
	var made struct{ ID, Label string }
	if err := json.Unmarshal([]byte(r.stdout), &made); err != nil || made.Label != "Jane at Acme IT" {
		t.Fatalf("invite --label --json printed %q: %v", r.stdout, err)
	}
	if r := c.ok(t, "", nil, "invite", "--org", "Acme", "--label", "Bob"); !strings.Contains(r.stdout, "for Acme (Bob)") {
		t.Errorf("the invite's text lacks its label:\n%s", r.stdout)
	}
	list := c.ok(t, "", nil, "invite", "list").stdout
	if !strings.Contains(list, "LABEL") || !strings.Contains(list, "Jane at Acme IT") || !strings.Contains(list, made.ID) {
		t.Errorf("invite list lacks the label:\n%s", list)
	}
	var listed []struct{ ID, Label string }
	if err := json.Unmarshal([]byte(c.ok(t, "", nil, "invite", "list", "--json").stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("invite list --json: %+v, %v", listed, err)
	}
	if listed[1].ID != made.ID || listed[1].Label != "Jane at Acme IT" {
		t.Errorf("invite list --json: %+v", listed)
	}
	if r := c.run(t, "", nil, "invite", "--org", "Acme", "--label", strings.Repeat("x", 121)); r.code != 2 {
		t.Errorf("a label of 121 characters: exit %d, %s", r.code, r.stderr)
	}
}
