package steps

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines is step 1 as plain prompts: the Redirect URI, a choice of
// provider, and that provider's guide as plain Markdown.
func (r *redirectURI) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	if s.Connection.RedirectURI == "" && s.Connection.ID != "" {
		s.Connection.RedirectURI = r.env.RedirectURIFor(s.Connection.ID)
	}
	fmt.Fprintln(p, r.env.words().redirect)
	fmt.Fprintf(p, "Redirect URI: %s\n", s.Connection.RedirectURI)
	fmt.Fprintln(p, "To read it aloud, in parts:")
	for _, l := range flow.AloudLines(flow.URIAloud(s.Connection.RedirectURI)) {
		fmt.Fprintln(p, "  "+l)
	}
	fmt.Fprintln(p, "Identity providers:")
	for i, g := range r.guides {
		fmt.Fprintf(p, "  %d) %s\n", i+1, g.Name)
	}
	for {
		current := redirectGuideID(s)
		name := current
		for _, g := range r.guides {
			if g.ID == current {
				name = g.Name
			}
		}
		answer, err := p.AskOrBack(ctx, "Provider number (Enter keeps "+name+", back goes back): ")
		if err != nil {
			return err
		}
		if answer != "" {
			n, err := strconv.Atoi(answer)
			if err != nil || n < 1 || n > len(r.guides) {
				fmt.Fprintf(p, "Type a number from 1 to %d.\n", len(r.guides))
				continue
			}
			s.Provider = redirectChosen(s, r.guides[n-1].ID)
		}
		break
	}
	md, _ := assets.GuideMarkdown(redirectGuideID(s), s.Connection.RedirectURI)
	fmt.Fprintf(p, "\n%s\n", plainGuide(md))
	_, err := p.AskOrBack(ctx, "Press Enter once the Redirect URI is in the IdP's application (back goes back): ")
	return err
}

// plainGuide is a guide as plain text for the line mode: without the
// Markdown markers (#, **, *, `) a screen reader would read p.
func plainGuide(md string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(md), "\n") {
		line = strings.TrimLeft(line, "#")
		line = strings.NewReplacer("**", "", "`", "").Replace(line)
		line = mdEmphasis.ReplaceAllString(line, "$1")
		b.WriteString(strings.TrimSpace(line) + "\n")
	}
	return strings.TrimSpace(b.String())
}

// mdEmphasis matches *emphasis* (the only Markdown left after ** and `).
var mdEmphasis = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
