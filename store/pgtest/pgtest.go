// Package pgtest gives tests a fresh PostgreSQL database on the server
// that OIDC_ONBOARD_TEST_PG names (bash .ci/run starts one). Without the
// variable a test fails when CI is set, saying how to start a server, and
// is skipped with that message otherwise: never a silent skip in CI.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Env names the PostgreSQL server of the tests: a URL of a role that may
// create databases.
const Env = "OIDC_ONBOARD_TEST_PG"

// HowToStart says how to get a server for the PostgreSQL cases.
const HowToStart = Env + ` is not set: the PostgreSQL cases need a server. Start one (as a user other than root):
    D=$(mktemp -d); /usr/lib/postgresql/15/bin/initdb -D $D/data -U postgres --auth=trust
    /usr/lib/postgresql/15/bin/pg_ctl -D $D/data -o "-p 55432 -k $D -c listen_addresses=127.0.0.1" -l $D/log -w start
    export ` + Env + `=postgres://postgres@127.0.0.1:55432/postgres
or run bash .ci/run, which does this`

// Server is the URL of the tests' server; without one the test fails (CI
// set) or is skipped, with HowToStart.
func Server(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(HowToStart)
		}
		t.Skip(HowToStart)
	}
	return u
}

// Fresh creates an empty database on the tests' server, dropped when the
// test ends, and returns its URL.
func Fresh(t testing.TB) string {
	t.Helper()
	server := Server(t)
	var b [6]byte
	rand.Read(b[:])
	name := "oidc_onboard_test_" + hex.EncodeToString(b[:])
	if err := exec1(server, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database on %s: %v", Redact(server), err)
	}
	t.Cleanup(func() {
		// FORCE ends the test's connections still open; one that is
		// still starting up makes PostgreSQL refuse ("must be a member
		// of the role whose process is being terminated", 42501) for a
		// moment: try again then.
		var err error
		for range 40 {
			if err = exec1(server, "DROP DATABASE "+name+" WITH (FORCE)"); err == nil || !strings.Contains(err.Error(), "42501") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// exec1 runs one statement on the database at db.
func exec1(db, query string) error {
	conn, err := sql.Open("pgx", db)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), query)
	return err
}

// Redact is a URL without its password.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the PostgreSQL server"
	}
	return u.Redacted()
}

// Dump is pg_dump's plain output of the database at db, without the
// \restrict lines whose key is new on every run.
func Dump(t testing.TB, db string) []byte {
	t.Helper()
	out, err := exec.Command(Tool(t, "pg_dump"), "--dbname="+db).Output()
	if err != nil {
		msg := err.Error()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
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

// Tool finds a PostgreSQL client program: on PATH, else Debian's.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		t.Fatalf("%s not found: install the PostgreSQL client (apt-get install postgresql-client)", name)
	}
	return matches[len(matches)-1]
}
