package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// tlPhase is where the test login step is: idle (showing the intro or the
// last result), starting (callback server and discovery) or waiting for
// the browser to come back.
type tlPhase int

const (
	tlIdle tlPhase = iota
	tlStarting
	tlWaiting
)

// tlWideLayout is the width from which the profile and the claims sit side
// by side.
const tlWideLayout = 100

// Messages of the test login step. Each carries the attempt it belongs to,
// so that the reply of a cancelled attempt is dropped.
type (
	tlStartedMsg struct {
		attempt int
		// ctx ends when the attempt is cancelled; the wait runs under it.
		ctx          context.Context
		discoveryURL string
		provider     *flow.Provider
		srv          *flow.CallbackServer
		login        *flow.Login
		err          error
	}
	tlDoneMsg struct {
		attempt int
		res     *flow.LoginResult
		err     error
	}
	tlRecordedMsg struct {
		attempt int
		// result is the outcome recorded; id its test login ID in the store.
		result *TestLoginResult
		id     int64
		number int // its number among the connection's test logins
		err    error
	}
	tlDeliveredMsg struct {
		attempt int
		err     error
	}
	tlBrowserMsg struct {
		attempt int
		err     error
	}
	tlTickMsg struct{ attempt int }
)

// testLogin is step 6: one real sign-in through the connection, through
// the callback server, with the mapped profile or the explained failure.
type testLogin struct {
	laidOut
	stepBase
	keys tlKeys

	phase   tlPhase
	attempt int
	// providers holds one provider per discovery URL, so the IdP's keys are
	// fetched once per step however often the login is tried.
	providers map[string]*flow.Provider

	login        *flow.Login
	srv          *flow.CallbackServer
	authURL      string
	stop         context.CancelFunc
	started, now time.Time
	browserErr   error

	pasting   bool
	paste     textinput.Model
	pasteNote string
	pasteErr  error

	// Labelling the GUID groups the last login showed: which one is being
	// labelled (its index in glGUIDGroups), and the label being typed.
	labelling bool
	labelAt   int
	labelIn   textinput.Model
	labels    glLabels

	recordErr error
	// recording: the attempt's outcome is being stored; a continue
	// pressed meanwhile (nextWhenRecorded) goes on once it is, so that the
	// review links the stored test login (its ID comes with the record).
	recording, nextWhenRecorded bool
	spin                        spinner.Model
	vp                          viewport.Model
}

// NewTestLogin is step 6, the test login.
func NewTestLogin(env *Env, theme *Theme) Step {
	ti := limited(widget.New(), widget.LimitAddress)
	ti.SetStyles(theme.PlainInputStyles())
	ti.Prompt = "> "
	ti.Placeholder = "http://…/callback?code=…&state=…"
	li := limited(widget.New(), widget.LimitName)
	li.Prompt = ""
	li.Placeholder = "e.g. Finance admins; enter skips"
	t := &testLogin{
		stepBase: stepBase{env: env, theme: theme, setup: NewSetup()}, keys: newTLKeys(),
		providers: map[string]*flow.Provider{},
		paste:     ti,
		labelIn:   li,
		spin:      spinner.New(spinner.WithSpinner(spinner.Dot)),
		vp:        viewport.New(),
	}
	t.laidOut = laidOut{update: t.update, layout: t.layout}
	return t
}

func (t *testLogin) Title() string { return Title(StepTestLogin) }

// Enter shows the last result, if any; a login starts only on request, so
// coming back to the step never throws the person into a sign-in. The
// group labels are read in a command.
func (t *testLogin) Enter(s *Setup) tea.Cmd {
	t.setup = s
	t.stopLabelling()
	if t.phase == tlIdle {
		t.recordErr = nil
		t.vp.GotoTop()
	}
	t.layout()
	return glLoad(t.env, s.Connection.ID)
}

func (t *testLogin) Capturing() bool { return t.pasting || t.labelling }

// canLabel is whether the last login showed GUID groups that can be
// labelled in the store.
func (t *testLogin) canLabel() bool {
	r := t.setup.TestLogin
	return t.phase == tlIdle && r != nil && r.OK && t.env != nil && t.env.Store != nil &&
		t.setup.Connection.ID != "" && len(glGUIDGroups(t.setup)) > 0
}

