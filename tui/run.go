package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// Run runs the full-screen wizard until the person quits. When ctx ends it
// (SIGTERM, a hang-up), the last changes are saved as a draft before it
// returns: the debounced save may not have run yet.
func Run(ctx context.Context, env *steps.Env, opts ...tea.ProgramOption) error {
	m := New(env)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...)
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		// The event loop has stopped: the model is ours alone now. A save
		// still in flight for a new draft would race this one into a second
		// draft, so that case is left to it.
		if !m.finished && m.unsaved() && (!m.draft.Saving() || m.setup.DraftID != "") {
			saveLines(ctx, env, m.setup)
		}
		return nil
	}
	return err
}

// RunLines runs the same steps as plain prompts, line by line, with no
// full-screen redraws: the accessible mode for screen readers. Each step's
// result is saved as a draft before the next one starts.
func RunLines(ctx context.Context, env *steps.Env, in io.Reader, out io.Writer) error {
	m := New(env)
	setup := m.setup
	p := steps.NewPrompter(in, out)
	fmt.Fprintln(out, "oidc-onboard: set up an OpenID Connect SSO connection.")
	fmt.Fprintln(out, "Answer each prompt and press Enter. Type ctrl+c to stop; your answers are kept as a draft.")
	for i := 0; i < len(m.steps); {
		ls, ok := m.steps[i].(steps.LineStep)
		if !ok {
			return fmt.Errorf("step %q has no line mode", m.steps[i].Title())
		}
		fmt.Fprintf(out, "\n== Step %d of %d: %s ==\n", i, len(m.steps)-1, m.steps[i].Title())
		setup.Step = i
		setup.Reached = max(setup.Reached, i)
		err := ls.RunLines(ctx, setup, p)
		switch {
		case errors.Is(err, steps.ErrBack):
			i = max(i-1, 0)
			continue
		case err != nil: // the input ended (input_ended says what to do), ctx ended, or a store failed
			saveLines(ctx, env, setup)
			if ctx.Err() != nil {
				return nil // ctrl+c or a hang-up stopped it, as asked: the draft is kept, as Run does
			}
			return err
		}
		if setup.Step > i { // a step that resumed a draft moved on by itself
			i = setup.Step
		} else {
			i++
		}
		if i < len(m.steps) { // after the last step the connection is saved and its draft gone
			setup.Step = i
			saveLines(ctx, env, setup)
		}
	}
	return nil
}

// saveLines stores the setup as a draft, as the full-screen shell does.
func saveLines(ctx context.Context, env *steps.Env, setup *steps.Setup) {
	if env.Store == nil || setup.Connection.Organization == "" {
		return
	}
	form, err := json.Marshal(setup)
	if err != nil {
		return
	}
	d, err := env.Store.SaveDraft(context.WithoutCancel(ctx), draftOf(env, setup, form))
	if err == nil {
		setup.DraftID = d.ID
	}
}
