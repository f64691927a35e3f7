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
// Until it is built, the only message that concerns it is the terminal's
// background (no command of its own can be running yet, and the shell
// sizes a step when it enters it): it keeps the last one and hands it to
// the step once built, as if it had been there all along.
type lazyStep struct {
	index int
	build func() steps.Step
	step  steps.Step
	bg    *tea.BackgroundColorMsg
}

// lazySteps wraps each constructor in a lazyStep for env and theme.
func lazySteps(env *steps.Env, theme *steps.Theme, list []steps.Constructor) []steps.Step {
	out := make([]steps.Step, 0, len(list))
	for i, c := range list {
		out = append(out, &lazyStep{index: i, build: func() steps.Step { return c(env, theme) }})
	}
	return out
}

// get builds the step if needed; cmd is what the replayed background
// message asked for.
func (l *lazyStep) get() (s steps.Step, cmd tea.Cmd) {
	if l.step != nil {
		return l.step, nil
	}
	l.step = l.build()
	if l.bg != nil {
		cmd, _ = l.step.Update(*l.bg)
		l.bg = nil
	}
	return l.step, cmd
}

// must is the step for a method that cannot return a command; the shell
// enters a step before it asks for anything else, so the replay's
// commands were already returned by Enter.
func (l *lazyStep) must() steps.Step {
	s, _ := l.get()
	return s
}

// Title is the step's title, without building it.
func (l *lazyStep) Title() string             { return steps.Title(l.index) }
func (l *lazyStep) Keys() []key.Binding       { return l.must().Keys() }
func (l *lazyStep) Capturing() bool           { return l.must().Capturing() }
func (l *lazyStep) View() string              { return l.must().View() }
func (l *lazyStep) SetSize(width, height int) { l.must().SetSize(width, height) }
func (l *lazyStep) Enter(s *steps.Setup) tea.Cmd {
	step, cmd := l.get()
	return tea.Batch(cmd, step.Enter(s))
}

func (l *lazyStep) Update(msg tea.Msg) (tea.Cmd, steps.Nav) {
	if l.step == nil {
		if msg, ok := msg.(tea.BackgroundColorMsg); ok {
			l.bg = &msg
		}
		return nil, nil
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
