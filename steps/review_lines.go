package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines prints the summary and asks before saving and activating.
func (r *review) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	plain := &Theme{}
	fmt.Fprintln(p, "Review the connection, then save and activate it.")
	for _, l := range rvTable(plain, rvRows(s, glRead(ctx, r.env, s.Connection.ID), r.env.Now()), tlLineWidth) {
		fmt.Fprintln(p, strings.TrimRight(ansi.Strip(l), " "))
	}
	for _, w := range rvWarnings(s, r.env.words()) {
		fmt.Fprintln(p, "Warning: "+w)
	}
	prompt, yes := "Save and activate? [y/N] (or type back to change something): ", []string{"y", "yes"}
	override := len(tlProblems(s)) > 0
	if override {
		prompt, yes = "Users cannot sign in with this profile. Type override to activate it anyway (the override is recorded), or back to change the claims: ", []string{"override"}
	}
	for {
		answer, err := p.AskOrBack(ctx, prompt)
		if err != nil {
			return err
		}
		if !slices.Contains(yes, strings.ToLower(answer)) {
			fmt.Fprintln(p, "Not saved. Your setup is kept as a draft: run oidc-onboard again to finish it.")
			return nil
		}
		c, err := rvActivate(ctx, r.env, s, override)
		if err != nil {
			msg, fix := flow.Explain(err)
			fmt.Fprintf(p, "Not saved: %s\n", tlSentence(msg))
			if fix != "" {
				fmt.Fprintf(p, "Fix: %s\n", fix)
			}
			prompt = "Nothing is lost. Try again? [y/N] (or type back): "
			if override {
				prompt = "Nothing is lost. Type override to try again (or back): "
			}
			continue
		}
		s.Connection.ID, s.Connection.Status, s.Connection.CreatedAt, s.Connection.UpdatedAt = c.ID, c.Status, c.CreatedAt, c.UpdatedAt
		if s.DraftID != "" {
			_ = r.env.Store.DeleteDraft(context.WithoutCancel(ctx), s.DraftID) // the connection is saved; a leftover draft only clutters
			s.DraftID = ""
		}
		say := r.env.words()
		fmt.Fprintf(p, "Connection %s is active.\n%s\n", c.ID, say.doneTitle)
		for _, l := range say.nextLines(c.ID) {
			fmt.Fprintln(p, l)
		}
		return nil
	}
}
