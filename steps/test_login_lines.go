package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// tlLineWidth is the width the line mode formats profiles and claims to.
const tlLineWidth = 100

// RunLines runs the test login with plain prompts: it prints the URL, opens
// the browser where there is one, and finishes on the browser's callback or
// on a pasted address, whichever comes first.
func (t *testLogin) RunLines(ctx context.Context, s *Setup, p *Prompter) error {
	t.setup = s
	fmt.Fprintln(p, "Sign in once through this connection, as the organization's users will. This proves that the client ID and secret, the Redirect URI and the claims work together.")
	if d := t.env.Demo; d != nil {
		fmt.Fprintf(p, "Demo: sign in as %s with the password %s.\n", d.Username, d.Password)
	}
	for {
		prompt := "Press Enter to start the test login, type skip to save the connection untested, or back to go back: "
		if r := s.TestLogin; r != nil && r.OK && len(tlProblems(s)) > 0 {
			prompt = "The mapped profile fails. Press Enter to continue anyway (activating then needs an override), type again to test again, or back to go back to the claims: "
		} else if r != nil && r.OK {
			prompt = "The last test login worked. Press Enter to continue, type again to test again, or back to go back: "
		} else if r != nil {
			prompt = "Press Enter to try again, type skip to save the connection untested, or back to go back: "
		}
		answer, err := p.AskOrBack(ctx, prompt)
		if err != nil {
			return err
		}
		switch a := strings.ToLower(answer); {
		case a == "skip" && (s.TestLogin == nil || !s.TestLogin.OK):
			fmt.Fprintln(p, "Skipped: the connection will be saved untested.")
			return nil
		case a == "" && s.TestLogin != nil && s.TestLogin.OK:
			return nil
		case a == "" || a == "again":
			if err := t.lineAttempt(ctx, s, p); err != nil {
				return err
			}
		default:
			fmt.Fprintln(p, "Please answer with Enter, skip, again or back.")
		}
	}
}

// lineAttempt runs one login in line mode and prints its outcome.
func (t *testLogin) lineAttempt(ctx context.Context, s *Setup, p *Prompter) error {
	conn := s.Connection
	srv, prov, login, err := tlBegin(ctx, t.env, t.providers[conn.DiscoveryURL], conn)
	if prov != nil {
		t.providers[conn.DiscoveryURL] = prov
	}
	var res *flow.LoginResult
	if err == nil {
		fmt.Fprintf(p, "Open this URL in your browser and sign in:\n\n  %s\n\n", login.AuthURL())
		if open := t.env.OpenBrowser; open != nil {
			if oerr := open(login.AuthURL()); oerr != nil {
				fmt.Fprintln(p, "The browser could not be opened; open the URL yourself.")
			}
		}
		fmt.Fprintf(p, "Waiting for the browser to return to %s. If your browser could not reach it, paste the address bar's URL here and press Enter; type cancel to stop waiting.\n", conn.RedirectURI)
		res, err = t.lineWait(ctx, srv, login, p)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errLineCancelled) {
			login.Close()
			fmt.Fprintln(p, "Cancelled: nothing was recorded.")
			return nil
		}
	}
	if err != nil {
		delete(t.providers, conn.DiscoveryURL) // discover afresh on the next try
	}
	r := tlResultOf(t.env.Now(), res, err)
	s.TestLogin = r
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stored, recErr := tlRecord(rctx, t.env, conn, flow.NewTestLogin(r.At, res, err))
	r.ID, r.Number = stored.ID, stored.Number
	tlPrintResult(p, s, glRead(rctx, t.env, conn.ID), t.env.words())
	if recErr != nil {
		msg, _ := flow.Explain(recErr)
		fmt.Fprintln(p, "Note: the result could not be recorded in the store: "+msg)
	}
	if r.OK && t.env.Store != nil && conn.ID != "" {
		return t.lineLabels(ctx, s, p)
	}
	return nil
}

