package steps

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// TestPrompterAnswersLineByLine: each prompt is printed and takes one line,
// without its line break (\r\n too); a last line without one is still an
// answer; then the end of the input says what to do.
func TestPrompterAnswersLineByLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := NewPrompter(strings.NewReader("one\r\n two \nthree"), &out)
	for i, want := range []string{"one", "two", "three"} {
		got, err := p.Ask(t.Context(), "Q"+want+": ")
		if err != nil || got != want {
			t.Fatalf("answer %d = %q, %v; want %q", i, got, err, want)
		}
	}
	_, err := p.Ask(t.Context(), "Qend: ")
	if !flow.IsCode(err, "input_ended") {
		t.Fatalf("at the end of input: %v, want input_ended", err)
	}
	msg, fix := flow.Explain(err)
	if msg != "the input ended before the wizard was done" || !strings.Contains(fix, "kept as a draft") || !strings.Contains(fix, "--accessible") {
		t.Errorf("the end of input does not say what happened and what to do: %q, %q", msg, fix)
	}
	if got := out.String(); got != "Qone: Qtwo: Qthree: Qend: " {
		t.Errorf("prompts %q", got)
	}

	// A step that can go back takes back in any case, and only back.
	p = NewPrompter(strings.NewReader(" BACK \nbackup\n"), io.Discard)
	if _, err := p.AskOrBack(t.Context(), "? "); !errors.Is(err, ErrBack) {
		t.Errorf("BACK: %v, want ErrBack", err)
	}
	if got, err := p.AskOrBack(t.Context(), "? "); err != nil || got != "backup" {
		t.Errorf("backup: %q, %v", got, err)
	}
}

// TestPrompterStopsOnCancelAndKeepsTheLine: a prompt waiting for input
// returns when its context ends, and the line that arrives afterwards is
// the next prompt's answer; the same holds for a wait stopped by another
// event (a test login's browser returning first).
func TestPrompterStopsOnCancelAndKeepsTheLine(t *testing.T) {
	t.Parallel()
	in, w := io.Pipe()
	defer w.Close()
	p := NewPrompter(in, io.Discard)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := p.Ask(ctx, "? "); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v, want context.Canceled", err)
	}
	stop := make(chan struct{})
	close(stop)
	if _, err := p.next(t.Context(), stop); !errors.Is(err, errStopped) {
		t.Fatalf("after stop: %v, want errStopped", err)
	}
	go func() { _, _ = io.WriteString(w, "late answer\nnext\n") }()
	for _, want := range []string{"late answer", "next"} {
		if got, err := p.Ask(t.Context(), "? "); err != nil || got != want {
			t.Fatalf("answer %q, %v; want %q", got, err, want)
		}
	}
}

// TestPromptsAcrossStepsLoseNoBytes: the whole input given at once (a
// pasted block, a file) is read through one buffer, and each step's
// prompts take their own lines of it.
func TestPromptsAcrossStepsLoseNoBytes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Demo = nil
	th := NewTheme(true)
	var out bytes.Buffer
	p := NewPrompter(strings.NewReader("Initech\n\n2\n\ncid\na-long-enough-secret\nhttps://idp.example.test\n"), &out)
	s := NewSetup()
	for _, step := range []Step{NewOrganization(env, th), NewRedirectURI(env, th), NewCredentials(env, th)} {
		if err := step.(LineStep).RunLines(t.Context(), s, p); err != nil {
			t.Fatalf("%s: %v\n%s", step.Title(), err, out.String())
		}
	}
	c := s.Connection
	if c.Organization != "Initech" || c.Name != "Initech OIDC" || s.Provider != "entra" || c.ClientID != "cid" ||
		c.ClientSecret != "a-long-enough-secret" || c.DiscoveryURL != "https://idp.example.test/.well-known/openid-configuration" {
		t.Errorf("setup after three steps %+v, provider %q\n%s", c, s.Provider, out.String())
	}
}

// runLines runs step's line mode on input, given all at once, and returns
// what it printed.
func runLines(t *testing.T, step Step, s *Setup, input string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := step.(LineStep).RunLines(t.Context(), s, NewPrompter(strings.NewReader(input), &out))
	return out.String(), err
}

// wantOutput reports each of wants that the line mode's output lacks.
func wantOutput(t *testing.T, text string, wants ...string) {
	t.Helper()
	wantIn(t, "output", text, wants...)
}
