package widget

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The most characters a field takes: a paste past it is cut (and Update
// says so), so that a 1 MB paste cannot make every later key rewrite a
// 1 MB draft.
const (
	LimitName    = 200  // organization, connection, claim and role names, labels
	LimitURL     = 2048 // URLs, client IDs, group IDs
	LimitSecret  = 4096 // client secrets
	LimitAddress = 8192 // a browser's address bar pasted back, with its code and state
)

// keyMap is the text fields' key map, built once and shared: each
// textinput.New builds its own, some two dozen allocations that every
// field of every session would keep. Fields get a copy; the slices of
// its bindings are never changed in place (a binding changed is replaced),
// so the copies share them.
var keyMap = sync.OnceValue(textinput.DefaultKeyMap)

// New is textinput.New with the shared key map.
func New() textinput.Model {
	in := textinput.New()
	in.KeyMap = keyMap()
	return in
}

// NewInput is a one-line text field with a "> " prompt and styles, taking
// up to LimitURL characters.
func NewInput(styles textinput.Styles, placeholder string) textinput.Model {
	in := New()
	in.CharLimit = LimitURL
	in.Prompt = "> "
	in.Placeholder = placeholder
	// ctrl+v would read the clipboard of the machine the program runs on,
	// which over SSH is the server's: pastes arrive as PasteMsg instead.
	in.KeyMap.Paste.SetEnabled(false)
	in.SetStyles(styles)
	return in
}

// Placeholders are marked so that they never look like a value typed,
// in NO_COLOR and monochrome too: an example, a description or a default.

// Example marks an example value: "e.g. Acme Corp".
func Example(s string) string { return "e.g. " + s }

// Hint marks a description of what to type: "(the Client ID)".
func Hint(s string) string { return "(" + s + ")" }

// Default marks what an empty field stands for: "default: email".
func Default(s string) string { return "default: " + s }

// FocusMarked are styles whose blurred fields draw their prompt ("> ") as
// blanks, so that the focused field alone shows it: focus is seen without
// colour or bold.
func FocusMarked(st textinput.Styles) textinput.Styles {
	st.Blurred.Prompt = st.Blurred.Prompt.Transform(func(s string) string { return strings.Repeat(" ", lipgloss.Width(s)) })
	return st
}

// PlainInputStyles are the text inputs' default styles for a dark or
// light background, with a steady cursor: a blinking one would keep a
// timer running for as long as a field has focus.
func PlainInputStyles(isDark bool) textinput.Styles {
	st := textinput.DefaultStyles(isDark)
	st.Cursor.Blink = false
	return st
}

// Update gives msg to in and returns in's command and, when msg is a
// paste that in's CharLimit cut, a note that says so ("" otherwise).
func Update(in *textinput.Model, msg tea.Msg) (tea.Cmd, string) {
	var note string
	if p, ok := msg.(tea.PasteMsg); ok && in.CharLimit > 0 &&
		utf8.RuneCountInString(in.Value())+utf8.RuneCountInString(p.Content) > in.CharLimit {
		note = fmt.Sprintf("The paste was cut to %d characters, the most this field takes.", in.CharLimit)
	}
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	return cmd, note
}

// Restyle gives each of ins styles, as on a change of background.
func Restyle(styles textinput.Styles, ins ...*textinput.Model) {
	for _, in := range ins {
		in.SetStyles(styles)
	}
}

// Sized is a copy of in whose field, with its prompt and the cursor's
// cell, fits width, its value Shown: a View draws it without changing the
// step's input.
func Sized(in textinput.Model, width int) textinput.Model {
	in = Shown(in)
	in.SetWidth(max(width-lipgloss.Width(in.Prompt)-1, 4))
	return in
}

// Shown is a copy of in to draw, whose value, placeholder and suggestions
// show a control or bidi character that was typed or pasted as
// flow.Display's visible stand-in: the value itself keeps it, for
// flow.CheckTyped to refuse.
func Shown(in textinput.Model) textinput.Model {
	in.Placeholder = flow.Display(in.Placeholder) // a placeholder may repeat a typed name
	if v := in.Value(); flow.CheckTyped("value", v) != nil {
		pos := len([]rune(flow.Display(string([]rune(v)[:in.Position()]))))
		in.SetValue(flow.Display(v))
		in.SetCursor(pos)
	}
	// Suggestions (stored organization names) are drawn after the value.
	if ss := in.AvailableSuggestions(); slices.ContainsFunc(ss, func(s string) bool { return flow.CheckTyped("value", s) != nil }) {
		shown := make([]string, len(ss))
		for i, s := range ss {
			shown[i] = flow.Display(s)
		}
		in.SetSuggestions(shown)
	}
	return in
}

// CanAccept reports whether in shows a suggestion that tab would take.
func CanAccept(in textinput.Model) bool {
	s := in.CurrentSuggestion()
	return s != "" && s != in.Value()
}

// Edit puts value in the field and focuses it, with the cursor at its end.
func Edit(in *textinput.Model, value string) tea.Cmd {
	in.SetValue(value)
	in.CursorEnd()
	return in.Focus()
}
