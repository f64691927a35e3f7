package steps

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// tlSetup is a setup that reached the test login: a stored draft
// connection of the demo IdP, with a role mapping for the demo user's group.
func tlSetup(t *testing.T, env *Env) *Setup {
	t.Helper()
	s := NewSetup()
	c := &s.Connection
	c.Organization, c.Name = "Acme", "Acme SSO"
	c.DiscoveryURL, c.ClientID, c.ClientSecret = env.Demo.DiscoveryURL, env.Demo.ClientID, env.Demo.ClientSecret
	c.RoleMappings = []flow.RoleMapping{{Group: "oidc-admins", Role: "admin"}}
	if err := env.Store.SaveConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.RedirectURI = env.RedirectURIFor(c.ID)
	s.Step, s.Reached = StepTestLogin, StepTestLogin
	return s
}

// tlBrowser plays the person's browser, a process of its own: sign in at
// the demo IdP, then follow its redirect to the callback server.
func tlBrowser(t *testing.T, idp *demoidp.IdP) func(string) error {
	var browsing sync.WaitGroup
	t.Cleanup(browsing.Wait) // before the callback server closes
	return func(authURL string) error {
		browsing.Go(func() {
			to, err := idp.SignIn(context.Background(), authURL)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			resp, err := http.Get(to.String())
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			resp.Body.Close()
		})
		return nil
	}
}

// tlTyping is a person at the keyboard: lines typed are read by the step
// in order; the input ends when the channel closes.
func tlTyping() (io.Reader, chan<- string) {
	pr, pw := io.Pipe()
	typed := make(chan string, 8)
	go func() {
		for line := range typed {
			if _, err := io.WriteString(pw, line); err != nil {
				return
			}
		}
		pw.Close()
	}()
	return pr, typed
}

// tlScreen is line-mode output that tells when a text has appeared.
type tlScreen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (s *tlScreen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.buf.Write(p)
	if s.want != "" && strings.Contains(s.buf.String(), s.want) {
		s.want = ""
		close(s.seen)
	}
	return n, err
}

func (s *tlScreen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// tlDriver runs a step like run does, but lets the test act between
// messages (sign in, paste) while a login waits.
type tlDriver struct {
	t       *testing.T
	s       Step
	results chan tea.Msg
	pending int
	shell   []tea.Msg
}

func newTLDriver(t *testing.T, s Step) *tlDriver {
	return &tlDriver{t: t, s: s, results: make(chan tea.Msg, 64)}
}

func (d *tlDriver) send(m tea.Msg) {
	switch m := m.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			d.dispatch(c)
		}
	case NextMsg, BackMsg, GotoMsg, ResumeMsg, FinishedMsg, StatusMsg:
		d.shell = append(d.shell, m)
	default:
		cmd, nav := d.s.Update(m)
		if nav != nil {
			d.shell = append(d.shell, nav)
		}
		d.dispatch(cmd)
	}
}

func (d *tlDriver) dispatch(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	d.pending++
	go func() { d.results <- cmd() }()
}