// lineLabels asks for a label for each GUID group the login showed.
func (t *testLogin) lineLabels(ctx context.Context, s *Setup, p *Prompter) error {
	groups := glGUIDGroups(s)
	if len(groups) == 0 {
		return nil
	}
	id := s.Connection.ID
	labels := glRead(ctx, t.env, id)
	fmt.Fprintln(p, "The groups arrive as IDs: label each with its group's name to recognize it later.")
	for _, g := range groups {
		current := ""
		if l := labels[g]; l != "" {
			current = " [" + l + "]"
		}
		a, err := p.Ask(ctx, fmt.Sprintf("Label group %s%s (Enter to skip): ", g, current))
		if err != nil {
			return err
		}
		if a == "" {
			continue
		}
		if err := t.env.Store.SetGroupLabel(ctx, id, g, a); err != nil {
			msg, _ := flow.Explain(err)
			fmt.Fprintln(p, "The label could not be saved: "+msg)
			continue
		}
		fmt.Fprintf(p, "Labelled %s.\n", glName(map[string]string{g: a}, g))
	}
	return nil
}

// errLineCancelled is the person typing cancel while a line-mode login waits.
var errLineCancelled = errors.New("cancelled")

// lineWait waits for the login's callback while reading pasted addresses.
func (t *testLogin) lineWait(ctx context.Context, srv *flow.CallbackServer, login *flow.Login, p *Prompter) (*flow.LoginResult, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var res *flow.LoginResult
	var err error
	done := make(chan struct{})
	go func() {
		res, err = login.Wait(wctx)
		close(done)
	}()
	for inputOpen := true; inputOpen; {
		text, rerr := p.next(ctx, done)
		switch text = strings.TrimSpace(text); {
		case rerr != nil: // the browser came back first, or the input ended: the login ends by itself
			inputOpen = false
		case text == "":
		case strings.EqualFold(text, "cancel"):
			return nil, errLineCancelled
		default:
			if err := srv.Deliver(text); err != nil {
				msg, fix := flow.Explain(err)
				fmt.Fprintf(p, "%s.\nFix: %s\nPaste again, or finish the sign-in in the browser.\n", msg, fix)
			} else {
				fmt.Fprintln(p, "Address received: finishing the sign-in…")
				inputOpen = false // the login ends by itself now
			}
		}
	}
	<-done
	return res, err
}

// tlPrintResult prints an outcome as plain lines, groups with their labels.
func tlPrintResult(out io.Writer, s *Setup, labels map[string]string, w words) {
	r := s.TestLogin
	if !r.OK {
		fmt.Fprintf(out, "The test login failed: %s.\n", r.Error)
		if r.Fix != "" {
			fmt.Fprintf(out, "Fix: %s\n", w.addressed(r.Fix))
		}
		if step := tlResultFixStep(r); step >= 0 {
			fmt.Fprintf(out, "This is changed in step %d: type back to go back step by step.\n", step)
		}
		return
	}
	problems := tlProblems(s)
	if len(problems) == 0 {
		fmt.Fprintln(out, "The test login worked.")
	} else {
		fmt.Fprintln(out, "The test login signed in, but the mapped profile cannot sign anyone in:")
		for _, p := range problems {
			fmt.Fprintf(out, "Problem: %s\n  Fix: %s\n", tlSentence(p.Message), tlProblemFix(p, "type back to go back to it", w))
		}
	}
	for _, f := range diagClaims(s) {
		fmt.Fprintln(out, diagFindingText(f, w))
	}
	plain := &Theme{}
	fmt.Fprintln(out, ansi.Strip(tlProfile(plain, r.Profile, labels, tlLineWidth)))
	fmt.Fprintln(out, ansi.Strip(tlClaims(plain, r.Claims, tlLineWidth)))
	for _, w := range tlWarnings(r, problems) {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}
}