func (t *testLogin) Keys() []key.Binding {
	k := t.keys
	switch {
	case t.pasting:
		return []key.Binding{k.submit, k.unfocus}
	case t.labelling:
		return []key.Binding{k.saveLabel, k.stopLabel}
	case t.phase == tlStarting:
		return []key.Binding{k.cancel}
	case t.phase == tlWaiting:
		return []key.Binding{k.copy, k.paste, k.cancel}
	}
	r := t.setup.TestLogin
	var keys []key.Binding
	switch {
	case r == nil:
		keys = []key.Binding{k.start, k.skip}
	case r.OK:
		keys = []key.Binding{k.cont, k.again, k.toClaims, k.toRoles}
		if t.canLabel() {
			keys = append(keys, k.label)
		}
	default:
		keys = []key.Binding{k.retry}
		if tlResultFixStep(r) == StepRedirectURI {
			keys = append(keys, k.toRedirect)
		}
		keys = append(keys, k.toCreds, k.toClaims, k.toRoles, k.skip)
	}
	if t.vp.TotalLineCount() > t.vp.Height() {
		keys = append(keys, k.scroll)
	}
	return keys
}

func (t *testLogin) update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case tea.BackgroundColorMsg:
		t.paste.SetStyles(t.theme.PlainInputStyles())
	case tea.KeyPressMsg:
		return t.handleKey(msg)
	case tea.PasteMsg:
		if t.phase != tlWaiting {
			return nil, nil
		}
		cmd := t.focusPaste()
		return tea.Batch(cmd, inputUpdate(&t.paste, msg)), nil
	case tlStartedMsg:
		return t.onStarted(msg), nil
	case tlDoneMsg:
		if msg.attempt != t.attempt || t.phase != tlWaiting {
			return nil, nil // a cancelled attempt
		}
		return t.finish(msg.res, msg.err), nil
	case tlRecordedMsg:
		if msg.attempt == t.attempt {
			t.recordErr = msg.err
			msg.result.ID, msg.result.Number = msg.id, msg.number
			next := t.nextWhenRecorded && msg.err == nil // else the error shows; enter again goes on
			t.recording, t.nextWhenRecorded = false, false
			if next {
				return nil, NextMsg{}
			}
		}
	case glLoadedMsg:
		t.labels.take(msg, t.setup.Connection.ID)
	case tlDeliveredMsg:
		if msg.attempt != t.attempt || t.phase != tlWaiting {
			return nil, nil
		}
		t.pasteErr = msg.err
		if msg.err == nil {
			t.pasting = false
			t.paste.Blur()
			t.paste.SetValue("")
			t.pasteNote = "Address received: finishing the sign-in…"
		}
	case tlBrowserMsg:
		if msg.attempt == t.attempt {
			t.browserErr = msg.err
		}
	case tlTickMsg:
		if msg.attempt == t.attempt && t.phase != tlIdle {
			t.now = t.env.Now()
			return t.tick(), nil
		}
	case spinner.TickMsg:
		if t.phase != tlIdle {
			var cmd tea.Cmd
			t.spin, cmd = t.spin.Update(msg)
			return cmd, nil
		}
	}
	return nil, nil
}

