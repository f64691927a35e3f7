package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// A re-executed test binary with these variables set is the second process
// of TestConcurrentWriters.
const (
	childDBEnv    = "STORE_TEST_CHILD_DB"
	childSavesEnv = "STORE_TEST_CHILD_SAVES"
	childKeyEnv   = "STORE_TEST_CHILD_KEY"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childDBEnv); path != "" {
		n, _ := strconv.Atoi(os.Getenv(childSavesEnv))
		if err := childWriter(path, os.Getenv(childKeyEnv), n); err != nil {
			fmt.Fprintln(os.Stderr, "child writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childWriter(path, key string, n int) error {
	s, err := Open(path, Options{Key: key})
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	for i := range n {
		if _, err := s.SaveDraft(ctx, Draft{Organization: "child", Step: i, Form: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)}); err != nil {
			return err
		}
		if i%10 == 0 {
			if err := saveNumbered(s, "child", i); err != nil {
				return err
			}
		}
	}
	return nil
}

// saveNumbered creates a connection in a transaction (organization, then
// connection), the multi-statement write path.
func saveNumbered(s *Store, org string, i int) error {
	c := sampleConnection()
	c.Organization, c.Name = org, "conn "+strconv.Itoa(i)
	return s.SaveConnection(ctx, c)
}

var ctx = context.Background()

func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "onboard.db"), Options{})
}

