package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// failHalfWay makes the statements of trigger (e.g. "BEFORE INSERT ON
// audit_events") fail with "injected failure", in s's dialect.
func failHalfWay(t *testing.T, s *Store, trigger string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER fail_half_way ` + trigger + ` BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	if s.db.postgres {
		stmts = []string{`CREATE FUNCTION fail_half_way() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER fail_half_way ` + trigger + ` FOR EACH ROW EXECUTE FUNCTION fail_half_way()`}
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

// activationFixture is a draft connection, validated, with a successful
// test login and an open invite for its organization: everything an
// activation writes to.
func activationFixture(t *testing.T, b backend) (*Store, *flow.Connection, TestLogin) {
	t.Helper()
	s := b.open(t)
	c := sampleConnection()
	c.Status = flow.StatusDraft
	save(t, s, c)
	report := flow.Report{OK: true, Issuer: c.Issuer, RawMetadata: []byte(`{"issuer":"https://idp.acme.test"}`), RawJWKS: []byte(`{"keys":[]}`)}
	if err := s.SaveValidation(ctx, c.ID, report); err != nil {
		t.Fatal(err)
	}
	tl, err := s.SaveTestLogin(ctx, TestLogin{ConnectionID: c.ID, OK: true, Claims: map[string]any{"sub": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateInvite(ctx, c.Organization, time.Hour); err != nil {
		t.Fatal(err)
	}
	return s, c, tl
}

// activationState is what an activation changes, read back.
func activationState(t *testing.T, s *Store, c *flow.Connection) (status flow.ConnectionStatus, snapshot bool, checked int64, openInvites int, audits []string) {
	t.Helper()
	got, err := s.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.ActivationSnapshot(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if checked, err = s.MappingsCheckedAgainst(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	invites, err := s.ListInvites(ctx, c.Organization)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invites {
		if inv.Status(time.Now()) == "open" {
			openInvites++
		}
	}
	events, err := s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		audits = append(audits, e.Action+" by "+e.Actor+": "+e.Detail)
	}
	return got.Status, snap != nil, checked, openInvites, audits
}

func TestActivateConnectionWritesEverythingAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c, tl := activationFixture(t, b)
		if err := s.ActivateConnection(ctx, c, tl.ID, Event{Actor: "local:ana", Detail: "activated"}); err != nil {
			t.Fatal(err)
		}
		if c.Status != flow.StatusActive || c.UpdatedAt.IsZero() {
			t.Errorf("connection after activation: %+v", c)
		}
		status, snapshot, checked, open, audits := activationState(t, s, c)
		if status != flow.StatusActive || !snapshot || checked != tl.ID || open != 0 ||
			strings.Join(audits, "|") != "connection.activate by local:ana: activated" {
			t.Errorf("after activation: status %s, snapshot %v, checked %d, open invites %d, audit %q", status, snapshot, checked, open, audits)
		}
	})
}

// TestActivationIsAllOrNothing kills the activation's transaction at each
// of its writes in turn (a trigger makes that statement fail) and finds
// nothing of it saved: the connection still a draft, no snapshot, no
// test-login link, the invite open, no audit event.
func TestActivationIsAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, trigger := range []string{
			`BEFORE INSERT ON activation_snapshots`,
			`BEFORE UPDATE OF mappings_checked_login ON connections`,
			`BEFORE UPDATE OF used_at ON invites`,
			`BEFORE INSERT ON audit_events`,
		} {
			t.Run(trigger, func(t *testing.T) {
				t.Parallel()
				s, c, tl := activationFixture(t, b)
				failHalfWay(t, s, trigger)
				draft := *c
				err := s.ActivateConnection(ctx, &draft, tl.ID, Event{Actor: "local:ana", Detail: "activated"})
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("ActivateConnection = %v; want the injected failure", err)
				}
				if draft.Status != flow.StatusDraft {
					t.Errorf("the caller's connection says %s after a failed activation", draft.Status)
				}
				status, snapshot, checked, open, audits := activationState(t, s, c)
				if status != flow.StatusDraft || snapshot || checked != 0 || open != 1 || len(audits) != 0 {
					t.Errorf("half-saved: status %s, snapshot %v, checked %d, open invites %d, audit %q", status, snapshot, checked, open, audits)
				}
			})
		}
	})
}

