package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// helpKeys is the help line: the step's keys, then the shell's.
type helpKeys struct {
	step   []key.Binding
	global []key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, h.step...), h.global...)
}

// FullHelp is the help `?` opens: every binding with every key it
// answers to, including those the short line leaves out (pgup and pgdn
// under "↑/↓ scroll"), in columns of a few rows.
func (h helpKeys) FullHelp() [][]key.Binding {
	var all []key.Binding
	for _, b := range h.ShortHelp() {
		if b.Enabled() {
			all = append(all, spelledOut(b))
		}
	}
	const rows = 4
	var cols [][]key.Binding
	for len(all) > 0 {
		n := min(rows, len(all))
		cols = append(cols, all[:n])
		all = all[n:]
	}
	return cols
}

// spelledOut is b with its help naming each of its keys, when its short
// help names fewer ("↑/↓" for up, down, pgup and pgdown).
func spelledOut(b key.Binding) key.Binding {
	h := b.Help()
	var names []string
	missing := false
	for _, k := range b.Keys() {
		name := keyName(k)
		names = append(names, name)
		if !strings.Contains(h.Key, name) && !strings.Contains(h.Key, k) {
			missing = true
		}
	}
	if !missing {
		return b
	}
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(strings.Join(names, "/"), h.Desc))
}

// keyName is how the help writes a key.
func keyName(k string) string {
	switch k {
	case "up":
		return "↑"
	case "down":
		return "↓"
	case "left":
		return "←"
	case "right":
		return "→"
	case "pgdown":
		return "pgdn"
	}
	return k
}
