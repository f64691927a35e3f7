package tui

import (
	"encoding/json"
	"image/color"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// typingStep is a minimal step for testing the shell alone: typed letters
// go into the connection's name (as a real step writes what is typed into
// the setup), enter completes it.
type typingStep struct {
	title string
	setup *steps.Setup
	enter key.Binding
	typed string // what this step received
}

func newTypingStep(title string) *typingStep {
	return &typingStep{title: title, enter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue"))}
}

func (s *typingStep) Title() string                 { return s.title }
func (s *typingStep) Enter(st *steps.Setup) tea.Cmd { s.setup = st; return nil }
func (s *typingStep) Keys() []key.Binding           { return []key.Binding{s.enter} }
func (s *typingStep) Capturing() bool               { return true }
func (s *typingStep) SetSize(w, h int)              {}
func (s *typingStep) View() string {
	return s.title + ": " + s.setup.Connection.Name + strings.Repeat(" long line", 20)
}
func (s *typingStep) Update(msg tea.Msg) (tea.Cmd, steps.Nav) {
	k, ok := msg.(tea.KeyPressMsg)
	switch {
	case !ok:
	case key.Matches(k, s.enter):
		return nil, steps.NextMsg{}
	case k.Text != "":
		if s.setup.Connection.Organization == "" {
			s.setup.Connection.Organization = "Acme Corp"
		}
		s.setup.Connection.Name += k.Text
		s.typed += k.Text
	}
	return nil, nil
}

func shellEnv(t *testing.T) *steps.Env {
	t.Helper()
	st := stepstest.OpenStore(t, nil)
	return &steps.Env{Context: t.Context(), Store: st, Now: time.Now, Actor: "local:test"}
}

func shellModel(t *testing.T) (*Model, *steps.Env) {
	env := shellEnv(t)
	m := newModel(env, steps.NewThemes(), []steps.Step{
		newTypingStep("One"), newTypingStep("Two"), newTypingStep("Three"),
	})
	drive(t, m, m.Init())
	return m, env
}

// drive runs cmd and feeds every message it yields back into the model,
// like the program would, until nothing is left. It reports whether the
// model asked to quit.
func drive(t *testing.T, m *Model, cmd tea.Cmd) (quit bool) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 200 {
			t.Fatal("command loop")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			quit = true
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
	return quit
}

func typeKeys(t *testing.T, m *Model, keys ...tea.KeyPressMsg) (quit bool) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(k)
		if drive(t, m, cmd) {
			quit = true
		}
	}
	return quit
}

func letter(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

var (
	enterKey = tea.KeyPressMsg{Code: tea.KeyEnter}
	escKey   = tea.KeyPressMsg{Code: tea.KeyEscape}
	ctrlC    = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
)

func TestShellSavesWhatIsTypedAsADraft(t *testing.T) {
	m, env := shellModel(t)
	typeKeys(t, m, letter('a'), letter('b'))

	var saved steps.Setup
	draft := stepstest.OnlyDraft(t, env.Store, "", &saved)
	if saved.Connection.Name != "ab" || draft.Organization != "Acme Corp" {
		t.Errorf("draft holds %q of %q, want \"ab\" of Acme Corp", saved.Connection.Name, draft.Organization)
	}
	if m.setup.DraftID != draft.ID {
		t.Errorf("setup's draft ID %q, stored %q", m.setup.DraftID, draft.ID)
	}

	// More typing updates the same draft; it never makes a second one.
	typeKeys(t, m, letter('c'))
	stepstest.OnlyDraft(t, env.Store, "", &saved)
	if saved.Connection.Name != "abc" {
		t.Errorf("draft holds %q, want abc", saved.Connection.Name)
	}
}

func TestShellNavigatesAndRecordsTheStep(t *testing.T) {
	m, env := shellModel(t)
	typeKeys(t, m, letter('x'), enterKey, enterKey)
	if m.cur != 2 || m.setup.Step != 2 || m.setup.Reached != 2 {
		t.Fatalf("at step %d (setup %d, reached %d), want 2", m.cur, m.setup.Step, m.setup.Reached)
	}
	typeKeys(t, m, escKey)
	if m.cur != 1 || m.setup.Reached != 2 {
		t.Fatalf("after esc at step %d (reached %d), want 1 (reached 2)", m.cur, m.setup.Reached)
	}
	drafts, _ := env.Store.ListDrafts(t.Context(), "")
	if len(drafts) != 1 || drafts[0].Step != 1 {
		t.Fatalf("draft step %+v, want 1", drafts)
	}

	// A new shell resumes the stored draft at its step.
	var resumed steps.Setup
	_ = json.Unmarshal(drafts[0].Form, &resumed)
	m2, _ := shellModel(t)
	drive(t, m2, steps.Cmd(steps.ResumeMsg{Setup: &resumed}))
	if m2.cur != 1 || m2.setup.Connection.Name != "x" {
		t.Errorf("resumed at %d with %q, want 1 with x", m2.cur, m2.setup.Connection.Name)
	}
}

func TestShellQuitsAtOnceWhenSaved(t *testing.T) {
	m, _ := shellModel(t)
	if !typeKeys(t, m, ctrlC) {
		t.Error("ctrl+c with nothing entered did not quit")
	}
	m, _ = shellModel(t)
	typeKeys(t, m, letter('a')) // saved by the time drive returns
	if !typeKeys(t, m, ctrlC) {
		t.Error("ctrl+c with everything saved did not quit")
	}
}

func TestShellAsksBeforeLosingUnsavedInput(t *testing.T) {
	m, env := shellModel(t)
	typeKeys(t, m, letter('a'))
	env.Store.Close() // the next save fails
	_, cmd := m.Update(letter('b'))
	_ = cmd // the debounced save never runs here: the input is unsaved
	if typeKeys(t, m, ctrlC) {
		t.Fatal("quit without asking while the last input could not be saved")
	}
	view := ansi.Strip(m.View().Content)
	if !strings.Contains(view, "Quit anyway? y/n") {
		t.Fatalf("no quit question on screen:\n%s", view)
	}
	if typeKeys(t, m, letter('n')) || m.confirmQuit {
		t.Fatal("n did not cancel the quit")
	}
	typeKeys(t, m, ctrlC)
	if !typeKeys(t, m, letter('y')) {
		t.Fatal("y did not quit")
	}
}

func TestShellViewFitsTheTerminal(t *testing.T) {
	m, _ := shellModel(t)
	typeKeys(t, m, letter('a'), enterKey)
	for _, size := range [][2]int{{80, 24}, {60, 20}, {40, 12}, {120, 40}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(m.View().Content, "\n")
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if w := lipgloss.Width(l); w > size[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, ansi.Strip(l))
			}
		}
		view := ansi.Strip(m.View().Content)
		if !strings.Contains(view, "Acme Corp") || !strings.Contains(view, "esc") {
			t.Errorf("%dx%d: header or help missing:\n%s", size[0], size[1], view)
		}
	}
}

