package store

import (
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// TestActivationAuditsTheWizardsMappingChanges: mappings changed in the
// wizard are audited where they are saved (the activation), numbered by
// the connection's own test logins, and the transcript shows them.
func TestActivationAuditsTheWizardsMappingChanges(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
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
	var b strings.Builder
	if err := flow.BuildTranscript(r, time.Now()).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"connection.mappings: email: upn → email", "#1 succeeded", "activated at "} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("transcript lacks %q:\n%s", w, b.String())
		}
	}
	// Activating again without a change records no mapping event.
	if err := s.ActivateConnection(ctx, &edited, tl.ID, Event{Actor: "local:ana", Detail: "activated"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, audits := activationState(t, s, c); strings.Count(strings.Join(audits, "|"), "connection.mappings") != 1 {
		t.Errorf("an unchanged activation audited mappings: %q", audits)
	}
}
