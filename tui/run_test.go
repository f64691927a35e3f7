package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// TestLinesEndOfInputKeepsADraft: when standard input ends mid-wizard, the
// line mode says what to do in plain words and keeps what was answered.
func TestLinesEndOfInputKeepsADraft(t *testing.T) {
	env := shellEnv(t)
	var out bytes.Buffer
	err := RunLines(t.Context(), env, strings.NewReader("Acme Corp\n\n"), &out)
	if !flow.IsCode(err, "input_ended") {
		t.Fatalf("RunLines: %v, want input_ended\n%s", err, out.String())
	}
	if _, fix := flow.Explain(err); !strings.Contains(fix, "kept as a draft") {
		t.Errorf("fix %q", fix)
	}
	drafts, err := env.Store.ListDrafts(t.Context(), "Acme Corp")
	if err != nil || len(drafts) != 1 || drafts[0].Step != 1 {
		t.Fatalf("drafts %+v, %v: want one at step 1", drafts, err)
	}
}

// TestLinesEditOfAnActiveConnectionIsSaved: editing an active connection in
// the line mode keeps the edits as a draft, as the full-screen wizard does.
func TestLinesEditOfAnActiveConnectionIsSaved(t *testing.T) {
	env := shellEnv(t)
	c := &flow.Connection{Organization: "Acme Corp", Name: "Acme OIDC", Status: flow.StatusActive,
		DiscoveryURL: "https://idp.example.com/.well-known/openid-configuration", ClientID: "old-client",
		ClientSecret: "a-long-enough-secret", RedirectURI: "http://localhost:8976/callback/x", Claims: flow.DefaultClaimMapping()}
	if err := env.Store.SaveConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Step 0: the first entry is the connection; step 1: keep the guide;
	// step 2: a new client ID, then the input ends.
	_ = RunLines(t.Context(), env, strings.NewReader("1\n\n\nnew-client-id\n"), &out)
	drafts, err := env.Store.ListDrafts(t.Context(), "Acme Corp")
	if err != nil || len(drafts) != 1 {
		t.Fatalf("drafts %+v, %v: want one\n%s", drafts, err, out.String())
	}
	if !strings.Contains(string(drafts[0].Form), "new-client-id") {
		t.Errorf("the draft lacks the new client ID: %s", drafts[0].Form)
	}
}

// TestLinesStopKeepsADraft: ctrl+c or a hang-up (the context ending) at a
// prompt stops the line mode there, without an error to print, and keeps
// what was answered as a draft.
func TestLinesStopKeepsADraft(t *testing.T) {
	env := shellEnv(t)
	in, typed := io.Pipe()
	defer typed.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	screen := make(chan string)
	done := make(chan error, 1)
	go func() { done <- RunLines(ctx, env, in, screenWriter(screen)) }()
	go func() { _, _ = io.WriteString(typed, "Acme Corp\n\n") }()
	var out strings.Builder
	for !strings.Contains(out.String(), "Provider number") {
		out.WriteString(<-screen)
	}
	cancel()
	var err error
	for running := true; running; {
		select {
		case text := <-screen:
			out.WriteString(text)
		case err = <-done:
			running = false
		}
	}
	if err != nil {
		t.Fatalf("RunLines after ctx ended: %v\n%s", err, out.String())
	}
	drafts, err := env.Store.ListDrafts(t.Context(), "Acme Corp")
	if err != nil || len(drafts) != 1 || drafts[0].Step != 1 {
		t.Fatalf("drafts %+v, %v: want one at step 1", drafts, err)
	}
}

// screenWriter hands each write of the line mode to the test.
type screenWriter chan string

func (w screenWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}
