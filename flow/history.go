package flow

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// ConnectionRecord is all that is kept about a connection: what `connections
// show` and the transcript are made of.
type ConnectionRecord struct {
	Connection *Connection
	// LastValidation and Activation (the snapshot it was activated with)
	// are nil when there is none.
	LastValidation, Activation *Validation
	// TestLogins are the newest first; Events too.
	TestLogins []TestLogin
	Events     []AuditEvent
	// MappingsCheckedAgainst is the test login the mappings were checked
	// against, 0 when none.
	MappingsCheckedAgainst int64
	// GroupLabels name opaque group IDs (such as Entra object IDs).
	GroupLabels map[string]string
	// CredentialsChangedAt is when an import last changed the client ID,
	// secret, discovery URL or issuer with no test login passed since;
	// zero when none did.
	CredentialsChangedAt time.Time
}

// TestState is what a connection's test logins tell of it as it is now.
type TestState string

// Test states.
const (
	TestNever   TestState = "never_tested"
	TestChanged TestState = "changed_since_last_test_login"
	TestPassed  TestState = "passed"
	TestFailed  TestState = "failed"
)

// TestStateOf is the state of a connection: tested is whether any test
// login was recorded, lastOK whether the newest passed, changed when its
// credentials changed with no test login passed since (zero: never).
func TestStateOf(tested, lastOK bool, changed time.Time) TestState {
	switch {
	case !tested:
		return TestNever
	case !changed.IsZero():
		return TestChanged
	case lastOK:
		return TestPassed
	}
	return TestFailed
}

// Words is the state as `connections list` and `show` print it; "" for
// the zero state.
func (s TestState) Words() string {
	return map[TestState]string{TestNever: "never tested", TestChanged: "changed since its last test login",
		TestPassed: "passed", TestFailed: "failed"}[s]
}

// TestState is the record's state (TestStateOf).
func (r ConnectionRecord) TestState() TestState {
	return TestStateOf(len(r.TestLogins) > 0, len(r.TestLogins) > 0 && r.TestLogins[0].OK, r.CredentialsChangedAt)
}

// testStateText is the state in words, with when the credentials changed.
func (r ConnectionRecord) testStateText() string {
	st := r.TestState()
	if st == TestChanged {
		return st.Words() + " (credentials changed " + r.CredentialsChangedAt.UTC().Format(time.RFC3339) + "; run oidc-onboard login --connection " + r.Connection.ID + ")"
	}
	return st.Words()
}

// BuildTranscript is r as a redacted transcript for a support ticket, made
// at now.
func BuildTranscript(r ConnectionRecord, now time.Time) *Transcript {
	c := r.Connection
	p := r.LastValidation.Provider(c.DiscoveryURL)
	t := &Transcript{SupportCode: SupportCode(c.ID, now), GeneratedAt: now.UTC(), ConnectionID: c.ID,
		Organization: c.Organization, Name: c.Name, Status: c.Status, Provider: p,
		Settings: transcriptSettings(r, p)}
	red := NewRedactor(c.ClientSecret)
	for _, v := range []struct {
		kind string
		val  *Validation
	}{{"validation", r.LastValidation}, {"activation", r.Activation}} {
		if v.val != nil {
			t.Entries = append(t.Entries, validationEntry(v.kind, v.val, r.ActivatedAt()))
		}
	}
	for _, tl := range r.TestLogins {
		t.Entries = append(t.Entries, testLoginEntry(tl, r.TestLoginNumber(tl.ID), c, p, red, tl.ID == r.MappingsCheckedAgainst, r.GroupLabels))
	}
	for _, e := range r.Events {
		summary := e.Action
		if e.Detail != "" {
			summary += ": " + e.Detail
		}
		t.Entries = append(t.Entries, TranscriptEntry{At: e.At, Kind: "audit", Summary: summary, Details: []string{"by " + e.Actor}})
	}
	t.Sort()
	t.Redact(red)
	return t
}

func transcriptSettings(r ConnectionRecord, p IdP) map[string]string {
	c := r.Connection
	secret := "not set"
	if c.ClientSecret != "" {
		secret = "set (sealed; not shown)"
		if fs := DiagnoseSecret(p, c.ClientSecret); len(fs) > 0 {
			secret += " — warning: " + fs[0].Message
		}
	}
	m := c.Claims.WithDefaults()
	s := map[string]string{
		"discovery_url": OrDash(c.DiscoveryURL), "issuer": OrDash(c.Issuer), "client_id": OrDash(c.ClientID),
		"client_secret": secret, "redirect_uri": OrDash(c.RedirectURI),
		"claims":       fmt.Sprintf("idp_id←%s email←%s first_name←%s last_name←%s", m.IDPID, m.Email, m.FirstName, m.LastName),
		"groups_claim": OrDash(c.GroupsClaim), "role_mappings": OrDash(roleList(r.GroupLabels, c.RoleMappings, "; ")),
		"default_role": OrDash(c.DefaultRole), "mappings_tested": "not checked against a test login",
	}
	if r.MappingsCheckedAgainst != 0 {
		s["mappings_tested"] = fmt.Sprintf("checked against test login #%d", r.TestLoginNumber(r.MappingsCheckedAgainst))
	}
	if len(r.GroupLabels) > 0 {
		s["group_labels"] = groupLabelList(r.GroupLabels)
	}
	s["test_state"] = r.testStateText()
	return s
}

