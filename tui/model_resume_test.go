package tui

import (
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// After the review activated a connection, "set up another" sends a fresh
// setup: the shell must treat it as unfinished work again, saving drafts.
func TestFreshSetupAfterFinishIsSavedAgain(t *testing.T) {
	t.Parallel()
	st := stepstest.OpenStore(t, nil)
	m := New(&steps.Env{Context: t.Context(), Store: st, Now: time.Now, Actor: "local:test"})
	m.Update(steps.FinishedMsg{})
	fresh := steps.NewSetup()
	m.Update(steps.ResumeMsg{Setup: fresh})
	if m.finished || m.Setup() != fresh || m.cur != steps.StepOrganization {
		t.Fatalf("after resume: finished %v, step %d", m.finished, m.cur)
	}
	fresh.Connection.Organization = "Globex"
	cmd := m.save()
	if cmd == nil {
		t.Fatal("the new setup is not saved")
	}
	if saved, ok := cmd().(draftSaved); !ok || saved.err != nil || saved.draft.Organization != "Globex" {
		t.Fatalf("save: %+v", saved)
	}
}
