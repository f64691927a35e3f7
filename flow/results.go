package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The results the commands print, as JSON (their fields) or as text
// (WriteText), next to Report.WriteText and Transcript.WriteText.

// Rows are the profile's attributes as label/value pairs, in the order
// the guide lists them; groups and roles comma separated.
func (p Profile) Rows() [][2]string {
	return [][2]string{
		{"idp_id", p.IDPID}, {"email", p.Email}, {"first_name", p.FirstName}, {"last_name", p.LastName},
		{"groups", strings.Join(p.Groups, ", ")}, {"roles", strings.Join(p.Roles, ", ")},
	}
}

// writeProfile writes "Profile" and a row per attribute, "(empty)" for an
// empty value; the values, from the IdP, through Display.
func writeProfile(w io.Writer, p Profile) {
	fmt.Fprintln(w, "Profile")
	for _, row := range p.Rows() {
		v := row[1]
		if v == "" {
			v = "(empty)"
		}
		fmt.Fprintf(w, "  %-11s %s\n", row[0], Display(v))
	}
}

// LoginOutput is the --json output of a successful `login`.
type LoginOutput struct {
	Profile Profile        `json:"profile"`
	Claims  map[string]any `json:"claims"`
	// Warnings are what the mapping could not fill and why the mapped
	// profile cannot sign anyone in (ProfileWarnings); [] when none.
	Warnings []string `json:"warnings"`
	// Problems are the profile's (CheckProfile); UsedUserinfo, Issuer and
	// AuthMethod are for the text only.
	Problems     []ProfileProblem `json:"-"`
	UsedUserinfo bool             `json:"-"`
	Issuer       string           `json:"-"`
	AuthMethod   string           `json:"-"`
}

// Output is the login's result as `login` prints it, with the provider's
// issuer and the client authentication method used; m is the claim
// mapping the profile was mapped with, to check it.
func (r *LoginResult) Output(issuer, authMethod string, m ClaimMapping) LoginOutput {
	problems := CheckProfile(r.Profile, r.Claims, m)
	return LoginOutput{Profile: r.Profile, Claims: r.Claims, Warnings: ProfileWarnings(r.Warnings, problems), Problems: problems,
		UsedUserinfo: r.UsedUserinfo, Issuer: issuer, AuthMethod: authMethod}
}

// ProfileWarnings are a mapping's warnings (MapProfile) and its profile's
// problems (CheckProfile) in words, the warning an attribute's problem
// says again left out; never nil.
func ProfileWarnings(mapping []string, problems []ProfileProblem) []string {
	out := []string{}
	for _, w := range mapping {
		if !slices.ContainsFunc(problems, func(p ProfileProblem) bool { return strings.HasPrefix(w, p.Attribute+" is empty") }) {
			out = append(out, w)
		}
	}
	for _, p := range problems {
		out = append(out, p.Text())
	}
	return out
}

// writeProblems writes why the profile cannot sign anyone in, if it cannot.
func writeProblems(w io.Writer, head string, problems []ProfileProblem) {
	if len(problems) == 0 {
		return
	}
	fmt.Fprintln(w, head)
	for _, p := range problems {
		fmt.Fprintf(w, "  ✗ %s\n", Display(p.Text()))
	}
	fmt.Fprintln(w)
}

// WriteText writes the verified login: the profile, then every claim,
// each value JSON as the IdP sent it, through Display (JSON escapes C0
// controls but not C1 or bidi overrides).
func (o LoginOutput) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "✓ Signed in: the ID token verified (issuer %s, client authentication %s)\n\n", Display(o.Issuer), Display(o.AuthMethod))
	writeProblems(w, "✗ But the mapped profile cannot sign anyone in:", o.Problems)
	writeProfile(w, o.Profile)
	source := "ID token"
	if o.UsedUserinfo {
		source = "ID token + userinfo"
	}
	fmt.Fprintf(w, "\nClaims (%s)\n", source)
	for _, name := range SortedClaimNames(o.Claims) {
		v, _ := json.Marshal(o.Claims[name])
		if _, err := fmt.Fprintf(w, "  %-18s %s\n", Display(name), Display(string(v))); err != nil {
			return err
		}
	}
	return nil
}

// Failure is what a command given --json prints on standard output when
// it fails: {"ok":false,"error":{"code","message","fix"}}.
type Failure struct {
	OK    bool          `json:"ok"`
	Error FailureDetail `json:"error"`
}

// FailureDetail is the error of a Failure.
type FailureDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// NewFailure is err as a Failure: its code (CodeUnexplained when it has
// none), its message and its fix.
func NewFailure(err error) Failure {
	msg, fix := Explain(err)
	code := CodeUnexplained
	var fe *Error
	if errors.As(err, &fe) && fe.Code != "" {
		code = fe.Code
	}
	return Failure{Error: FailureDetail{Code: code, Message: msg, Fix: fix}}
}

