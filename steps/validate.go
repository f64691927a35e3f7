package steps

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// validateSlots are the checks a validation runs, in the report's order,
// shown with a spinner until each one is known. CheckURL appears only when
// the address is unusable; CheckIssuerTemplate takes CheckIssuer's place.
var validateSlots = []string{
	flow.CheckReachable, flow.CheckJSON, flow.CheckIssuer, flow.CheckRequiredFields,
	flow.CheckHTTPSEndpoints, flow.CheckJWKS, flow.CheckScopes, flow.CheckClaims,
	flow.CheckTokenAuth, flow.CheckPKCE, flow.CheckClock,
}

// saveTimeout bounds a store write started from a step.
const saveTimeout = 10 * time.Second

// validate is step 3: the checks of `oidc-onboard check`, run live
// against the Discovery Endpoint. Failed checks block moving on until they
// are fixed (r re-runs) or explicitly overridden; warnings never block.
type validate struct {
	laidOut
	stepBase

	// run numbers the validations; messages of an older run are dropped.
	run     int
	running bool
	cancel  context.CancelFunc
	url     string       // the discovery URL being or last checked
	known   []flow.Check // checks finished so far, while running
	report  *flow.Report // the finished report

	confirming bool   // asking whether to override failed checks
	detailed   bool   // passed checks show their whole detail (d)
	notice     string // why enter was refused
	saveErr    string // the store could not record the validation

	spin     spinner.Model
	vp       viewport.Model
	list     []string // the checks' lines, as last laid out
	overflow bool     // the list is taller than its area
	keys     validateKeys
}

// Messages of the validate step.
type (
	// validateEvent is what a running validation sends on its channel:
	// one finished check, or the report at the end.
	validateEvent struct {
		check  *flow.Check
		report *flow.Report
	}
	validateCheckMsg struct {
		run    int
		check  flow.Check
		events <-chan validateEvent
	}
	validateDoneMsg struct {
		run    int
		report *flow.Report
	}
	validateSavedMsg struct {
		run int
		err error
	}
)

// NewValidate is the validate step.
func NewValidate(env *Env, theme *Theme) Step {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k")),
		Down:     key.NewBinding(key.WithKeys("down", "j")),
		PageUp:   key.NewBinding(key.WithKeys("pgup")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space")),
	}
	v := &validate{
		stepBase: stepBase{env: env, theme: theme, setup: NewSetup()},
		spin:     spinner.New(spinner.WithSpinner(spinner.Dot)),
		vp:       vp,
		keys:     newValidateKeys(),
	}
	v.laidOut = laidOut{update: v.update, layout: v.layout}
	return v
}

func (v *validate) Title() string { return Title(StepValidate) }

// Enter shows the stored report when it is for the same discovery URL
// (a resumed draft, or coming back to this step) and validates otherwise.
func (v *validate) Enter(s *Setup) tea.Cmd {
	defer v.layout()
	v.setup = s
	url := validateURL(s)
	switch {
	case v.running && v.url == url:
		return nil
	case s.Report != nil && s.Report.DiscoveryURL == url:
		v.stop()
		v.url, v.report, v.known = url, s.Report, nil
		v.confirming, v.notice = false, ""
		return nil
	}
	return v.start()
}

// validateURL is the discovery URL a setup's validation uses.
func validateURL(s *Setup) string {
	input := s.Connection.DiscoveryURL
	if strings.TrimSpace(input) == "" {
		input = s.DiscoveryInput
	}
	if u, _, err := flow.DiscoveryURLFor(input); err == nil {
		return u
	}
	return strings.TrimSpace(input)
}

// stop cancels a validation in flight; its late messages are dropped.
func (v *validate) stop() {
	if v.cancel != nil {
		v.cancel()
		v.cancel = nil
	}
	v.running = false
	v.run++
}

// start runs a new validation: flow.Validate in a command, its checks
// streamed back through a channel one message at a time.
func (v *validate) start() tea.Cmd {
	v.stop()
	s := v.setup
	v.url = validateURL(s)
	v.running, v.known, v.report = true, nil, nil
	v.confirming, v.notice, v.saveErr = false, "", ""
	s.Report, s.Metadata, s.Override, s.Detected = nil, nil, false, nil
	v.vp.SetYOffset(0)

	ctx, cancel := v.env.readCtx(v.budget()) // a dropped session ends the validation
	v.cancel = cancel
	events := make(chan validateEvent, len(validateSlots)+4) // never blocks the validation
	client, input, now := v.client(), v.url, v.env.Now
	work := func() tea.Msg {
		defer cancel()
		r := flow.Validate(ctx, client, input, flow.ValidateOptions{Now: now,
			Progress: func(c flow.Check) { events <- validateEvent{check: &c} }})
		events <- validateEvent{report: r}
		return nil
	}
	return tea.Batch(work, validateRead(v.run, events), v.spin.Tick)
}

