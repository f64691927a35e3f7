package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// rvPhase is where the review is: the summary, the confirmation its
// warnings ask for, the save in flight, done, or a failed save.
type rvPhase int

const (
	rvSummary rvPhase = iota
	rvConfirm
	rvSaving
	rvSaved
	rvFailed
)

// rvSavedMsg reports the save and activation.
type rvSavedMsg struct {
	conn flow.Connection
	err  error
}

// review is step 7: the whole connection at a glance, then save and
// activate it.
type review struct {
	laidOut
	stepBase
	keys  rvKeys
	phase rvPhase
	err   error
	// override is the last save's: the person activated a failing profile.
	override bool
	// pinBottom keeps the question in view until the person scrolls.
	pinBottom bool
	labels    glLabels
	vp        viewport.Model
}

// NewReview is step 7, the review.
func NewReview(env *Env, theme *Theme) Step {
	r := &review{stepBase: stepBase{env: env, theme: theme, setup: NewSetup()}, vp: viewport.New(), keys: newReviewKeys()}
	r.laidOut = laidOut{update: r.update, layout: r.layout}
	return r
}

func (r *review) Title() string { return Title(StepReview) }

// Enter shows the summary and reads the group labels in a command.
func (r *review) Enter(s *Setup) tea.Cmd {
	r.setup = s
	if r.phase != rvSaving {
		r.phase, r.err = rvSummary, nil
		r.vp.GotoTop()
	}
	r.layout()
	return glLoad(r.env, s.Connection.ID)
}

func (r *review) Capturing() bool { return false }

func (r *review) Keys() []key.Binding {
	var keys []key.Binding
	switch r.phase {
	case rvSummary:
		keys = []key.Binding{r.keys.save}
	case rvConfirm:
		keys = []key.Binding{r.keys.yes, r.keys.no}
		if len(tlProblems(r.setup)) > 0 {
			keys = []key.Binding{r.keys.override, r.keys.no}
		}
	case rvFailed:
		keys = []key.Binding{r.keys.retry}
	case rvSaved:
		keys = []key.Binding{r.keys.another}
	}
	if r.vp.TotalLineCount() > r.vp.Height() {
		keys = append(keys, r.keys.scroll)
	}
	return keys
}

func (r *review) update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return r.handleKey(msg)
	case glLoadedMsg:
		r.labels.take(msg, r.setup.Connection.ID)
	case rvSavedMsg:
		if r.phase != rvSaving {
			return nil, nil
		}
		if msg.err != nil {
			r.phase, r.err = rvFailed, msg.err
			return nil, nil
		}
		c := &r.setup.Connection
		c.ID, c.Status, c.CreatedAt, c.UpdatedAt = msg.conn.ID, msg.conn.Status, msg.conn.CreatedAt, msg.conn.UpdatedAt
		r.phase = rvSaved
		r.vp.GotoTop()
		return nil, FinishedMsg{}
	}
	return nil, nil
}

func (r *review) handleKey(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	switch {
	case r.phase == rvSummary && key.Matches(msg, r.keys.save):
		if len(rvWarnings(r.setup, r.env.words())) > 0 {
			r.phase, r.pinBottom = rvConfirm, true
			return nil, nil
		}
		return r.save(false), nil
	case r.phase == rvConfirm && len(tlProblems(r.setup)) > 0 && key.Matches(msg, r.keys.override):
		return r.save(true), nil
	case r.phase == rvConfirm && len(tlProblems(r.setup)) == 0 && key.Matches(msg, r.keys.yes):
		return r.save(false), nil
	case r.phase == rvConfirm && key.Matches(msg, r.keys.no):
		r.phase = rvSummary
		return nil, nil
	case r.phase == rvFailed && key.Matches(msg, r.keys.retry):
		return r.save(r.override), nil
	case r.phase == rvSaved && key.Matches(msg, r.keys.another):
		return nil, ResumeMsg{Setup: NewSetup()}
	}
	var cmd tea.Cmd
	r.vp, cmd = r.vp.Update(msg)
	r.pinBottom = false
	return cmd, nil
}

