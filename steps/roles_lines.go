package steps

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines asks for the groups claim, then mappings GROUP=ROLE one per
// line until an empty line, then the default role; "skip" skips the step.
func (r *roles) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	c := &s.Connection
	fmt.Fprintln(p, "Role assignment (optional): users can receive roles within your application based on their group memberships.")
	fmt.Fprintln(p, "Create SSO groups by referencing the IdP Group ID, then assign roles to these SSO groups.")
	fmt.Fprintln(p, "Type skip at any prompt to skip this step, or back to go back.")
	ask := func(prompt string) (string, bool, error) {
		a, err := p.AskOrBack(ctx, prompt)
		switch {
		case err != nil:
			return "", false, err
		case strings.EqualFold(a, "skip"):
			s.SkipRoles = true
			return "", true, nil
		}
		return a, false, nil
	}
	a, skip, err := ask(fmt.Sprintf("Groups claim [%s]: ", cmp.Or(c.GroupsClaim, flow.DefaultGroupsClaim)))
	if err != nil || skip {
		return err
	}
	c.GroupsClaim = cmp.Or(a, cmp.Or(c.GroupsClaim, flow.DefaultGroupsClaim))
	for _, w := range rolesWarnings(s, r.env.words()) {
		fmt.Fprintln(p, w)
	}
	for _, f := range rolesFindings(s) {
		fmt.Fprintln(p, diagFindingText(f, r.env.words()))
	}
	labels := glRead(ctx, r.env, c.ID)
	for {
		if len(c.RoleMappings) > 0 {
			fmt.Fprintln(p, "Mappings:")
			for _, m := range c.RoleMappings {
				fmt.Fprintf(p, "  %s = %s\n", glName(labels, m.Group), m.Role)
			}
		}
		a, skip, err := ask("Add a mapping GROUP=ROLE, -GROUP to remove one, or press Enter to finish: ")
		if err != nil || skip {
			return err
		}
		if a == "" {
			break
		}
		if msg := rolesLineMapping(c, a); msg != "" {
			fmt.Fprintln(p, msg)
		}
	}
	a, skip, err = ask(fmt.Sprintf("Default role, given when no group matches (- for none) [%s]: ", cmp.Or(c.DefaultRole, "none")))
	if err != nil || skip {
		return err
	}
	switch a {
	case "":
	case "-":
		c.DefaultRole = ""
	default:
		c.DefaultRole = a
	}
	s.SkipRoles = false
	return nil
}

// rolesLineMapping applies one line-mode answer to c, returning what was
// wrong.
func rolesLineMapping(c *flow.Connection, a string) string {
	if group, ok := strings.CutPrefix(a, "-"); ok {
		group = strings.TrimSpace(group)
		i := slices.IndexFunc(c.RoleMappings, func(m flow.RoleMapping) bool { return m.Group == group })
		if i < 0 {
			return fmt.Sprintf("No mapping for the group %s.", group)
		}
		c.RoleMappings = slices.Delete(c.RoleMappings, i, i+1)
		return ""
	}
	group, role, ok := strings.Cut(a, "=")
	if !ok {
		return "Write a mapping as GROUP=ROLE, e.g. engineering=admin."
	}
	c.RoleMappings = append(c.RoleMappings, flow.RoleMapping{Group: strings.TrimSpace(group), Role: strings.TrimSpace(role)})
	if msg := rolesRowError(c.RoleMappings, len(c.RoleMappings)-1); msg != "" {
		c.RoleMappings = c.RoleMappings[:len(c.RoleMappings)-1]
		return msg
	}
	return ""
}
