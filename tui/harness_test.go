package tui

import (
	"image/color"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// The terminal every wizard test runs in.
const (
	termWidth  = 80
	termHeight = 24
)

// screenProbe is the wizard as the program runs it, plus one message the
// test sends to read the screen: the view is rendered inside the program's
// event loop, so reading it never races with Update.
//
// NOTE: the tests read the model's view rather than teatest's output
// stream (teatest.WaitFor): Bubble Tea v2's renderer writes only the cells
// that changed since the last frame, so a text on screen need not appear
// in one piece in the stream, and a text that went away cannot be told
// from the stream at all ("Loading the guide…" gone).
type screenProbe struct{ *Model }

// screenRequest asks the probe for the screen as plain text.
type screenRequest chan string

func (p screenProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if req, ok := msg.(screenRequest); ok {
		req <- screenOf(p.Model)
		return p, nil
	}
	_, cmd := p.Model.Update(msg)
	return p, cmd
}

// screenOf is the model's screen without colours or styles.
func screenOf(m *Model) string {
	return ansi.Strip(m.View().Content)
}

// wizard is a running wizard program in a terminal without colours.
type wizard struct {
	tm *teatest.TestModel
}

// look is a terminal the wizard runs in: its size, and whether its
// background is light.
type look struct {
	width, height int
	light         bool
}

// standard is the terminal of most tests: 80×24, dark.
var standard = look{width: termWidth, height: termHeight}

// startWizard runs the wizard on env in the standard terminal; with a
// setup, it resumes it at its step, as step 0 does with a stored draft.
func startWizard(t *testing.T, env *steps.Env, setup *steps.Setup) *wizard {
	t.Helper()
	return startWizardIn(t, standard, env, setup)
}

// startWizardIn is startWizard in the terminal l.
func startWizardIn(t *testing.T, l look, env *steps.Env, setup *steps.Setup) *wizard {
	t.Helper()
	tm := teatest.NewTestModel(t, screenProbe{New(env)},
		teatest.WithInitialTermSize(l.width, l.height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	w := &wizard{tm: tm}
	t.Cleanup(func() { w.stop(t) })
	if l.light {
		tm.Send(tea.BackgroundColorMsg{Color: color.White}) // what a light terminal answers
	}
	if setup != nil {
		tm.Send(steps.ResumeMsg{Setup: setup})
	}
	return w
}

// stop quits the program at once (no question, no last save: like a
// killed process) and waits for it to end.
func (w *wizard) stop(t *testing.T) *Model {
	t.Helper()
	_ = w.tm.Quit()
	return w.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(screenProbe).Model
}

// screen is what the wizard shows now, as plain text.
func (w *wizard) screen(t *testing.T) string {
	t.Helper()
	req := make(screenRequest, 1)
	w.tm.Send(req)
	select {
	case s := <-req:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the wizard did not answer: has it stopped?")
		return ""
	}
}

// waitFor polls the screen until ok accepts it, and returns it. The
// timeout is generous: CI machines are slow, and a passing test never
// waits for it.
func (w *wizard) waitFor(t *testing.T, what string, ok func(screen string) bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := w.screen(t)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 15 s for %s; the screen is:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitText waits until every text is on the screen.
func (w *wizard) waitText(t *testing.T, texts ...string) string {
	t.Helper()
	return w.waitFor(t, strings.Join(texts, " and "), func(s string) bool {
		for _, text := range texts {
			if !strings.Contains(s, text) {
				return false
			}
		}
		return true
	})
}

// press sends named keys: "enter", "esc", or a single character.
func (w *wizard) press(keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			w.tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			w.tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		case "tab":
			w.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
		default:
			w.tm.Type(k)
		}
	}
}

// checkFits fails when the screen is larger than the terminal l.
func checkFits(t *testing.T, l look, screen string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) > l.height {
		t.Errorf("the screen has %d lines, the terminal %d", len(lines), l.height)
	}
	for i, line := range lines {
		if w := ansi.StringWidth(line); w > l.width {
			t.Errorf("line %d is %d cells wide: %q", i+1, w, line)
		}
	}
}

// loopbackPort matches a loopback address with its port.
var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// normalize makes a screen comparable across runs: it drops the spaces
// that pad lines to the terminal's width, and writes every loopback port
// as PORT (ports are picked free at each run; the golden screens use fixed
// URLs, so this only guards a stray one).
func normalize(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(loopbackPort.ReplaceAllString(l, "127.0.0.1:PORT"), " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// testClock is a settable clock, safe to read from the program's
// goroutines while the test sets it.
type testClock struct{ nanos atomic.Int64 }

func newTestClock(at time.Time) *testClock {
	c := &testClock{}
	c.set(at)
	return c
}

func (c *testClock) set(at time.Time) { c.nanos.Store(at.UnixNano()) }
func (c *testClock) now() time.Time   { return time.Unix(0, c.nanos.Load()).UTC() }