// VerifyResult is one connection's drift in `verify --json`.
type VerifyResult struct {
	ID           string        `json:"id"`
	Organization string        `json:"organization"`
	Name         string        `json:"name"`
	Provider     IdPKind       `json:"provider"`
	OK           bool          `json:"ok"`
	Snapshot     string        `json:"snapshot"`
	SnapshotAt   *time.Time    `json:"snapshot_at"`
	Changes      []DriftChange `json:"changes"`
	Error        string        `json:"error,omitempty"`
}

// Verify compares c's IdP, as it serves its metadata and keys now, with
// snap, the baseline named baseline ("activation" or "last_validation";
// nil when c was never validated).
func Verify(ctx context.Context, client *http.Client, c *Connection, baseline string, snap *Validation) VerifyResult {
	var d *Drift
	if c.DiscoveryURL != "" && snap != nil {
		found := CheckDrift(ctx, client, c.DiscoveryURL,
			Snapshot{At: snap.At, RawMetadata: snap.Report.RawMetadata, RawJWKS: snap.Report.RawJWKS}, ValidateOptions{})
		d = &found
	}
	return NewVerifyResult(c, baseline, snap, d)
}

// NewVerifyResult is c compared with its snapshot snap, named baseline
// ("activation" or "last_validation"; "none" is said when snap is nil): d
// is the drift found, nil when it was not checked.
func NewVerifyResult(c *Connection, baseline string, snap *Validation, d *Drift) VerifyResult {
	r := VerifyResult{ID: c.ID, Organization: c.Organization, Name: c.Name, Snapshot: baseline, Changes: []DriftChange{}}
	switch {
	case c.DiscoveryURL == "":
		r.Error = "the connection has no discovery URL"
	case snap == nil:
		r.Snapshot = "none"
		r.Error = "the connection was never validated, so there is nothing to compare with; validate it in the wizard and activate it again"
	default:
		at := snap.At
		r.SnapshotAt = &at
		if d != nil {
			r.OK, r.Changes = d.OK, d.Changes
			r.Provider = DetectProvider(d.Report.Metadata, d.Report.RawMetadata).Kind
		}
	}
	return r
}

// AuditDetail is the result in the words of the audit log.
func (r VerifyResult) AuditDetail() string {
	switch {
	case r.Error != "":
		return "not checked: " + r.Error
	case unreachableDetail(r.Changes) != "":
		return "unreachable: " + unreachableDetail(r.Changes)
	case len(r.Changes) > 0:
		var kinds []string
		for _, ch := range r.Changes {
			kinds = append(kinds, ch.Kind)
		}
		return fmt.Sprintf("ok=%v changes: %s", r.OK, strings.Join(kinds, ", "))
	}
	return "no change"
}

// VerifyReport is the output of `verify`.
type VerifyReport struct {
	OK          bool           `json:"ok"`
	CheckedAt   time.Time      `json:"checked_at"`
	Connections []VerifyResult `json:"connections"`
}

// WriteText writes a line per connection, and its changes under it; names
// and what the IdP serves through Display.
func (out VerifyReport) WriteText(w io.Writer) error {
	if len(out.Connections) == 0 {
		_, err := fmt.Fprintln(w, "No active connections to verify.")
		return err
	}
	for _, r := range out.Connections {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		head := fmt.Sprintf("%s %s (%s / %s)", mark, r.ID, Display(r.Organization), Display(r.Name))
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "%s: not checked — %s\n", head, Display(r.Error))
			continue
		case len(r.Changes) == 0:
			fmt.Fprintf(w, "%s: no change since %s\n", head, strings.ReplaceAll(r.Snapshot, "_", " "))
			continue
		case unreachableDetail(r.Changes) != "":
			fmt.Fprintf(w, "%s: unreachable — the IdP could not be reached from here, so nothing was compared\n", head)
		case r.OK:
			fmt.Fprintf(w, "%s: changed, nothing that breaks logins\n", head)
		default:
			fmt.Fprintf(w, "%s: changed in a way that breaks logins\n", head)
		}
		for _, ch := range r.Changes {
			sym := "•"
			if ch.Breaking {
				sym = "✗"
			}
			fmt.Fprintf(w, "    %s %s: %s\n", sym, ch.Kind, Display(ch.Detail))
			if ch.Fix != "" {
				fmt.Fprintf(w, "      Fix: %s\n", Display(ch.Fix))
			}
		}
	}
	return nil
}

// RemapMapping is the mapping part of a RemapResult.
type RemapMapping struct {
	Claims       ClaimMapping  `json:"claims"`
	GroupsClaim  string        `json:"groups_claim"`
	RoleMappings []RoleMapping `json:"role_mappings"`
	DefaultRole  string        `json:"default_role"`
}

// RemapTestLogin names the test login a remap replayed.
type RemapTestLogin struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
}