// validateRead waits for the next event of a running validation.
func validateRead(run int, events <-chan validateEvent) tea.Cmd {
	return func() tea.Msg {
		e := <-events
		if e.check != nil {
			return validateCheckMsg{run: run, check: *e.check, events: events}
		}
		return validateDoneMsg{run: run, report: e.report}
	}
}

// budget bounds a whole validation: two fetches (the document, then the
// keys), each within the client's timeout.
func (v *validate) budget() time.Duration {
	t := v.env.Timeout
	if t <= 0 {
		t = flow.DefaultTimeout
	}
	return 2*t + time.Second
}

func (v *validate) client() *http.Client {
	if v.env.HTTP != nil {
		return v.env.HTTP
	}
	return flow.NewHTTPClient(flow.ClientOptions{Timeout: v.env.Timeout})
}

func (v *validate) update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case validateCheckMsg:
		if msg.run != v.run || !v.running {
			return nil, nil
		}
		v.known = append(v.known, msg.check)
		return validateRead(msg.run, msg.events), nil
	case validateDoneMsg:
		if msg.run != v.run || !v.running {
			return nil, nil
		}
		return v.finish(msg.report), nil
	case validateSavedMsg:
		if msg.run == v.run && msg.err != nil {
			msg, _ := flow.Explain(msg.err)
			v.saveErr = "The validation could not be recorded in the store (" + msg + "); you can go on."
		}
		return nil, nil
	case spinner.TickMsg:
		if msg.ID != v.spin.ID() || !v.running {
			return nil, nil
		}
		var cmd tea.Cmd
		v.spin, cmd = v.spin.Update(msg)
		return cmd, nil
	case tea.KeyPressMsg:
		return v.key(msg)
	}
	return nil, nil
}

// finish keeps the report in the setup and records it in the store.
func (v *validate) finish(r *flow.Report) tea.Cmd {
	v.running, v.cancel, v.known, v.report = false, nil, nil, r
	s := v.setup
	s.Report, s.Metadata, s.Override, s.Detected = r, r.Metadata, false, nil
	if r.Metadata != nil {
		p := flow.DetectProvider(r.Metadata, r.RawMetadata)
		s.Detected = &p
	}
	s.Connection.Issuer = r.Issuer
	v.vp.SetYOffset(0)
	return v.record(r)
}

// record saves the validation to the connection and audits its outcome.
func (v *validate) record(r *flow.Report) tea.Cmd {
	env, conn, run := v.env, v.setup.Connection, v.run
	if env.Store == nil {
		return nil
	}
	report := *r
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(saveTimeout)
		defer cancel()
		var err error
		if conn.ID != "" {
			err = env.Store.SaveValidation(ctx, conn.ID, report)
		}
		env.Audit(ctx, "connection.validate", conn, validateOutcome(&report))
		return validateSavedMsg{run: run, err: err}
	}
}

// auditOverride records that the person went on despite failed checks.
func (v *validate) auditOverride() tea.Cmd {
	env, conn, detail := v.env, v.setup.Connection, "went on despite failed checks: "+strings.Join(validateFailedIDs(v.report), ", ")
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(saveTimeout)
		defer cancel()
		env.Audit(ctx, "connection.validate_override", conn, detail)
		return nil
	}
}

