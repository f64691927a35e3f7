package widget

import tea "charm.land/bubbletea/v2"

// MoveBy is how far a key moves a list's cursor: -1 for up and shift+tab,
// 1 for down and tab, 0 for any other key.
func MoveBy(msg tea.KeyPressMsg) int {
	switch msg.String() {
	case "up", "shift+tab":
		return -1
	case "down", "tab":
		return 1
	}
	return 0
}
