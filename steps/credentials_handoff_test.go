package steps

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// handedOffSecret is what the customer pastes in these tests: 34
// characters.
const handedOffSecret = "cust0mer-SECRET-pasted-over-ssh-42"

// handoffSetup is an engineer's environment (who may ask a customer for
// the secret) and a setup of Acme saved as a draft, stopped at the
// credentials step with the client ID and discovery endpoint typed.
func handoffSetup(t *testing.T) (*Env, *Setup) {
	t.Helper()
	env := testEnv(t)
	env.Demo = nil
	env.Invites = &InviteSettings{SSHHost: "onboard.example.test:2222"}
	ctx := context.Background()
	if _, err := env.Store.EnsureOrganization(ctx, "Acme", ""); err != nil {
		t.Fatal(err)
	}
	s := NewSetup()
	s.Step, s.Reached = StepCredentials, StepCredentials
	s.Connection.Organization, s.Connection.Name = "Acme", "Acme OIDC"
	s.Connection.ClientID = "acme-app"
	s.setDiscovery("https://idp.example.test")
	saveSetup(t, env, s)
	return env, s
}

// saveSetup stores s as its draft, as the shell's saver does.
func saveSetup(t *testing.T, env *Env, s *Setup) {
	t.Helper()
	form, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Store.SaveDraft(context.Background(), store.Draft{ID: s.DraftID, Organization: s.Connection.Organization,
		Step: s.Step, Form: form, Actor: env.Actor})
	if err != nil {
		t.Fatal(err)
	}
	s.DraftID = d.ID
}