func (t *testLogin) handleKey(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	k := t.keys
	if t.labelling {
		return t.labelKey(msg), nil
	}
	if t.pasting {
		switch {
		case key.Matches(msg, k.submit):
			return t.deliver(), nil
		case key.Matches(msg, k.unfocus):
			t.pasting = false
			t.paste.Blur()
			return nil, nil
		}
		var cmd tea.Cmd
		t.paste, cmd = t.paste.Update(msg)
		return cmd, nil
	}
	if t.phase != tlIdle {
		switch {
		case key.Matches(msg, k.cancel):
			t.cancelLogin()
			return Cmd(StatusMsg("Test login cancelled")), nil
		case t.phase == tlWaiting && key.Matches(msg, k.copy):
			return SendToClipboard(t.authURL, "the authorization URL"), nil
		case t.phase == tlWaiting && key.Matches(msg, k.paste):
			return t.focusPaste(), nil
		}
		return t.scroll(msg), nil
	}
	r := t.setup.TestLogin
	switch {
	case r == nil && key.Matches(msg, k.start),
		r != nil && r.OK && key.Matches(msg, k.again),
		r != nil && !r.OK && key.Matches(msg, k.retry):
		return t.start(), nil
	case r != nil && r.OK && key.Matches(msg, k.cont) && t.recording:
		t.nextWhenRecorded = true // a moment: see tlRecordedMsg
		return nil, nil
	case r != nil && r.OK && key.Matches(msg, k.cont):
		return nil, NextMsg{}
	case (r == nil || !r.OK) && key.Matches(msg, k.skip):
		return nil, NextMsg{}
	case r != nil && !r.OK && tlResultFixStep(r) == StepRedirectURI && key.Matches(msg, k.toRedirect):
		return nil, GotoMsg{Step: StepRedirectURI}
	case r != nil && !r.OK && key.Matches(msg, k.toCreds):
		return nil, GotoMsg{Step: StepCredentials}
	case r != nil && key.Matches(msg, k.toClaims):
		return nil, GotoMsg{Step: StepClaims}
	case r != nil && key.Matches(msg, k.toRoles):
		return nil, GotoMsg{Step: StepRoles}
	case key.Matches(msg, k.label) && t.canLabel():
		t.labelling = true
		return t.labelGroup(0), nil
	}
	return t.scroll(msg), nil
}

// labelGroup puts the label input on the i-th GUID group, or ends the
// labelling after the last.
func (t *testLogin) labelGroup(i int) tea.Cmd {
	groups := glGUIDGroups(t.setup)
	if i >= len(groups) {
		t.stopLabelling()
		return nil
	}
	t.labelAt = i
	return widget.Edit(&t.labelIn, t.labels.of(t.setup.Connection.ID)[groups[i]])
}

func (t *testLogin) stopLabelling() {
	t.labelling = false
	t.labelIn.Blur()
}

// labelKey handles the label input: enter stores the label when it
// changed (empty removes it) and goes to the next group; esc stops.
func (t *testLogin) labelKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, t.keys.stopLabel):
		t.stopLabelling()
		return nil
	case key.Matches(msg, t.keys.saveLabel):
		groups := glGUIDGroups(t.setup)
		if t.labelAt >= len(groups) {
			t.stopLabelling()
			return nil
		}
		group, label := groups[t.labelAt], strings.TrimSpace(t.labelIn.Value())
		var save tea.Cmd
		if label != t.labels.of(t.setup.Connection.ID)[group] {
			save = glSave(t.env, t.setup.Connection.ID, group, label)
		}
		return tea.Batch(save, t.labelGroup(t.labelAt+1))
	}
	var cmd tea.Cmd
	t.labelIn, cmd = t.labelIn.Update(msg)
	return cmd
}

func (t *testLogin) scroll(msg tea.KeyPressMsg) tea.Cmd {
	var cmd tea.Cmd
	t.vp, cmd = t.vp.Update(msg)
	return cmd
}

func (t *testLogin) focusPaste() tea.Cmd {
	t.pasting = true
	t.pasteNote = ""
	t.vp.GotoBottom()
	return t.paste.Focus()
}

// start begins an attempt: callback server, discovery (once per URL) and
// the login's registration run in a command.
func (t *testLogin) start() tea.Cmd {
	t.attempt++
	t.recording, t.nextWhenRecorded = false, false // an earlier attempt's record no longer counts
	t.phase = tlStarting
	t.started = t.env.Now()
	t.now = t.started
	t.login, t.srv, t.authURL = nil, nil, ""
	t.browserErr, t.pasteErr, t.pasteNote, t.recordErr = nil, nil, "", nil
	t.paste.SetValue("")
	t.vp.GotoTop()
	ctx, stop := context.WithCancel(t.env.Context) // a dropped session ends the wait
	t.stop = stop
	attempt, env, conn := t.attempt, t.env, t.setup.Connection
	cached := t.providers[conn.DiscoveryURL]
	begin := func() tea.Msg {
		srv, p, login, err := tlBegin(ctx, env, cached, conn)
		return tlStartedMsg{attempt: attempt, ctx: ctx, discoveryURL: conn.DiscoveryURL, provider: p, srv: srv, login: login, err: err}
	}
	return tea.Batch(begin, t.spin.Tick, t.tick())
}

