package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// handoffDraft is a saved draft of org, for a hand-off to be bound to.
func handoffDraft(t *testing.T, s *Store, org string) Draft {
	t.Helper()
	if _, err := s.EnsureOrganization(ctx, org, ""); err != nil {
		t.Fatal(err)
	}
	d, err := s.SaveDraft(ctx, Draft{Organization: org, Form: json.RawMessage(`{"step":2}`), Actor: "ssh:engineer"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHandoffIsUsedOnceAndOnlyForItsDraft(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		clock, advance := testClock(start)
		db := b.fresh(t)
		opts := Options{Now: clock, Key: keyFor(db)}
		s := openAt(t, db, opts)
		acme, globex := handoffDraft(t, s, "Acme Corp"), handoffDraft(t, s, "Globex")
		engineer := Event{Actor: "ssh:engineer", Address: "10.0.0.9"}

		// A draft of another organization is not this one's.
		if _, _, err := s.CreateHandoff(ctx, "Acme Corp", globex.ID, "Acme OIDC", HandoffSecret, engineer); err == nil {
			t.Fatal("a hand-off bound to another organization's draft was made")
		}
		_, _, err := s.CreateHandoff(ctx, "Acme Corp", "", "Acme OIDC", HandoffSecret, engineer)
		wantCode(t, err, "missing_field")

		code, h, err := s.CreateHandoff(ctx, "Acme Corp", acme.ID, "Acme OIDC", HandoffSecret, engineer)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(code, HandoffPrefix) || !IsHandoffCode(code) || !h.ExpiresAt.Equal(start.Add(15*time.Minute)) {
			t.Fatalf("code %q, hand-off %+v", code, h)
		}
		// It is not an invite code, and an invite code is not a hand-off's.
		if _, err := s.LookupInvite(ctx, code); err == nil {
			t.Fatal("a hand-off code let in as an invite")
		}
		invite, _, _ := s.CreateInvite(ctx, "Acme Corp", time.Hour)
		if IsHandoffCode(invite) {
			t.Fatalf("invite code %q has a hand-off code's shape", invite)
		}
		_, err = s.LookupHandoff(ctx, invite)
		wantCode(t, err, "invite_unknown")
		// Typed back in capitals, the code still works.
		if got, err := s.LookupHandoff(ctx, strings.ToUpper(code)); err != nil || got.ID != h.ID || got.Connection != "Acme OIDC" {
			t.Fatalf("lookup: %+v, %v", got, err)
		}

		// Pending: the engineer's poll gets nothing yet, and only for its
		// own draft and organization.
		if _, v, err := s.HandoffResult(ctx, h.ID, "Acme Corp", acme.ID); err != nil || v != nil {
			t.Fatalf("pending poll: %v, %v", v, err)
		}
		_, _, err = s.HandoffResult(ctx, h.ID, "Globex", acme.ID)
		wantCode(t, err, "invite_unknown")
		_, _, err = s.HandoffResult(ctx, h.ID, "Acme Corp", globex.ID)
		wantCode(t, err, "invite_unknown")

		// Another organization's session cannot deliver into it.
		const secret = "s3cr3t-HANDED-OFF-value-0123456789"
		customer := Event{Actor: "handoff:" + h.ID, Address: "192.0.2.7"}
		_, err = s.ReceiveHandoff(ctx, h.ID, "Globex", HandoffValues{ClientSecret: secret}, customer)
		wantCode(t, err, "invite_unknown")

		// Two customers (or twenty) race: exactly one delivers.
		wins, used := raceOnce(t, 20, func() error {
			_, err := s.ReceiveHandoff(ctx, h.ID, "Acme Corp", HandoffValues{ClientSecret: secret}, customer)
			return err
		})
		if wins != 1 || used != 19 {
			t.Fatalf("wins %d, used %d", wins, used)
		}
		_, v, err := s.HandoffResult(ctx, h.ID, "Acme Corp", acme.ID)
		if err != nil || v == nil || v.ClientSecret != secret {
			t.Fatalf("received poll: %v, %v", v, err)
		}
		_, err = s.LookupHandoff(ctx, code)
		wantCode(t, err, "invite_used")

		// A code left unused expires after 15 minutes.
		late, lh, err := s.CreateHandoff(ctx, "Acme Corp", acme.ID, "Acme OIDC", HandoffAll, engineer)
		if err != nil {
			t.Fatal(err)
		}
		advance(15*time.Minute + time.Second)
		_, err = s.LookupHandoff(ctx, late)
		wantCode(t, err, "invite_expired")
		_, err = s.ReceiveHandoff(ctx, lh.ID, "Acme Corp", HandoffValues{ClientSecret: secret}, customer)
		wantCode(t, err, "invite_expired")
		_, _, err = s.HandoffResult(ctx, lh.ID, "Acme Corp", acme.ID)
		wantCode(t, err, "invite_expired")

		// Audited with the actors, never with the value.
		events, err := s.ListAudit(ctx, AuditQuery{Organization: "Acme Corp"})
		if err != nil {
			t.Fatal(err)
		}
		var created, received int
		for _, e := range events {
			if strings.Contains(e.Detail, secret) {
				t.Fatalf("audit carries the secret: %+v", e)
			}
			switch {
			case e.Action == "handoff.created" && e.Actor == "ssh:engineer" && e.Address == "10.0.0.9":
				created++
			case e.Action == "handoff.received" && e.Actor == customer.Actor && strings.Contains(e.Detail, "characters"):
				received++
			}
		}
		if created != 2 || received != 1 {
			t.Fatalf("audit: %d created, %d received in %+v", created, received, events)
		}
		s.Close()
		if dump := b.dump(t, db); bytes.Contains(dump, []byte(secret)) {
			t.Fatal("the database holds the handed-off secret in plain text")
		}

		// The hand-off goes with its draft.
		s = openAt(t, db, opts)
		if err := s.DeleteDraft(ctx, acme.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetHandoff(ctx, h.ID, "Acme Corp")
		wantCode(t, err, "invite_unknown")
	})
}
