package steps

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// credCtrl is ctrl+<letter>.
func credCtrl(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl} }

// credWithoutDemo is the credentials step in a test environment without
// the demo IdP, so nothing is pre-filled, and a new setup for it.
func credWithoutDemo(t *testing.T, isDark bool) (Step, *Setup) {
	t.Helper()
	env := testEnv(t)
	env.Demo = nil
	return NewCredentials(env, NewTheme(isDark)), NewSetup()
}

func TestCredentialsPrefilledFromTheDemoIdP(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step, setup := orgEnterNew(t, NewCredentials, env)
	c := setup.Connection
	if c.ClientID != env.Demo.ClientID || c.ClientSecret != env.Demo.ClientSecret ||
		setup.DiscoveryInput != env.Demo.DiscoveryURL || c.DiscoveryURL != env.Demo.DiscoveryURL {
		t.Fatalf("setup not pre-filled: %+v", setup)
	}
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "Pre-filled with the demo IdP's client") {
		t.Errorf("the pre-fill is not said:\n%s", v)
	}
	if strings.Contains(v, env.Demo.ClientSecret) {
		t.Fatalf("the secret is shown unmasked:\n%s", v)
	}
	var msgs []tea.Msg
	for range 3 {
		msgs = run(t, step, press("enter"), orgWait)
	}
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("enter on the last valid field did not move on: %v\n%s", msgs, viewFits(t, step, 80, 17))
	}
}

func TestCredentialsWritesEveryKeystrokeAndChecksAsTyped(t *testing.T) {
	t.Parallel()
	step, setup := credWithoutDemo(t, true)
	orgEnter(t, step, setup)
	orgType(t, step, "ab")
	if setup.Connection.ClientID != "ab" {
		t.Fatalf("Client ID in the setup = %q after typing", setup.Connection.ClientID)
	}
	run(t, step, press("tab"), orgWait)
	orgType(t, step, " s3cret-value ")
	if setup.Connection.ClientSecret != "s3cret-value" {
		t.Fatalf("secret in the setup = %q", setup.Connection.ClientSecret)
	}
	v := viewFits(t, step, 80, 17)
	if strings.Contains(v, "s3cret") || !strings.Contains(v, "will be trimmed") {
		t.Errorf("secret shown or its spaces not noted:\n%s", v)
	}
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "ctrl+r show secret") {
		t.Errorf("the reveal key is not in the keys: %s", got)
	}
	run(t, step, credCtrl('r'), orgWait)
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, " s3cret-value ") {
		t.Errorf("ctrl+r did not reveal the secret:\n%s", v)
	}
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "ctrl+r hide secret") {
		t.Errorf("the help does not offer to hide: %s", got)
	}
	run(t, step, credCtrl('r'), orgWait)
	run(t, step, press("tab"), orgWait)
	orgType(t, step, "https://idp.example.test/tenant/")
	const want = "https://idp.example.test/tenant/.well-known/openid-configuration"
	if setup.DiscoveryInput != "https://idp.example.test/tenant/" || setup.Connection.DiscoveryURL != want {
		t.Fatalf("discovery in the setup: input %q, URL %q", setup.DiscoveryInput, setup.Connection.DiscoveryURL)
	}
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "→ will use "+want) {
		t.Errorf("the appended endpoint is not shown:\n%s", v)
	}
}

func TestCredentialsRefusesInvalidInputAndFocusesTheFirstBadField(t *testing.T) {
	t.Parallel()
	step, setup := credWithoutDemo(t, false)
	orgEnter(t, step, setup)
	orgType(t, step, "client")
	run(t, step, press("tab"), orgWait)
	run(t, step, press("tab"), orgWait)
	orgType(t, step, "http://idp.example.test")
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "uses plain http") {
		t.Errorf("plain http is not flagged as typed:\n%s", v)
	}
	if setup.Connection.DiscoveryURL != "" {
		t.Errorf("an invalid endpoint reached the setup: %q", setup.Connection.DiscoveryURL)
	}
	msgs := run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); ok {
		t.Fatal("invalid input moved on")
	}
	if f := step.(*credentials).focus; f != credSecret {
		t.Errorf("focus on field %d, want the secret", f)
	}
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Fix the Client Secret: it is empty") {
		t.Errorf("the message does not say what to fix:\n%s", v)
	}
	orgType(t, step, "secret")
	msgs = run(t, step, press("enter"), orgWait) // to the endpoint
	if _, ok := orgHas[NextMsg](msgs); ok {
		t.Fatal("enter on the secret field moved on")
	}
	run(t, step, credCtrl('u'), orgWait) // clear the field
	orgType(t, step, "http://127.0.0.1:9/.well-known/openid-configuration")
	msgs = run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("valid input did not move on:\n%s", viewFits(t, step, 80, 17))
	}
	if setup.Connection.DiscoveryURL != "http://127.0.0.1:9/.well-known/openid-configuration" {
		t.Errorf("discovery URL %q", setup.Connection.DiscoveryURL)
	}
}