// until handles command results until cond holds.
func (d *tlDriver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case m := <-d.results:
			d.pending--
			if _, tick := m.(spinner.TickMsg); !tick {
				d.send(m)
			}
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestTestLoginSucceedsAgainstTheDemoIdP(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = tlBrowser(t, idp)
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true))
	step.Enter(s)

	intro := viewFits(t, step, 80, 17)
	for _, want := range []string{"Demo: sign in as ada with the password demo-password", "opens in your browser", "saved untested"} {
		if !strings.Contains(flat(intro), want) {
			t.Errorf("intro lacks %q:\n%s", want, intro)
		}
	}
	if help := keysHelp(step.Keys()); !slices.Contains(help, "enter start test login") || slices.Contains(help, "esc cancel") {
		t.Errorf("idle keys %v", help)
	}

	if shell := run(t, step, press("enter"), 15*time.Second); len(shell) != 0 {
		t.Errorf("shell messages %v", shell)
	}
	r := s.TestLogin
	if r == nil || !r.OK {
		t.Fatalf("test login result %+v", r)
	}
	if r.Profile.Email != idp.User.Email || r.Profile.LastName != "Lovelace" || !slices.Equal(r.Profile.Roles, []string{"admin"}) ||
		!slices.Contains(r.Profile.Groups, "oidc-admins") || r.Claims["sub"] != idp.User.Subject {
		t.Errorf("profile %+v, claims %v", r.Profile, r.Claims)
	}
	logins, err := env.Store.ListTestLogins(t.Context(), s.Connection.ID)
	if err != nil || len(logins) != 1 || !logins[0].OK || logins[0].Profile.Email != idp.User.Email || logins[0].Claims["sub"] == nil {
		t.Fatalf("stored test logins %+v, %v", logins, err)
	}
	if r.ID != logins[0].ID {
		t.Errorf("the setup keeps test login ID %d, the store has %d", r.ID, logins[0].ID)
	}
	events, err := env.Store.ListAudit(t.Context(), store.AuditQuery{ConnectionID: s.Connection.ID})
	if err != nil || len(events) == 0 || events[0].Action != "connection.test_login" || events[0].Detail != "test login succeeded" {
		t.Errorf("audit %+v, %v", events, err)
	}

	for _, w := range []int{120, 80, 60, 40} {
		v := viewFits(t, step, w, 60)
		for _, want := range []string{"test login worked", "Profile", "ada.lovelace@example.com", "Claims", `"Ada"`, "admin"} {
			if !strings.Contains(v, want) {
				t.Errorf("width %d: result lacks %q:\n%s", w, want, v)
			}
		}
	}
	// Side by side from 100 columns: the profile's first row and the claims' share a line.
	if v := viewFits(t, step, 120, 60); !strings.Contains(v, "Profile") || !tlSameLine(v, "Profile", "Claims") {
		t.Errorf("wide layout not side by side:\n%s", v)
	}
	if v := viewFits(t, step, 80, 60); tlSameLine(v, "Profile", "Claims") {
		t.Errorf("narrow layout side by side:\n%s", v)
	}
	// The demo IdP's login is clean: no provider, no pitfall, nothing to confirm at the review.
	if v := viewFits(t, step, 80, 60); strings.Contains(v, "Provider:") || strings.Contains(v, "Fix:") || len(diagClaims(s)) != 0 || len(rvWarnings(s, (&Env{}).words())) != 0 {
		t.Errorf("a clean login is diagnosed: %v %v\n%s", diagClaims(s), rvWarnings(s, (&Env{}).words()), v)
	}
	// At 80×17 the result scrolls.
	viewFits(t, step, 80, 17)
	if help := keysHelp(step.Keys()); !slices.Contains(help, "↑/↓ scroll") || !slices.Contains(help, "enter continue") {
		t.Errorf("result keys %v", help)
	}

	// Testing again reuses the discovered provider (keys fetched once).
	tl := step.(*testLogin)
	p := tl.providers[s.Connection.DiscoveryURL]
	first := r.At
	run(t, step, press("r"), 15*time.Second)
	if s.TestLogin == nil || !s.TestLogin.OK || s.TestLogin.At.Equal(first) && s.TestLogin == r || tl.providers[s.Connection.DiscoveryURL] != p {
		t.Errorf("second login %+v (provider reused: %v)", s.TestLogin, tl.providers[s.Connection.DiscoveryURL] == p)
	}
	if shell := run(t, step, press("enter"), time.Second); len(shell) != 1 || shell[0] != (NextMsg{}) {
		t.Errorf("enter after success: %v", shell)
	}
}

// tlSameLine reports whether a and b appear on one line of v.
func tlSameLine(v, a, b string) bool {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, a) && strings.Contains(l, b) {
			return true
		}
	}
	return false
}

