package store

import (
	"errors"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestActivateKeepsTheLastValidationAsSnapshot(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		c := &flow.Connection{Organization: "Acme Corp", Name: "Acme OIDC", ClientSecret: "s3cret-value-9f2a"}
		save(t, s, c)
		if v, err := s.ActivationSnapshot(ctx, c.ID); err != nil || v != nil {
			t.Fatalf("new connection has a snapshot: %v %v", v, err)
		}
		first := flow.Report{OK: true, Issuer: "https://idp.example", RawMetadata: []byte(`{"issuer":"https://idp.example"}`), RawJWKS: []byte(`{"keys":[]}`)}
		if err := s.SaveValidation(ctx, c.ID, first); err != nil {
			t.Fatal(err)
		}
		if err := s.Activate(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		// A later validation does not move the activation snapshot.
		later := first
		later.RawMetadata = []byte(`{"issuer":"https://other.example"}`)
		if err := s.SaveValidation(ctx, c.ID, later); err != nil {
			t.Fatal(err)
		}
		v, err := s.ActivationSnapshot(ctx, c.ID)
		if err != nil || v == nil {
			t.Fatalf("snapshot: %v %v", v, err)
		}
		if string(v.Report.RawMetadata) != string(first.RawMetadata) || v.Report.Issuer != first.Issuer || v.At.IsZero() {
			t.Errorf("snapshot %+v", v)
		}
		got, _ := s.GetConnection(ctx, c.ID)
		if got.Status != flow.StatusActive {
			t.Errorf("status %s", got.Status)
		}
		// An explicit snapshot replaces it.
		if err := s.SaveActivationSnapshot(ctx, c.ID, later); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.ActivationSnapshot(ctx, c.ID); string(v.Report.RawMetadata) != string(later.RawMetadata) {
			t.Errorf("explicit snapshot not kept: %s", v.Report.RawMetadata)
		}
		if err := s.Activate(ctx, "conn_nope22"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown connection: %v", err)
		}
		if err := s.SaveActivationSnapshot(ctx, "conn_nope22", first); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown connection: %v", err)
		}
	})
}

func TestMappingsCheckedAgainstAndGroupLabels(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		c := &flow.Connection{Organization: "Acme Corp", Name: "Acme OIDC"}
		save(t, s, c)
		tl, err := s.SaveTestLogin(ctx, TestLogin{ConnectionID: c.ID, OK: true, Claims: map[string]any{"sub": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.MappingsCheckedAgainst(ctx, c.ID); err != nil || n != 0 {
			t.Fatalf("fresh: %d %v", n, err)
		}
		if err := s.SetMappingsCheckedAgainst(ctx, c.ID, tl.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.MappingsCheckedAgainst(ctx, c.ID); n != tl.ID {
			t.Errorf("checked against %d, want %d", n, tl.ID)
		}
		// Saving the connection again keeps the record.
		save(t, s, c)
		if n, _ := s.MappingsCheckedAgainst(ctx, c.ID); n != tl.ID {
			t.Errorf("after save: %d", n)
		}
		g := "c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8"
		if err := s.SetGroupLabel(ctx, c.ID, g, "Sales"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetGroupLabel(ctx, c.ID, g, "Sales EMEA"); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.GroupLabels(ctx, c.ID); len(l) != 1 || l[g] != "Sales EMEA" {
			t.Errorf("labels %v", l)
		}
		if err := s.SetGroupLabel(ctx, c.ID, g, ""); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.GroupLabels(ctx, c.ID); len(l) != 0 {
			t.Errorf("label not removed: %v", l)
		}
		// Deleting the connection removes its snapshot and labels with it.
		_ = s.SetGroupLabel(ctx, c.ID, g, "Sales")
		if err := s.DeleteConnection(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM group_labels`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d labels left after delete (%v)", n, err)
		}
	})
}