func (v *validate) key(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	if v.confirming {
		switch {
		case key.Matches(msg, v.keys.Confirm):
			v.confirming, v.notice = false, ""
			v.setup.Override = true
			return v.auditOverride(), NextMsg{}
		case key.Matches(msg, v.keys.Deny):
			v.confirming = false
			return nil, nil
		}
	}
	switch {
	case v.confirming:
	case key.Matches(msg, v.keys.Rerun) && !v.running:
		return v.start(), nil
	case key.Matches(msg, v.keys.Edit) && !v.running && v.fixHere() != "":
		s := v.setup
		s.DiscoveryInput, s.Connection.DiscoveryURL, s.Focus = v.fixHere(), v.fixHere(), FocusDiscovery
		return nil, GotoMsg{Step: StepCredentials}
	case key.Matches(msg, v.keys.Continue) && v.report != nil:
		if v.report.OK || v.setup.Override {
			return nil, NextMsg{}
		}
		v.notice = "Logins will not work until each failure is fixed: " + v.env.words().applyFixes + ", then press r to check again — or press o to go on anyway."
		if v.fixHere() != "" {
			v.notice = "Logins will not work until each failure is fixed: press e to edit the Discovery Endpoint, filled in with the fix, then check again — or press o to go on anyway."
		}
		return nil, nil
	case key.Matches(msg, v.keys.Details) && !v.running && v.passCut():
		v.detailed = !v.detailed
		return nil, nil
	case key.Matches(msg, v.keys.Override) && v.report != nil && !v.report.OK:
		v.confirming, v.notice = true, ""
		return nil, nil
	}
	var cmd tea.Cmd
	v.vp, cmd = v.vp.Update(msg)
	return cmd, nil
}

func (v *validate) Keys() []key.Binding {
	var ks []key.Binding
	switch {
	case v.confirming:
		ks = []key.Binding{v.keys.Confirm, v.keys.Deny}
	case v.running:
	case v.report != nil && !v.report.OK && !v.setup.Override:
		// enter only explains why it does not go on: not offered here.
		ks = []key.Binding{v.keys.Rerun, v.keys.Override}
	case v.report != nil:
		ks = []key.Binding{v.keys.Continue, v.keys.Rerun}
	default:
		ks = []key.Binding{v.keys.Rerun}
	}
	if !v.running && !v.confirming && v.fixHere() != "" {
		ks = append([]key.Binding{v.keys.Edit}, ks...)
	}
	if v.report != nil && !v.running && !v.confirming && v.passCut() {
		if v.detailed {
			v.keys.Details.SetHelp("d", "fewer details")
		} else {
			v.keys.Details.SetHelp("d", "details")
		}
		ks = append(ks, v.keys.Details)
	}
	if v.overflow {
		ks = append(ks, v.keys.Scroll)
	}
	return ks
}

func (v *validate) Capturing() bool { return false }

// fixHere is the Discovery Endpoint the finished report suggests instead
// of the one checked, when that change in step 2 is the fix; "" otherwise.
func (v *validate) fixHere() string {
	if v.running || v.report == nil || v.report.OK {
		return ""
	}
	return flow.DiscoveryEndpointFix(v.report)
}

// head is the step's title, the discovery URL and, once known, the
// detected provider.
func (v *validate) head(width int) []string {
	t := v.theme
	head := []string{
		t.Title.Render(ansi.Truncate("Validate the Discovery Endpoint", width, "…")),
		t.Subtle.Render(ansi.Truncate(cmp.Or(flow.Display(v.url), "(no Discovery Endpoint yet: go back to the credentials)"), width, "…")),
	}
	if text := diagProviderText(v.setup); text != "" && !v.running && v.report != nil {
		head = append(head, widget.WrapStyled(t.Accent, flow.Display(text), width)...)
	}
	return head
}

// layout puts the checks into the scrolling area between the head and the
// summary, and notes whether they overflow it (the help line offers
// scrolling then).
func (v *validate) layout() {
	width := max(v.width, 10)
	listHeight := max(v.height-len(v.head(width))-len(v.footer(width))-1, 1)
	v.list = v.listLines(width)
	v.overflow = len(v.list) > listHeight
	v.vp.SetWidth(width)
	v.vp.SetHeight(listHeight)
	v.vp.SetContentLines(v.list)
}

// View shows the discovery URL, the checks in a scrolling list (failures
// and warnings first, expanded with their fixes; passed checks one line
// each) and, always visible, the summary and what to do next.
func (v *validate) View() string {
	t := v.theme
	width := max(v.width, 10)
	body := v.vp.View()
	if !v.overflow {
		body = strings.Join(v.list, "\n")
	}
	parts := append(v.head(width), body)
	if v.overflow {
		parts = append(parts, t.Subtle.Render(ansi.Truncate(v.scrollHint(), width, "…")))
	} else {
		parts = append(parts, "")
	}
	return strings.Join(append(parts, v.footer(width)...), "\n")
}

func (v *validate) scrollHint() string {
	below := v.vp.TotalLineCount() - v.vp.YOffset() - v.vp.VisibleLineCount()
	if below > 0 {
		return fmt.Sprintf("↓ %d more lines below (↑/↓ to scroll)", below)
	}
	return "↑ scroll up for the rest"
}