// customerPastes plays the customer's side: the code is looked up as the
// SSH server does at authentication, and the values delivered.
func customerPastes(t *testing.T, st *store.Store, code string, v store.HandoffValues) {
	t.Helper()
	ctx := context.Background()
	h, err := st.LookupHandoff(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReceiveHandoff(ctx, h.ID, h.Organization, v, store.Event{Actor: "handoff:" + h.ID}); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsAsksTheCustomerForTheSecretAndNeverShowsIt(t *testing.T) {
	t.Parallel()
	env, setup := handoffSetup(t)
	step := NewCredentials(env, NewTheme(true))
	orgEnter(t, step, setup)
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "ctrl+g ask the customer") {
		t.Fatalf("the hand-off key is not in the help: %s", got)
	}
	run(t, step, credCtrl('g'), orgWait)
	if v := viewFits(t, step, 80, 24); !strings.Contains(v, "s the client secret only") {
		t.Fatalf("ctrl+g does not ask what to ask for:\n%s", v)
	}
	// The code is made; its poll is left to the test to drive.
	run(t, step, press("s"), 500*time.Millisecond)
	c := step.(*credentials)
	if setup.Handoff == nil || c.code == "" {
		t.Fatalf("no hand-off made: %+v, message %q", setup.Handoff, c.message)
	}
	v := viewFits(t, step, 80, 24)
	if !strings.Contains(v, "ssh -p 2222 "+c.code+"@onboard.example.test") || !strings.Contains(v, "Waiting for the customer") {
		t.Fatalf("the ssh command is not shown:\n%s", v)
	}

	// The customer pastes; meanwhile the engineer's draft saver stores its
	// setup, whose secret is still empty.
	customerPastes(t, env.Store, c.code, store.HandoffValues{ClientSecret: handedOffSecret})
	saveSetup(t, env, setup)
	run(t, step, handoffTickMsg{setup: setup, id: setup.Handoff.ID}, orgWait)

	if setup.Connection.ClientSecret != handedOffSecret || !setup.SecretHandedOff() {
		t.Fatalf("the received secret was not taken into the setup: %+v", setup.Handoff)
	}
	// The next save of the draft carries it (sealed, in the store).
	saveSetup(t, env, setup)
	d, err := env.Store.GetDraft(context.Background(), setup.DraftID)
	if err != nil || !strings.Contains(string(d.Form), handedOffSecret) {
		t.Fatalf("the saved draft lacks the received secret: %v", err)
	}

	v = viewFits(t, step, 80, 24)
	if !strings.Contains(v, "✓ secret received (34 characters)") || strings.Contains(v, handedOffSecret) {
		t.Fatalf("want the receipt and never the value:\n%s", v)
	}
	if got := strings.Join(keysHelp(step.Keys()), ","); strings.Contains(got, "ctrl+r") {
		t.Errorf("the help offers to show a handed-off secret: %s", got)
	}
	run(t, step, credCtrl('r'), orgWait)
	v = viewFits(t, step, 80, 24)
	if strings.Contains(v, handedOffSecret) || strings.Contains(v, handedOffSecret[:8]) || !strings.Contains(v, "never shown here") {
		t.Fatalf("ctrl+r revealed a handed-off secret, or did not say why not:\n%s", v)
	}
	// Shortening it would show a part of it: an edit replaces it whole,
	// and then it is the engineer's own, which ctrl+r shows.
	run(t, step, press("backspace"), orgWait)
	orgType(t, step, "mine")
	if setup.Connection.ClientSecret != "mine" || setup.Handoff != nil {
		t.Fatalf("after an edit the secret is %q, hand-off %+v", setup.Connection.ClientSecret, setup.Handoff)
	}
	run(t, step, credCtrl('r'), orgWait)
	if v := viewFits(t, step, 80, 24); !strings.Contains(v, "mine") {
		t.Fatalf("ctrl+r does not show the engineer's own secret:\n%s", v)
	}
}

func TestAResumedDraftTakesAHandoffThatArrivedWhileNobodyWatched(t *testing.T) {
	t.Parallel()
	env, setup := handoffSetup(t)
	code, h, err := env.Store.CreateHandoff(context.Background(), "Acme", setup.DraftID, "Acme OIDC", store.HandoffAll,
		store.Event{Actor: env.Actor})
	if err != nil {
		t.Fatal(err)
	}
	setup.Handoff = &Handoff{ID: h.ID, Fields: h.Fields, ExpiresAt: h.ExpiresAt}
	saveSetup(t, env, setup)
	// The engineer's session ended; the customer pastes all three.
	customerPastes(t, env.Store, code, store.HandoffValues{ClientID: "their-app",
		ClientSecret: handedOffSecret, DiscoveryInput: "https://login.example.test/tenant"})

	// Another session resumes the draft at the credentials step.
	var resumed Setup
	d, err := env.Store.GetDraft(context.Background(), setup.DraftID)
	if err != nil || json.Unmarshal(d.Form, &resumed) != nil {
		t.Fatalf("draft: %v", err)
	}
	step := NewCredentials(env, NewTheme(true))
	orgEnter(t, step, &resumed)
	c := resumed.Connection
	if c.ClientSecret != handedOffSecret || c.ClientID != "their-app" ||
		c.DiscoveryURL != "https://login.example.test/tenant/.well-known/openid-configuration" || !resumed.SecretHandedOff() {
		t.Fatalf("the resumed setup did not take the hand-off: %+v, %+v", c, resumed.Handoff)
	}
	if v := viewFits(t, step, 80, 24); !strings.Contains(v, "their-app") || strings.Contains(v, handedOffSecret) {
		t.Fatalf("want the client ID shown and the secret hidden:\n%s", v)
	}
}

func TestCustomersCannotAskForAHandoff(t *testing.T) {
	t.Parallel()
	env, setup := handoffSetup(t)
	env.Invites, env.Customer, env.Organization = nil, true, "Acme"
	step := NewCredentials(env, NewTheme(true))
	orgEnter(t, step, setup)
	if got := strings.Join(keysHelp(step.Keys()), ","); strings.Contains(got, "ctrl+g") {
		t.Fatalf("a customer is offered the hand-off: %s", got)
	}
	run(t, step, credCtrl('g'), orgWait)
	if v := viewFits(t, step, 80, 24); strings.Contains(v, "secret only") {
		t.Fatalf("ctrl+g asked a customer:\n%s", v)
	}
}

// In line mode, "handoff" at the Client Secret prompt prints the command
// and waits for the customer; the secret is taken in, never printed.
func TestCredentialsRunLinesWaitsForAHandoff(t *testing.T) {
	t.Parallel()
	env, setup := handoffSetup(t)
	step := NewCredentials(env, NewTheme(true))
	out := &stepstest.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- step.(LineStep).RunLines(t.Context(), setup, NewPrompter(strings.NewReader("\nhandoff\ns\n\n"), out))
	}()
	code := ""
	for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		code = regexp.MustCompile(`secret-[0-9a-z-]{19}`).FindString(out.String())
	}
	if code == "" || !strings.Contains(out.String(), "ssh -p 2222 "+code+"@onboard.example.test") {
		t.Fatalf("no ssh command printed:\n%s", out.String())
	}
	customerPastes(t, env.Store, code, store.HandoffValues{ClientSecret: handedOffSecret})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the line mode never took the secret in:\n%s", out.String())
	}
	text := out.String()
	if !strings.Contains(text, "✓ secret received (34 characters)") || strings.Contains(text, handedOffSecret) {
		t.Fatalf("want the receipt and never the value:\n%s", text)
	}
	if setup.Connection.ClientSecret != handedOffSecret || !setup.SecretHandedOff() || setup.Connection.ClientID != "acme-app" {
		t.Fatalf("setup after the hand-off: %+v, %+v", setup.Connection, setup.Handoff)
	}
}

// Where the server's address is unknown, the code is still shown whole on
// a line of its own, in the command to complete.
func TestCredentialsHandoffWithoutAKnownHostShowsTheCodeWhole(t *testing.T) {
	t.Parallel()
	env, setup := handoffSetup(t)
	env.Invites.SSHHost = ""
	step := NewCredentials(env, NewTheme(true))
	orgEnter(t, step, setup)
	run(t, step, credCtrl('g'), orgWait)
	run(t, step, press("a"), 500*time.Millisecond)
	code := step.(*credentials).code
	if v := viewFits(t, step, 80, 24); code == "" || !strings.Contains(v, "ssh -p PORT "+code+"@HOST") ||
		!strings.Contains(v, "not known") {
		t.Fatalf("want the code whole in the command to complete:\n%s", v)
	}
}
