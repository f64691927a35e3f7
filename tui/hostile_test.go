package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// TestHeaderShowsHostileNamesAsStandIns: the header draws an organization
// and a connection name stored before names were checked (an escape, a C1
// control, a bidi override) as visible stand-ins.
func TestHeaderShowsHostileNamesAsStandIns(t *testing.T) {
	t.Parallel()
	m := New(shellEnv(t))
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	s := steps.NewSetup()
	s.Connection.Organization, s.Connection.Name = "Acme \x1b]52;c;SGFja2Vk\x07\x1b[2J", "OIDC \u009b31m\u202eliame"
	s.Step = steps.StepRedirectURI
	m.Update(steps.ResumeMsg{Setup: s})
	header := m.header()
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\u009b", "\u202e"} {
		if strings.Contains(header, bad) {
			t.Errorf("the header holds %q: %q", bad, header)
		}
	}
	if !strings.Contains(header, "Acme ␛]52;c;") || !strings.Contains(header, "⟨U+202E⟩") {
		t.Errorf("the header does not show the names' stand-ins: %q", header)
	}
}