// TestLoginNumber is the test login id's number among the connection's
// (1 for its first), as the transcript and the review call it; 0 when it
// is none of them.
func (r ConnectionRecord) TestLoginNumber(id int64) int {
	if !slices.ContainsFunc(r.TestLogins, func(tl TestLogin) bool { return tl.ID == id }) {
		return 0
	}
	n := 0
	for _, tl := range r.TestLogins {
		if tl.ID <= id {
			n++
		}
	}
	return n
}

// ActivatedAt is when the connection was last activated (its latest
// connection.activate event), zero when it never was.
func (r ConnectionRecord) ActivatedAt() time.Time {
	var at time.Time
	for _, e := range r.Events {
		if e.Action == "connection.activate" && e.At.After(at) {
			at = e.At
		}
	}
	return at
}

// validationEntry is a validation of the transcript; the activation's is
// at activated (its snapshot is the validation before it), when known.
func validationEntry(kind string, v *Validation, activated time.Time) TranscriptEntry {
	counts := v.Report.counts()
	var details []string
	for _, ch := range v.Report.Checks {
		line := fmt.Sprintf("%s %s: %s", ch.Status, ch.ID, ch.Detail)
		if ch.Fix != "" && ch.Status != Pass {
			line += " — fix: " + ch.Fix
		}
		details = append(details, line)
	}
	summary := fmt.Sprintf("discovery checks: %d pass, %d warn, %d fail (issuer %s)", counts[Pass], counts[Warn], counts[Fail], OrDash(v.Report.Issuer))
	at := v.At
	if kind == "activation" { // the checks are those of a validation listed too
		summary, details = "activated with the snapshot of the validation of "+v.At.UTC().Format(time.DateTime)+" — "+summary, nil
		if !activated.IsZero() {
			at = activated
			summary = "activated at " + activated.UTC().Format(time.DateTime) + " UTC, " + strings.TrimPrefix(summary, "activated ")
		}
	}
	return TranscriptEntry{At: at, Kind: kind, Summary: summary, Details: details}
}

// counts is how many checks had each outcome.
func (r *Report) counts() map[CheckStatus]int {
	counts := map[CheckStatus]int{}
	for _, ch := range r.Checks {
		counts[ch.Status]++
	}
	return counts
}

func testLoginEntry(tl TestLogin, number int, c *Connection, p IdP, red *Redactor, checked bool, labels map[string]string) TranscriptEntry {
	e := TranscriptEntry{At: tl.At, Kind: "test_login", Summary: fmt.Sprintf("#%d succeeded", number)}
	if !tl.OK {
		e.Summary = fmt.Sprintf("#%d failed: %s", number, tl.Error)
	}
	if checked {
		e.Summary += " (current mappings checked against it)"
	}
	if tl.Profile != nil {
		pr := tl.Profile
		groups := make([]string, len(pr.Groups))
		for i, g := range pr.Groups {
			groups[i] = LabelledGroup(labels, g)
		}
		e.Details = append(e.Details, fmt.Sprintf("profile: idp_id=%s email=%s first_name=%s last_name=%s groups=[%s] roles=[%s]",
			pr.IDPID, pr.Email, pr.FirstName, pr.LastName, strings.Join(groups, ", "), strings.Join(pr.Roles, ", ")))
	}
	if tl.Claims != nil {
		claims := MergeClaims(tl.Claims, tl.UserinfoClaims)
		for _, line := range red.RedactClaims(claims) {
			e.Details = append(e.Details, "claim "+line)
		}
		for _, f := range DiagnoseClaims(p, claims, c.Claims, c.Roles()) {
			e.Details = append(e.Details, fmt.Sprintf("%s %s: %s — fix: %s", f.Severity, f.ID, f.Message, f.Fix))
		}
	}
	return e
}

// LabelledGroup is "ID (label)", or the ID when it has no label.
func LabelledGroup(labels map[string]string, group string) string {
	if l := labels[group]; l != "" {
		return group + " (" + l + ")"
	}
	return group
}

// roleList is "group (label) → role" for every mapping, joined by sep.
func roleList(labels map[string]string, ms []RoleMapping, sep string) string {
	roles := make([]string, 0, len(ms))
	for _, m := range ms {
		roles = append(roles, LabelledGroup(labels, m.Group)+" → "+m.Role)
	}
	return strings.Join(roles, sep)
}