// onStarted takes the started login: wait for its callback, open the
// browser where there is one.
func (t *testLogin) onStarted(msg tlStartedMsg) tea.Cmd {
	if msg.provider != nil {
		t.providers[msg.discoveryURL] = msg.provider
	}
	if msg.attempt != t.attempt || t.phase != tlStarting {
		if msg.login != nil {
			msg.login.Close()
		}
		return nil
	}
	if msg.err != nil {
		return t.finish(nil, msg.err)
	}
	t.phase = tlWaiting
	t.login, t.srv, t.authURL = msg.login, msg.srv, msg.login.AuthURL()
	ctx, login, attempt := msg.ctx, msg.login, t.attempt
	cmds := []tea.Cmd{func() tea.Msg {
		res, err := login.Wait(ctx)
		return tlDoneMsg{attempt: attempt, res: res, err: err}
	}}
	if open := t.env.OpenBrowser; open != nil {
		url := t.authURL
		cmds = append(cmds, func() tea.Msg { return tlBrowserMsg{attempt: attempt, err: open(url)} })
	}
	return tea.Batch(cmds...)
}

func (t *testLogin) cancelLogin() {
	t.attempt++ // replies of the cancelled attempt are dropped
	if t.stop != nil {
		t.stop()
	}
	if t.login != nil {
		t.login.Close()
	}
	t.phase, t.login, t.pasting = tlIdle, nil, false
	t.paste.Blur()
}

func (t *testLogin) deliver() tea.Cmd {
	srv, raw, attempt := t.srv, t.paste.Value(), t.attempt
	return func() tea.Msg { return tlDeliveredMsg{attempt: attempt, err: srv.Deliver(raw)} }
}

func (t *testLogin) tick() tea.Cmd {
	attempt := t.attempt
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tlTickMsg{attempt: attempt} })
}

// finish keeps the outcome in the setup and records it in the store.
func (t *testLogin) finish(res *flow.LoginResult, err error) tea.Cmd {
	if err != nil {
		// The IdP admin may fix their side before the next try (an auth
		// method, an algorithm): discover the metadata again then.
		delete(t.providers, t.setup.Connection.DiscoveryURL)
	}
	if t.stop != nil {
		t.stop()
	}
	t.phase, t.login, t.pasting = tlIdle, nil, false
	t.paste.Blur()
	t.vp.GotoTop()
	r := tlResultOf(t.env.Now(), res, err)
	t.setup.TestLogin = r
	t.recording, t.nextWhenRecorded = true, false
	env, conn, attempt := t.env, t.setup.Connection, t.attempt
	rec := flow.NewTestLogin(r.At, res, err)
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(10 * time.Second)
		defer cancel()
		stored, err := tlRecord(ctx, env, conn, rec)
		return tlRecordedMsg{attempt: attempt, result: r, id: stored.ID, number: stored.Number, err: err}
	}
}

// tlBegin gets the callback server for the connection's Redirect URI,
// discovers the provider unless one is cached, and starts the login. It
// returns the provider whenever discovery worked, for the cache.
func tlBegin(ctx context.Context, env *Env, p *flow.Provider, c flow.Connection) (*flow.CallbackServer, *flow.Provider, *flow.Login, error) {
	if c.RedirectURI == "" || c.DiscoveryURL == "" {
		return nil, nil, nil, &flow.Error{Code: flow.CodeIncompleteConnection,
			Message: "the connection has no Redirect URI or Discovery Endpoint yet",
			Fix:     "fill them in steps 1 and 2, then come back"}
	}
	srv, err := env.Callbacks(c.RedirectURI)
	if err != nil {
		return nil, nil, nil, err
	}
	if p == nil {
		if p, err = flow.DiscoverProvider(ctx, env.HTTP, c.DiscoveryURL); err != nil {
			return nil, nil, nil, err
		}
	}
	login, err := p.StartLogin(srv, flow.LoginConfigFromConnection(c))
	return srv, p, login, err
}

