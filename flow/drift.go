package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Drift change kinds. They are stable: scripts read them from
// `verify --json`.
const (
	DriftUnreachable   = "unreachable"    // discovery or keys could not be fetched
	DriftIssuer        = "issuer"         // the issuer changed
	DriftEndpoint      = "endpoint"       // an endpoint changed
	DriftKeyAdded      = "key_added"      // a signing key appeared
	DriftKeyRemoved    = "key_removed"    // a snapshot key is gone, others remain
	DriftKeysRotated   = "keys_rotated"   // every snapshot key is gone, new ones verify
	DriftNoUsableKey   = "no_usable_key"  // no published key verifies an advertised algorithm
	DriftAlgorithms    = "algorithms"     // id_token_signing_alg_values_supported changed
	DriftClock         = "clock"          // the IdP's clock drifted past the allowed skew
	DriftCheckFailed   = "check_failed"   // another discovery check now fails
	DriftSnapshotEmpty = "snapshot_empty" // there was nothing to compare with
)

// Snapshot is the discovery document and key set a connection was
// activated with.
type Snapshot struct {
	At          time.Time
	RawMetadata []byte
	RawJWKS     []byte
}

// DriftChange is one difference between the snapshot and the IdP today.
type DriftChange struct {
	Kind string `json:"kind"`
	// Breaking is true when the change makes logins fail.
	Breaking bool   `json:"breaking"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

// Drift is the outcome of comparing a snapshot with the IdP today.
type Drift struct {
	// OK is false when a change breaks logins.
	OK      bool          `json:"ok"`
	Changes []DriftChange `json:"changes"`
	// Report is today's validation.
	Report *Report `json:"-"`
}

// CheckDrift validates discoveryURL now (Validate: discovery, keys, clock)
// and compares the result with the snapshot.
func CheckDrift(ctx context.Context, client *http.Client, discoveryURL string, snap Snapshot, opts ValidateOptions) Drift {
	return CompareDrift(snap, Validate(ctx, client, discoveryURL, opts))
}

// CompareDrift compares a snapshot with a fresh validation report: issuer
// and endpoint changes, signing keys added, removed or rotated, advertised
// algorithms, the IdP's clock, and any check that now fails.
func CompareDrift(snap Snapshot, now *Report) Drift {
	d := Drift{Report: now, Changes: []DriftChange{}}
	add := func(kind string, breaking bool, detail, fix string) {
		d.Changes = append(d.Changes, DriftChange{Kind: kind, Breaking: breaking, Detail: detail, Fix: fix})
	}
	if now.Metadata == nil {
		add(DriftUnreachable, true, "the discovery document could not be read: "+failedDetail(now),
			"check that the IdP is up and reachable from here; if its address changed, update the connection's discovery URL")
		return d.finish()
	}
	var old Metadata
	if len(snap.RawMetadata) == 0 || json.Unmarshal(snap.RawMetadata, &old) != nil {
		add(DriftSnapshotEmpty, false, "no activation snapshot to compare with; today's document becomes the reference once saved", "")
	} else {
		compareMetadata(&old, now.Metadata, add)
	}
	compareKeys(snap.RawJWKS, now, add)
	for _, c := range now.Checks {
		switch {
		case c.ID == CheckClock && c.Status == Warn && strings.Contains(c.Detail, "clock is"):
			add(DriftClock, true, c.Detail, c.Fix)
		case c.Status == Fail && c.ID != CheckJWKS && c.ID != CheckIssuer:
			add(DriftCheckFailed, true, CheckName(c.ID)+": "+c.Detail, c.Fix)
		}
	}
	return d.finish()
}

// Unreachable is the detail of the change that says the IdP could not be
// reached (its discovery document or its keys could not be fetched), and
// false when none says so. Nothing was compared then, so nothing is known
// to have changed; but logins through a connection whose IdP cannot be
// reached from here fail too.
func Unreachable(changes []DriftChange) (string, bool) {
	for _, c := range changes {
		if c.Kind == DriftUnreachable {
			return c.Detail, true
		}
	}
	return "", false
}

// unreachableDetail is Unreachable's detail, "" when the IdP was reached.
func unreachableDetail(changes []DriftChange) string {
	detail, _ := Unreachable(changes)
	return detail
}

func (d Drift) finish() Drift {
	d.OK = !slices.ContainsFunc(d.Changes, func(c DriftChange) bool { return c.Breaking })
	return d
}

func failedDetail(r *Report) string {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return c.Detail
		}
	}
	return "no answer"
}

func compareMetadata(old, cur *Metadata, add func(string, bool, string, string)) {
	if old.Issuer != cur.Issuer {
		add(DriftIssuer, true, fmt.Sprintf("the issuer changed from %s to %s: ID tokens now carry an issuer the connection does not expect", old.Issuer, cur.Issuer),
			"confirm the change with the IdP admin, then update the connection (discovery URL and issuer) and run a test login")
	}
	for _, e := range []struct {
		name     string
		old, cur string
		breaking bool
	}{
		{"authorization_endpoint", old.AuthorizationEndpoint, cur.AuthorizationEndpoint, true},
		{"token_endpoint", old.TokenEndpoint, cur.TokenEndpoint, true},
		{"jwks_uri", old.JWKSURI, cur.JWKSURI, false},
		{"userinfo_endpoint", old.UserinfoEndpoint, cur.UserinfoEndpoint, false},
	} {
		if e.old == e.cur {
			continue
		}
		fix := ""
		if e.breaking {
			fix = "logins still use the old address until the connection is checked again: run a test login (oidc-onboard login --connection ID) and confirm the change with the IdP admin"
		}
		add(DriftEndpoint, e.breaking, fmt.Sprintf("%s changed from %s to %s", e.name, orNone(e.old), orNone(e.cur)), fix)
	}
	if !slices.Equal(old.IDTokenSigningAlgValuesSupported, cur.IDTokenSigningAlgValuesSupported) {
		add(DriftAlgorithms, false, fmt.Sprintf("advertised ID token algorithms changed from [%s] to [%s]",
			strings.Join(old.IDTokenSigningAlgValuesSupported, ", "), strings.Join(cur.IDTokenSigningAlgValuesSupported, ", ")), "")
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// compareKeys compares the snapshot's signing keys with today's, and
// reports a key set that no longer verifies any advertised algorithm.
func compareKeys(oldRaw []byte, now *Report, add func(string, bool, string, string)) {
	var jwksCheck *Check
	for i := range now.Checks {
		if now.Checks[i].ID == CheckJWKS {
			jwksCheck = &now.Checks[i]
		}
	}
	switch {
	case jwksCheck != nil && jwksCheck.Status == Fail && now.RawJWKS == nil && now.Metadata.JWKSURI != "":
		// The key set was not served (no answer, a timeout, an HTTP error):
		// the keys could not be fetched, not found unusable.
		add(DriftUnreachable, true, "the signing keys could not be fetched: "+jwksCheck.Detail,
			"check that the IdP is up and its jwks_uri reachable from here; retry in a few minutes")
	case jwksCheck != nil && jwksCheck.Status == Fail:
		add(DriftNoUsableKey, true, jwksCheck.Detail, jwksCheck.Fix)
	}
	oldKeys, newKeys := keyIDs(oldRaw), keyIDs(now.RawJWKS)
	if len(oldKeys) == 0 || len(newKeys) == 0 {
		return
	}
	var added, removed []string
	for _, k := range newKeys {
		if !slices.Contains(oldKeys, k) {
			added = append(added, k)
		}
	}
	for _, k := range oldKeys {
		if !slices.Contains(newKeys, k) {
			removed = append(removed, k)
		}
	}
	usable := jwksCheck != nil && jwksCheck.Status == Pass
	switch {
	case len(removed) == len(oldKeys) && usable:
		add(DriftKeysRotated, false, fmt.Sprintf("every signing key of the snapshot was replaced (gone: %s; new: %s); the new keys verify ID tokens",
			strings.Join(removed, ", "), strings.Join(added, ", ")), "")
		return
	case len(removed) > 0:
		add(DriftKeyRemoved, false, "signing keys removed: "+strings.Join(removed, ", "), "")
	}
	if len(added) > 0 {
		add(DriftKeyAdded, false, "signing keys added: "+strings.Join(added, ", "), "")
	}
}

// keyIDs names each key of a JWKS by its kid, or by a digest of its public
// parameters when it has none.
func keyIDs(raw []byte) []string {
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			jwk
		} `json:"keys"`
	}
	if json.Unmarshal(raw, &set) != nil {
		return nil
	}
	out := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		id := k.Kid
		if id == "" {
			sum := sha256.Sum256([]byte(k.Kty + "|" + k.N + "|" + k.E + "|" + k.X + "|" + k.Y))
			id = "(no kid) " + hex.EncodeToString(sum[:4])
		}
		out = append(out, id)
	}
	return out
}
