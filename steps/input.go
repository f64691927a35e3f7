package steps

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// inputUpdate gives msg to in; a paste that in's CharLimit cut is said in
// the footer.
func inputUpdate(in *textinput.Model, msg tea.Msg) tea.Cmd {
	cmd, note := widget.Update(in, msg)
	if note != "" {
		return tea.Batch(cmd, Cmd(StatusMsg(note)))
	}
	return cmd
}

// limited is in taking at most limit characters.
func limited(in textinput.Model, limit int) textinput.Model {
	in.CharLimit = limit
	return in
}
