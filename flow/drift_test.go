package flow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// driftIdP serves a discovery document and key set that a test changes
// between activation and verify.
type driftIdP struct {
	srv  *httptest.Server
	mu   sync.Mutex
	doc  map[string]any
	keys []map[string]any
	skew time.Duration
}

func ecJWK(t *testing.T, kid string) map[string]any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": enc(b[1:33]), "y": enc(b[33:])}
}

func newDriftIdP(t *testing.T) *driftIdP {
	t.Helper()
	d := &driftIdP{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		w.Header().Set("Date", time.Now().Add(d.skew).UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case flow.WellKnownPath:
			json.NewEncoder(w).Encode(d.doc)
		case "/keys":
			json.NewEncoder(w).Encode(map[string]any{"keys": d.keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	u := d.srv.URL
	d.doc = map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"jwks_uri": u + "/keys", "userinfo_endpoint": u + "/userinfo", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
		"scopes_supported": []string{"openid", "email", "profile"}, "code_challenge_methods_supported": []string{"S256"}}
	d.keys = []map[string]any{ecJWK(t, "k1")}
	return d
}

func (d *driftIdP) change(f func(d *driftIdP)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

func (d *driftIdP) snapshot(t *testing.T) flow.Snapshot {
	t.Helper()
	r := flow.Validate(context.Background(), newClient(), d.srv.URL, flow.ValidateOptions{})
	if !r.OK {
		t.Fatalf("activation validation failed: %+v", r.Checks)
	}
	return flow.Snapshot{At: time.Now(), RawMetadata: r.RawMetadata, RawJWKS: r.RawJWKS}
}

func (d *driftIdP) verify(snap flow.Snapshot) flow.Drift {
	return flow.CheckDrift(context.Background(), newClient(), d.srv.URL+flow.WellKnownPath, snap, flow.ValidateOptions{})
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
		change func(t *testing.T, d *driftIdP)
		ok     bool
		kinds  []string
	}{
		{"unchanged", func(*testing.T, *driftIdP) {}, true, nil},
		{"key added alongside", func(t *testing.T, d *driftIdP) {
			k := ecJWK(t, "k2")
			d.change(func(d *driftIdP) { d.keys = append(d.keys, k) })
		}, true, []string{flow.DriftKeyAdded}},
		{"keys rotated", func(t *testing.T, d *driftIdP) {
			k := ecJWK(t, "k2")
			d.change(func(d *driftIdP) { d.keys = []map[string]any{k} })
		}, true, []string{flow.DriftKeysRotated}},
		{"all keys gone, none usable", func(t *testing.T, d *driftIdP) {
			k := ecJWK(t, "k2")
			k["use"] = "enc"
			d.change(func(d *driftIdP) { d.keys = []map[string]any{k} })
		}, false, []string{flow.DriftNoUsableKey, flow.DriftKeyRemoved, flow.DriftKeyAdded}},
		{"algorithms no longer cover the keys", func(_ *testing.T, d *driftIdP) {
			d.change(func(d *driftIdP) { d.doc["id_token_signing_alg_values_supported"] = []string{"RS256"} })
		}, false, []string{flow.DriftAlgorithms, flow.DriftNoUsableKey}},
		{"issuer changed", func(_ *testing.T, d *driftIdP) {
			d.change(func(d *driftIdP) { d.doc["issuer"] = d.srv.URL + "/oauth2/default" })
		}, false, []string{flow.DriftIssuer}},
		{"token endpoint changed", func(_ *testing.T, d *driftIdP) {
			d.change(func(d *driftIdP) { d.doc["token_endpoint"] = d.srv.URL + "/v2/token" })
		}, false, []string{flow.DriftEndpoint}},
		{"userinfo endpoint changed", func(_ *testing.T, d *driftIdP) {
			d.change(func(d *driftIdP) { d.doc["userinfo_endpoint"] = d.srv.URL + "/v2/userinfo" })
		}, true, []string{flow.DriftEndpoint}},
		{"clock drifted", func(_ *testing.T, d *driftIdP) {
			d.change(func(d *driftIdP) { d.skew = 5 * time.Minute })
		}, false, []string{flow.DriftClock}},
		{"unreachable", func(_ *testing.T, d *driftIdP) { d.srv.Close() }, false, []string{flow.DriftUnreachable}},
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