func TestTestLoginWrongSecretExplainsAndPointsToCredentials(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = tlBrowser(t, idp)
	s := tlSetup(t, env)
	s.Connection.ClientSecret = "not-the-secret-at-all"
	step := NewTestLogin(env, NewTheme(false))
	step.Enter(s)
	run(t, step, press("enter"), 15*time.Second)

	r := s.TestLogin
	if r == nil || r.OK || r.Code != "invalid_client" || r.Fix == "" {
		t.Fatalf("result %+v", r)
	}
	for _, w := range []int{80, 60, 40} {
		v := flat(viewFits(t, step, w, 40))
		for _, want := range []string{"test login failed", "rejected the client credentials", "Fix:", "go back to step 2, Credentials"} {
			if !strings.Contains(v, want) {
				t.Errorf("width %d lacks %q: %s", w, want, v)
			}
		}
	}
	help := keysHelp(step.Keys())
	for _, want := range []string{"enter try again", "2 credentials", "4 claims", "5 roles", "s skip (save untested)"} {
		if !slices.Contains(help, want) {
			t.Errorf("failure keys %v lack %q", help, want)
		}
	}
	tlRecordedFailedGoesTo(t, env, s, step, "client credentials", "2", StepCredentials)
	if shell := run(t, step, press("s"), time.Second); len(shell) != 1 || shell[0] != (NextMsg{}) {
		t.Errorf("s sent %v", shell)
	}
}

func TestTestLoginPastedAddressFinishesTheLogin(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = nil // as over SSH: the URL is only shown
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true))
	tl := step.(*testLogin)
	step.Enter(s)
	d := newTLDriver(t, step)
	d.send(press("enter"))
	d.until("the login to wait", func() bool { return tl.phase == tlWaiting })

	v := flat(viewFits(t, step, 80, 40))
	wantIn(t, "waiting view", v, "Open this URL in your browser", "Waiting for you to sign in", "If your browser could not reach "+s.Connection.RedirectURI)
	if !strings.Contains(strings.ReplaceAll(viewFits(t, step, 80, 40), "\n", ""), tl.authURL[:60]) {
		t.Errorf("URL not shown")
	}
	if help := keysHelp(step.Keys()); !slices.Equal(help, []string{"c copy URL", "p paste address", "x cancel"}) {
		t.Errorf("waiting keys %v", help)
	}
	d.send(press("c"))
	d.until("the copy note", func() bool { return len(d.shell) > 0 })
	if len(d.shell) != 1 || d.shell[0] != StatusMsg("Sent the authorization URL to your terminal's clipboard (if it supports OSC 52)") {
		t.Errorf("copy: %v", d.shell)
	}

	to, err := idp.SignIn(t.Context(), tl.authURL)
	if err != nil {
		t.Fatal(err)
	}
	d.send(press("p"))
	if !step.Capturing() {
		t.Fatal("p did not focus the paste field")
	}
	d.send(tea.PasteMsg{Content: "https://example.com/elsewhere?state=x"})
	d.send(press("enter"))
	d.until("the refusal", func() bool { return tl.pasteErr != nil })
	if v := viewFits(t, step, 60, 40); !strings.Contains(flat(v), "is not this login's redirect URI") {
		t.Errorf("refusal not shown: %s", v)
	}
	d.send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear the field
	d.send(tea.PasteMsg{Content: to.String()})
	d.send(press("enter"))
	d.until("the result", func() bool { return s.TestLogin != nil })
	d.until("the record", func() bool { return d.pending == 0 })
	if !s.TestLogin.OK || s.TestLogin.Profile.IDPID != idp.User.Subject {
		t.Fatalf("result %+v", s.TestLogin)
	}
	if step.Capturing() {
		t.Error("paste field still focused after the login")
	}
	if logins, err := env.Store.ListTestLogins(t.Context(), s.Connection.ID); err != nil || len(logins) != 1 || !logins[0].OK {
		t.Errorf("stored %+v, %v", logins, err)
	}
}

func TestTestLoginCancelReturnsToIdleAndForgetsTheLogin(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = nil
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true))
	tl := step.(*testLogin)
	step.Enter(s)
	d := newTLDriver(t, step)
	for _, cancelKey := range []string{"x", "esc"} {
		d.shell = nil
		d.send(press("enter"))
		d.until("the login to wait", func() bool { return tl.phase == tlWaiting })
		authURL := tl.authURL
		d.send(press(cancelKey))
		d.until("the cancel note", func() bool { return len(d.shell) > 0 && d.shell[len(d.shell)-1] == StatusMsg("Test login cancelled") })
		if tl.phase != tlIdle {
			t.Fatalf("%s: phase %d", cancelKey, tl.phase)
		}
		d.until("the cancelled wait to end", func() bool { return d.pending == 0 })
		// A sign-in finished after the cancel reaches no login.
		to, err := idp.SignIn(t.Context(), authURL)
		if err != nil {
			t.Fatal(err)
		}
		var srv *flow.CallbackServer
		if srv, err = env.Callbacks(s.Connection.RedirectURI); err != nil {
			t.Fatal(err)
		}
		if err := srv.Deliver(to.String()); !flow.IsCode(err, "paste_unknown_state") {
			t.Errorf("late callback: %v", err)
		}
	}
	if s.TestLogin != nil {
		t.Errorf("a cancelled login left a result: %+v", s.TestLogin)
	}
	if logins, _ := env.Store.ListTestLogins(t.Context(), s.Connection.ID); len(logins) != 0 {
		t.Errorf("a cancelled login was recorded: %+v", logins)
	}
	if help := keysHelp(step.Keys()); slices.Contains(help, "x cancel") {
		t.Errorf("idle keys %v", help)
	}
}

