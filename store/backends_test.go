package store

import (
	"bytes"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testPGEnv names the PostgreSQL server the tests use: a URL of a role that
// may create databases; each test gets a fresh database on it.
const testPGEnv = "OIDC_ONBOARD_TEST_PG"

// startPostgres says how to get a server for the PostgreSQL cases.
const startPostgres = testPGEnv + ` is not set: the PostgreSQL cases need a server. Start one (as a user other than root):
    D=$(mktemp -d); /usr/lib/postgresql/15/bin/initdb -D $D/data -U postgres --auth=trust
    /usr/lib/postgresql/15/bin/pg_ctl -D $D/data -o "-p 55432 -k $D -c listen_addresses=127.0.0.1" -l $D/log -w start
    export ` + testPGEnv + `=postgres://postgres@127.0.0.1:55432/postgres
or run bash .ci/run, which does this`

// backend is a database the store's tests run against; every store test
// that is not about one backend's files runs against each.
type backend struct {
	name string
	// fresh returns a new, empty database: a SQLite path or a postgres URL.
	fresh func(t testing.TB) string
	// dump returns the bytes the database holds: the files of SQLite,
	// pg_dump's output for PostgreSQL.
	dump func(t testing.TB, db string) []byte
}

func backends() []backend {
	return []backend{
		{name: "sqlite", fresh: func(t testing.TB) string { return filepath.Join(t.TempDir(), "onboard.db") },
			dump: func(t testing.TB, db string) []byte { return fileBytes(t, db) }},
		{name: "postgres", fresh: freshPostgres, dump: pgDump},
	}
}

// eachBackend runs test against every backend, as subtests named after it.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// testPG is the server of the PostgreSQL cases. Without one they fail
// when CI is set (a CI run must not pass without them) and are skipped,
// saying how to start one, otherwise.
func testPG(t testing.TB) string {
	t.Helper()
	u := os.Getenv(testPGEnv)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(startPostgres)
		}
		t.Skip(startPostgres)
	}
	return u
}

// freshPostgres creates an empty database on the test server, dropped when
// the test ends, and returns its URL.
func freshPostgres(t testing.TB) string {
	t.Helper()
	server := testPG(t)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "oidc_onboard_test_" + newID("")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database on %s: %v", redactURL(server), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", server)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return databaseURL(t, server, name)
}

// databaseURL is server's URL with the database name replaced.
func databaseURL(t testing.TB, server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// pgDump is pg_dump's plain output of the database at db, without the
// \restrict lines whose key is new on every run.
func pgDump(t testing.TB, db string) []byte {
	t.Helper()
	out, err := exec.Command(pgTool(t, "pg_dump"), "--dbname="+db).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(bytes.TrimSpace(ee.Stderr))
		}
		t.Fatalf("pg_dump: %s", msg)
	}
	var kept [][]byte
	for line := range bytes.Lines(out) {
		if !bytes.HasPrefix(line, []byte(`\restrict `)) && !bytes.HasPrefix(line, []byte(`\unrestrict `)) {
			kept = append(kept, line)
		}
	}
	return bytes.Join(kept, nil)
}

// pgTool finds a PostgreSQL client program: on PATH, else Debian's.
func pgTool(t testing.TB, name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		t.Fatalf("%s not found: install the PostgreSQL client (apt-get install postgresql-client)", name)
	}
	return matches[len(matches)-1]
}

// open is a store on a fresh database of b.
func (b backend) open(t testing.TB) *Store {
	t.Helper()
	return b.openWith(t, Options{})
}

// openWith is a store on a fresh database of b with opts; PostgreSQL gets
// a key when opts has none (it keeps no key file).
func (b backend) openWith(t testing.TB, opts Options) *Store {
	t.Helper()
	db := b.fresh(t)
	if IsPostgres(db) && opts.Key == "" {
		opts.Key = testKey(7)
	}
	return openAt(t, db, opts)
}

// keyFor is the key a second opener of db (another process, another pool)
// passes: PostgreSQL's test key, or none for SQLite's key file.
func keyFor(db string) string {
	if IsPostgres(db) {
		return testKey(7)
	}
	return ""
}

func TestRebind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"SELECT 1":                          "SELECT 1",
		"UPDATE t SET a = ? WHERE b = ?":    "UPDATE t SET a = $1 WHERE b = $2",
		"SELECT '?', \"a?\" FROM t WHERE ?": "SELECT '?', \"a?\" FROM t WHERE $1",
	} {
		if got := rebind(true, in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
		if got := rebind(false, in); got != in {
			t.Errorf("rebind for SQLite changed %q to %q", in, got)
		}
	}
}

func TestIsPostgres(t *testing.T) {
	t.Parallel()
	for db, want := range map[string]bool{
		"postgres://u@h/db": true, "POSTGRESQL://h/db": true, "onboard.db": false,
		"/var/lib/postgres://x": false, "": false,
	} {
		if got := IsPostgres(db); got != want {
			t.Errorf("IsPostgres(%q) = %v", db, got)
		}
	}
	if got := redactURL("postgres://u:hunter2@h:5432/db"); strings.Contains(got, "hunter2") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}
