package flow

import (
	"fmt"
	"strings"
	"time"
)

// The records a connection's history is made of. The store keeps them;
// the wizard and the commands build and read them through the functions
// here, so that both front ends record the same thing.

// TestLogin is the result of one test login through a connection.
type TestLogin struct {
	ID int64
	// Number counts the connection's test logins, 1 for its first: what
	// the transcript and the review call it (#1, #2 …), where ID counts
	// every connection's. The store sets it when it records one.
	Number       int
	ConnectionID string
	At           time.Time
	OK           bool
	// Profile is the mapped profile, nil when the login failed before it.
	Profile *Profile
	// Claims are the ID token's claims; UserinfoClaims the userinfo
	// endpoint's, when it was called.
	Claims         map[string]any
	UserinfoClaims map[string]any
	Error          string
}

// NewTestLogin is the record of a test login: its outcome, the mapped
// profile, the ID token's claims and, when userinfo was asked, the claims
// only userinfo gave. err is the login's failure (its explanation is
// kept); a zero at means "when stored".
func NewTestLogin(at time.Time, res *LoginResult, err error) TestLogin {
	t := TestLogin{At: at, OK: err == nil}
	if err != nil {
		t.Error, _ = Explain(err)
	}
	if res == nil {
		return t
	}
	p := res.Profile
	p.RawClaims = nil
	t.Profile, t.Claims = &p, res.IDTokenClaims
	if res.UsedUserinfo {
		t.UserinfoClaims = map[string]any{}
		for k, v := range res.Claims {
			if _, inToken := res.IDTokenClaims[k]; !inToken {
				t.UserinfoClaims[k] = v
			}
		}
	}
	return t
}

// CheckedWith is t with its mapped profile checked (CheckProfile) as
// mapped with m: a login that signed in but whose profile cannot sign
// anyone in (no idp_id, no email address) is not a success; its Error
// says why and which claim holds an address.
func (t TestLogin) CheckedWith(m ClaimMapping) TestLogin {
	if !t.OK || t.Profile == nil {
		return t
	}
	if ps := CheckProfile(*t.Profile, MergeClaims(t.Claims, t.UserinfoClaims), m); len(ps) > 0 {
		t.OK, t.Error = false, ProfileFailure(ps)
	}
	return t
}

// ProfileFailure is problems (CheckProfile) of a login that signed in,
// as one sentence.
func ProfileFailure(problems []ProfileProblem) string {
	return "signed in, but the mapped profile fails: " + ProblemsText(problems)
}

// ProblemsText is problems (CheckProfile) joined by semicolons.
func ProblemsText(problems []ProfileProblem) string {
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.Text()
	}
	return strings.Join(texts, "; ")
}

// Text is the problem and, when a claim holds what the attribute needs,
// the mapping that fixes it.
func (p ProfileProblem) Text() string {
	if p.Suggest == "" {
		return p.Message
	}
	return fmt.Sprintf("%s — the claim %q holds an address: map %s to it (--claim %s=%s)", p.Message, p.Suggest, p.Attribute, p.Attribute, p.Suggest)
}

// AuditDetail is the test login's outcome in the words of the audit log.
func (t TestLogin) AuditDetail() string {
	if t.OK {
		return "test login succeeded"
	}
	return "test login failed: " + t.Error
}

// Validation is a connection's validation as kept: when it ran, and the
// report with the metadata and key set as the IdP served them.
type Validation struct {
	At     time.Time
	Report Report // RawMetadata and RawJWKS are filled in
}

// Provider is the identity provider the validation shows: detected from
// its metadata, else guessed from the connection's discovery URL.
func (v *Validation) Provider(discoveryURL string) IdP {
	if v == nil {
		return DetectProviderURL(discoveryURL)
	}
	return ValidatedProvider(discoveryURL, v.Report.Metadata, v.Report.RawMetadata)
}

// ValidatedProvider is the identity provider a validation shows: detected
// from its parsed metadata md, else from the metadata as served (raw), else
// guessed from the discovery URL alone.
func ValidatedProvider(discoveryURL string, md *Metadata, raw []byte) IdP {
	if md == nil && len(raw) > 0 {
		if _, parsed, err := ParseDiscovery(discoveryURL, "application/json", raw); err == nil {
			md = parsed
		}
	}
	if md == nil {
		return DetectProviderURL(discoveryURL)
	}
	return DetectProvider(md, raw)
}

// AuditEvent is one audit event: who did what, when, to which connection.
type AuditEvent struct {
	ID int64
	At time.Time
	// Actor is "local:USER", "ssh:SHA256:…" (a key fingerprint) or
	// "invite:inv_…".
	Actor        string
	Action       string
	ConnectionID string
	Organization string
	// Address is the remote address of an SSH session, empty locally.
	Address string
	Detail  string
}

// NormalizeID makes an ID typed over a call comparable: trimmed, lower case.
func NormalizeID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// ValidConnectionID reports whether id looks like an ID this tool gives
// (conn_ and 4 to 32 lower-case letters and digits).
func ValidConnectionID(id string) bool {
	rest, ok := strings.CutPrefix(id, "conn_")
	if !ok || len(rest) < 4 || len(rest) > 32 {
		return false
	}
	for _, r := range rest {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