func TestCredentialsResumeShowsWhatWasTyped(t *testing.T) {
	t.Parallel()
	env := testEnv(t) // with a demo: typed values win over the pre-fill
	step := NewCredentials(env, NewTheme(true))
	setup := NewSetup()
	setup.Connection.ClientID = "typed-id"
	setup.DiscoveryInput = "https://idp.example.test"
	orgEnter(t, step, setup)
	v := viewFits(t, step, 80, 17)
	// Only the focused field (the empty secret) shows the "> " marker.
	if !strings.Contains(v, "  typed-id") || !strings.Contains(v, "  https://idp.example.test") || strings.Contains(v, "> typed-id") ||
		!strings.Contains(v, "> (the Client Secret)") || strings.Contains(v, "Pre-filled") {
		t.Errorf("resumed view:\n%s", v)
	}
	if f := step.(*credentials).focus; f != credSecret {
		t.Errorf("focus on field %d, want the empty secret", f)
	}
	viewsFit(t, step, 17)
	run(t, step, press("enter"), orgWait)
	run(t, step, press("enter"), orgWait)
	viewsFit(t, step, 17)
}

func TestCredentialsRunLines(t *testing.T) {
	t.Parallel()
	step, setup := credWithoutDemo(t, true)
	o, err := runLines(t, step, setup, "\ncid\n  top-secret-value \nhttp://idp.example.test\nhttps://idp.example.test\n")
	if err != nil {
		t.Fatal(err)
	}
	c := setup.Connection
	if c.ClientID != "cid" || c.ClientSecret != "top-secret-value" ||
		c.DiscoveryURL != "https://idp.example.test/.well-known/openid-configuration" {
		t.Fatalf("setup %+v\n%s", c, o)
	}
	wantOutput(t, o, "Fix: paste the Client ID", "plain http", "Will use https://idp.example.test/.well-known/openid-configuration",
		"spaces of the secret were trimmed", "Type back")
	if strings.Contains(o, "top-secret") {
		t.Errorf("the secret was printed:\n%s", o)
	}

	// Resumed: Enter keeps each value; the secret shows masked.
	if o, err = runLines(t, step, setup, "\n\n\n"); err != nil {
		t.Fatal(err)
	}
	if setup.Connection.ClientSecret != "top-secret-value" || !strings.Contains(o, "[••••alue]") {
		t.Errorf("kept values: %+v\n%s", setup.Connection, o)
	}
	if _, err := runLines(t, step, setup, "back\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back returned %v", err)
	}
}

// credBothMethods is a setup whose validated metadata offers both
// client_secret_basic and client_secret_post, filled in as after step 3.
func credBothMethods() *Setup {
	s := NewSetup()
	s.Connection.ClientID, s.Connection.ClientSecret = "cid", "a-long-enough-secret"
	s.DiscoveryInput = "https://idp.example.test"
	s.Metadata = &flow.Metadata{TokenEndpointAuthMethodsSupported: []string{flow.AuthMethodBasic, flow.AuthMethodPost}}
	return s
}