// tlResultOf is what the setup keeps of an attempt.
func tlResultOf(at time.Time, res *flow.LoginResult, err error) *TestLoginResult {
	r := &TestLoginResult{At: at, OK: err == nil}
	if err != nil {
		r.Error, r.Fix = flow.Explain(err)
		var fe *flow.Error
		if errors.As(err, &fe) {
			r.Code = fe.Code
		}
		return r
	}
	p := res.Profile
	p.RawClaims = nil
	r.Profile, r.Claims, r.Warnings = &p, res.Claims, res.Warnings
	return r
}

// tlRecord stores the outcome with the connection and audits it, in one
// transaction, as `oidc-onboard login --connection` does; it returns the
// stored test login (its ID 0 without a store).
func tlRecord(ctx context.Context, env *Env, c flow.Connection, rec flow.TestLogin) (flow.TestLogin, error) {
	if env.Store == nil {
		return flow.TestLogin{}, nil
	}
	return env.Store.RecordTestLogin(ctx, &c, rec, store.Event{Actor: env.Actor, Address: env.Address})
}

// tlProblems say why the last successful login's profile, mapped again
// with the mappings as they are now, cannot sign anyone in (no idp_id, no
// email address); nil when it can, or without such a login.
func tlProblems(s *Setup) []flow.ProfileProblem {
	r := s.TestLogin
	if r == nil || !r.OK || r.Profile == nil {
		return nil
	}
	p := *r.Profile
	if _, after, _, _, ok := replayPreview(s); ok {
		p = after
	}
	return flow.CheckProfile(p, r.Claims, s.Connection.Claims)
}

// tlWarnings are the login's mapping warnings but those problems say again.
func tlWarnings(r *TestLoginResult, problems []flow.ProfileProblem) []string {
	w := flow.ProfileWarnings(r.Warnings, problems)
	return w[:len(w)-len(problems)]
}

// tlProblemFix is what to do about a profile problem in this wizard; how
// says how to reach step 4.
func tlProblemFix(p flow.ProfileProblem, how string, w words) string {
	if p.Suggest != "" {
		return fmt.Sprintf("the claim %q holds an address: map %s to %s in step 4, Claims (%s).", p.Suggest, p.Attribute, p.Suggest, how)
	}
	return fmt.Sprintf("map %s to a claim the login has in step 4, Claims (%s), "+w.askSend+".", p.Attribute, how, p.Claim)
}

// tlResultFixStep is the step before this one where a failed login's cause
// is changed: by its error code, or by the Entra error code its explanation
// quotes (a code the OAuth error alone does not tell, e.g. AADSTS700016, an
// unknown client ID); -1 when the fix lies elsewhere (the IdP, this machine,
// another try).
func tlResultFixStep(r *TestLoginResult) int {
	for _, code := range []flow.Code{r.Code, flow.EntraCode(r.Error)} {
		if step := stepOf(code.Step()); step >= 0 && step < StepTestLogin {
			return step
		}
	}
	return -1
}

// layout renders the step's content into its scrolling area; content
// taller than the area scrolls.
func (t *testLogin) layout() {
	if t.setup == nil {
		return
	}
	width := t.width
	t.paste.SetWidth(max(width-lipgloss.Width(t.paste.Prompt)-1, 1))
	var body string
	switch {
	case t.phase != tlIdle:
		body = t.viewWaiting(width)
	case t.setup.TestLogin == nil:
		body = t.viewIntro(width)
	case t.setup.TestLogin.OK:
		body = t.viewSuccess(width)
	default:
		body = t.viewFailure(width)
	}
	t.vp.SetWidth(width)
	t.vp.SetHeight(t.height)
	t.vp.SetContent(body)
	if t.pasting {
		t.vp.GotoBottom()
	}
}

// View draws the step as last laid out.
func (t *testLogin) View() string { return t.vp.View() }

