package flow_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// driftIdP is an IdP whose metadata a test changes between activation
// and verify.
type driftIdP struct{ *testidp.Drifting }

func newDriftIdP(t *testing.T) driftIdP { return driftIdP{testidp.NewDrifting(t)} }

func (d driftIdP) snapshot(t *testing.T) flow.Snapshot {
	t.Helper()
	r := flow.Validate(context.Background(), newClient(), d.Server.URL, flow.ValidateOptions{})
	if !r.OK {
		t.Fatalf("activation validation failed: %+v", r.Checks)
	}
	return flow.Snapshot{At: time.Now(), RawMetadata: r.RawMetadata, RawJWKS: r.RawJWKS}
}

func (d driftIdP) verify(snap flow.Snapshot) flow.Drift {
	return flow.CheckDrift(context.Background(), newClient(), d.Server.URL+flow.WellKnownPath, snap, flow.ValidateOptions{})
}

func kinds(d flow.Drift) []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, c.Kind)
	}
	return out
}

func TestDrift(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(t *testing.T, d driftIdP)
		ok     bool
		kinds  []string
	}{
		{"unchanged", func(*testing.T, driftIdP) {}, true, nil},
		{"key added alongside", func(t *testing.T, d driftIdP) {
			k := testidp.ECKey(t, "k2")
			d.Change(func(d *testidp.Drifting) { d.Keys = append(d.Keys, k) })
		}, true, []string{flow.DriftKeyAdded}},
		{"keys rotated", func(t *testing.T, d driftIdP) {
			k := testidp.ECKey(t, "k2")
			d.Change(func(d *testidp.Drifting) { d.Keys = []map[string]any{k} })
		}, true, []string{flow.DriftKeysRotated}},
		{"all keys gone, none usable", func(t *testing.T, d driftIdP) {
			k := testidp.ECKey(t, "k2")
			k["use"] = "enc"
			d.Change(func(d *testidp.Drifting) { d.Keys = []map[string]any{k} })
		}, false, []string{flow.DriftNoUsableKey, flow.DriftKeyRemoved, flow.DriftKeyAdded}},
		{"algorithms no longer cover the keys", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Doc["id_token_signing_alg_values_supported"] = []string{"RS256"} })
		}, false, []string{flow.DriftAlgorithms, flow.DriftNoUsableKey}},
		{"issuer changed", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Doc["issuer"] = d.Server.URL + "/oauth2/default" })
		}, false, []string{flow.DriftIssuer}},
		{"token endpoint changed", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Doc["token_endpoint"] = d.Server.URL + "/v2/token" })
		}, false, []string{flow.DriftEndpoint}},
		{"userinfo endpoint changed", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Doc["userinfo_endpoint"] = d.Server.URL + "/v2/userinfo" })
		}, true, []string{flow.DriftEndpoint}},
		{"clock drifted", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Skew = 5 * time.Minute })
		}, false, []string{flow.DriftClock}},
		{"unreachable", func(_ *testing.T, d driftIdP) { d.Server.Close() }, false, []string{flow.DriftUnreachable}},
		{"keys unreachable", func(_ *testing.T, d driftIdP) {
			d.Change(func(d *testidp.Drifting) { d.Doc["jwks_uri"] = "http://127.0.0.1:1/keys" }) // nothing listens there
		}, false, []string{flow.DriftEndpoint, flow.DriftUnreachable}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDriftIdP(t)
			snap := d.snapshot(t)
			c.change(t, d)
			got := d.verify(snap)
			if got.OK != c.ok || !slices.Equal(kinds(got), c.kinds) {
				t.Fatalf("ok=%v kinds=%v, want ok=%v kinds=%v: %+v", got.OK, kinds(got), c.ok, c.kinds, got.Changes)
			}
			for _, ch := range got.Changes {
				if ch.Detail == "" || (ch.Breaking && ch.Fix == "") {
					t.Errorf("change without detail or fix: %+v", ch)
				}
			}
		})
	}
}

func TestDriftWithoutSnapshot(t *testing.T) {
	t.Parallel()
	d := newDriftIdP(t)
	got := d.verify(flow.Snapshot{})
	if !got.OK || !slices.Equal(kinds(got), []string{flow.DriftSnapshotEmpty}) {
		t.Errorf("%+v", got)
	}
}