// listLines renders the checks: while running, every expected check in
// order, those not finished yet with a spinner; when done, failures, then
// warnings, then passes.
func (v *validate) listLines(width int) []string {
	var lines []string
	if v.running {
		for _, id := range v.slots() {
			if c, ok := v.knownCheck(id); ok {
				lines = append(lines, v.checkLines(c, width)...)
				continue
			}
			lines = append(lines, ansi.Truncate(v.spin.View()+" "+v.theme.Subtle.Render(flow.CheckName(id)), width, "…"))
		}
		return lines
	}
	if v.report == nil {
		return nil
	}
	for _, status := range []flow.CheckStatus{flow.Fail, flow.Warn, flow.Pass} {
		for _, c := range v.report.Checks {
			if c.Status == status {
				lines = append(lines, v.checkLines(c, width)...)
			}
		}
	}
	if fs := validateFindings(v.setup); len(fs) > 0 {
		lines = append(lines, "", v.theme.Title.Render(ansi.Truncate("Before the test login", width, "…")))
		lines = append(lines, diagFindingLines(v.theme, fs, width, v.env.words())...)
	}
	return lines
}

// validateFindings are the known pitfalls of the detected provider that
// the metadata shows (none until the document was read).
func validateFindings(s *Setup) []flow.Finding {
	if s.Metadata == nil {
		return nil
	}
	return diagMetadata(s)
}

// slots are the check IDs to show while running: the expected ones, with
// issuer_template in issuer's place and any other arrival at the end.
func (v *validate) slots() []string {
	slots := slices.Clone(validateSlots)
	for _, c := range v.known {
		switch {
		case c.ID == flow.CheckIssuerTemplate:
			slots[slices.Index(slots, flow.CheckIssuer)] = c.ID
		case !slices.Contains(slots, c.ID):
			slots = append([]string{c.ID}, slots...)
		}
	}
	return slots
}

func (v *validate) knownCheck(id string) (flow.Check, bool) {
	for _, c := range v.known {
		if c.ID == id {
			return c, true
		}
	}
	return flow.Check{}, false
}

// passCut reports whether a passed check's detail does not fit its one
// line, so that d shows it whole (or, once shown, one line again).
func (v *validate) passCut() bool {
	if v.report == nil {
		return false
	}
	width := max(v.width, 10)
	for _, c := range v.report.Checks {
		if c.Status == flow.Pass && (v.detailed || strings.Contains(c.Detail, "\n") ||
			ansi.StringWidth(v.passLine(c, width < 60)+" "+c.Detail) > width) {
			return true
		}
	}
	return false
}

// passLine is a passed check's symbol and name, as its one line starts.
func (v *validate) passLine(c flow.Check, narrow bool) string {
	t := v.theme
	sym, style := validateSymbol(t, c.Status)
	nameCol := 20
	if narrow {
		nameCol = 0
	}
	line := style.Render(sym) + " " + t.Text.Render(fmt.Sprintf("%-*s", nameCol, flow.CheckName(c.ID)))
	if narrow {
		line += t.Text.Render(":")
	}
	return line
}

// checkLines renders one check: a passed one on one line; a warning or a
// failure with its whole detail and its fix, wrapped to the width. The
// detail and fix quote the IdP: they are shown through flow.DisplayText.
func (v *validate) checkLines(c flow.Check, width int) []string {
	t := v.theme
	c.Detail, c.Fix = flow.DisplayText(c.Detail), flow.DisplayText(v.env.words().addressed(c.Fix))
	sym, style := validateSymbol(t, c.Status)
	name := flow.CheckName(c.ID)
	nameCol := 20
	if width < 60 {
		nameCol = 0 // narrow: the detail goes under the name
	}
	if c.Status == flow.Pass && !v.detailed {
		return []string{ansi.Truncate(v.passLine(c, nameCol == 0)+" "+t.Subtle.Render(widget.FirstLine(c.Detail)), width, "…")}
	}
	indent := 2 + nameCol
	if nameCol == 0 {
		indent = 2
	}
	inner := max(width-indent, 8)
	pad := strings.Repeat(" ", indent)
	detail := widget.WrapIndented(c.Detail, inner)
	var lines []string
	if nameCol > 0 {
		lines = append(lines, style.Render(sym)+" "+style.Render(fmt.Sprintf("%-*s", nameCol, name))+t.Text.Render(detail[0]))
		detail = detail[1:]
	} else {
		lines = append(lines, ansi.Truncate(style.Render(sym)+" "+style.Render(name), width, "…"))
	}
	for _, l := range detail {
		lines = append(lines, pad+t.Text.Render(l))
	}
	if c.Fix != "" {
		for i, l := range widget.WrapIndented("fix: "+c.Fix, max(inner-5, 4)) {
			if i > 0 {
				l = "     " + l
			}
			lines = append(lines, pad+t.Subtle.Render(l))
		}
	}
	return lines
}

