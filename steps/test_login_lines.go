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
func (t *testLogin) RunLines(ctx context.Context, s *Setup, in io.Reader, out io.Writer) error {
	t.setup = s
	lines := newTLLines(in)
	fmt.Fprintln(out, "Sign in once through this connection, as the organization's users will. This proves that the client ID and secret, the Redirect URI and the claims work together.")
	if d := t.env.Demo; d != nil {
		fmt.Fprintf(out, "Demo: sign in as %s with the password %s.\n", d.Username, d.Password)
	}
	for {
		prompt := "Press Enter to start the test login, type skip to save the connection untested, or back to go back: "
		if r := s.TestLogin; r != nil && r.OK {
			prompt = "The last test login worked. Press Enter to continue, type again to test again, or back to go back: "
		} else if r != nil {
			prompt = "Press Enter to try again, type skip to save the connection untested, or back to go back: "
		}
		fmt.Fprint(out, prompt)
		answer, err := lines.next(ctx)
		if err != nil {
			return err
		}
		switch a := strings.ToLower(strings.TrimSpace(answer)); {
		case a == "back":
			return ErrBack
		case a == "skip" && (s.TestLogin == nil || !s.TestLogin.OK):
			fmt.Fprintln(out, "Skipped: the connection will be saved untested.")
			return nil
		case a == "" && s.TestLogin != nil && s.TestLogin.OK:
			return nil
		case a == "" || a == "again":
			if err := t.lineAttempt(ctx, s, lines, out); err != nil {
				return err
			}
		default:
			fmt.Fprintln(out, "Please answer with Enter, skip, again or back.")
		}
	}
}