// groupLabelList is "ID = label" for every label, by group ID.
func groupLabelList(labels map[string]string) string {
	groups := slices.Sorted(maps.Keys(labels))
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g + " = " + labels[g]
	}
	return strings.Join(out, ", ")
}

// OrDash is s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ConnectionDetails is `connections show --json`: the export shape with
// the record's history.
type ConnectionDetails struct {
	ConnectionExport
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	LastValidation *ValidationSummary `json:"last_validation"`
	LastTestLogin  *TestLoginSummary  `json:"last_test_login"`
	GroupLabels    map[string]string  `json:"group_labels,omitempty"`
	// TestState says whether the connection as it is now was tested;
	// CredentialsChangedAt is set while it is "changed_since_last_test_login".
	TestState            TestState  `json:"test_state"`
	CredentialsChangedAt *time.Time `json:"credentials_changed_at,omitempty"`
	testStateText        string
}

// ValidationSummary is a validation in ConnectionDetails.
type ValidationSummary struct {
	At     time.Time `json:"at"`
	OK     bool      `json:"ok"`
	Checks []Check   `json:"checks"`
}

// TestLoginSummary is a test login in ConnectionDetails.
type TestLoginSummary struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
}

// Details is the record as `connections show` presents it, the secret
// masked.
func (r ConnectionRecord) Details() ConnectionDetails {
	c := r.Connection
	out := ConnectionDetails{ConnectionExport: Export(c, false), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, GroupLabels: r.GroupLabels,
		TestState: r.TestState(), testStateText: r.testStateText()}
	if at := r.CredentialsChangedAt; !at.IsZero() {
		out.CredentialsChangedAt = &at
	}
	if v := r.LastValidation; v != nil {
		out.LastValidation = &ValidationSummary{At: v.At, OK: v.Report.OK, Checks: v.Report.Checks}
	}
	if len(r.TestLogins) > 0 {
		l := r.TestLogins[0]
		out.LastTestLogin = &TestLoginSummary{At: l.At, OK: l.OK, Error: l.Error}
	}
	return out
}

// WriteText writes the details as aligned "label  value" lines, times in
// the local zone, each value on one line through Display.
func (c ConnectionDetails) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, Display(strings.ReplaceAll(OrDash(v), "\n", " "))) }
	row("ID", c.ID)
	row("Organization", c.Organization)
	row("Name", c.Name)
	row("Status", string(c.Status))
	row("Discovery URL", c.DiscoveryURL)
	row("Issuer", c.Issuer)
	row("Client ID", c.ClientID)
	row("Client secret", c.ClientSecret)
	if c.TokenAuthMethod != "" {
		row("Token auth method", c.TokenAuthMethod)
	}
	row("Redirect URI", c.RedirectURI)
	row("Claims", fmt.Sprintf("idp_id=%s email=%s first_name=%s last_name=%s",
		c.Claims.IDPID, c.Claims.Email, c.Claims.FirstName, c.Claims.LastName))
	row("Groups claim", c.GroupsClaim)
	row("Role mappings", roleList(c.GroupLabels, c.RoleMappings, ", "))
	if len(c.GroupLabels) > 0 {
		row("Group labels", groupLabelList(c.GroupLabels))
	}
	row("Default role", c.DefaultRole)
	row("Created", c.CreatedAt.Local().Format(time.DateTime))
	row("Updated", c.UpdatedAt.Local().Format(time.DateTime))
	if v := c.LastValidation; v != nil {
		counts := (&Report{Checks: v.Checks}).counts()
		row("Last validation", fmt.Sprintf("%s: %d passed, %d warnings, %d failed", v.At.Local().Format(time.DateTime),
			counts[Pass], counts[Warn], counts[Fail]))
	} else {
		row("Last validation", "never")
	}
	if l := c.LastTestLogin; l != nil {
		outcome := "succeeded"
		if !l.OK {
			outcome = "failed: " + l.Error
		}
		row("Last test login", l.At.Local().Format(time.DateTime)+" "+outcome)
	} else {
		row("Last test login", "never")
	}
	row("Test state", c.testStateText)
	return tw.Flush()
}

// LatestCapturedLogin is the newest test login with captured claims, to
// replay under other mappings.
func (r ConnectionRecord) LatestCapturedLogin() (TestLogin, error) {
	for _, tl := range r.TestLogins {
		if tl.Claims != nil {
			return tl, nil
		}
	}
	id := r.Connection.ID
	return TestLogin{}, &Error{Code: CodeNoTestLogin,
		Message: fmt.Sprintf("connection %s has no test login with captured claims to replay", id),
		Fix:     "run one test login first: oidc-onboard login --connection " + id}
}