func TestShellFollowsALightBackground(t *testing.T) {
	m, _ := shellModel(t)
	dark := m.theme.Text.GetForeground()
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.theme.IsDark {
		t.Fatal("the theme stayed dark on a white background")
	}
	if m.theme.Text.GetForeground() == dark {
		t.Error("the text colour did not change for the light background")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !m.theme.IsDark || m.theme.Text.GetForeground() != dark {
		t.Error("the theme did not return to dark on a black background")
	}
}

// TestShellKeysAfterEnterReachTheNextStep: keys that arrive right behind an
// enter that completes a step (typed ahead over a slow link) reach the next
// step, not the one enter completed; the commands of that enter's update,
// run late, do not move the wizard a second time.
func TestShellKeysAfterEnterReachTheNextStep(t *testing.T) {
	m, _ := shellModel(t)
	typeKeys(t, m, letter('a'))
	first := m.steps[0].(*typingStep)
	_, late := m.Update(enterKey) // its commands have not run yet
	m.Update(letter('z'))
	if m.cur != 1 {
		t.Fatalf("after enter at step %d, want 1", m.cur)
	}
	if first.typed != "a" || m.steps[1].(*typingStep).typed != "z" {
		t.Fatalf("step 0 got %q, step 1 got %q: want a and z", first.typed, m.steps[1].(*typingStep).typed)
	}
	drive(t, m, late)
	if m.cur != 1 || m.setup.Step != 1 {
		t.Errorf("the late commands of the step change moved the wizard to %d", m.cur)
	}
	typeKeys(t, m, enterKey)
	if m.cur != 2 {
		t.Errorf("the next enter went to %d, want 2", m.cur)
	}
}

// TestShellReusesTheScreenAfterDraftSaves: the draft saves that follow
// keystrokes change nothing on screen, so the shell does not draw it again
// for them; what it shows is still exactly the current screen.
func TestShellReusesTheScreenAfterDraftSaves(t *testing.T) {
	m, _ := shellModel(t)
	typeKeys(t, m, letter('a'))
	_, save := m.Update(letter('b'))
	drawn := m.frame
	if !strings.Contains(m.View().Content, "ab") {
		t.Fatalf("a key press did not redraw:\n%s", m.View().Content)
	}
	drive(t, m, save) // the debounced save and its reply
	if m.frame != drawn {
		t.Fatal("a draft save drew the screen again")
	}
	if got, want := m.View().Content, m.render().Content; got != want {
		t.Errorf("reused screen differs from the current one:\n%s\nwant\n%s", got, want)
	}
	m.Update(letter('c'))
	if m.frame == drawn || !strings.Contains(m.View().Content, "abc") {
		t.Errorf("a key press did not redraw:\n%s", m.View().Content)
	}
}

// The header names the connection as it is now: renamed, or on a
// narrower terminal, it is worked out again (it is kept between redraws).
func TestHeaderFollowsTheConnectionsName(t *testing.T) {
	m, _ := shellModel(t)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.setup.Connection.Organization, m.setup.Connection.Name = "Acme Corp", "Okta"
	m.Update(letter('x'))
	if s := screenOf(m); !strings.Contains(s, "Acme Corp / Okta") {
		t.Fatalf("the header does not name the connection:\n%s", s)
	}
	m.setup.Connection.Name = "Entra"
	m.Update(letter('y'))
	if s := screenOf(m); !strings.Contains(s, "Acme Corp / Entra") || strings.Contains(s, "Okta") {
		t.Errorf("the header does not follow the renamed connection:\n%s", s)
	}
	m.Update(tea.WindowSizeMsg{Width: 24, Height: 24})
	if s := screenOf(m); !strings.Contains(s, "…") {
		t.Errorf("on a narrow terminal the header is not cut:\n%s", s)
	}
}