func TestTestLoginRunLinesWithBrowser(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = tlBrowser(t, idp)
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true)).(LineStep)
	in, typed := tlTyping()
	out := &tlScreen{want: "Press Enter to continue", seen: make(chan struct{})}
	typed <- "\n" // start
	go func() {
		<-out.seen
		typed <- "\n" // continue after the result
		close(typed)
	}()
	if err := step.RunLines(t.Context(), s, NewPrompter(in, out)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	wantOutput(t, flat(text), "Demo: sign in as ada", "Open this URL in your browser", "The test login worked.", "ada.lovelace@example.com", "roles admin")
	if strings.Contains(text, "\x1b[") {
		t.Error("ANSI in line mode")
	}
	if s.TestLogin == nil || !s.TestLogin.OK || s.TestLogin.ID == 0 {
		t.Errorf("result %+v", s.TestLogin)
	}
	if strings.Contains(text, "Label group") {
		t.Errorf("asked to label the demo's named groups:\n%s", text)
	}
}

func TestTestLoginRunLinesPastedAddress(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	pr, typed := tlTyping()
	// The "browser" signs in but cannot reach the callback: the person
	// pastes first something wrong, then the address bar's URL.
	env.OpenBrowser = func(authURL string) error {
		to, err := idp.SignIn(context.Background(), authURL)
		if err != nil {
			return err
		}
		typed <- "hello\n"
		typed <- to.String() + "\n"
		typed <- "\n" // continue after the result
		close(typed)
		return nil
	}
	s := tlSetup(t, env)
	typed <- "\n" // start
	var out bytes.Buffer
	if err := NewTestLogin(env, NewTheme(true)).(LineStep).RunLines(t.Context(), s, NewPrompter(pr, &out)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	wantOutput(t, text, "paste the address bar's URL here", "not a web address", "Address received", "The test login worked.")
	if s.TestLogin == nil || !s.TestLogin.OK {
		t.Errorf("result %+v", s.TestLogin)
	}
}

func TestTestLoginRunLinesSkipAndBack(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true))
	text, err := runLines(t, step, s, "what\nskip\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "saved untested") || !strings.Contains(text, "Please answer") || s.TestLogin != nil {
		t.Errorf("skip: %q, %+v", text, s.TestLogin)
	}
	if _, err := runLines(t, step, s, "back\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back: %v", err)
	}
}

func TestTestLoginRunLinesCancel(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := tlSetup(t, env)
	// Start a login, cancel the wait, then skip: nothing is recorded.
	text, err := runLines(t, NewTestLogin(env, NewTheme(true)), s, "\ncancel\nskip\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Cancelled: nothing was recorded.") || s.TestLogin != nil {
		t.Errorf("cancel: %q, %+v", text, s.TestLogin)
	}
	if logins, err := env.Store.ListTestLogins(t.Context(), s.Connection.ID); err != nil || len(logins) != 0 {
		t.Errorf("a cancelled login was recorded: %+v, %v", logins, err)
	}
}

