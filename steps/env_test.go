package steps

import (
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// testEnv is a real environment for step tests: a SQLite store in a
// temporary folder, the guarded HTTP client, a callback server on a free
// loopback port, and a running demo IdP whose client is in env.Demo.
func testEnv(t *testing.T) *Env {
	t.Helper()
	env, _ := testEnvIdP(t)
	return env
}

// testEnvIdP is testEnv that also returns the demo IdP, whose SignIn plays
// the browser's part of a login.
func testEnvIdP(t *testing.T) (*Env, *demoidp.IdP) {
	t.Helper()
	st := stepstest.OpenStore(t, nil)
	w := stepstest.StartWorld(t)
	return &Env{
		Context:      t.Context(),
		Store:        st,
		HTTP:         w.HTTP,
		Timeout:      stepstest.Timeout,
		Callbacks:    w.Callbacks,
		RedirectBase: w.RedirectBase(),
		Now:          time.Now,
		Actor:        "local:test",
		Demo: &Demo{DiscoveryURL: w.IdP.DiscoveryURL, ClientID: w.IdP.ClientID, ClientSecret: w.IdP.ClientSecret,
			Username: w.IdP.User.Username, Password: w.IdP.User.Password},
	}, w.IdP
}

// press is a key press for Update tests: "enter", "esc", "tab", "a", ...
func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// run feeds msg to the step and then every message its commands produce,
// breadth first, until none is left or limit messages were handled. It
// returns the messages meant for the shell (NextMsg, BackMsg, GotoMsg,
// ResumeMsg, FinishedMsg, StatusMsg), in order. Commands that block (a
// login waiting for its callback) are run concurrently and their results
// collected until timeout. Spinner ticks are dropped; a step with other
// periodic ticks must stop them once its work is done.
func run(t *testing.T, s Step, msg tea.Msg, timeout time.Duration) []tea.Msg {
	t.Helper()
	var shell []tea.Msg
	results := make(chan tea.Msg, 64)
	pending, handled := 0, 0
	var handle func(tea.Msg)
	dispatch := func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		pending++
		go func() { results <- cmd() }()
	}
	handle = func(m tea.Msg) {
		switch m := m.(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range m {
				dispatch(c)
			}
		case NextMsg, BackMsg, GotoMsg, ResumeMsg, FinishedMsg, StatusMsg, JoinMsg:
			shell = append(shell, m)
		default:
			cmd, nav := s.Update(m)
			if nav != nil {
				shell = append(shell, nav)
			}
			dispatch(cmd)
		}
	}
	handle(msg)
	deadline := time.After(timeout)
	for pending > 0 {
		select {
		case m := <-results:
			pending--
			if _, tick := m.(spinner.TickMsg); tick {
				continue // drop animation ticks so runs end
			}
			if _, tick := m.(liveTickMsg); tick {
				continue // and the live list's refreshes (a test sends one)
			}
			if handled++; handled > 500 {
				t.Fatalf("more than 500 messages: a command loop?")
			}
			handle(m)
		case <-deadline:
			return shell
		}
	}
	return shell
}

// viewAt sizes the step as the shell does, then draws it.
func viewAt(s Step, width, height int) string {
	s.SetSize(width, height)
	return s.View()
}

// viewFits is the step's view at width×height without styles; it fails
// the test when the view is wider or higher than that.
func viewFits(t *testing.T, s Step, width, height int) string {
	t.Helper()
	view := ansi.Strip(viewAt(s, width, height))
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		t.Errorf("at %dx%d the view has %d lines:\n%s", width, height, len(lines), view)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("at %dx%d line %d is %d cells wide: %q", width, height, i+1, w, l)
		}
	}
	return view
}

// viewsFit draws the step at 80, 60 and 40 columns and, at each width,
// at each of heights, failing the test where a view does not fit.
func viewsFit(t *testing.T, s Step, heights ...int) {
	t.Helper()
	for _, w := range []int{80, 60, 40} {
		for _, h := range heights {
			viewFits(t, s, w, h)
		}
	}
}

// flat is a view or an output with its whitespace folded, for phrases
// that wrap.
func flat(v string) string { return strings.Join(strings.Fields(v), " ") }

// wantIn reports each of wants that text lacks; what names the text (a
// view, an output) in the report.
func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// keysHelp lists the help of bindings, for assertions on the help line.
func keysHelp(bs []key.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Help().Key+" "+b.Help().Desc)
	}
	return out
}
