// Command bare is the floor for the wizard's startup benchmark: a bare
// Bubble Tea v2 program linked with the same libraries as oidc-onboard,
// which draws one line. See BenchmarkStartup in tui/startup_test.go.
package main

import (
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"

	// The wizard's libraries, linked so that their init cost counts in
	// the floor too.
	_ "charm.land/bubbles/v2/help"
	_ "charm.land/glamour/v2"
	_ "charm.land/lipgloss/v2"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/spf13/cobra"
	_ "modernc.org/sqlite"
)

type model struct{}

func (model) Init() tea.Cmd { return nil }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(tea.KeyPressMsg); ok {
		return m, tea.Quit
	}
	return m, nil
}

func (model) View() tea.View {
	v := tea.NewView("oidc-onboard")
	v.AltScreen = true
	return v
}

func main() {
	if _, err := tea.NewProgram(model{}).Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
