package tui

import "charm.land/bubbles/v2/key"

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