// The token auth method is shown when the validated metadata offers both
// methods, and tab then ←/→ change it in the setup.
func TestCredentialsOfferTheAuthMethodWhenTheIdPOffersBoth(t *testing.T) {
	t.Parallel()
	step, _ := credWithoutDemo(t, true)
	plain := NewSetup()
	orgEnter(t, step, plain)
	if v := viewFits(t, step, 80, 24); strings.Contains(v, "Token auth method") {
		t.Errorf("shown without metadata offering both:\n%s", v)
	}

	setup := credBothMethods()
	orgEnter(t, step, setup)
	v := viewFits(t, step, 80, 24)
	if !strings.Contains(v, "Token auth method") || !strings.Contains(v, "automatic (client_secret_basic when offered)") {
		t.Fatalf("the method is not offered:\n%s", v)
	}
	for range 3 { // client ID → secret → endpoint → method
		run(t, step, press("tab"), orgWait)
	}
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "←/→ auth method") {
		t.Errorf("the help does not say how to change it: %s", got)
	}
	run(t, step, press("left"), orgWait)
	if setup.Connection.TokenAuthMethod != flow.AuthMethodPost {
		t.Fatalf("← chose %q", setup.Connection.TokenAuthMethod)
	}
	if v := viewFits(t, step, 80, 24); !strings.Contains(v, "‹ client_secret_post ›") {
		t.Errorf("the choice is not shown:\n%s", v)
	}
	orgType(t, step, "x") // letters change nothing here
	if setup.Connection.ClientID != "cid" || setup.Connection.TokenAuthMethod != flow.AuthMethodPost {
		t.Errorf("typing on the method changed the setup: %+v", setup.Connection)
	}
	msgs := run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("enter on the method did not move on:\n%s", viewFits(t, step, 80, 24))
	}
	run(t, step, press("tab"), orgWait) // wraps to the client ID
	if f := step.(*credentials).focus; f != credClientID {
		t.Errorf("tab after the method focused %d", f)
	}
}

func TestCredentialsRunLinesAsksTheAuthMethod(t *testing.T) {
	t.Parallel()
	step, _ := credWithoutDemo(t, true)
	setup := credBothMethods()
	o, err := runLines(t, step, setup, "\n\n\nsecret\npost\n")
	if err != nil {
		t.Fatal(err)
	}
	if setup.Connection.TokenAuthMethod != flow.AuthMethodPost {
		t.Fatalf("method %q\n%s", setup.Connection.TokenAuthMethod, o)
	}
	wantOutput(t, o, "offers client_secret_basic and client_secret_post", "Type basic (client_secret_basic), post (client_secret_post) or auto")
	if _, err = runLines(t, step, setup, "\n\n\nauto\n"); err != nil || setup.Connection.TokenAuthMethod != "" {
		t.Errorf("auto: %q %v", setup.Connection.TokenAuthMethod, err)
	}
	plain := NewSetup()
	if o, _ := runLines(t, step, plain, "cid\nsecret-value\nhttps://idp.example.test\n"); strings.Contains(o, "Token auth method") {
		t.Errorf("asked without metadata offering both:\n%s", o)
	}
}

// While someone watches the screen (a support engineer joined the
// session), ctrl+r is refused with a reason, and a secret shown before
// they joined is hidden at the next message, before any frame they see.
func TestCredentialsSecretStaysHiddenWhileWatched(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Demo = nil
	watched := false
	env.Watched = func() bool { return watched }
	step, setup := NewCredentials(env, NewTheme(true)), NewSetup()
	orgEnter(t, step, setup)
	run(t, step, press("tab"), orgWait)
	orgType(t, step, "s3cret-value")
	run(t, step, credCtrl('r'), orgWait)
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "s3cret-value") {
		t.Fatalf("ctrl+r did not reveal the secret while nobody watched:\n%s", v)
	}
	watched = true
	step.Update(tea.WindowSizeMsg{Width: 80, Height: 23}) // what the shell sends when sharing starts
	if v := viewFits(t, step, 80, 17); strings.Contains(v, "s3cret") || strings.Contains(v, "ctrl+r") {
		t.Fatalf("the revealed secret, or a key to show it, is still shown once watched:\n%s", v)
	}
	if slices.ContainsFunc(step.Keys(), func(b key.Binding) bool { return slices.Contains(b.Keys(), "ctrl+r") }) {
		t.Errorf("the help still offers ctrl+r while watched: %v", keysHelp(step.Keys()))
	}
	run(t, step, credCtrl('r'), orgWait)
	v := viewFits(t, step, 80, 17)
	if strings.Contains(v, "s3cret") || !strings.Contains(v, "stays hidden while someone watches") {
		t.Errorf("ctrl+r while watched: the secret shown or no reason given:\n%s", v)
	}
}
