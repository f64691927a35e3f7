// Package steps holds the wizard's steps, one file each, in the order of the
// guide (shared/seed/oidc.md). A step is a small model that knows only its
// own part of the connection being set up: it reads and writes that part of
// the Setup, and reports completion with a typed message. The wizard shell
// in tui/ owns navigation, persistence and layout.
package steps

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Step is one wizard step. Steps are pointers that update in place; they
// never do I/O in Update or View: slow work runs in a tea.Cmd that reports
// back with a message.
type Step interface {
	// Title is the step's short name in the step indicator, in the
	// guide's words ("Redirect URI", "Credentials", ...).
	Title() string
	// Enter is called each time the step becomes the current one, with the
	// setup as it is now; the step loads its fields from it.
	Enter(s *Setup) tea.Cmd
	// Update handles a message and returns what to run next and the step
	// change it asks for (nil: stay). Keys and pastes reach only the
	// current step; every other message reaches every step, so the reply
	// of a command a step started finds it even after the person moved on.
	// A step therefore reacts only to its own message types (and to the
	// bubbles' ticks whose IDs are its own). The shell applies the Nav
	// before it handles the next message, so keys typed right after enter
	// reach the step they were typed for, however fast they come.
	Update(msg tea.Msg) (tea.Cmd, Nav)
	// SetSize gives the step the width×height cells of its body; the shell
	// calls it before Enter and whenever the area changes. A step lays
	// itself out here and in Update, never in View.
	SetSize(width, height int)
	// View draws the step's body in the size last set. It changes nothing.
	View() string
	// Keys are the bindings that work now, for the help line.
	Keys() []key.Binding
	// Capturing reports whether a text field has focus, so that the shell
	// leaves printable keys (q, ?, b) to the step.
	Capturing() bool
}

// Leaver is a step that lets go of what only its screen needs when the
// person moves to another step: the shell calls Leave on the step it
// leaves. Enter brings back what it showed; every message still reaches
// it meanwhile.
type Leaver interface {
	Leave()
}

// LineStep is a step that can also run as plain prompts, line by line, for
// screen readers (the accessible mode: no full-screen redraws).
type LineStep interface {
	Step
	// RunLines runs the step with plain prompts, asked through p (one
	// Prompter for the whole run), reading and writing the setup. It
	// returns ErrBack to go to the previous step.
	RunLines(ctx context.Context, s *Setup, p *Prompter) error
}

// Nav is a step change, the second result of a step's Update: NextMsg,
// BackMsg, GotoMsg, ResumeMsg or FinishedMsg. The shell also takes one as a
// message (a test resuming a setup sends a ResumeMsg).
type Nav interface{ nav() }

func (NextMsg) nav()     {}
func (BackMsg) nav()     {}
func (GotoMsg) nav()     {}
func (ResumeMsg) nav()   {}
func (FinishedMsg) nav() {}

// Step changes, and the one note a step sends to the shell.
type (
	// NextMsg says the step is complete: the shell saves the draft and
	// moves on.
	NextMsg struct{}
	// BackMsg asks for the previous step.
	BackMsg struct{}
	// GotoMsg asks for a given step (e.g. from a failed test login back to
	// the credentials).
	GotoMsg struct{ Step int }
	// ResumeMsg replaces the whole setup with a stored draft's and moves
	// to the draft's step (step 0 asks for it; the review asks for a
	// fresh setup).
	ResumeMsg struct{ Setup *Setup }
	// FinishedMsg says the connection was saved and activated: the shell
	// deletes the draft and shows the final screen of the review step.
	FinishedMsg struct{}
	// StatusMsg is a short, passing note shown in the footer (e.g.
	// "Copied to clipboard").
	StatusMsg string
)

// Step indexes, in the guide's order.
const (
	StepOrganization = iota
	StepRedirectURI
	StepCredentials
	StepValidate
	StepClaims
	StepRoles
	StepTestLogin
	StepReview
	NumSteps
)

// ErrBack is returned by LineStep.RunLines to go back one step.
var ErrBack = errBack{}

type errBack struct{}

func (errBack) Error() string { return "back" }

// Cmd wraps a message as a command.
func Cmd(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// SendToClipboard sends text to the terminal's clipboard with OSC 52 and
// says so as far as it is known: no terminal confirms it, and some ignore
// it, so the note never claims the text was copied.
func SendToClipboard(text, what string) tea.Cmd {
	return tea.Batch(tea.SetClipboard(text), Cmd(StatusMsg("Sent "+what+" to your terminal's clipboard (if it supports OSC 52)")))
}

// stepBase is what every step holds: the session's environment, the
// theme it draws with, and the setup it reads and writes, the one Enter
// (or RunLines) gave it.
type stepBase struct {
	env   *Env
	theme *Theme
	setup *Setup
}

// area is a step's body size, as the shell last set it; a step embeds it
// for its SetSize unless it lays itself out on a change of size.
type area struct{ width, height int }

// SetSize records the step's body size.
func (a *area) SetSize(width, height int) { a.width, a.height = width, height }

// laidOut is the Update and SetSize of a step that lays itself out (sizes
// its viewport, renders what scrolls) after every update and every change
// of its area, so that its View only draws and its Keys are those of what
// is drawn.
type laidOut struct {
	area
	update func(tea.Msg) (tea.Cmd, Nav)
	layout func()
}

// Update handles msg with the step's update, then lays the step out.
func (l *laidOut) Update(msg tea.Msg) (tea.Cmd, Nav) {
	cmd, nav := l.update(msg)
	l.layout()
	return cmd, nav
}

// SetSize records the step's new area and lays the step out in it.
func (l *laidOut) SetSize(width, height int) {
	l.area.SetSize(width, height)
	l.layout()
}
