package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// RunLines is step 2 as plain prompts. Enter keeps the value shown in
// brackets; the secret is read without echo on a terminal.
func (c *credentials) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	conn := &s.Connection
	discovery := s.DiscoveryInput
	if discovery == "" {
		discovery = conn.DiscoveryURL
	}
	if d := c.env.Demo; d != nil && conn.ClientID == "" && conn.ClientSecret == "" && discovery == "" {
		conn.ClientID, conn.ClientSecret, discovery = d.ClientID, d.ClientSecret, d.DiscoveryURL
		fmt.Fprintln(p, "Pre-filled with the demo IdP's client: press Enter to keep each value.")
	}
	fmt.Fprintln(p, c.env.words().credentials)
	fmt.Fprintln(p, "Type back to return to the previous step.")
	if s.handoffPending() { // asked for earlier: it may have arrived since
		fmt.Fprintln(p, "This setup waits for the customer's secret hand-off.")
		if err := c.lineWait(ctx, s, p); err != nil {
			return err
		}
	}
	if c.canHandOff() {
		fmt.Fprintln(p, "To have the customer paste the secret over SSH instead, type handoff at the Client Secret prompt.")
	}
	id, err := credAsk(ctx, p, credClientID, conn.ClientID, conn.ClientID)
	if err != nil {
		return err
	}
	conn.ClientID = strings.TrimSpace(id)
	for {
		shown := flow.MaskSecret(conn.ClientSecret)
		if s.SecretHandedOff() {
			shown = fmt.Sprintf("received from the customer, %d characters", s.Handoff.SecretLength)
		}
		secret, err := credAsk(ctx, p, credSecret, conn.ClientSecret, shown)
		if errors.Is(err, errHandoffAsked) && !c.canHandOff() {
			secret, err = "handoff", nil // a secret like any other, for whoever cannot ask
		}
		if errors.Is(err, errHandoffAsked) {
			if err := c.lineHandoff(ctx, s, p); err != nil {
				return err
			}
			if !s.SecretHandedOff() {
				continue // no code made, or it expired: ask again
			}
			discovery = s.DiscoveryInput
			break
		}
		if err != nil {
			return err
		}
		if strings.TrimSpace(secret) != secret {
			fmt.Fprintln(p, "Leading or trailing spaces of the secret were trimmed.")
		}
		if strings.TrimSpace(secret) != conn.ClientSecret {
			s.Handoff = nil // typed anew: the engineer's own
		}
		conn.ClientSecret = strings.TrimSpace(secret)
		break
	}
	disc, err := credAsk(ctx, p, credDiscovery, discovery, discovery)
	if err != nil {
		return err
	}
	s.DiscoveryInput = disc
	u, appended, _ := flow.DiscoveryURLFor(disc)
	conn.DiscoveryURL = u
	if appended {
		fmt.Fprintf(p, "Will use %s\n", u)
	}
	if f := credSecretFinding(s); f != nil {
		fmt.Fprintln(p, diagFindingText(*f, c.env.words()))
		fmt.Fprintln(p, "Type back at the next prompt to paste the secret again.")
	}
	if credAuthShown(s) {
		fmt.Fprintln(p, credAuthNote(s))
		m, err := credAskMethod(ctx, p, conn.TokenAuthMethod)
		if err != nil {
			return err
		}
		conn.TokenAuthMethod = m
	}
	return nil
}

// credAskMethod asks for the token auth method until the answer is one;
// Enter keeps current.
func credAskMethod(ctx context.Context, p *Prompter, current string) (string, error) {
	for {
		answer, err := p.answer(ctx, "Token auth method: basic, post or auto ["+credMethodLabel(current)+"]: ", false)
		if err != nil {
			return "", err
		}
		switch a := strings.ToLower(strings.TrimSpace(answer)); a {
		case "":
			return current, nil
		case "back":
			return "", ErrBack
		case "auto", "automatic":
			return "", nil
		case "basic", "post":
			return "client_secret_" + a, nil
		case flow.AuthMethodBasic, flow.AuthMethodPost:
			return a, nil
		}
		fmt.Fprintln(p, "Type basic (client_secret_basic), post (client_secret_post) or auto, or press Enter to keep it.")
	}
}

// errHandoffAsked: the answer at the Client Secret prompt was "handoff".
var errHandoffAsked = errors.New("a secret hand-off was asked for")

// credAsk asks for one field until its answer is valid; Enter keeps
// current (shown as shown).
func credAsk(ctx context.Context, p *Prompter, field int, current, shown string) (string, error) {
	for {
		prompt := credLabel(field)
		hidden := field == credSecret && p.canHide()
		if hidden {
			prompt += " (input hidden)"
		}
		if shown != "" {
			prompt += " [" + shown + "]"
		}
		answer, err := p.answer(ctx, prompt+": ", hidden)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(answer) == "back" {
			return "", ErrBack
		}
		if field == credSecret && strings.TrimSpace(answer) == "handoff" {
			return "", errHandoffAsked
		}
		if strings.TrimSpace(answer) == "" {
			answer = current
		}
		if err := credCheck(field, answer); err != nil {
			fmt.Fprintf(p, "The %s: ", credLabel(field))
			lineExplain(p, err)
			continue
		}
		return answer, nil
	}
}
