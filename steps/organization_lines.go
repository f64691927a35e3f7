package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines is step 0 as plain prompts: a numbered list to choose from, or
// the new connection's organization and name.
func (o *organization) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	l, err := orgLoad(ctx, o.env, s.DraftID, s.Connection.ID)
	if err != nil {
		fmt.Fprint(p, "Could not read the store: ")
		lineExplain(p, err)
		return err
	}
	if len(l.items) == 0 && s.Connection.ID == "" {
		fmt.Fprintln(p, o.env.words().welcome)
		return orgLinesNew(ctx, o.env, s, l, p)
	}
	for {
		fmt.Fprintln(p, "Resume a draft, edit a connection, or start a new one:")
		if s.Connection.ID != "" {
			fmt.Fprintf(p, "  c) continue with %s / %s\n", s.Connection.Organization, s.Connection.Name)
		}
		for i, it := range l.items {
			verb := "resume"
			if it.kind == orgEdit {
				verb = "edit"
			}
			fmt.Fprintf(p, "  %d) %s %s (%s)\n", i+1, verb, it.label, it.detail)
		}
		fmt.Fprintln(p, "  n) new connection")
		if o.canInvite() {
			fmt.Fprintln(p, "  i) invite a customer (a code for their IT admin)")
		}
		answer, err := p.Ask(ctx, "Your choice: ")
		if err != nil {
			return err
		}
		switch answer = strings.ToLower(answer); {
		case answer == "n" || answer == "new":
			return orgLinesNew(ctx, o.env, s, l, p)
		case answer == "i" && o.canInvite():
			if err := orgLinesInvite(ctx, o.env, &l, p); err != nil {
				return err
			}
			continue
		case answer == "c" && s.Connection.ID != "":
			return nil
		}
		n, err := strconv.Atoi(answer)
		if err != nil || n < 1 || n > len(l.items) {
			fmt.Fprintln(p, "Type a number from the list, or n for a new connection.")
			continue
		}
		it := l.items[n-1]
		var loaded *Setup
		if it.kind == orgResume {
			loaded, err = orgResumeDraft(ctx, o.env, it.id)
		} else {
			loaded, err = orgEditConnection(ctx, o.env, it.id)
		}
		if err != nil {
			lineExplain(p, err)
			continue
		}
		*s = *loaded
		return nil
	}
}

func orgLinesNew(ctx context.Context, env *Env, s *Setup, l orgListing, p *Prompter) error {
	for {
		org := env.Organization
		if org == "" {
			prompt := "Organization: "
			if len(l.orgs) > 0 {
				prompt = "Organization (existing: " + strings.Join(l.orgs, ", ") + "): "
			}
			var err error
			if org, err = p.Ask(ctx, prompt); err != nil {
				return err
			}
			if org == "" {
				fmt.Fprintln(p, "Type the organization's name (the customer whose IdP this is).")
				continue
			}
		} else {
			fmt.Fprintf(p, "Organization: %s\n", org)
		}
		def := org + " OIDC"
		name, err := p.Ask(ctx, "Connection name (Enter for "+def+"): ")
		if err != nil {
			return err
		}
		if name == "" {
			name = def
		}
		if _, msg := orgCheckNames(org, name); msg != "" {
			fmt.Fprintln(p, msg)
			continue
		}
		created, err := orgCreate(ctx, env, org, name)
		if err != nil {
			lineExplain(p, err)
			continue
		}
		*s = *created
		fmt.Fprintf(p, "Created connection %s (%s / %s).\n", s.Connection.ID, org, name)
		return nil
	}
}

// orgLinesInvite is the invite form as plain prompts; it prints the code
// and the command, and returns to the list. An empty organization goes
// back to the list without an invite.
func orgLinesInvite(ctx context.Context, env *Env, l *orgListing, p *Prompter) error {
	prompt := "Organization the invite is for (Enter goes back to the list): "
	if len(l.orgs) > 0 {
		prompt = "Organization the invite is for (existing: " + strings.Join(l.orgs, ", ") + "; Enter goes back): "
	}
	org, err := p.Ask(ctx, prompt)
	if err != nil || org == "" {
		return err
	}
	if _, msg := orgCheckNames(org, ""); msg != "" {
		fmt.Fprintln(p, msg)
		return nil
	}
	for {
		answer, err := p.Ask(ctx, "Valid for (hours or days, e.g. 24h or 7d; Enter for "+inviteTTLText(DefaultInviteTTL)+"): ")
		if err != nil {
			return err
		}
		ttl, err := ParseInviteTTL(answer)
		if err != nil {
			lineExplain(p, err)
			continue
		}
		made, err := orgMakeInvite(ctx, env, org, "", ttl)
		if err != nil {
			lineExplain(p, err)
			return nil
		}
		if !orgContains(l.orgs, made.Organization) {
			l.orgs = append(l.orgs, made.Organization)
		}
		// Printed the way `oidc-onboard invite` prints it, and spelt out.
		if err := made.WriteText(p); err != nil {
			return err
		}
		fmt.Fprintln(p, "To read the code aloud:")
		for _, l := range flow.AloudLines(flow.CodeAloud(made.Code)) {
			fmt.Fprintln(p, "  "+l)
		}
		return nil
	}
}
