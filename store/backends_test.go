package store

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/store/pgtest"
)

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
		{name: "postgres", fresh: pgtest.Fresh, dump: pgtest.Dump},
	}
}

// eachBackend runs test against every backend, as subtests named after it.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
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
