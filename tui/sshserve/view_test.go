package sshserve

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
	"github.com/oidc-onboard/oidc-onboard/tui"
)

// With no notice, question or banner to lay over it, a session's frame is
// the wizard's screen as it is: not split into lines and joined again, a
// copy of the whole screen made on each key in every session and kept as
// the renderer's last frame beside the wizard's own.
func TestSessionFrameIsTheWizardsScreenUncopied(t *testing.T) {
	st := stepstest.OpenStore(t, nil)
	wizard := tui.New(&steps.Env{Context: t.Context(), Store: st, Now: time.Now, Actor: "local:test"})
	wizard.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m := newSessionModel(wizard, nil, time.Now, sessionHooks{})
	if got, want := m.View().Content, wizard.View().Content; got != want {
		t.Fatalf("the session's frame is not the wizard's screen:\n%s\nwant:\n%s", got, want)
	}
	alone := testing.AllocsPerRun(20, func() { _ = wizard.View() })
	framed := testing.AllocsPerRun(20, func() { _ = m.View() })
	if framed > alone {
		t.Errorf("the session's View allocates %.0f times, the wizard's own %.0f: it copies the screen", framed, alone)
	}
	// With a notice over the help line, the frame still holds the screen.
	m.notice = "The server restarts in 5 minutes."
	if got := m.View().Content; !strings.Contains(got, "The server restarts in 5 minutes.") || !strings.Contains(got, "Organization") {
		t.Errorf("the frame with a notice:\n%s", got)
	}
}

// A step change paints the customer's screen whole (an erase, then every
// cell), so that the renderer lets go of the frames the last step's
// typed characters came from; the keys typed within a step repaint only
// what they change.
func TestSSHStepChangePaintsTheScreenWhole(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, _ := s.invite(t, "Acme Corp")
	_, term := s.connect(t, 80, 24, code)
	erases := func() int { return strings.Count(term.all(), ansi.EraseEntireScreen) }
	before := erases()
	term.answer(t, "Acme SSO", "> Acme SSO")
	if n := erases(); n != before {
		t.Errorf("typing within a step erased the screen %d times", n-before)
	}
	term.answer(t, "\r", "Step 1 of 7")
	deadline := time.Now().Add(sshWait)
	for erases() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if erases() == before {
		t.Error("the step change did not paint the screen whole")
	}
}
