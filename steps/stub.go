package steps

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// stub stands in for a step under construction. XXX: removed once every
// step file is written.
type stub struct {
	title string
	next  key.Binding
}

func newStub(title string) *stub {
	return &stub{title: title, next: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue"))}
}

func (s *stub) Title() string        { return s.title }
func (s *stub) Enter(*Setup) tea.Cmd { return nil }
func (s *stub) Keys() []key.Binding  { return []key.Binding{s.next} }
func (s *stub) Capturing() bool      { return false }
func (s *stub) View(w, h int) string { return s.title + " (not built yet)" }
func (s *stub) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, s.next) {
		return Cmd(NextMsg{})
	}
	return nil
}
