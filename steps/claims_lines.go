package steps

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines asks for each claim, showing the current one; Enter keeps it.
func (c *claims) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	fmt.Fprintln(p, "Configure ID token claims: each attribute of the user's profile comes from one claim of the ID token.")
	fmt.Fprintln(p, "For many providers, these claims are included by default, but some providers require manual configuration.")
	if supported := claimsSupported(s); len(supported) > 0 {
		fmt.Fprintln(p, "The IdP lists these claims:", strings.Join(supported, ", "))
	} else {
		fmt.Fprintln(p, "The IdP does not list claims_supported: the test login will show which claims arrive.")
	}
	fmt.Fprintln(p, "Press Enter to keep the claim in brackets, or type another; type back to go back.")
	defaults := flow.DefaultClaimMapping()
	for i, a := range claimsAttrs {
		current := cmp.Or(claimsGet(s.Connection.Claims, i), claimsGet(defaults, i))
		answer, err := p.AskOrBack(ctx, fmt.Sprintf("Claim for %s, %s [%s]: ", a.name, a.what, current))
		if err != nil {
			return err
		}
		claimsSet(&s.Connection.Claims, i, cmp.Or(answer, current))
	}
	for _, w := range claimsWarnings(s, -1, c.env.words()) {
		fmt.Fprintln(p, w)
	}
	return nil
}