func testKey(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func sampleConnection() *flow.Connection {
	return &flow.Connection{
		Organization: "Acme Corp", Name: "Acme OIDC", Status: flow.StatusActive,
		DiscoveryURL: "https://idp.acme.test/.well-known/openid-configuration",
		Issuer:       "https://idp.acme.test", ClientID: "client-123",
		ClientSecret: "s3cr3t-value-that-must-never-leak-9f2a",
		RedirectURI:  "http://localhost:8976/callback/x",
		Claims:       flow.ClaimMapping{IDPID: "oid", Email: "upn", FirstName: "given_name", LastName: "family_name"},
		GroupsClaim:  "roles", RoleMappings: []flow.RoleMapping{{Group: "g-admins", Role: "admin"}, {Group: "g-users", Role: "member"}},
		DefaultRole: "member", TokenAuthMethod: "client_secret_post",
	}
}

// openWithConnection is a new database holding sampleConnection.
func openWithConnection(t testing.TB, b backend) (*Store, *flow.Connection) {
	t.Helper()
	s := b.open(t)
	c := sampleConnection()
	save(t, s, c)
	return s, c
}

// save stores c or fails the test.
func save(t testing.TB, s *Store, c *flow.Connection) {
	t.Helper()
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code flow.Code) {
	t.Helper()
	if !flow.IsCode(err, code) {
		t.Fatalf("error = %v, want a flow.Error with code %q", err, code)
	}
}

func TestConnectionRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c := openWithConnection(t, b)
		if !strings.HasPrefix(c.ID, "conn_") || len(c.ID) != len("conn_")+idLength {
			t.Fatalf("ID = %q, want conn_ and %d symbols", c.ID, idLength)
		}
		got, err := s.GetConnection(ctx, strings.ToUpper(c.ID)+" ")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
		}

		// Update by ID keeps the creation time and changes the rest.
		created := c.CreatedAt
		c.ClientSecret, c.RoleMappings, c.Status = "another-secret-0000", nil, ""
		save(t, s, c)
		got, _ = s.GetConnection(ctx, c.ID)
		if got.ClientSecret != "another-secret-0000" || len(got.RoleMappings) != 0 || got.Status != flow.StatusDraft || !got.CreatedAt.Equal(created) {
			t.Fatalf("after update: %+v", got)
		}

		// A second connection with the same name in the same organization is refused.
		dup := sampleConnection()
		wantCode(t, s.SaveConnection(ctx, dup), "duplicate_name")
		dup.Organization = "Globex"
		save(t, s, dup)
		byName, err := s.ConnectionByName(ctx, "Globex", "Acme OIDC")
		if err != nil || byName.ID != dup.ID {
			t.Fatalf("ConnectionByName = %v, %v", byName, err)
		}

		all, _ := s.ListConnections(ctx, "")
		acme, _ := s.ListConnections(ctx, "Acme Corp")
		if len(all) != 2 || len(acme) != 1 || acme[0].ID != c.ID {
			t.Fatalf("ListConnections: all %d, acme %v", len(all), acme)
		}
		orgs, _ := s.ListOrganizations(ctx)
		if len(orgs) != 2 || orgs[0].Name != "Acme Corp" || orgs[1].Name != "Globex" {
			t.Fatalf("organizations = %+v", orgs)
		}
		named, _ := s.ListOrganizationsNamed(ctx, "Globex")
		none, _ := s.ListOrganizationsNamed(ctx, "Initech")
		if len(named) != 1 || named[0] != orgs[1] || len(none) != 0 {
			t.Fatalf("organizations named Globex = %+v, Initech = %+v", named, none)
		}

		if err := s.SetStatus(ctx, c.ID, flow.StatusInactive); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetConnection(ctx, c.ID)
		if got.Status != flow.StatusInactive {
			t.Fatalf("status = %s", got.Status)
		}
		wantCode(t, s.SetStatus(ctx, c.ID, "paused"), "bad_status")
		wantCode(t, s.SaveConnection(ctx, &flow.Connection{Organization: "Acme Corp"}), "missing_field")

		if err := s.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetConnection(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := s.DeleteConnection(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestSaveConnectionWithGivenID(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		c := sampleConnection()
		c.ID, c.ClientSecret = "conn_abc234", ""
		save(t, s, c)
		got, err := s.GetConnection(ctx, "conn_abc234")
		if err != nil || got.ClientSecret != "" || got.Name != c.Name {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestValidationSnapshot(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c := openWithConnection(t, b)
		if v, err := s.LastValidation(ctx, c.ID); err != nil || v != nil {
			t.Fatalf("before validation: %v, %v", v, err)
		}
		r := flow.Report{OK: false, DiscoveryURL: c.DiscoveryURL, Issuer: c.Issuer,
			Checks:      []flow.Check{{ID: "issuer", Status: flow.Pass, Detail: "matches"}, {ID: "jwks", Status: flow.Fail, Detail: "no keys", Fix: "publish keys"}},
			RawMetadata: []byte(`{"issuer":"https://idp.acme.test"}`), RawJWKS: []byte(`{"keys":[]}`)}
		if err := s.SaveValidation(ctx, c.ID, r); err != nil {
			t.Fatal(err)
		}
		v, err := s.LastValidation(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.Report, r) || v.At.IsZero() {
			t.Fatalf("validation:\n got %+v\nwant %+v", v.Report, r)
		}
		if err := s.SaveValidation(ctx, "conn_nope22", r); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown connection: %v", err)
		}
	})
}

func TestDraftRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c := openWithConnection(t, b)
		d, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", ConnectionID: c.ID, Step: 2,
			Form: json.RawMessage(`{"client_id":"x","client_secret":"typed-so-far"}`), Actor: "local:ana"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d.ID, "draft_") || d.CreatedAt.IsZero() {
			t.Fatalf("draft = %+v", d)
		}
		d.Step, d.Form = 3, json.RawMessage(`{"client_id":"x","client_secret":"typed-more"}`)
		d2, err := s.SaveDraft(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDraft(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d2) || got.Step != 3 || !got.CreatedAt.Equal(d.CreatedAt) {
			t.Fatalf("draft:\n got %+v\nwant %+v", got, d2)
		}
		if _, err := s.SaveDraft(ctx, Draft{Organization: "Globex", Form: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		acme, _ := s.ListDrafts(ctx, "Acme Corp")
		all, _ := s.ListDrafts(ctx, "")
		if len(acme) != 1 || len(all) != 2 {
			t.Fatalf("drafts: acme %d, all %d", len(acme), len(all))
		}

		// Deleting the connection keeps the draft, detached.
		if err := s.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetDraft(ctx, d.ID)
		if err != nil || got.ConnectionID != "" || got.Step != 3 {
			t.Fatalf("after connection delete: %+v, %v", got, err)
		}
		_, err = s.SaveDraft(ctx, Draft{ConnectionID: "conn_gone22", Form: json.RawMessage(`{}`)})
		wantCode(t, err, "unknown_connection")
		if err := s.DeleteDraft(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetDraft(ctx, d.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

func TestTestLoginsAndAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c := openWithConnection(t, b)
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		ok := TestLogin{ConnectionID: c.ID, At: at, OK: true,
			Profile:        &flow.Profile{IDPID: "u1", Email: "a@acme.test", Groups: []string{"g-admins"}, Roles: []string{"admin"}},
			Claims:         map[string]any{"sub": "u1", "email": "a@acme.test"},
			UserinfoClaims: map[string]any{"sub": "u1"}}
		failed := TestLogin{ConnectionID: c.ID, At: at.Add(time.Minute), Error: "access_denied: user cancelled"}
		for _, tl := range []TestLogin{ok, failed} {
			if _, err := s.SaveTestLogin(ctx, tl); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListTestLogins(ctx, c.ID)
		if err != nil || len(got) != 2 {
			t.Fatalf("test logins: %v, %v", got, err)
		}
		got[1].ID, got[0].ID = 0, 0
		if !reflect.DeepEqual(got[1], ok) || got[0].Error != failed.Error || got[0].Profile != nil {
			t.Fatalf("test logins:\n got %+v\nwant %+v", got, []TestLogin{failed, ok})
		}
		if _, err := s.SaveTestLogin(ctx, TestLogin{ConnectionID: "conn_none22"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown connection: %v", err)
		}

		for i, e := range []Event{
			{Actor: "local:ana", Action: "connection.create", ConnectionID: c.ID, Organization: "Acme Corp"},
			{Actor: "ssh:SHA256:abc", Action: "draft.save", Organization: "Globex", Address: "127.0.0.1:5555"},
			{Actor: "invite:inv_x", Action: "connection.activate", ConnectionID: c.ID, Organization: "Acme Corp", Detail: "ok"},
		} {
			e.At = at.Add(time.Duration(i) * time.Second)
			if err := s.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		acme, _ := s.ListAudit(ctx, AuditQuery{Organization: "Acme Corp"})
		last, _ := s.ListAudit(ctx, AuditQuery{Limit: 1})
		if len(acme) != 2 || acme[0].Action != "connection.activate" || len(last) != 1 || last[0].Action != "connection.activate" {
			t.Fatalf("audit: acme %+v, last %+v", acme, last)
		}
		// Audit events outlive their connection; test logins do not.
		if err := s.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		byConn, _ := s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID})
		logins, _ := s.ListTestLogins(ctx, c.ID)
		if len(byConn) != 2 || len(logins) != 0 {
			t.Fatalf("after delete: %d audit events, %d test logins", len(byConn), len(logins))
		}
	})
}

func TestOrganizations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		o, err := s.EnsureOrganization(ctx, " Acme Corp ", "acme.test")
		if err != nil || o.Name != "Acme Corp" || o.Domain != "acme.test" {
			t.Fatalf("%+v, %v", o, err)
		}
		o2, _ := s.EnsureOrganization(ctx, "Acme Corp", "")
		if o2.Domain != "acme.test" || !o2.CreatedAt.Equal(o.CreatedAt) {
			t.Fatalf("empty domain must keep the old one: %+v", o2)
		}
		_, err = s.EnsureOrganization(ctx, " ", "")
		wantCode(t, err, "missing_field")
	})
}

