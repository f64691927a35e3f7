package tui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// lazyStep builds its step the first time the wizard needs it, so that a
// session holds only the steps it reached: over SSH most sessions are in
// the first steps, and a step's inputs, forms and viewports are most of a
// session's memory.
//
// Until it is built, the only messages that concern it are the terminal's
// size and background (no command of its own can be running yet): it keeps
// the last of each and hands them to the step once built, as if it had
// been there all along.
type lazyStep struct {
	build func() steps.Step
	step  steps.Step
	size  *tea.WindowSizeMsg
	bg    *tea.BackgroundColorMsg
}

// lazySteps wraps each constructor in a lazyStep for env and theme.
func lazySteps(env *steps.Env, theme *steps.Theme, list []steps.Constructor) []steps.Step {
	out := make([]steps.Step, 0, len(list))
	for _, c := range list {
		out = append(out, &lazyStep{build: func() steps.Step { return c(env, theme) }})
	}
	return out
}

// get builds the step if needed; cmd is what the replayed size and
// background messages asked for.
func (l *lazyStep) get() (s steps.Step, cmd tea.Cmd) {
	if l.step != nil {
		return l.step, nil
	}
	l.step = l.build()
	var cmds []tea.Cmd
	if l.bg != nil {
		cmds = append(cmds, l.step.Update(*l.bg))
	}
	if l.size != nil {
		cmds = append(cmds, l.step.Update(*l.size))
	}
	l.size, l.bg = nil, nil
	return l.step, tea.Batch(cmds...)
}

// must is the step for a method that cannot return a command; the shell
// enters a step before it asks for anything else, so the replay's
// commands were already returned by Enter.
func (l *lazyStep) must() steps.Step {
	s, _ := l.get()
	return s
}

func (l *lazyStep) Title() string        { return l.must().Title() }
func (l *lazyStep) Keys() []key.Binding  { return l.must().Keys() }
func (l *lazyStep) Capturing() bool      { return l.must().Capturing() }
func (l *lazyStep) View(w, h int) string { return l.must().View(w, h) }
func (l *lazyStep) Enter(s *steps.Setup) tea.Cmd {
	step, cmd := l.get()
	return tea.Batch(cmd, step.Enter(s))
}

func (l *lazyStep) Update(msg tea.Msg) tea.Cmd {
	if l.step == nil {
		switch msg := msg.(type) {
		case tea.WindowSizeMsg:
			l.size = &msg
		case tea.BackgroundColorMsg:
			l.bg = &msg
		}
		return nil
	}
	return l.step.Update(msg)
}

// RunLines is the step's line mode.
func (l *lazyStep) RunLines(ctx context.Context, s *steps.Setup, p *steps.Prompter) error {
	step := l.must()
	ls, ok := step.(steps.LineStep)
	if !ok {
		return fmt.Errorf("step %q has no line mode", step.Title())
	}
	return ls.RunLines(ctx, s, p)
}