// TestActivationOfANewConnectionLeavesNoRowOnFailure: a connection never
// saved before is not created by an activation that failed.
func TestActivationOfANewConnectionLeavesNoRowOnFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		failHalfWay(t, s, `BEFORE INSERT ON audit_events`)
		c := sampleConnection()
		if err := s.ActivateConnection(ctx, c, 0, Event{Actor: "local:ana"}); err == nil {
			t.Fatal("ActivateConnection succeeded despite the failing audit")
		}
		if cs, err := s.ListConnections(ctx, ""); err != nil || len(cs) != 0 || c.ID != "" {
			t.Errorf("after a failed activation: %d connections (%v), ID %q", len(cs), err, c.ID)
		}
	})
}

// A connection activated when it is first saved (an import, a script)
// has its audit event filed under the ID it was given.
func TestActivationOfANewConnectionAuditsItsID(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		c := sampleConnection()
		if err := s.ActivateConnection(ctx, c, 0, Event{Actor: "local:ana"}); err != nil {
			t.Fatal(err)
		}
		events, _ := s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID})
		if c.ID == "" || len(events) != 1 || events[0].Action != "connection.activate" {
			t.Errorf("connection %q, its audit: %+v", c.ID, events)
		}
	})
}

// The wizard's start files a connection with its Redirect URI, which
// holds the connection's ID, its organization and its audit event at
// once; a failure half-way leaves none of them.
func TestCreateConnectionFilesItsRedirectURIAndEventAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		redirect := func(id string) string { return "https://sso.example.test/callback/" + id }
		c := &flow.Connection{Organization: "Initech", Name: "Okta"}
		if err := s.CreateConnection(ctx, c, redirect, Event{Actor: "ssh:SHA256:x", Address: "192.0.2.1:5555"}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.ID, "conn_") || c.RedirectURI != redirect(c.ID) || c.Status != flow.StatusDraft || c.CreatedAt.IsZero() {
			t.Fatalf("created %+v", c)
		}
		got, err := s.GetConnection(ctx, c.ID)
		if err != nil || got.RedirectURI != redirect(c.ID) || got.Organization != "Initech" {
			t.Fatalf("stored %+v, %v", got, err)
		}
		if orgs, err := s.ListOrganizationsNamed(ctx, "Initech"); err != nil || len(orgs) != 1 {
			t.Errorf("organization: %+v, %v", orgs, err)
		}
		events, _ := s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID})
		if len(events) != 1 || events[0].Action != "connection.create" || events[0].Actor != "ssh:SHA256:x" ||
			events[0].Address != "192.0.2.1:5555" || events[0].Organization != "Initech" {
			t.Errorf("audit = %+v", events)
		}
		if err := s.CreateConnection(ctx, got, redirect, Event{Actor: "x"}); err == nil {
			t.Error("CreateConnection filed a connection that has an ID")
		}
		dup := &flow.Connection{Organization: "Initech", Name: "Okta"}
		if err := s.CreateConnection(ctx, dup, redirect, Event{Actor: "x"}); !flow.IsCode(err, flow.CodeDuplicateName) || dup.ID != "" {
			t.Errorf("a second connection of that name: %v, ID %q", err, dup.ID)
		}

		failHalfWay(t, s, `BEFORE INSERT ON audit_events`)
		lost := &flow.Connection{Organization: "Globex", Name: "Entra"}
		if err := s.CreateConnection(ctx, lost, redirect, Event{Actor: "x"}); err == nil {
			t.Fatal("CreateConnection succeeded despite the failing audit")
		}
		if cs, _ := s.ListConnections(ctx, "Globex"); len(cs) != 0 || lost.ID != "" || lost.RedirectURI != "" {
			t.Errorf("after a failed creation: %d connections, ID %q, Redirect URI %q", len(cs), lost.ID, lost.RedirectURI)
		}
		if orgs, _ := s.ListOrganizationsNamed(ctx, "Globex"); len(orgs) != 0 {
			t.Errorf("after a failed creation the organization is filed: %+v", orgs)
		}
	})
}

func TestRecordTestLoginAuditsInTheSameTransaction(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c, _ := activationFixture(t, b)
		failed := flow.NewTestLogin(time.Time{}, nil, &flow.Error{Code: "invalid_client", Message: "the IdP rejected the client"})
		tl, err := s.RecordTestLogin(ctx, c, failed, Event{Actor: "ssh:SHA256:x", Address: "192.0.2.1:5555"})
		if err != nil || tl.ID == 0 || tl.ConnectionID != c.ID {
			t.Fatalf("RecordTestLogin = %+v, %v", tl, err)
		}
		events, _ := s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID})
		if len(events) != 1 || events[0].Action != "connection.test_login" || events[0].Address != "192.0.2.1:5555" ||
			events[0].Detail != "test login failed: the IdP rejected the client" {
			t.Errorf("audit = %+v", events)
		}
		// A test login for a connection that is not stored saves nothing.
		if _, err := s.RecordTestLogin(ctx, &flow.Connection{ID: "conn_none22"}, failed, Event{Actor: "x"}); err == nil {
			t.Error("recorded a test login for an unknown connection")
		}
		if events, _ := s.ListAudit(ctx, AuditQuery{ConnectionID: "conn_none22"}); len(events) != 0 {
			t.Errorf("audit without the test login: %+v", events)
		}
	})
}

