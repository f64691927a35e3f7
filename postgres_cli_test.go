package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/store/pgtest"
)

// TestCommandsOnPostgres runs the built binary with --db postgres://… (and
// OIDC_ONBOARD_DB) through import, list, show, transcript and invite: the
// commands work unchanged, nothing is written beside HOME, the secret
// stays sealed in the database, and without OIDC_ONBOARD_KEY the binary
// says so instead of making a key.
func TestCommandsOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.Fresh(t)
	key := "OIDC_ONBOARD_KEY=" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c := newConnCLI(t, binary, key)

	id := strings.TrimSpace(c.ok(t, acmeJSON(""), []string{"OIDC_CLIENT_SECRET=" + importSecret}, "--db", db, "connections", "import", "-").stdout)
	if !strings.HasPrefix(id, "conn_") {
		t.Fatalf("import printed %q, want an ID", id)
	}
	list := c.ok(t, "", []string{"OIDC_ONBOARD_DB=" + db}, "connections", "list").stdout
	for _, want := range []string{id, "Acme Corp", "Acme OIDC", "active"} {
		if !strings.Contains(list, want) {
			t.Errorf("list (OIDC_ONBOARD_DB) lacks %q:\n%s", want, list)
		}
	}
	show := c.ok(t, "", nil, "--db", db, "connections", "show", id).stdout
	for _, want := range []string{id, "••••7c1d", "g-admins → admin"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if full := c.ok(t, "", nil, "--db", db, "connections", "export", id, "--include-secret").stdout; !strings.Contains(full, importSecret) {
		t.Errorf("the secret does not read back:\n%s", full)
	}
	transcript := c.ok(t, "", nil, "--db", db, "transcript", id).stdout
	if !strings.Contains(transcript, id) || strings.Contains(transcript, importSecret) {
		t.Errorf("transcript:\n%s", transcript)
	}
	invite := c.ok(t, "", nil, "--db", db, "invite", "--org", "Acme Corp").stdout
	if !strings.Contains(invite, "Acme Corp") {
		t.Errorf("invite:\n%s", invite)
	}
	if invites := c.ok(t, "", nil, "--db", db, "invite", "list").stdout; !strings.Contains(invites, "Acme Corp") || !strings.Contains(invites, "open") {
		t.Errorf("invite list:\n%s", invites)
	}

	if dump := pgtest.Dump(t, db); strings.Contains(string(dump), importSecret) || !strings.Contains(string(dump), "client-123") {
		t.Error("pg_dump holds the secret, or not the connection")
	}
	if _, err := os.Stat(filepath.Join(c.home, ".local")); !os.IsNotExist(err) {
		t.Errorf("something was written under HOME: %v", err)
	}

	noKey := newConnCLI(t, binary)
	r := noKey.run(t, "", nil, "--db", db, "connections", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "OIDC_ONBOARD_KEY") {
		t.Errorf("without the key: exit %d\n%s", r.code, r.stderr)
	}
}

// TestVerifyOnPostgres: the drift watch reads the activation snapshot from
// PostgreSQL and writes its audit event there, as on SQLite.
func TestVerifyOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.Fresh(t)
	key := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	st, err := store.Open(db, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &diagEnv{st: st, env: []string{"OIDC_ONBOARD_DB=" + db, "OIDC_ONBOARD_KEY=" + key, "USER=ana"}}
	idp := testidp.NewDrifting(t)
	c := e.activeConnection(t, idp, "On PostgreSQL")
	if code, stdout, stderr := runBinary(t, e.env, "verify", "--all", "--json"); code != 0 || !decodeVerify(t, stdout).OK {
		t.Fatalf("unchanged IdP: exit %d\n%s%s", code, stdout, stderr)
	}
	idp.Change(func(d *testidp.Drifting) { d.Doc["token_endpoint"] = d.Server.URL + "/v2/token" })
	code, stdout, _ := runBinary(t, e.env, "verify", c.ID)
	if code != 1 || !strings.Contains(stdout, "token_endpoint changed") {
		t.Fatalf("token endpoint changed: exit %d\n%s", code, stdout)
	}
	events, err := st.ListAudit(context.Background(), store.AuditQuery{ConnectionID: c.ID})
	if err != nil || len(events) == 0 || events[0].Action != "connection.verify" {
		t.Fatalf("audit: %+v %v", events, err)
	}
}

// TestServeOnPostgresNeedsAHostKey: there is no folder next to a
// PostgreSQL database to keep the SSH host key in, so serve asks for
// --host-key (a usage error) instead of failing to read a path made from
// the URL.
func TestServeOnPostgresNeedsAHostKey(t *testing.T) {
	t.Parallel()
	db := pgtest.Fresh(t)
	key := "OIDC_ONBOARD_KEY=" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c := newConnCLI(t, binary, key)
	r := c.run(t, "", nil, "--db", db, "serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--public-url", "http://127.0.0.1:8976")
	if r.code != 2 || !strings.Contains(r.stderr, "--host-key") {
		t.Fatalf("exit %d, stderr %q; want 2 and --host-key named", r.code, r.stderr)
	}
}