func (t *testLogin) viewIntro(w int) string {
	th := t.theme
	var b []string
	b = append(b, widget.Wrap(th.Title.Render("Sign in once through this connection, as the organization's users will."), w),
		widget.Wrap(th.Text.Render("This proves that the client ID and secret, the Redirect URI and the claims work together before the connection is saved."), w))
	b = append(b, diagProviderLine(th, t.setup, w)...)
	b = append(b, "")
	if d := t.env.Demo; d != nil {
		b = append(b, widget.Wrap(th.Accent.Render(fmt.Sprintf("Demo: sign in as %s with the password %s.", d.Username, d.Password)), w), "")
	}
	where := "The sign-in page opens in your browser."
	if t.env.OpenBrowser == nil {
		where = "You get a URL to open in your browser."
	}
	b = append(b, widget.Wrap(th.Text.Render(where), w), "",
		widget.Wrap(th.Key.Render("enter")+th.Text.Render("  start the test login"), w),
		widget.Wrap(th.Key.Render("s")+th.Text.Render("      skip it: the connection is then saved untested ("+t.env.words().laterTest(t.connID())+")"), w))
	return strings.Join(b, "\n")
}

func (t *testLogin) connID() string {
	if id := t.setup.Connection.ID; id != "" {
		return id
	}
	return "ID"
}

func (t *testLogin) viewWaiting(w int) string {
	th := t.theme
	elapsed := t.now.Sub(t.started).Truncate(time.Second)
	status := "Preparing the sign-in…"
	if t.phase == tlWaiting {
		status = "Waiting for you to sign in…"
	}
	b := []string{widget.Wrap(t.spin.View()+" "+th.Text.Render(status)+" "+th.Subtle.Render(tlClock(elapsed)), w)}
	if t.phase == tlStarting {
		return strings.Join(b, "\n")
	}
	b = append(b, "")
	switch {
	case t.env.OpenBrowser == nil:
		b = append(b, widget.Wrap(th.Text.Render("Open this URL in your browser and sign in:"), w))
	case t.browserErr != nil:
		b = append(b, widget.Wrap(th.Warn.Render("The browser could not be opened; open this URL in your browser and sign in:"), w))
	default:
		b = append(b, widget.Wrap(th.Text.Render("Your browser opened this URL; if it did not, open it yourself and sign in:"), w))
	}
	b = append(b, th.Accent.Render(ansi.Hardwrap(flow.Display(t.authURL), max(w, 1), false)))
	if d := t.env.Demo; d != nil {
		b = append(b, widget.Wrap(th.Accent.Render(fmt.Sprintf("Demo: sign in as %s with the password %s.", d.Username, d.Password)), w))
	}
	b = append(b, "", widget.Wrap(th.Subtle.Render("If your browser could not reach "+t.setup.Connection.RedirectURI+", paste the address bar's URL here (p):"), w))
	b = append(b, t.paste.View())
	switch {
	case t.pasteErr != nil:
		msg, fix := flow.Explain(t.pasteErr)
		b = append(b, widget.Wrap(th.Error.Render(flow.DisplayText(msg)), w), widget.Wrap(th.Subtle.Render(flow.DisplayText(fix)), w))
	case t.pasteNote != "":
		b = append(b, widget.Wrap(th.Pass.Render(t.pasteNote), w))
	}
	return strings.Join(b, "\n")
}

