package widget

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

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

// Cursor is a list's cursor i among n rows after msg: one up with up, one
// down with down, staying in the list.
func Cursor(i, n int, msg tea.KeyPressMsg, up, down key.Binding) int {
	switch {
	case key.Matches(msg, up):
		return max(i-1, 0)
	case key.Matches(msg, down):
		return min(i+1, n-1)
	}
	return i
}