func TestInvites(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		clock, advance := testClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := b.openWith(t, Options{Now: clock})

		code, inv, err := s.CreateInvite(ctx, "Acme Corp", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 19 || !strings.HasPrefix(inv.ID, "inv_") || !inv.ExpiresAt.Equal(clock().Add(time.Hour)) {
			t.Fatalf("code %q, invite %+v", code, inv)
		}
		// Typed back in capitals without dashes, the code still works.
		typed := strings.ToUpper(strings.ReplaceAll(code, "-", ""))
		if got, err := s.LookupInvite(ctx, typed); err != nil || got.ID != inv.ID {
			t.Fatalf("lookup: %+v, %v", got, err)
		}
		_, err = s.LookupInvite(ctx, "aaaa-bbbb-cccc-dddd")
		wantCode(t, err, "invite_unknown")

		// Many sessions race for one code: exactly one wins.
		if wins, used := raceOnce(t, 20, func() error { _, err := s.RedeemInvite(ctx, code); return err }); wins != 1 || used != 19 {
			t.Fatalf("wins %d, used %d", wins, used)
		}

		expiring, _, _ := s.CreateInvite(ctx, "Acme Corp", time.Minute)
		revoked, revInv, _ := s.CreateInvite(ctx, "Acme Corp", time.Hour)
		open, _, _ := s.CreateInvite(ctx, "Globex", time.Hour)
		if err := s.RevokeInvite(ctx, revInv.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeInvite(ctx, revInv.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
		_, err = s.RedeemInvite(ctx, revoked)
		wantCode(t, err, "invite.revoke")
		advance(2 * time.Minute)
		_, err = s.RedeemInvite(ctx, expiring)
		wantCode(t, err, "invite_expired")

		n, err := s.MarkInvitesUsedForOrg(ctx, "Globex")
		if err != nil || n != 1 {
			t.Fatalf("MarkInvitesUsedForOrg = %d, %v", n, err)
		}
		_, err = s.LookupInvite(ctx, open)
		wantCode(t, err, "invite_used")
		acme, _ := s.ListInvites(ctx, "Acme Corp")
		all, _ := s.ListInvites(ctx, "")
		if len(acme) != 3 || len(all) != 4 {
			t.Fatalf("invites: acme %d, all %d", len(acme), len(all))
		}
		_, _, err = s.CreateInvite(ctx, "Acme Corp", 0)
		wantCode(t, err, "bad_ttl")
	})
}

// GetInvites reads many invites as GetInvite reads each, across more
// than one query's worth, and leaves out the IDs it does not know.
func TestGetInvitesReadsManyAsGetInviteReadsOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		var ids []string
		for i := range invitesPerQuery + 6 {
			_, inv, err := s.CreateInvite(ctx, fmt.Sprintf("Org %d", i), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inv.ID)
		}
		if err := s.RevokeInvite(ctx, ids[3]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkInvitesUsedForOrg(ctx, "Org 65"); err != nil {
			t.Fatal(err)
		}
		asked := append(slices.Clone(ids), "inv_gone22")
		got, err := s.GetInvites(ctx, asked)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Errorf("GetInvites of %d IDs (one unknown) read %d invites, want %d", len(asked), len(got), len(ids))
		}
		for _, id := range ids {
			one, err := s.GetInvite(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got[id] != one {
				t.Errorf("GetInvites read %+v, GetInvite %+v", got[id], one)
			}
		}
		if got[ids[3]].RevokedAt.IsZero() || got[ids[65]].UsedAt.IsZero() {
			t.Errorf("GetInvites lost a revocation or a use: %+v, %+v", got[ids[3]], got[ids[65]])
		}
		if few, err := s.GetInvites(ctx, ids[:2]); err != nil || len(few) != 2 {
			t.Errorf("GetInvites of 2 IDs = %d invites, %v", len(few), err)
		}
	})
}