func TestImportConnectionKeepsWhatTheFileLeavesOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, stored := openWithConnection(t, b)
		c, present, err := flow.ParseImport([]byte(`{"organization":"Acme Corp","name":"Acme OIDC",
		"discovery_url":"https://idp.acme.test","client_id":"client-456"}`))
		if err != nil {
			t.Fatal(err)
		}
		action, err := s.ImportConnection(ctx, c, present, "", Event{Actor: "local:ana"}, nil)
		if err != nil || action != "updated" || c.ID != stored.ID {
			t.Fatalf("ImportConnection = %q, %v (ID %s, want %s)", action, err, c.ID, stored.ID)
		}
		got, _ := s.GetConnection(ctx, stored.ID)
		if got.ClientID != "client-456" || got.ClientSecret != stored.ClientSecret || got.GroupsClaim != "roles" ||
			len(got.RoleMappings) != 2 || got.Status != flow.StatusActive {
			t.Errorf("imported over the stored connection: %+v", got)
		}
		fresh, present, _ := flow.ParseImport([]byte(`{"id":"not-ours","organization":"Globex","name":"G",
		"discovery_url":"https://idp.globex.test","client_id":"c"}`))
		if action, err := s.ImportConnection(ctx, fresh, present, "s3cret", Event{Actor: "local:ana"}, nil); err != nil || action != "created" ||
			!flow.ValidConnectionID(fresh.ID) {
			t.Errorf("new import = %q, %v, ID %q", action, err, fresh.ID)
		}
		events, _ := s.ListAudit(ctx, AuditQuery{})
		if len(events) != 2 || events[0].Detail != "created" || events[1].Detail != `updated; changed client_id: "client-123" → "client-456" — changed since its last test login` {
			t.Errorf("audit = %+v", events)
		}
	})
}

func TestDriftBaseline(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, c, _ := activationFixture(t, b)
		if v, name, err := s.DriftBaseline(ctx, c.ID); err != nil || v == nil || name != "last_validation" {
			t.Errorf("before activation: %v %q %v", v, name, err)
		}
		if err := s.Activate(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if v, name, err := s.DriftBaseline(ctx, c.ID); err != nil || v == nil || name != "activation" {
			t.Errorf("after activation: %v %q %v", v, name, err)
		}
		bare := &flow.Connection{Organization: "Globex", Name: "G"}
		save(t, s, bare)
		if v, name, err := s.DriftBaseline(ctx, bare.ID); err != nil || v != nil || name != "last_validation" {
			t.Errorf("never validated: %v %q %v", v, name, err)
		}
	})
}

