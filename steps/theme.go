package steps

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// Theme is every style of the wizard, built from whether the terminal's
// background is dark. No colour literal appears outside NewTheme. The shell
// owns one *Theme per session and rebuilds it in place when the terminal
// reports its background, so every step sees the change. Colours degrade
// by themselves under NO_COLOR or a poor colour profile (the program's
// renderer downsamples them).
type Theme struct {
	IsDark bool

	// Text styles.
	Title    lipgloss.Style // a step's heading
	Text     lipgloss.Style // body text
	Subtle   lipgloss.Style // secondary text, hints
	Accent   lipgloss.Style // the one thing to look at (a URL to copy)
	Key      lipgloss.Style // a key name in running text
	Selected lipgloss.Style // the selected row of a list
	Error    lipgloss.Style // an inline validation error

	// Check outcomes.
	Pass, Warn, Fail lipgloss.Style

	// Box frames a value to copy (the Redirect URI) or a panel.
	Box lipgloss.Style

	// Chrome: header, step indicator, footer.
	Header     lipgloss.Style
	StepDone   lipgloss.Style
	StepNow    lipgloss.Style
	StepLater  lipgloss.Style
	StatusLine lipgloss.Style

	// Help is the help line's styles.
	Help help.Styles

	// GlamourStyle is the glamour standard style name for Markdown guides.
	GlamourStyle string
}

// NewTheme builds the theme for a dark or light background.
func NewTheme(isDark bool) *Theme {
	ld := lipgloss.LightDark(isDark)
	var (
		fg     = ld(lipgloss.Color("#1d2330"), lipgloss.Color("#e6edf3"))
		subtle = ld(lipgloss.Color("#57606a"), lipgloss.Color("#8b949e"))
		accent = ld(lipgloss.Color("#6f42c1"), lipgloss.Color("#c297ff"))
		green  = ld(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950"))
		yellow = ld(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922"))
		red    = ld(lipgloss.Color("#cf222e"), lipgloss.Color("#f85149"))
		border = ld(lipgloss.Color("#8c959f"), lipgloss.Color("#484f58"))
	)
	fgStyle := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	glamour := "light"
	if isDark {
		glamour = "dark"
	}
	return &Theme{
		IsDark:   isDark,
		Title:    fgStyle(accent).Bold(true),
		Text:     fgStyle(fg),
		Subtle:   fgStyle(subtle),
		Accent:   fgStyle(accent).Bold(true),
		Key:      fgStyle(fg).Bold(true),
		Selected: fgStyle(accent).Bold(true),
		Error:    fgStyle(red),
		Pass:     fgStyle(green),
		Warn:     fgStyle(yellow),
		Fail:     fgStyle(red).Bold(true),
		Box: lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(border).
			Padding(0, 1),
		Header:       fgStyle(fg).Bold(true),
		StepDone:     fgStyle(green),
		StepNow:      fgStyle(accent).Bold(true),
		StepLater:    fgStyle(subtle),
		StatusLine:   fgStyle(green),
		Help:         help.DefaultStyles(isDark),
		GlamourStyle: glamour,
	}
}

// InputStyles are the text fields' styles in the theme, with a steady
// cursor.
func (t *Theme) InputStyles() textinput.Styles {
	s := textinput.DefaultStyles(t.IsDark)
	s.Focused.Prompt, s.Blurred.Prompt = t.Accent, t.Subtle
	s.Focused.Text, s.Blurred.Text = t.Text, t.Text
	s.Focused.Placeholder, s.Blurred.Placeholder = t.Subtle, t.Subtle
	s.Focused.Suggestion, s.Blurred.Suggestion = t.Subtle, t.Subtle
	s.Cursor.Color = t.Accent.GetForeground()
	s.Cursor.Blink = false
	return widget.FocusMarked(s)
}
