package widget

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// NewInput is a one-line text field with a "> " prompt and styles.
func NewInput(styles textinput.Styles, placeholder string) textinput.Model {
	in := textinput.New()
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

// Restyle gives each of ins styles, as on a change of background.
func Restyle(styles textinput.Styles, ins ...*textinput.Model) {
	for _, in := range ins {
		in.SetStyles(styles)
	}
}

// Sized is a copy of in whose field, with its prompt and the cursor's
// cell, fits width: a View draws it without changing the step's input.
func Sized(in textinput.Model, width int) textinput.Model {
	in.SetWidth(max(width-lipgloss.Width(in.Prompt)-1, 4))
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