func (t *testLogin) viewSuccess(w int) string {
	th := t.theme
	r := t.setup.TestLogin
	problems := tlProblems(t.setup)
	head := []string{widget.Wrap(th.Pass.Render("✓ The test login worked")+th.Subtle.Render(" ("+r.At.Format("15:04:05")+")"), w)}
	if len(problems) > 0 {
		head = []string{widget.Wrap(th.Fail.Render("✗ Signed in, but the mapped profile cannot sign anyone in")+th.Subtle.Render(" ("+r.At.Format("15:04:05")+")"), w)}
	}
	head = append(head, diagProviderLine(th, t.setup, w)...)
	for _, p := range problems {
		head = append(head, widget.Wrap(th.Fail.Render(flow.SymbolFail+" "+flow.Display(tlSentence(p.Message))), w),
			widget.Wrap(th.Key.Render("  Fix: ")+th.Text.Render(flow.Display(tlProblemFix(p, "press 4", t.env.words()))), w))
	}
	if warnings := tlWarnings(r, problems); len(warnings) > 0 {
		head = append(head, widget.Wrap(th.Warn.Render("The mapping could not fill everything:"), w))
		for _, warn := range warnings {
			head = append(head, widget.Wrap(th.Warn.Render("! "+flow.Display(warn)), w))
		}
	}
	if fs := diagClaims(t.setup); len(fs) > 0 {
		head = append(head, "")
		head = append(head, diagFindingLines(th, fs, w, t.env.words())...)
	}
	head = append(head, t.guidGroupLines(w)...)
	if _, _, changes, _, _ := replayPreview(t.setup); len(changes) > 0 {
		head = append(head, "", widget.Wrap(th.Subtle.Render("The mappings changed since this login; the profile below is the login's."), w))
		head = append(head, replayLines(th, t.setup, w)...)
	}
	head = append(head, t.recordNote(w)...)
	next := "enter continues to the review; r tests again; 4 or 5 change the claims or roles."
	if len(problems) > 0 {
		next = "4 changes the claims (the profile is mapped again at once); r tests again; enter continues to the review, where activating then needs an override."
	}
	head = append(head, widget.Wrap(th.Subtle.Render(next), w), "")
	var profile, claims string
	labels := t.labels.of(t.setup.Connection.ID)
	if w >= tlWideLayout {
		pw := 44
		profile = tlProfile(th, r.Profile, labels, pw)
		claims = tlClaims(th, r.Claims, w-pw-2)
		head = append(head, lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(pw+2).Render(profile), claims))
	} else {
		profile = tlProfile(th, r.Profile, labels, w)
		claims = tlClaims(th, r.Claims, w)
		head = append(head, profile, "", claims)
	}
	return strings.Join(head, "\n")
}

// guidGroupLines lists the GUID groups of the last login with their
// labels, the one being labelled as an input, and how to label them.
func (t *testLogin) guidGroupLines(w int) []string {
	groups := glGUIDGroups(t.setup)
	if len(groups) == 0 {
		return nil
	}
	th := t.theme
	labels := t.labels.of(t.setup.Connection.ID)
	lines := []string{widget.Wrap(th.Title.Render("Groups in this login"), w)}
	for i, g := range groups {
		if t.labelling && i == t.labelAt {
			lines = append(lines, widget.LabelLine(t.labelIn, th.Selected.Render("› "), th.Selected, g, w))
			continue
		}
		style := th.Text
		if labels[g] == "" {
			style = th.Subtle
		}
		lines = append(lines, style.Render(ansi.Truncate("  "+glFit(labels, g, max(w-2, 1)), max(w, 1), "…")))
	}
	if err := t.labels.err; err != nil && t.labels.connID == t.setup.Connection.ID {
		msg, _ := flow.Explain(err)
		lines = append(lines, widget.Wrap(th.Warn.Render("! The group labels could not be read or saved: "+msg), w))
	}
	if t.canLabel() && !t.labelling {
		lines = append(lines, widget.Wrap(th.Key.Render("l")+th.Subtle.Render(" labels them with their group names, shown from here on in place of the bare IDs."), w))
	}
	return lines
}

func (t *testLogin) recordNote(w int) []string {
	if t.recordErr == nil {
		return nil
	}
	msg, _ := flow.Explain(t.recordErr)
	return []string{widget.Wrap(t.theme.Warn.Render("The result could not be recorded in the store: "+msg), w)}
}

