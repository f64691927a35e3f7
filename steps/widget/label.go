package widget

import (
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// LabelLine is the line of a list where a row is being labelled: lead
// (the row's marker), "Label for ROW: " in style, and the field in what is
// left of width. The field is sized on a copy: drawing changes nothing.
func LabelLine(in textinput.Model, lead string, style lipgloss.Style, row string, width int) string {
	prompt := "Label for " + ansi.Truncate(flow.Display(row), 9, "…") + ": "
	in = Shown(in)
	in.SetWidth(max(width-ansi.StringWidth(lead)-ansi.StringWidth(prompt)-1, 4))
	return ansi.Truncate(lead+style.Render(prompt)+in.View(), max(width, 1), "…")
}