// save stores and activates the connection in a command; the setup stays
// as it is, so a failed save loses nothing. override says the person
// chose to activate a profile that fails.
func (r *review) save(override bool) tea.Cmd {
	r.phase, r.err, r.override = rvSaving, nil, override
	env, s := r.env, *r.setup
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(15 * time.Second)
		defer cancel()
		c, err := rvActivate(ctx, env, &s, override)
		return rvSavedMsg{conn: c, err: err}
	}
}

// rvActivate saves the connection as active in one store transaction
// (store.ActivateConnection): the connection, its last validation as the
// activation snapshot, the test login its mappings were checked against,
// its organization's invites closed, and the audit event. A mapped profile
// that fails (tlProblems) is activated only with override, which the
// audit event (and so the transcript) records with what failed.
func rvActivate(ctx context.Context, env *Env, s *Setup, override bool) (flow.Connection, error) {
	c := s.Connection
	problems := tlProblems(s)
	if len(problems) > 0 && !override {
		return c, &flow.Error{Code: flow.CodeProfileFails, Message: "the mapped profile cannot sign anyone in: " + flow.ProblemsText(problems),
			Fix: "change the claims in step 4, or activate with the override"}
	}
	// The mappings shown at review were checked against the last
	// successful test login: by it directly, or by the replay of its
	// claims in steps 4 and 5.
	var checked int64
	if t := s.TestLogin; t != nil && t.OK {
		checked = t.ID
	}
	detail := "activated"
	if len(problems) > 0 {
		detail += " with an override of the failing profile (" + flow.ProblemsText(problems) + ")"
	}
	if w := rvWarnings(s, env.words()); len(w) > len(problems) {
		detail += " despite: " + strings.Join(w[len(problems):], " ")
	}
	err := env.Store.ActivateConnection(ctx, &c, checked, store.Event{Actor: env.Actor, Address: env.Address, Detail: detail})
	return c, err
}

// rvWarnings are the reasons to think twice before activating; they ask
// for a confirmation but never block.
// The profile's problems come first, one each.
func rvWarnings(s *Setup, say words) []string {
	var w []string
	for _, p := range tlProblems(s) {
		w = append(w, "The mapped profile cannot sign anyone in: "+tlSentence(p.Message)+" Fix: "+tlProblemFix(p, "go back to it", say))
	}
	switch t := s.TestLogin; {
	case t == nil:
		w = append(w, "The test login was skipped: the connection is saved untested.")
	case !t.OK:
		w = append(w, "The last test login failed: "+t.Error+".")
	}
	if s.Override {
		w = append(w, "Validation found failures and was overridden.")
	}
	for _, f := range diagOnly(diagClaims(s), flow.FindingEmailUnverified) {
		w = append(w, "In the test login, "+f.Message+". Fix: "+f.Fix+".")
	}
	return w
}