// testClock is a clock that stands at start until advance moves it.
func testClock(start time.Time) (clock func() time.Time, advance func(time.Duration)) {
	var mu sync.Mutex
	now := start
	clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance = func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	return clock, advance
}

// raceOnce runs use n times at once, as sessions racing for one code,
// and counts the uses that succeeded and those refused as used already;
// any other failure fails the test.
func raceOnce(t *testing.T, n int, use func() error) (wins, used int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range n {
		wg.Go(func() {
			err := use()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case flow.IsCode(err, "invite_used"):
				used++
			default:
				t.Errorf("use: %v", err)
			}
		})
	}
	wg.Wait()
	return wins, used
}

// fileBytes reads the database and its WAL and shared-memory files.
func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestSecretsNeverReachTheFile looks for the secrets in every byte the
// database holds: SQLite's files (WAL included), pg_dump's output.
func TestSecretsNeverReachTheFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		path := b.fresh(t)
		s := openAt(t, path, Options{Key: keyFor(path)})
		const connSecret, draftSecret = "conn-secret-XYZZY-4242-never-stored", "draft-secret-PLUGH-7777-never-stored"
		c := sampleConnection()
		c.ClientSecret = connSecret
		save(t, s, c)
		form, _ := json.Marshal(map[string]string{"client_id": "client-123", "client_secret": draftSecret})
		if _, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Step: 2, Form: form}); err != nil {
			t.Fatal(err)
		}
		check := func(when string) {
			raw := b.dump(t, path)
			if len(raw) == 0 {
				t.Fatalf("%s: no bytes read", when)
			}
			for _, secret := range []string{connSecret, draftSecret, "PLUGH", "XYZZY"} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%s: %q found in the database", when, secret)
				}
			}
			if !bytes.Contains(raw, []byte("client-123")) {
				t.Errorf("%s: the client ID is not in the database's bytes; is this reading the right database?", when)
			}
		}
		check("while open (WAL)")
		s.Close()
		check("after close (checkpointed)")
		if IsPostgres(path) {
			return
		}
		for _, p := range []string{path, path + ".key"} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v, %v; want mode 0600", p, fi.Mode(), err)
			}
		}
	})
}

func TestWrongKeyIsAClearErrorAndKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "onboard.db")
	s := openAt(t, path, Options{Key: testKey(1)})
	c := sampleConnection()
	save(t, s, c)
	d, err := s.SaveDraft(ctx, Draft{Form: json.RawMessage(`{"client_secret":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although the key came from the environment: %v", err)
	}

	wrong := openAt(t, path, Options{Key: testKey(2)})
	_, err = wrong.GetConnection(ctx, c.ID)
	wantCode(t, err, "wrong_key")
	msg, fix := flow.Explain(err)
	if !strings.Contains(msg, c.ID) || !strings.Contains(msg, "OIDC_ONBOARD_KEY") || !strings.Contains(fix, "restore the original key") {
		t.Fatalf("message %q, fix %q", msg, fix)
	}
	_, err = wrong.GetDraft(ctx, d.ID)
	wantCode(t, err, "wrong_key")
	wrong.Close()

	right := openAt(t, path, Options{Key: testKey(1)})
	got, err := right.GetConnection(ctx, c.ID)
	if err != nil || got.ClientSecret != c.ClientSecret {
		t.Fatalf("with the right key: %v, %v", got, err)
	}

	fresh := filepath.Join(t.TempDir(), "fresh.db")
	_, err = Open(fresh, Options{Key: "not-base64!"})
	wantCode(t, err, "bad_key")
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("a bad key still created the database: %v", err)
	}
}

func TestMissingKeyFileIsNotReplaced(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "onboard.db")
	s := openAt(t, path, Options{})
	// Reading and writing without secrets creates no key.
	plain := sampleConnection()
	plain.ClientSecret = ""
	save(t, s, plain)
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatalf("key file created before any secret was sealed: %v", err)
	}
	c := sampleConnection()
	c.Name = "With secret"
	save(t, s, c)
	s.Close()
	key, err := os.ReadFile(path + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}

	s2 := openAt(t, path, Options{})
	_, err = s2.GetConnection(ctx, c.ID)
	wantCode(t, err, "key_missing")
	other := sampleConnection()
	other.Name = "Another"
	wantCode(t, s2.SaveConnection(ctx, other), "key_missing")
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatal("a new key file replaced the lost one")
	}
	s2.Close()

	if err := os.WriteFile(path+".key", key, 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := openAt(t, path, Options{})
	if got, err := s3.GetConnection(ctx, c.ID); err != nil || got.ClientSecret != c.ClientSecret {
		t.Fatalf("after restoring the key: %v, %v", got, err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ms, err := migrations("sqlite")
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %d, %v", len(ms), err)
	}
	path := filepath.Join(t.TempDir(), "onboard.db")
	s := openAt(t, path, Options{})
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(ms) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(ms))
	}
	// A failing migration leaves nothing behind.
	bad := []string{"CREATE TABLE t_partial (x)", "THIS IS NOT SQL"}
	other := openAt(t, filepath.Join(t.TempDir(), "other.db"), Options{})
	if _, err := other.db.Exec("PRAGMA user_version = 0"); err != nil {
		t.Fatal(err)
	}
	if err := runMigrations(ctx, other.db.DB, "other.db", bad); err == nil {
		t.Fatal("a bad migration succeeded")
	}
	var n int
	other.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 't_partial'").Scan(&n)
	other.db.QueryRow("PRAGMA user_version").Scan(&v)
	if n != 0 || v != 0 {
		t.Fatalf("after a failed migration: t_partial %d, user_version %d", n, v)
	}
}

func TestNewerDatabaseIsRefusedUnchanged(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		path := b.fresh(t)
		s := openAt(t, path, Options{Key: keyFor(path)})
		newer := "PRAGMA user_version = 99"
		if IsPostgres(path) {
			newer = "UPDATE schema_version SET version = 99"
		}
		if _, err := s.db.Exec(newer); err != nil {
			t.Fatal(err)
		}
		s.Close()
		before := sha256.Sum256(b.dump(t, path))
		_, err := Open(path, Options{Key: keyFor(path)})
		wantCode(t, err, "db_newer")
		msg, fix := flow.Explain(err)
		ms, _ := migrations(b.name)
		if !strings.Contains(msg, fmt.Sprintf("newer oidc-onboard (schema 99, this binary knows %d)", len(ms))) || !strings.Contains(fix, "upgrade oidc-onboard") {
			t.Fatalf("message %q, fix %q", msg, fix)
		}
		if sha256.Sum256(b.dump(t, path)) != before {
			t.Fatal("the newer database was changed")
		}
	})
}

func TestBadPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Open(dir, Options{})
	wantCode(t, err, "db_is_folder")
	_, err = Open(filepath.Join(dir, "missing", "onboard.db"), Options{})
	wantCode(t, err, "db_path")

	notSQLite := filepath.Join(dir, "notes.txt")
	content := bytes.Repeat([]byte("these are my notes, not a database\n"), 200)
	if err := os.WriteFile(notSQLite, content, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(notSQLite, Options{})
	wantCode(t, err, "db_corrupt")
	if got, _ := os.ReadFile(notSQLite); !bytes.Equal(got, content) {
		t.Fatal("the non-SQLite file was changed")
	}
	if _, err := os.Stat(notSQLite + "-wal"); !os.IsNotExist(err) {
		t.Fatal("a WAL file was left beside the non-SQLite file")
	}
}

func TestDamagedDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "onboard.db")
	s := openAt(t, path, Options{})
	for i := range 50 {
		c := sampleConnection()
		c.Name = fmt.Sprintf("conn %d", i)
		c.ClientSecret = ""
		save(t, s, c)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	pageSize := 4096
	if len(raw) < 4*pageSize {
		t.Fatalf("database too small to damage: %d bytes", len(raw))
	}
	// Keep the header page, overwrite every page after the second.
	for i := 2 * pageSize; i < len(raw); i++ {
		raw[i] = 0xA5
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err == nil {
		defer s2.Close()
		_, err = s2.ListConnections(ctx, "")
	}
	wantCode(t, err, "db_corrupt")
}

func TestDiskFull(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	// One connection, whose page limit is the current size: the next page
	// SQLite needs fails as it would on a full disk.
	s.db.SetMaxOpenConns(1)
	if _, err := s.db.Exec("PRAGMA max_page_count = 10"); err != nil {
		t.Fatal(err)
	}
	d, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Form: json.RawMessage(`{"step":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	big, _ := json.Marshal(map[string]string{"notes": strings.Repeat("x", 200_000)})
	_, err = s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Form: big})
	wantCode(t, err, "db_full")
	got, err := s.GetDraft(ctx, d.ID)
	if err != nil || string(got.Form) != `{"step":1}` {
		t.Fatalf("earlier draft after a full disk: %v, %v", got, err)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := newID("conn_")
		if len(id) != len("conn_")+idLength || seen[id] {
			t.Fatalf("bad or repeated ID %q", id)
		}
		seen[id] = true
		for _, r := range id[len("conn_"):] {
			if !strings.ContainsRune(idAlphabet, r) || strings.ContainsRune("01ilou", r) {
				t.Fatalf("ID %q has an ambiguous symbol %q", id, r)
			}
		}
	}
	if got := flow.NormalizeInviteCode(" AbCd-O1IL "); got != "abcd0111" {
		t.Fatalf("NormalizeInviteCode = %q", got)
	}
}

// TestConcurrentWriters saves drafts (and every tenth time a connection, in
// a transaction) from 50 goroutines and, at the same time, from a second
// process on the same file, which also races this one to create the key
// file: no write fails and none is lost.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		const goroutines, saves, childSaves = 50, 100, 1000
		path := b.fresh(t)
		s := openAt(t, path, Options{Key: keyFor(path)})

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childDBEnv+"="+path, childSavesEnv+"="+strconv.Itoa(childSaves), childKeyEnv+"="+keyFor(path))
		var childOut bytes.Buffer
		child.Stdout, child.Stderr = &childOut, &childOut
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}

		var wg sync.WaitGroup
		errs := make(chan error, goroutines*saves)
		for g := range goroutines {
			wg.Go(func() {
				var d Draft
				for i := range saves {
					d.Organization, d.Step = "parent", i
					d.Form = json.RawMessage(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))
					d.ID = "" // a new draft each time: every save must be a new row
					var err error
					if d, err = s.SaveDraft(ctx, d); err != nil {
						errs <- err
					}
					if i%10 == 0 {
						if err := saveNumbered(s, "parent", g*saves+i); err != nil {
							errs <- err
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("save: %v", err)
		}
		if err := child.Wait(); err != nil {
			t.Fatalf("second process: %v\n%s", err, childOut.String())
		}

		for org, want := range map[string]int{"parent": goroutines * saves, "child": childSaves} {
			ds, err := s.ListDrafts(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != want {
				t.Errorf("%s drafts: %d, want %d", org, len(ds), want)
			}
			cs, err := s.ListConnections(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != want/10 {
				t.Errorf("%s connections: %d, want %d", org, len(cs), want/10)
			}
		}
	})
}

// TestConcurrentOpenOfFreshFile opens one new database from many
// connection pools at once, as several processes starting together would:
// exactly one migrates, none fails.
func TestConcurrentOpenOfFreshFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		path := b.fresh(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				s, err := Open(path, Options{Key: keyFor(path)})
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer s.Close()
				if _, err := s.SaveDraft(ctx, Draft{Form: json.RawMessage(`{}`)}); err != nil {
					t.Errorf("SaveDraft: %v", err)
				}
			})
		}
		wg.Wait()
		s := openAt(t, path, Options{Key: keyFor(path)})
		if ds, _ := s.ListDrafts(ctx, ""); len(ds) != 8 {
			t.Fatalf("%d drafts, want 8", len(ds))
		}
	})
}