func (t *testLogin) viewFailure(w int) string {
	th := t.theme
	r := t.setup.TestLogin
	b := []string{widget.Wrap(th.Fail.Render("✗ The test login failed")+th.Subtle.Render(" ("+r.At.Format("15:04:05")+")"), w)}
	b = append(b, diagProviderLine(th, t.setup, w)...)
	// An IdP error's explanation may carry its evidence on further lines
	// (the redirect URI sent and expected, aligned with a marker line).
	msg, evidence, _ := strings.Cut(flow.DisplayText(r.Error), "\n")
	b = append(b, "", widget.Wrap(th.Text.Render(tlSentence(msg)), w))
	for _, l := range strings.Split(evidence, "\n") {
		if l != "" {
			b = append(b, th.Subtle.Render(ansi.Hardwrap(l, max(w, 1), false)))
		}
	}
	if r.Fix != "" {
		b = append(b, widget.Wrap(th.Key.Render("Fix: ")+th.Text.Render(flow.DisplayText(t.env.words().addressed(r.Fix))), w))
	}
	b = append(b, t.recordNote(w)...)
	b = append(b, "")
	if step := tlResultFixStep(r); step >= 0 {
		name := map[int]string{StepRedirectURI: "Redirect URI", StepCredentials: "Credentials"}[step]
		b = append(b, widget.Wrap(th.Text.Render(fmt.Sprintf("To change it, go back to step %d, %s: press ", step, name))+th.Key.Render(fmt.Sprint(step))+th.Text.Render("."), w))
	}
	b = append(b, widget.Wrap(th.Subtle.Render("enter tries again; 2, 4 and 5 go to the credentials, claims and roles; s skips: the connection is then saved untested."), w))
	return strings.Join(b, "\n")
}

// tlProfile renders the mapped profile as label/value rows; with group
// labels, the groups go one per row, each with its label.
func tlProfile(th *Theme, p *flow.Profile, labels map[string]string, w int) string {
	if p == nil {
		p = &flow.Profile{}
	}
	rows := [][2]string{
		{"idp_id", p.IDPID}, {"email", p.Email}, {"first name", p.FirstName}, {"last name", p.LastName},
	}
	labelled := slices.ContainsFunc(p.Groups, func(g string) bool { return labels[g] != "" })
	if labelled {
		for i, g := range p.Groups {
			name := ""
			if i == 0 {
				name = "groups"
			}
			rows = append(rows, [2]string{name, glFit(labels, g, max(w-11-4, 1))})
		}
	} else {
		rows = append(rows, [2]string{"groups", strings.Join(p.Groups, ", ")})
	}
	rows = append(rows, [2]string{"roles", strings.Join(p.Roles, ", ")})
	out := []string{th.Title.Render("Profile")}
	for _, r := range rows {
		out = append(out, tlRow(th, r[0], r[1], 11, w))
	}
	return strings.Join(out, "\n")
}

// tlClaims renders the raw claims, sorted, values JSON-encoded and cut to
// one line each.
func tlClaims(th *Theme, claims map[string]any, w int) string {
	names := flow.SortedClaimNames(claims)
	labelW := 0
	for _, n := range names {
		labelW = max(labelW, min(lipgloss.Width(flow.Display(n)), 20))
	}
	out := []string{th.Title.Render("Claims")}
	for _, n := range names {
		v, err := json.Marshal(claims[n])
		if err != nil {
			v = []byte(fmt.Sprint(claims[n]))
		}
		out = append(out, tlRow(th, n, string(v), labelW, w))
	}
	return strings.Join(out, "\n")
}

// tlRow is "  label  value" on one line of at most w cells; label and
// value, a claim's name and value, are shown through flow.Display.
func tlRow(th *Theme, label, value string, labelW, w int) string {
	label, value = flow.Display(label), flow.Display(value)
	label = ansi.Truncate(label, labelW, "…")
	label += strings.Repeat(" ", max(labelW-lipgloss.Width(label), 0))
	valueStyle := th.Text
	if value == "" {
		value, valueStyle = "(empty)", th.Warn
	}
	value = ansi.Truncate(strings.Join(strings.Fields(value), " "), max(w-labelW-4, 1), "…")
	return ansi.Truncate("  "+th.Subtle.Render(label)+"  "+valueStyle.Render(value), w, "")
}

// tlSentence starts s with a capital letter and ends it with a period.
func tlSentence(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	s = strings.ToUpper(string(r[0])) + string(r[1:])
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// tlClock is an elapsed time as m:ss.
func tlClock(d time.Duration) string {
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