// lineAttempt runs one login in line mode and prints its outcome.
func (t *testLogin) lineAttempt(ctx context.Context, s *Setup, lines *tlLines, out io.Writer) error {
	conn := s.Connection
	srv, p, login, err := tlBegin(ctx, t.env, t.providers[conn.DiscoveryURL], conn)
	if p != nil {
		t.providers[conn.DiscoveryURL] = p
	}
	var res *flow.LoginResult
	if err == nil {
		fmt.Fprintf(out, "Open this URL in your browser and sign in:\n\n  %s\n\n", login.AuthURL())
		if open := t.env.OpenBrowser; open != nil {
			if oerr := open(login.AuthURL()); oerr != nil {
				fmt.Fprintln(out, "The browser could not be opened; open the URL yourself.")
			}
		}
		fmt.Fprintf(out, "Waiting for the browser to return to %s. If your browser could not reach it, paste the address bar's URL here and press Enter; type cancel to stop waiting.\n", conn.RedirectURI)
		res, err = t.lineWait(ctx, srv, login, lines, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errLineCancelled) {
			login.Close()
			fmt.Fprintln(out, "Cancelled: nothing was recorded.")
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
	id, recErr := tlRecord(rctx, t.env, conn, r, res)
	r.ID = id
	tlPrintResult(out, s, glRead(rctx, t.env, conn.ID))
	if recErr != nil {
		msg, _ := flow.Explain(recErr)
		fmt.Fprintln(out, "Note: the result could not be recorded in the store: "+msg)
	}
	if r.OK && t.env.Store != nil && conn.ID != "" {
		return t.lineLabels(ctx, s, lines, out)
	}
	return nil
}

// lineLabels asks for a label for each GUID group the login showed.
func (t *testLogin) lineLabels(ctx context.Context, s *Setup, lines *tlLines, out io.Writer) error {
	groups := glGUIDGroups(s)
	if len(groups) == 0 {
		return nil
	}
	id := s.Connection.ID
	labels := glRead(ctx, t.env, id)
	fmt.Fprintln(out, "The groups arrive as IDs: label each with its group's name to recognize it later.")
	for _, g := range groups {
		current := ""
		if l := labels[g]; l != "" {
			current = " [" + l + "]"
		}
		fmt.Fprintf(out, "Label group %s%s (Enter to skip): ", g, current)
		a, err := lines.next(ctx)
		if err != nil {
			return err
		}
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if err := t.env.Store.SetGroupLabel(ctx, id, g, a); err != nil {
			msg, _ := flow.Explain(err)
			fmt.Fprintln(out, "The label could not be saved: "+msg)
			continue
		}
		fmt.Fprintf(out, "Labelled %s.\n", glName(map[string]string{g: a}, g))
	}
	return nil
}

// errLineCancelled is the person typing cancel while a line-mode login waits.
var errLineCancelled = errors.New("cancelled")

// lineWait waits for the login's callback while reading pasted addresses.
func (t *testLogin) lineWait(ctx context.Context, srv *flow.CallbackServer, login *flow.Login, lines *tlLines, out io.Writer) (*flow.LoginResult, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res *flow.LoginResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := login.Wait(wctx)
		done <- outcome{res, err}
	}()
	inputOpen := true
	for {
		var pasted <-chan tlLine
		if inputOpen {
			pasted = lines.request()
		}
		select {
		case o := <-done:
			return o.res, o.err
		case l := <-pasted:
			lines.pending = false
			switch {
			case l.err != nil:
				inputOpen = false
			case strings.TrimSpace(l.text) == "":
			case strings.EqualFold(strings.TrimSpace(l.text), "cancel"):
				return nil, errLineCancelled
			default:
				if err := srv.Deliver(l.text); err != nil {
					msg, fix := flow.Explain(err)
					fmt.Fprintf(out, "%s.\nFix: %s\nPaste again, or finish the sign-in in the browser.\n", msg, fix)
				} else {
					fmt.Fprintln(out, "Address received: finishing the sign-in…")
					inputOpen = false // the login ends by itself now
				}
			}
		}
	}
}

// tlPrintResult prints an outcome as plain lines, groups with their labels.
func tlPrintResult(out io.Writer, s *Setup, labels map[string]string) {
	r := s.TestLogin
	if !r.OK {
		fmt.Fprintf(out, "The test login failed: %s.\n", r.Error)
		if r.Fix != "" {
			fmt.Fprintf(out, "Fix: %s\n", r.Fix)
		}
		if step := tlResultFixStep(r); step >= 0 {
			fmt.Fprintf(out, "This is changed in step %d: type back to go back step by step.\n", step)
		}
		return
	}
	fmt.Fprintln(out, "The test login worked.")
	for _, f := range diagClaims(s) {
		fmt.Fprintln(out, diagFindingText(f))
	}
	plain := &Theme{}
	fmt.Fprintln(out, ansi.Strip(tlProfile(plain, r.Profile, labels, tlLineWidth)))
	fmt.Fprintln(out, ansi.Strip(tlClaims(plain, r.Claims, tlLineWidth)))
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}
}

// tlLines reads input one line at a time, on request, and never reads
// ahead: what follows a line stays in the reader for the next step. A read
// requested but not taken (the browser came back first) is handed to the
// next call of next.
type tlLines struct {
	in      io.Reader
	ch      chan tlLine
	pending bool
}

type tlLine struct {
	text string
	err  error
}

func newTLLines(in io.Reader) *tlLines { return &tlLines{in: in, ch: make(chan tlLine, 1)} }

// request starts reading the next line unless a read is under way, and
// returns the channel it arrives on; the receiver clears pending.
func (l *tlLines) request() <-chan tlLine {
	if !l.pending {
		l.pending = true
		go func() {
			text, err := tlReadLine(l.in)
			l.ch <- tlLine{text, err}
		}()
	}
	return l.ch
}

// next returns the next line, or the input's end.
func (l *tlLines) next(ctx context.Context) (string, error) {
	select {
	case x := <-l.request():
		l.pending = false
		return x.text, x.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// tlReadLine reads up to a line break byte by byte, so nothing beyond the
// line is consumed. A last line without a break is still a line.
func tlReadLine(in io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
			continue
		}
		if err != nil {
			if b.Len() > 0 && errors.Is(err, io.EOF) {
				return b.String(), nil
			}
			return "", err
		}
	}
}
