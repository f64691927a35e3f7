package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/oidc-onboard/oidc-onboard/flow"
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

// eachBackend runs test against every backend, as parallel subtests named
// after it, in parallel with the other tests.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
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

// BenchmarkSaveDraft measures the wizard's hot path, replacing a draft, on
// each backend, with the median and 99th percentile of one save.
func BenchmarkSaveDraft(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			form := json.RawMessage(`{"organization":"Acme Corp","name":"Acme OIDC","client_id":"0oa1b2c3d4e5f6g7h8i9",` +
				`"client_secret":"very-secret-value-9f2a","discovery":"https://acme.okta.com/.well-known/openid-configuration"}`)
			d, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Form: form})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var took []time.Duration
			for i := 0; b.Loop(); i++ {
				d.Step = i % 8
				start := time.Now()
				if d, err = s.SaveDraft(ctx, d); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestDialectText checks the dialect's text work: ? to $n for PostgreSQL
// (SQLite's queries untouched), which --db values are PostgreSQL URLs, and
// that a URL is shown without its password.
func TestDialectText(t *testing.T) {
	t.Parallel()
	cases := []struct{ what, got, want string }{
		{"rebind plain", rebind(true, "SELECT 1"), "SELECT 1"},
		{"rebind", rebind(true, "UPDATE t SET a = ? WHERE b = ?"), "UPDATE t SET a = $1 WHERE b = $2"},
		{"rebind quoted", rebind(true, `SELECT '?', "a?" FROM t WHERE ?`), `SELECT '?', "a?" FROM t WHERE $1`},
		{"SQLite untouched", rebind(false, "UPDATE t SET a = ?"), "UPDATE t SET a = ?"},
		{"redacted", redactURL("postgres://u:hunter2@h:5432/db"), "postgres://u:xxxxx@h:5432/db"},
	}
	for db, want := range map[string]bool{"postgres://u@h/db": true, "POSTGRESQL://h/db": true, "onboard.db": false,
		"/var/lib/postgres://x": false, "": false} {
		cases = append(cases, struct{ what, got, want string }{"IsPostgres " + db, fmt.Sprint(IsPostgres(db)), fmt.Sprint(want)})
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
}

// The PostgreSQL cases that have no SQLite twin: the key that must come
// from the environment, a server that cannot be reached or drops the
// connection, and the version table.

func TestPostgresNeedsTheKeyFromTheEnvironment(t *testing.T) {
	t.Parallel()
	db := pgtest.Fresh(t)
	_, err := Open(db, Options{})
	wantCode(t, err, flow.CodeKeyRequired)
	if msg, fix := flow.Explain(err); !strings.Contains(msg, "OIDC_ONBOARD_KEY") || !strings.Contains(fix, "openssl rand -base64 32") {
		t.Fatalf("message %q, fix %q", msg, fix)
	}
	_, err = Open(db, Options{Key: "not-base64!"})
	wantCode(t, err, flow.CodeBadKey)
	// Neither opened the database: no schema, no key anywhere.
	s := openAt(t, db, Options{Key: testKey(7)})
	if s.KeyFile() != "" {
		t.Fatalf("a PostgreSQL store names a key file: %s", s.KeyFile())
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema_version rows: %d, %v", n, err)
	}
	// A secret sealed with the key reads back with it, and not with another.
	c := sampleConnection()
	save(t, s, c)
	s.Close()
	wrong := openAt(t, db, Options{Key: testKey(8)})
	_, err = wrong.GetConnection(ctx, c.ID)
	wantCode(t, err, flow.CodeWrongKey)
}

func TestPostgresConnectionRefused(t *testing.T) {
	t.Parallel()
	// A loopback port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = Open("postgres://oidc:hunter2@"+addr+"/onboard?connect_timeout=5", Options{Key: testKey(7)})
	wantCode(t, err, flow.CodeDBUnreachable)
	msg, fix := flow.Explain(err)
	if !strings.Contains(msg, addr) || strings.Contains(msg+fix, "hunter2") || !strings.Contains(fix, "server is running") {
		t.Fatalf("message %q, fix %q", msg, fix)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("refused after %v", took)
	}
}

// TestPostgresConnectionDroppedMidTransaction ends the server process of
// an activation half-way through (pg_terminate_backend from another
// connection, while a trigger holds the activation's last insert): a clear
// error, and nothing of the activation saved.
func TestPostgresConnectionDroppedMidTransaction(t *testing.T) {
	t.Parallel()
	s, c, tl := activationFixture(t, backends()[1])
	for _, q := range []string{
		`CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$`,
		`CREATE TRIGGER hold BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION hold()`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	killed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var n int
			err := s.db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event = 'PgSleep'`).Scan(&n)
			if err != nil || n > 0 {
				killed <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		killed <- errors.New("the activation never reached the trigger")
	}()
	draft := *c
	err := s.ActivateConnection(ctx, &draft, tl.ID, Event{Actor: "local:ana", Detail: "activated"})
	if kerr := <-killed; kerr != nil {
		t.Fatal(kerr)
	}
	wantCode(t, err, flow.CodeDBConnectionLost)
	if msg, _ := flow.Explain(err); !strings.Contains(msg, "not saved") {
		t.Fatalf("message %q", msg)
	}
	if _, err := s.db.ExecContext(ctx, `DROP TRIGGER hold ON audit_events`); err != nil {
		t.Fatal(err)
	}
	status, snapshot, checked, open, audits := activationState(t, s, c)
	if status != flow.StatusDraft || snapshot || checked != 0 || open != 1 || len(audits) != 0 {
		t.Errorf("half-saved: status %s, snapshot %v, checked %d, open invites %d, audit %q", status, snapshot, checked, open, audits)
	}
}

func TestPostgresMigrations(t *testing.T) {
	t.Parallel()
	ms, err := migrations("postgres")
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %d, %v", len(ms), err)
	}
	if lite, _ := migrations("sqlite"); len(lite) != len(ms) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones: each version needs both", len(lite), len(ms))
	}
	s := openAt(t, pgtest.Fresh(t), Options{Key: testKey(7)})
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil || v != len(ms) {
		t.Fatalf("schema_version = %d, %v; want %d", v, err, len(ms))
	}
	// A failing migration leaves nothing behind, not even the version table.
	other := openAt(t, pgtest.Fresh(t), Options{Key: testKey(7)})
	if _, err := other.db.ExecContext(ctx, "DROP TABLE schema_version"); err != nil {
		t.Fatal(err)
	}
	bad := []string{"CREATE TABLE t_partial (x INTEGER)", "THIS IS NOT SQL"}
	if err := runPostgresMigrations(ctx, other.db.DB, "other", bad); err == nil {
		t.Fatal("a bad migration succeeded")
	}
	var n int
	if err := other.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN ('t_partial', 'schema_version')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after a failed migration: %d of t_partial and schema_version, %v", n, err)
	}
	// The lock is free again: the next start migrates.
	done := make(chan error, 1)
	go func() {
		done <- runPostgresMigrations(ctx, other.db.DB, "other", []string{"CREATE TABLE t_after (x INTEGER)"})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the migration lock was not released")
	}
}

// TestOpenFromEnvWithPostgres: --db or OIDC_ONBOARD_DB with a postgres://
// URL opens PostgreSQL (no folder is made, no HOME is needed), with the
// key from OIDC_ONBOARD_KEY.
func TestOpenFromEnvWithPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.Fresh(t)
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		code       flow.Code
	}{
		{"flag", db, map[string]string{"OIDC_ONBOARD_KEY": testKey(7)}, ""},
		{"environment", "", map[string]string{"OIDC_ONBOARD_DB": db, "OIDC_ONBOARD_KEY": testKey(7)}, ""},
		{"no key", db, map[string]string{}, flow.CodeKeyRequired},
	} {
		s, err := OpenFromEnv(tc.flag, func(k string) string { return tc.env[k] })
		if tc.code != "" {
			wantCode(t, err, tc.code)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if strings.HasPrefix(s.Path(), "/") || !IsPostgres(s.Path()) {
			t.Errorf("%s: Path() = %q, want the URL", tc.name, s.Path())
		}
		s.Close()
		if _, err := os.Stat("postgres:"); err == nil {
			t.Errorf("%s: a folder named after the URL was made", tc.name)
		}
	}
}

// TestPostgresErrorsAreExplained maps the server's error classes to the
// codes SQLite's failures get.
func TestPostgresErrorsAreExplained(t *testing.T) {
	t.Parallel()
	for sqlstate, want := range map[string]flow.Code{
		"40001": flow.CodeDBBusy, "40P01": flow.CodeDBBusy, "55P03": flow.CodeDBBusy,
		"53100": flow.CodeDBFull, "25006": flow.CodeDBReadOnly,
		"57P01": flow.CodeDBConnectionLost, "08006": flow.CodeDBConnectionLost,
	} {
		wantCode(t, explainPostgres(fmt.Errorf("insert: %w", &pgconn.PgError{Code: sqlstate}), "postgres://h/db"), want)
	}
	wantCode(t, explainPostgres(sql.ErrConnDone, "postgres://h/db"), flow.CodeDBConnectionLost)
	if err := explainPostgres(ErrNotFound, "postgres://h/db"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("not found became %v", err)
	}
	dup := &pgconn.PgError{Code: "23505", ConstraintName: "connections_organization_name_key"}
	if !violates(dup, unique) || violates(dup, primaryKey) || !violates(&pgconn.PgError{Code: "23505", ConstraintName: "drafts_pkey"}, primaryKey) ||
		!violates(&pgconn.PgError{Code: "23503"}, foreignKey) {
		t.Fatal("constraint violations are misread")
	}
}
