package tui

import (
	"image/color"
	"strings"
	"testing"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// A terminal reporting its background costs the session no theme: the
// dark and the light one are built once, and the shell switches between
// them (building a theme allocates some 27 KiB; redrawing the header and
// the footer in the other colours some 15 KiB).
func TestABackgroundReportBuildsNoTheme(t *testing.T) {
	m := New(shellEnv(t))
	m.Init()
	light, dark := tea.BackgroundColorMsg{Color: color.White}, tea.BackgroundColorMsg{Color: color.Black}
	n := stepstest.AllocatedAtMost(10, 30<<10, func() {
		m.Update(light)
		m.Update(dark)
	})
	if n > 30<<10 {
		t.Errorf("a light and a dark background report allocate %d KiB: want no theme built (< 30 KiB)", n>>10)
	}
}

// Sessions of one server at the same step and width share their footer:
// drawn once, held once. A footer with a session's own words (a status, a
// draft not saved) is that session's alone.
func TestSessionsShareTheirFooter(t *testing.T) {
	themes := steps.NewThemes()
	one, two := shellEnv(t), shellEnv(t)
	one.Themes, two.Themes = themes, themes
	a, b := New(one), New(two)
	a.Init()
	b.Init()
	fa, fb := a.footer(), b.footer()
	if fa != fb || unsafe.StringData(fa) != unsafe.StringData(fb) {
		t.Fatalf("two sessions at the first step drew a footer each:\n%q\n%q", fa, fb)
	}
	a.Update(steps.StatusMsg("Copied conn_secret7 to the clipboard"))
	if fa = a.footer(); !strings.Contains(fa, "conn_secret7") {
		t.Fatalf("the status is not in the footer: %q", fa)
	}
	c := New(&steps.Env{Context: t.Context(), Store: one.Store, Now: time.Now, Themes: themes})
	c.Init()
	if fc := c.footer(); strings.Contains(fc, "conn_secret7") || fc != fb {
		t.Errorf("a third session's footer is not the shared one: %q", fc)
	}
	a.Update(tea.WindowSizeMsg{Width: 60, Height: 24})
	b.Update(tea.WindowSizeMsg{Width: 70, Height: 24})
	if fa, fb = a.footer(), b.footer(); fa == fb || lipgloss.Width(fb) > 70 {
		t.Errorf("at 60 and 70 columns the footers are %q and %q", fa, fb)
	}
}

// Sessions of one server draw with the same two themes: each switches
// between them on its own terminal's report, and none changes them.
func TestSessionsShareTheirThemes(t *testing.T) {
	themes := steps.NewThemes()
	one, two := shellEnv(t), shellEnv(t)
	one.Themes, two.Themes = themes, themes
	a, b := New(one), New(two)
	a.Init()
	b.Init()
	if a.Theme() != themes.For(true) || b.Theme() != themes.For(true) {
		t.Fatal("two sessions of one server start with themes of their own")
	}
	darkText := themes.For(true).Text.GetForeground()
	a.Update(tea.BackgroundColorMsg{Color: color.White})
	if a.Theme() != themes.For(false) || b.Theme() != themes.For(true) {
		t.Error("a light background in one session did not switch it, alone, to the shared light theme")
	}
	if themes.For(true).Text.GetForeground() != darkText || themes.For(true).IsDark != true {
		t.Error("a light background changed the shared dark theme")
	}
	a.Update(tea.BackgroundColorMsg{Color: color.Black})
	if a.Theme() != themes.For(true) {
		t.Error("a dark background did not switch the session back to the shared dark theme")
	}
}

// The shell of a session drawn with a server's themes keeps little of
// its own: no theme, and no help bubble between footers (its styles are
// 4.6 KiB), only what the footer drew.
func TestTheShellKeepsLittleOfItsOwn(t *testing.T) {
	env := shellEnv(t)
	env.Themes = steps.NewThemes()
	n := stepstest.Kept(64, func() any {
		m := newModel(env, env.Themes, []steps.Step{newTypingStep("One"), newTypingStep("Two")})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		return m
	})
	if n > 4<<10 {
		t.Errorf("a session's shell keeps %d KiB: want < 4 (7 with a help bubble kept)", n>>10)
	}
}

// leavingStep is a typingStep that counts the times the shell left it.
type leavingStep struct {
	*typingStep
	left int
}

func (s *leavingStep) Leave() { s.left++ }

// The shell tells a step when the person leaves it, by enter, by esc or
// by resuming another setup, so that it can let go of what only its
// screen needs; not when they stay.
func TestTheShellTellsAStepItIsLeft(t *testing.T) {
	env := shellEnv(t)
	one, two := &leavingStep{typingStep: newTypingStep("One")}, &leavingStep{typingStep: newTypingStep("Two")}
	m := newModel(env, steps.NewThemes(), []steps.Step{one, two})
	update := func(msg tea.Msg) {
		_, cmd := m.Update(msg)
		drive(t, m, cmd)
	}
	drive(t, m, m.Init())
	update(enterKey)
	if m.cur != 1 || one.left != 1 || two.left != 0 {
		t.Fatalf("after enter: step %d, left %d and %d times", m.cur, one.left, two.left)
	}
	update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if m.cur != 0 || two.left != 1 || one.left != 1 {
		t.Fatalf("after esc: step %d, left %d and %d times", m.cur, one.left, two.left)
	}
	update(steps.GotoMsg{Step: 0})
	if one.left != 1 {
		t.Errorf("going to the step on screen left it")
	}
	s := steps.NewSetup()
	s.Step = 1
	update(steps.ResumeMsg{Setup: s})
	if m.cur != 1 || one.left != 2 {
		t.Errorf("after resuming at step 1: step %d, step 0 left %d times", m.cur, one.left)
	}
}