// rvRows is the summary as label/value pairs, groups with their labels.
func rvRows(s *Setup, labels map[string]string, now time.Time) [][2]string {
	c := s.Connection
	issuer := c.Issuer
	if issuer == "" && s.Report != nil {
		issuer = s.Report.Issuer
	}
	m := c.Claims.WithDefaults()
	roles := "none"
	if len(c.RoleMappings) > 0 {
		var rm []string
		for _, x := range c.RoleMappings {
			rm = append(rm, glName(labels, x.Group)+" → "+x.Role)
		}
		roles = strings.Join(rm, ", ")
	} else if s.SkipRoles {
		roles = "skipped"
	}
	groups := c.GroupsClaim
	if groups == "" {
		groups = flow.DefaultGroupsClaim
	}
	name := c.Name
	if c.ID != "" {
		name += " (" + c.ID + ")"
	}
	rows := [][2]string{
		{"Organization", c.Organization},
		{"Connection", name},
		{"Redirect URI", c.RedirectURI},
		{"Client ID", c.ClientID},
		{"Client secret", flow.MaskSecret(c.ClientSecret)},
		{"Discovery URL", c.DiscoveryURL},
		{"Issuer", issuer},
	}
	if p, source := diagProvider(s); p.Kind != flow.IdPGeneric {
		rows = append(rows, [2]string{"Provider", p.DisplayName() + " (" + source + ")"})
	}
	return append(rows, [][2]string{
		{"Validation", rvValidation(s)},
		{"Claims", fmt.Sprintf("idp_id ← %s, email ← %s, first name ← %s, last name ← %s", m.IDPID, m.Email, m.FirstName, m.LastName)},
		{"Groups claim", groups},
		{"Role mappings", roles},
		{"Default role", rvOrNone(c.DefaultRole)},
		{"Test login", rvTestLogin(s.TestLogin, now) + rvProfileFails(s)},
		{"Mappings", rvChecked(s.TestLogin, now)},
	}...)
}

// rvChecked says which stored test login the mappings were checked
// against: the last one, when it succeeded and was recorded.
func rvChecked(t *TestLoginResult, now time.Time) string {
	if t == nil || !t.OK || t.ID == 0 {
		return "not checked against a test login"
	}
	if t.Number == 0 { // recorded before test logins were numbered per connection
		return fmt.Sprintf("checked against the last test login (%s)", rvWhen(t.At, now))
	}
	return fmt.Sprintf("checked against test login #%d (%s)", t.Number, rvWhen(t.At, now))
}

// rvWhen is a time of day, with the date when it is not today.
func rvWhen(at, now time.Time) string {
	if at.Format("2006-01-02") != now.Format("2006-01-02") {
		return at.Format("2006-01-02 15:04")
	}
	return at.Format("15:04")
}

func rvOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func rvValidation(s *Setup) string {
	if s.Report == nil {
		return "not run"
	}
	var warn, fail int
	for _, c := range s.Report.Checks {
		switch c.Status {
		case flow.Warn:
			warn++
		case flow.Fail:
			fail++
		}
	}
	switch {
	case fail > 0 && s.Override:
		return fmt.Sprintf("%d of %d checks failed — overridden", fail, len(s.Report.Checks))
	case fail > 0:
		return fmt.Sprintf("%d of %d checks failed", fail, len(s.Report.Checks))
	case warn > 0:
		return fmt.Sprintf("passed, %d warning(s) in %d checks", warn, len(s.Report.Checks))
	}
	return fmt.Sprintf("passed (%d checks)", len(s.Report.Checks))
}

// rvProfileFails is ", but the mapped profile fails" when it does.
func rvProfileFails(s *Setup) string {
	if len(tlProblems(s)) > 0 {
		return ", but the mapped profile fails"
	}
	return ""
}

func rvTestLogin(t *TestLoginResult, now time.Time) string {
	if t == nil {
		return "skipped (untested)"
	}
	when := rvWhen(t.At, now)
	if !t.OK {
		return "failed at " + when + ": " + t.Error
	}
	who := ""
	if t.Profile != nil && t.Profile.Email != "" {
		who = " as " + t.Profile.Email
	}
	return "worked at " + when + who
}

// View renders the summary, or the final screen once activated.
// layout renders the summary (or the final screen) into the scrolling
// area.
func (r *review) layout() {
	if r.setup == nil {
		return
	}
	body := r.viewSummary(r.width)
	if r.phase == rvSaved {
		body = r.viewSaved(r.width)
	}
	r.vp.SetWidth(r.width)
	r.vp.SetHeight(r.height)
	r.vp.SetContent(body)
	if r.phase == rvConfirm && r.pinBottom { // the question is the last line: keep it in view
		r.vp.GotoBottom()
	}
}

// View draws the step as last laid out.
func (r *review) View() string { return r.vp.View() }