// Close returns once no connection is open: a query still running when
// Close is called ends first (database/sql would close its connection
// later, and a SQLite connection closing still writes next to the file).
func TestCloseWaitsForQueriesInFlight(t *testing.T) {
	s := openTemp(t)
	tx, err := s.db.BeginTx(ctx, nil) // holds a connection, as a save in flight does
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		ended <- time.Now()
		_ = tx.Rollback()
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	if n := s.db.Stats().OpenConnections; n != 0 {
		t.Errorf("Close returned with %d connections still open", n)
	}
	if e := <-ended; closed.Before(e) {
		t.Errorf("Close returned before the transaction in flight ended")
	}
}

// A listing of one organization reads that organization's rows through
// its index, not every customer's: a customer's session lists its
// organization's drafts as it starts, and the drafts of every other
// customer are many.
func TestListingsOfOneOrganizationUseTheirIndex(t *testing.T) {
	s := openTemp(t)
	if clause, args := where(column{"organization", ""}, column{"connection_id", ""}); clause != "" || len(args) != 0 {
		t.Errorf("no filter: %q %v", clause, args)
	}
	clause, args := where(column{"organization", "Acme"}, column{"connection_id", ""})
	if clause != " WHERE organization = ?" || len(args) != 1 || args[0] != "Acme" {
		t.Errorf("one filter: %q %v", clause, args)
	}
	if clause, args := where(column{"organization", "Acme"}, column{"connection_id", "conn_1"}); clause != " WHERE organization = ? AND connection_id = ?" || len(args) != 2 {
		t.Errorf("two filters: %q %v", clause, args)
	}
	for table, order := range map[string]string{"drafts": "updated_at DESC, id", "audit_events": "at DESC, id DESC", "connections": "organization, name"} {
		rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT * FROM `+table+clause+` ORDER BY `+order, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 || !strings.HasPrefix(plan[0], "SEARCH "+table+" USING") {
			t.Errorf("%s of one organization: the plan is %q, not a search through an index", table, plan)
		}
	}
}