// TestTestLoginShowsAFailingProfileAsAFailedMapping: a login that signs in
// but maps email from preferred_username ("ada") is not shown as working:
// it names the problem, the claim that holds an address, and step 4; the
// store records it as failed. Line mode says the same.
func TestTestLoginShowsAFailingProfileAsAFailedMapping(t *testing.T) {
	t.Parallel()
	env, idp := testEnvIdP(t)
	env.OpenBrowser = tlBrowser(t, idp)
	s := tlSetup(t, env)
	s.Connection.Claims.Email = "preferred_username"
	step := NewTestLogin(env, NewTheme(true))
	step.Enter(s)
	run(t, step, press("enter"), 15*time.Second)
	if r := s.TestLogin; r == nil || !r.OK || r.Profile.Email != "ada" {
		t.Fatalf("result %+v", r)
	}
	for _, w := range []int{120, 80, 40} {
		v := flat(viewFits(t, step, w, 60))
		wantIn(t, "failing profile", v, "Signed in, but the mapped profile cannot sign anyone in",
			`Email "ada" (claim "preferred_username") is not an email address`,
			`the claim "email" holds an address: map email to email in step 4, Claims (press 4)`)
		if strings.Contains(v, "test login worked") {
			t.Errorf("width %d: a failing profile shown as working: %s", w, v)
		}
	}
	tlRecordedFailedGoesTo(t, env, s, step, "mapped profile fails", "4", StepClaims)
	// Mapped right in step 4, the profile passes without a new login.
	s.Connection.Claims.Email = "email"
	step.Enter(s)
	if v := flat(viewFits(t, step, 80, 60)); !strings.Contains(v, "test login worked") || len(tlProblems(s)) != 0 {
		t.Errorf("after the fix: %v\n%s", tlProblems(s), v)
	}

	// Line mode.
	s.TestLogin = nil
	s.Connection.Claims.Email = "preferred_username"
	lines := NewTestLogin(env, NewTheme(true)).(LineStep)
	in, typed := tlTyping()
	out := &tlScreen{want: "Press Enter to continue", seen: make(chan struct{})}
	typed <- "\n"
	go func() {
		<-out.seen
		typed <- "\n"
		close(typed)
	}()
	if err := lines.RunLines(t.Context(), s, NewPrompter(in, out)); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, flat(out.String()), "signed in, but the mapped profile cannot sign anyone in",
		`Problem: Email "ada" (claim "preferred_username") is not an email address.`,
		`the claim "email" holds an address: map email to email in step 4`, "activating then needs an override")
	if strings.Contains(out.String(), "The test login worked") {
		t.Errorf("line mode shows a failing profile as working:\n%s", out.String())
	}
}

// tlRecordedFailedGoesTo wants the store to hold one failed test login of
// s whose error says want, and key to send the shell to step to.
func tlRecordedFailedGoesTo(t *testing.T, env *Env, s *Setup, step Step, want, key string, to int) {
	t.Helper()
	logins, err := env.Store.ListTestLogins(t.Context(), s.Connection.ID)
	if err != nil || len(logins) != 1 || logins[0].OK || !strings.Contains(logins[0].Error, want) {
		t.Fatalf("stored %+v, %v", logins, err)
	}
	if shell := run(t, step, press(key), time.Second); len(shell) != 1 || shell[0] != (GotoMsg{Step: to}) {
		t.Errorf("%s sent %v", key, shell)
	}
}

// Enter on a passed test login whose record is still being stored waits
// for it, then goes on: the review links the stored test login by the ID
// the record brings (pressed at once, the activation could miss it).
func TestTestLoginContinueWaitsForItsRecord(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := tlSetup(t, env)
	step := NewTestLogin(env, NewTheme(true)).(*testLogin)
	step.Enter(s)
	record := step.finish(&flow.LoginResult{Profile: flow.Profile{IDPID: "u1", Email: "ada@example.com"},
		Claims: map[string]any{"sub": "u1", "email": "ada@example.com"}}, nil)
	if _, nav := step.Update(press("enter")); nav != nil {
		t.Fatalf("enter went on (%v) before the test login was stored", nav)
	}
	msg := record()
	if _, nav := step.Update(msg); nav != (NextMsg{}) {
		t.Fatalf("the record arrived and the step did not go on: %v", nav)
	}
	if s.TestLogin == nil || s.TestLogin.ID == 0 {
		t.Errorf("the setup's test login has no stored ID: %+v", s.TestLogin)
	}
	if _, nav := step.Update(press("enter")); nav != (NextMsg{}) {
		t.Errorf("enter after the record: %v", nav)
	}
}