// RemapResult is the output of `connections remap`.
type RemapResult struct {
	ConnectionID string         `json:"connection_id"`
	TestLogin    RemapTestLogin `json:"test_login"`
	Saved        bool           `json:"saved"`
	Mapping      RemapMapping   `json:"mapping"`
	// Profile is the replayed test login's profile under Mapping;
	// Changes say how it differs from the one the stored mappings give.
	Profile Profile  `json:"profile"`
	Changes []string `json:"changes"`
	// Warnings are the mapping's and the profile's (ProfileWarnings),
	// Findings the pitfalls the claims show.
	Warnings []string  `json:"warnings"`
	Findings []Finding `json:"findings"`
	// Problems say why Profile cannot sign anyone in (CheckProfile).
	Problems []ProfileProblem `json:"-"`
}

// Remap replays the test login tl, captured through c from provider p,
// under next's mappings, and says how the profile changes from c's.
func Remap(p IdP, tl TestLogin, c, next *Connection, saved bool) RemapResult {
	before, _, _ := Replay(p, tl.Claims, tl.UserinfoClaims, c.Claims, c.Roles())
	after, warnings, findings := Replay(p, tl.Claims, tl.UserinfoClaims, next.Claims, next.Roles())
	problems := CheckProfile(after, MergeClaims(tl.Claims, tl.UserinfoClaims), next.Claims)
	roles := next.RoleMappings
	if roles == nil {
		roles = []RoleMapping{}
	}
	out := RemapResult{ConnectionID: c.ID, TestLogin: RemapTestLogin{ID: tl.ID, At: tl.At}, Saved: saved,
		Mapping: RemapMapping{Claims: next.Claims, GroupsClaim: next.GroupsClaim, RoleMappings: roles, DefaultRole: next.DefaultRole},
		Profile: after, Changes: ProfileChanges(before, after), Warnings: ProfileWarnings(warnings, problems), Findings: findings, Problems: problems}
	for _, s := range []*[]string{&out.Changes, &out.Warnings} {
		if *s == nil {
			*s = []string{}
		}
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return out
}

// SameMappings reports whether a and b map claims and roles alike.
func SameMappings(a, b *Connection) bool {
	return a.Claims.WithDefaults() == b.Claims.WithDefaults() && a.GroupsClaim == b.GroupsClaim &&
		a.DefaultRole == b.DefaultRole && fmt.Sprint(a.RoleMappings) == fmt.Sprint(b.RoleMappings)
}

// MappingChanges describes, for the audit log, how next's mappings differ
// from c's, checked against the connection's test login number testLogin
// (0: none).
func MappingChanges(c, next *Connection, testLogin int) string {
	var parts []string
	o, n := c.Claims.WithDefaults(), next.Claims.WithDefaults()
	for _, f := range []struct{ attr, a, b string }{
		{"idp_id", o.IDPID, n.IDPID}, {"email", o.Email, n.Email}, {"first_name", o.FirstName, n.FirstName}, {"last_name", o.LastName, n.LastName},
		{"groups_claim", c.GroupsClaim, next.GroupsClaim}, {"default_role", c.DefaultRole, next.DefaultRole},
	} {
		if f.a != f.b {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", f.attr, OrDash(f.a), OrDash(f.b)))
		}
	}
	if fmt.Sprint(c.RoleMappings) != fmt.Sprint(next.RoleMappings) {
		parts = append(parts, fmt.Sprintf("role_mappings: %d → %d", len(c.RoleMappings), len(next.RoleMappings)))
	}
	if len(parts) == 0 {
		parts = append(parts, "no mapping change")
	}
	if testLogin == 0 {
		return strings.Join(parts, "; ") + " (not checked against a test login)"
	}
	return strings.Join(parts, "; ") + fmt.Sprintf(" (checked against test login #%d)", testLogin)
}

// WriteText writes the replayed profile, what changed, and the findings,
// what comes from the claims through Display.
func (out RemapResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Replayed test login #%d (%s) of %s\n\n", out.TestLogin.ID, out.TestLogin.At.Format(time.RFC3339), out.ConnectionID)
	writeProblems(w, "✗ With these mappings the profile cannot sign anyone in:", out.Problems)
	writeProfile(w, out.Profile)
	if len(out.Changes) > 0 {
		fmt.Fprintln(w, "\nChanged")
		for _, c := range out.Changes {
			fmt.Fprintf(w, "  %s\n", Display(c))
		}
	}
	for _, wn := range out.Warnings {
		if !slices.ContainsFunc(out.Problems, func(p ProfileProblem) bool { return p.Text() == wn }) { // shown above
			fmt.Fprintf(w, "Warning: %s\n", Display(wn))
		}
	}
	for _, f := range out.Findings {
		fmt.Fprintf(w, "\n[%s] %s\n  Fix: %s\n", f.Severity, Display(f.Message), Display(f.Fix))
		if f.Suggestion != "" {
			fmt.Fprintf(w, "  Try: oidc-onboard connections remap %s %s\n", out.ConnectionID, Display(f.Suggestion))
		}
	}
	msg := "\nDry run: nothing was saved."
	if out.Saved {
		msg = "\nSaved the new mappings."
	}
	_, err := fmt.Fprintln(w, msg)
	return err
}
