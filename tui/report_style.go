package tui

import (
	"io"
	"os"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
)

// ReportStyle colours a validation report (`oidc-onboard check`) with the
// wizard's theme, only when out is a terminal and never with noColor
// (NO_COLOR); the writer it returns downsamples the colours to what the
// terminal shows. in, when a terminal too, is asked for the background.
func ReportStyle(in io.Reader, out io.Writer, noColor bool) (io.Writer, flow.TextStyle) {
	outFile, ok := out.(*os.File)
	if noColor || !ok || !term.IsTerminal(outFile.Fd()) {
		return out, flow.TextStyle{}
	}
	dark := true
	if inFile, ok := in.(*os.File); ok && term.IsTerminal(inFile.Fd()) {
		dark = lipgloss.HasDarkBackground(inFile, outFile)
	}
	th := steps.NewTheme(dark)
	paint := func(s lipgloss.Style) func(string) string { return func(x string) string { return s.Render(x) } }
	return colorprofile.NewWriter(out, os.Environ()), flow.TextStyle{Pass: paint(th.Pass.Bold(true)),
		Warn: paint(th.Warn.Bold(true)), Fail: paint(th.Fail), Faint: paint(lipgloss.NewStyle().Faint(true))}
}
