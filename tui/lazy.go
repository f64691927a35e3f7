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
// Until it is built, the only news that concerns it is the theme the
// terminal's background asks for (no command of its own can be running
// yet, and the shell sizes a step when it enters it): it keeps the last
// one and builds the step with it, as if it had been there all along.
type lazyStep struct {
	index int
	build func(theme *steps.Theme) steps.Step
	theme *steps.Theme
	step  steps.Step
}

// lazySteps wraps each constructor in a lazyStep for env, drawn with
// theme until the shell gives them another.
func lazySteps(env *steps.Env, theme *steps.Theme, list []steps.Constructor) []steps.Step {
	out := make([]steps.Step, 0, len(list))
	for i, c := range list {
		out = append(out, &lazyStep{index: i, theme: theme, build: func(t *steps.Theme) steps.Step { return c(env, t) }})
	}
	return out
}

// must is the step, built if needed.
func (l *lazyStep) must() steps.Step {
	if l.step == nil {
		l.step = l.build(l.theme)
	}
	return l.step
}

// SetTheme is the theme the step draws with, from now on.
func (l *lazyStep) SetTheme(t *steps.Theme) {
	l.theme = t
	if s, ok := l.step.(steps.Themed); ok {
		s.SetTheme(t)
	}
}

// Leave is the step's, when it was built and has one.
func (l *lazyStep) Leave() {
	if s, ok := l.step.(steps.Leaver); ok {
		s.Leave()
	}
}

// Title is the step's title, without building it.
func (l *lazyStep) Title() string                { return steps.Title(l.index) }
func (l *lazyStep) Keys() []key.Binding          { return l.must().Keys() }
func (l *lazyStep) Capturing() bool              { return l.must().Capturing() }
func (l *lazyStep) View() string                 { return l.must().View() }
func (l *lazyStep) SetSize(width, height int)    { l.must().SetSize(width, height) }
func (l *lazyStep) Enter(s *steps.Setup) tea.Cmd { return l.must().Enter(s) }

func (l *lazyStep) Update(msg tea.Msg) (tea.Cmd, steps.Nav) {
	if l.step == nil {
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
