package tui

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// TestFullHelpShowsTheKeysTheShortHelpLeavesOut: `?` names pgup and pgdn
// that "↑/↓ scroll" stands for, and keeps every binding.
func TestFullHelpShowsTheKeysTheShortHelpLeavesOut(t *testing.T) {
	t.Parallel()
	scroll := key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown"), key.WithHelp("↑/↓", "scroll"))
	enter := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue"))
	quit := key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit"))
	keys := helpKeys{step: []key.Binding{enter, scroll}, global: []key.Binding{quit}}
	h := help.New()
	h.SetWidth(80)
	short := ansi.Strip(h.View(keys))
	if strings.Contains(short, "pgup") {
		t.Errorf("the short help spells out the scroll keys: %q", short)
	}
	h.ShowAll = true
	full := ansi.Strip(h.View(keys))
	for _, want := range []string{"↑/↓/pgup/pgdn", "scroll", "enter", "continue", "q", "quit"} {
		if !strings.Contains(full, want) {
			t.Errorf("full help lacks %q:\n%s", want, full)
		}
	}
}
