package tui

import "charm.land/bubbles/v2/key"

// keyMap holds the shell's global keys; each step adds its own.
type keyMap struct {
	Quit      key.Binding
	QuitAlias key.Binding
	Back      key.Binding
	Help      key.Binding
	Confirm   key.Binding
	Deny      key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		Quit:      key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		QuitAlias: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Confirm:   key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "quit anyway")),
		Deny:      key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "stay")),
	}
}

// helpKeys is the help line: the step's keys, then the shell's.
type helpKeys struct {
	step   []key.Binding
	global []key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, h.step...), h.global...)
}

func (h helpKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{h.step, h.global}
}