func validateSymbol(t *Theme, s flow.CheckStatus) (string, lipgloss.Style) {
	switch s {
	case flow.Pass:
		return flow.SymbolPass, t.Pass
	case flow.Warn:
		return flow.SymbolWarn, t.Warn
	}
	return flow.SymbolFail, t.Fail
}

// footer is the summary and what to do next, wrapped to the width.
func (v *validate) footer(width int) []string {
	t := v.theme
	var lines []string
	add := func(style lipgloss.Style, text string) {
		lines = append(lines, widget.WrapStyled(style, text, width)...)
	}
	switch {
	case v.running:
		add(t.Text, fmt.Sprintf("%s Checking… %d of %d checks done", v.spin.View(), len(v.known), len(v.slots())))
	case v.report != nil:
		style, text := validateSummary(t, v.report)
		add(style, text)
	}
	switch {
	case v.confirming:
		add(t.Warn, fmt.Sprintf("Go on despite %s? Logins will fail until they are fixed on the IdP's side. y: go on · n: stay", validateFailedCount(v.report)))
	case v.notice != "":
		add(t.Error, v.notice)
	case v.report != nil && !v.report.OK && v.setup.Override:
		add(t.Warn, "You chose to go on despite the failed checks; press r to check again after a fix.")
	}
	if fix := v.fixHere(); fix != "" && !v.confirming && v.notice == "" {
		add(t.Accent, "The fix is here: e: edit the Discovery Endpoint, filled in with "+flow.Display(fix))
	}
	if v.saveErr != "" {
		add(t.Error, v.saveErr)
	}
	return lines
}

// validateSummary is the one-line outcome of a report, in the words of
// `oidc-onboard check`.
func validateSummary(t *Theme, r *flow.Report) (lipgloss.Style, string) {
	passed, warned, failed := validateCounts(r)
	switch {
	case !validateDocumentRead(r):
		return t.Fail, flow.SymbolFail + " The discovery document could not be read, so the other checks did not run."
	case failed > 0:
		return t.Fail, fmt.Sprintf("%s %s failed, %s, %d passed.", flow.SymbolFail, validatePlural(failed, "check"), validatePlural(warned, "warning"), passed)
	case warned > 0:
		return t.Warn, fmt.Sprintf("%s No check failed (%s). ID tokens must carry the issuer %s", flow.SymbolPass, validatePlural(warned, "warning"), flow.Display(r.Issuer))
	}
	return t.Pass, fmt.Sprintf("%s All %d checks passed. ID tokens must carry the issuer %s", flow.SymbolPass, passed, flow.Display(r.Issuer))
}

// validateDocumentRead reports whether the checks went past fetching the
// discovery document (Report.Metadata is not kept in a resumed draft).
func validateDocumentRead(r *flow.Report) bool {
	return slices.ContainsFunc(r.Checks, func(c flow.Check) bool {
		return c.ID != flow.CheckURL && c.ID != flow.CheckReachable && c.ID != flow.CheckJSON
	})
}

func validateCounts(r *flow.Report) (passed, warned, failed int) {
	for _, c := range r.Checks {
		switch c.Status {
		case flow.Pass:
			passed++
		case flow.Warn:
			warned++
		default:
			failed++
		}
	}
	return passed, warned, failed
}

func validateFailedIDs(r *flow.Report) []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == flow.Fail {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func validateFailedCount(r *flow.Report) string {
	if r == nil {
		return "the failed checks"
	}
	_, _, failed := validateCounts(r)
	return validatePlural(failed, "failed check")
}

// validateOutcome is the audit detail of a validation.
func validateOutcome(r *flow.Report) string {
	passed, warned, failed := validateCounts(r)
	outcome := fmt.Sprintf("passed (%d passed, %d warnings)", passed, warned)
	if failed > 0 {
		outcome = fmt.Sprintf("failed: %s (%d passed, %d warnings)", strings.Join(validateFailedIDs(r), ", "), passed, warned)
	}
	return r.DiscoveryURL + ": " + outcome
}

func validatePlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