// TestChangedCredentialsStayChangedUntilATestLoginPasses: an import that
// changes the credentials asks confirm first (an error imports nothing),
// then leaves the connection "changed since its last test login" until
// a test login passes; one whose mapped profile fails is recorded as
// failed and does not end that state.
func TestChangedCredentialsStayChangedUntilATestLoginPasses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, stored := openWithConnection(t, b)
		state := func() flow.TestState {
			t.Helper()
			r, err := s.Record(ctx, stored)
			if err != nil {
				t.Fatal(err)
			}
			list, err := s.TestStates(ctx, "")
			if err != nil || list[stored.ID] != r.TestState() {
				t.Fatalf("TestStates = %v, %v; the record says %q", list, err, r.TestState())
			}
			return r.TestState()
		}
		if st := state(); st != flow.TestNever {
			t.Fatalf("before any test login: %q", st)
		}
		good := flow.TestLogin{OK: true, Profile: &flow.Profile{IDPID: "u1", Email: "ada@acme.test"}, Claims: map[string]any{"sub": "u1", "email": "ada@acme.test"}}
		if tl, err := s.RecordTestLogin(ctx, stored, good, Event{Actor: "x"}); err != nil || !tl.OK {
			t.Fatalf("RecordTestLogin = %+v, %v", tl, err)
		}
		if st := state(); st != flow.TestPassed {
			t.Fatalf("after a passing test login: %q", st)
		}
		imp := func(confirm func(*flow.Connection, []string) error) error {
			c, present, err := flow.ParseImport([]byte(`{"organization":"Acme Corp","name":"Acme OIDC","discovery_url":"https://idp.acme.test","client_id":"client-456"}`))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.ImportConnection(ctx, c, present, "", Event{Actor: "local:ana"}, confirm)
			return err
		}
		refused := errors.New("no")
		var asked []string
		if err := imp(func(_ *flow.Connection, changes []string) error { asked = changes; return refused }); err != refused || len(asked) != 1 {
			t.Fatalf("refused import = %v, asked %q", err, asked)
		}
		if got, _ := s.GetConnection(ctx, stored.ID); got.ClientID != stored.ClientID || state() != flow.TestPassed {
			t.Fatalf("a refused import changed %+v", got)
		}
		if err := imp(nil); err != nil {
			t.Fatal(err)
		}
		if st := state(); st != flow.TestChanged {
			t.Fatalf("after the credentials changed: %q", st)
		}
		// Signed in, but the email claim holds no address: not a pass.
		// (The fixture maps email ← upn.)
		bad := flow.TestLogin{OK: true, Profile: &flow.Profile{IDPID: "u1", Email: "ada"}, Claims: map[string]any{"sub": "u1", "upn": "ada", "email": "ada@acme.test"}}
		tl, err := s.RecordTestLogin(ctx, stored, bad, Event{Actor: "x"})
		if err != nil || tl.OK || !strings.Contains(tl.Error, `email "ada" (claim "upn") is not an email address`) || !strings.Contains(tl.Error, `the claim "email" holds an address`) {
			t.Fatalf("a login whose profile fails was recorded as %+v, %v", tl, err)
		}
		if st := state(); st != flow.TestChanged {
			t.Fatalf("after a login whose profile fails: %q", st)
		}
		if _, err := s.RecordTestLogin(ctx, stored, good, Event{Actor: "x"}); err != nil {
			t.Fatal(err)
		}
		if st := state(); st != flow.TestPassed {
			t.Fatalf("after a passing test login: %q", st)

		}
	})
}

// TestActivationAuditsTheWizardsMappingChanges: mappings changed in the
// wizard are audited where they are saved (the activation), numbered by
// the connection's own test logins, and the transcript shows them.
func TestActivationAuditsTheWizardsMappingChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		// Another connection's test login first: store-wide IDs are not the
		// connection's numbers.
		other := sampleConnection()
		other.Name = "Other"
		save(t, s, other)
		if _, err := s.SaveTestLogin(ctx, TestLogin{ConnectionID: other.ID, OK: true}); err != nil {
			t.Fatal(err)
		}
		c := sampleConnection()
		c.Status = flow.StatusDraft
		save(t, s, c)
		if err := s.SaveValidation(ctx, c.ID, flow.Report{OK: true, Issuer: c.Issuer}); err != nil {
			t.Fatal(err)
		}
		tl, err := s.SaveTestLogin(ctx, TestLogin{ConnectionID: c.ID, OK: true, Claims: map[string]any{"sub": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if tl.ID == 1 || tl.Number != 1 {
			t.Fatalf("the connection's first test login has ID %d, number %d; want a store-wide ID and number 1", tl.ID, tl.Number)
		}
		edited := *c
		edited.Claims.Email = "email"
		edited.DefaultRole = "viewer"
		if err := s.ActivateConnection(ctx, &edited, tl.ID, Event{Actor: "local:ana", Detail: "activated"}); err != nil {
			t.Fatal(err)
		}
		_, _, _, _, audits := activationState(t, s, c)
		want := "connection.mappings by local:ana: email: upn → email; default_role: member → viewer (checked against test login #1)"
		if !strings.Contains(strings.Join(audits, "|"), want) {
			t.Errorf("audit %q lacks %q", audits, want)
		}
		r, err := s.Record(ctx, &edited)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		if err := flow.BuildTranscript(r, time.Now()).WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"connection.mappings: email: upn → email", "#1 succeeded", "activated at "} {
			if !strings.Contains(text.String(), w) {
				t.Errorf("transcript lacks %q:\n%s", w, text.String())
			}
		}
		// Activating again without a change records no mapping event.
		if err := s.ActivateConnection(ctx, &edited, tl.ID, Event{Actor: "local:ana", Detail: "activated"}); err != nil {
			t.Fatal(err)
		}
		if _, _, _, _, audits := activationState(t, s, c); strings.Count(strings.Join(audits, "|"), "connection.mappings") != 1 {
			t.Errorf("an unchanged activation audited mappings: %q", audits)
		}
	})
}