func (r *review) viewSummary(w int) string {
	th := r.theme
	b := []string{widget.Wrap(th.Title.Render("Review the connection, then save and activate it."), w)}
	for _, x := range rvWarnings(r.setup, r.env.words()) {
		b = append(b, widget.Wrap(th.Warn.Render("! "+flow.DisplayText(x)), w))
	}
	b = append(b, rvTable(th, rvRows(r.setup, r.labels.of(r.setup.Connection.ID), r.env.Now()), w)...)
	b = append(b, "")
	switch r.phase {
	case rvSummary:
		b = append(b, widget.Wrap(th.Key.Render("enter")+th.Text.Render(" saves and activates the connection; esc goes back to change something."), w))
	case rvConfirm:
		if len(tlProblems(r.setup)) > 0 {
			b = append(b, widget.Wrap(th.Fail.Render("Users cannot sign in with this profile. ")+th.Key.Render("o")+
				th.Text.Render(" overrides and activates it anyway (the override is recorded), ")+th.Key.Render("n")+th.Text.Render(" goes back to the summary."), w))
			break
		}
		b = append(b, widget.Wrap(th.Warn.Render("Activate it anyway? ")+th.Key.Render("y")+th.Text.Render(" activates, ")+th.Key.Render("n")+th.Text.Render(" goes back to the summary."), w))
	case rvSaving:
		b = append(b, widget.Wrap(th.Subtle.Render("Saving and activating…"), w))
	case rvFailed:
		msg, fix := flow.Explain(r.err)
		b = append(b, widget.Wrap(th.Fail.Render("✗ Not saved: ")+th.Text.Render(tlSentence(flow.DisplayText(msg))), w))
		if fix != "" {
			b = append(b, widget.Wrap(th.Key.Render("Fix: ")+th.Text.Render(flow.DisplayText(fix)), w))
		}
		b = append(b, widget.Wrap(th.Subtle.Render("Nothing is lost: the setup is kept as a draft. enter tries again."), w))
	}
	return strings.Join(b, "\n")
}

// rvTable renders rows as "label  value", values wrapped under themselves
// where there is room and below the label where there is not; the values,
// from the IdP and from what people typed, through flow.DisplayText.
func rvTable(th *Theme, rows [][2]string, w int) []string {
	const labelW = 14
	var out []string
	for _, row := range rows {
		value := flow.DisplayText(row[1])
		if value == "" {
			value = "—"
		}
		if w >= labelW+20 {
			lines := widget.WrapPlain(value, w-labelW-2)
			out = append(out, th.Subtle.Render(fmt.Sprintf("%-*s", labelW, row[0]))+"  "+th.Text.Render(lines[0]))
			for _, l := range lines[1:] {
				out = append(out, strings.Repeat(" ", labelW+2)+th.Text.Render(l))
			}
			continue
		}
		out = append(out, th.Subtle.Render(ansi.Truncate(row[0], w, "…")), widget.Wrap(th.Text.Render("  "+value), w))
	}
	return out
}

func (r *review) viewSaved(w int) string {
	th := r.theme
	c := r.setup.Connection
	say := r.env.words()
	lines := []string{
		widget.Wrap(th.Pass.Render("✓ Connection "+c.ID+" is active."), w),
		widget.Wrap(th.Text.Render(flow.Display(c.Organization)+" / "+flow.Display(c.Name)+" is saved with its claim and role mappings and its test login results."), w),
		"",
		widget.Wrap(th.Title.Render(say.doneTitle), w),
	}
	for _, l := range say.nextLines(c.ID) {
		style := th.Text
		if strings.HasPrefix(l, "  ") { // a command
			style = th.Accent
		}
		lines = append(lines, widget.Wrap(style.Render(l), w))
	}
	return strings.Join(append(lines, "",
		widget.Wrap(th.Key.Render("n")+th.Text.Render(" sets up another connection, ")+th.Key.Render("q")+th.Text.Render(" quits."), w)), "\n")
}
