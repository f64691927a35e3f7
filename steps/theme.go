package steps

import (
	"image/color"
	"sync"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// Theme is every style of the wizard, built from whether the terminal's
// background is dark. No colour literal appears outside NewTheme. A Theme
// is never changed once built: sessions share one for each background (see
// Themes), and when the terminal reports its background the shell hands
// every step the other one (Themed). Colours degrade by themselves under
// NO_COLOR or a poor colour profile (the program's renderer downsamples
// them).
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

	// inputStyles are the text fields' styles (InputStyles), built once.
	inputStyles, plainInputStyles textinput.Styles
	// blank is an empty, blurred field in inputStyles (blankInput).
	blank textinput.Model
}

// Themes is the dark and the light theme, built once and shared by every
// session that uses it: an SSH server holds hundreds of sessions, and a
// theme is some 15 KiB of styles. Safe for concurrent use, as nothing
// changes a Theme.
type Themes struct {
	dark, light *Theme

	mu    sync.RWMutex
	drawn map[string]string // see Drawn
}

// NewThemes builds the dark and the light theme.
func NewThemes() *Themes { return &Themes{dark: NewTheme(true), light: NewTheme(false)} }

// maxDrawn bounds the drawings Themes keep: each is a few hundred bytes,
// and keys hold the width, which terminals choose.
const maxDrawn = 512

// Drawn is what draw draws for key, drawn once for every session that
// draws with ts: the shell's footer for a step's keys at a width, for
// one, is the same in each of hundreds of sessions. key must say
// everything the drawing depends on but the themes; draw must not say
// anything of one session alone. Past maxDrawn drawings, each is drawn
// anew.
func (ts *Themes) Drawn(key string, draw func() string) string {
	ts.mu.RLock()
	out, ok := ts.drawn[key]
	ts.mu.RUnlock()
	if ok {
		return out
	}
	out = draw()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.drawn == nil {
		ts.drawn = map[string]string{}
	}
	if len(ts.drawn) < maxDrawn {
		ts.drawn[key] = out
	}
	return out
}

// For is the theme for a dark or light background.
func (ts *Themes) For(isDark bool) *Theme {
	if isDark {
		return ts.dark
	}
	return ts.light
}

// Themed is a step that draws with a theme the shell can change: when the
// terminal reports its background, the shell gives it the theme for it,
// then the tea.BackgroundColorMsg, on which the step restyles what keeps
// styles of its own (its text fields).
type Themed interface {
	SetTheme(t *Theme)
}

// SetTheme makes the step draw with t.
func (b *stepBase) SetTheme(t *Theme) { b.theme = t }

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
	t := &Theme{
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
	s := textinput.DefaultStyles(t.IsDark)
	s.Focused.Prompt, s.Blurred.Prompt = t.Accent, t.Subtle
	s.Focused.Text, s.Blurred.Text = t.Text, t.Text
	s.Focused.Placeholder, s.Blurred.Placeholder = t.Subtle, t.Subtle
	s.Focused.Suggestion, s.Blurred.Suggestion = t.Subtle, t.Subtle
	s.Cursor.Color = t.Accent.GetForeground()
	s.Cursor.Blink = false
	t.inputStyles = widget.FocusMarked(s)
	t.plainInputStyles = widget.PlainInputStyles(isDark)
	t.blank = widget.NewInput(t.inputStyles, "")
	return t
}

// blankInput is an empty, blurred text field in the theme's input
// styles, to draw a field that a step has not built (an empty one the
// person has not been to): a copy, set up as that field, draws as the
// field would. Only draw the copies, never focus or update them: they
// share the cursor of the theme's, which every session of a server uses.
func (t *Theme) blankInput() textinput.Model { return t.blank }

// InputStyles are the text fields' styles in the theme, with a steady
// cursor.
func (t *Theme) InputStyles() textinput.Styles { return t.inputStyles }

// PlainInputStyles are the text inputs' default styles for the theme's
// background, with a steady cursor (widget.PlainInputStyles).
func (t *Theme) PlainInputStyles() textinput.Styles { return t.plainInputStyles }
