package steps

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// redirectSetup is a setup whose connection exists.
func redirectSetup(env *Env) *Setup {
	s := NewSetup()
	s.Connection.ID, s.Connection.Organization, s.Connection.Name = "conn_abc123", "Acme", "Acme OIDC"
	s.Connection.RedirectURI = env.RedirectURIFor("conn_abc123")
	return s
}

// redirectExec collects what an Update asked for: its step change, then
// the messages of cmd and of every command of a batch it returns.
func redirectExec(cmd tea.Cmd, nav Nav) []tea.Msg {
	var out []tea.Msg
	if nav != nil {
		out = append(out, nav)
	}
	if cmd == nil {
		return out
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			out = append(out, redirectExec(c, nil)...)
		}
		return out
	}
	return append(out, msg)
}

func TestRedirectURIShowsTheURIAtOnceAndTheGuideOnceRendered(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	setup := redirectSetup(env)
	cmd := step.Enter(setup)
	v := viewFits(t, step, 80, 17)
	wantIn(t, "view before the guide", v, setup.Connection.RedirectURI, "login redirect URI", "authorization code grant",
		"Loading the guide…", "p: other provider", "c: copy the URI")
	if cmd == nil {
		t.Fatal("Enter did not start rendering the guide")
	}
	run(t, step, cmd(), orgWait)
	v = viewFits(t, step, 80, 17)
	if strings.Contains(v, "Loading the guide") || !strings.Contains(v, "Generic OpenID Connect provider") {
		t.Errorf("the guide is not shown:\n%s", v)
	}
	if strings.Count(v, setup.Connection.RedirectURI) < 2 {
		t.Errorf("the guide does not carry the Redirect URI:\n%s", v)
	}
	// Entering again with nothing changed renders nothing.
	if cmd := step.Enter(setup); cmd != nil {
		t.Error("re-entering rendered the cached guide again")
	}
}

func TestRedirectURICopyConfirmsAndEnterMovesOn(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	setup := redirectSetup(env)
	step.Enter(setup) // the guide is not needed here
	msgs := redirectExec(step.Update(press("c")))
	var status, clip bool
	for _, m := range msgs {
		switch {
		case m == StatusMsg("Sent the Redirect URI to your terminal's clipboard (if it supports OSC 52)"):
			status = true
		case strings.Contains(fmt.Sprintf("%T", m), "Clipboard") && fmt.Sprint(m) == setup.Connection.RedirectURI:
			clip = true
		}
	}
	if !status || !clip {
		t.Errorf("copy gave %v; want the clipboard write and a confirmation", msgs)
	}
	if got := redirectExec(step.Update(press("enter"))); len(got) != 1 || got[0] != (NextMsg{}) {
		t.Errorf("enter gave %v", got)
	}
}

func TestRedirectURIReadsItsRandomPartAloud(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	step.Enter(redirectSetup(env))
	redirectExec(step.Update(press("a")))
	v := viewFits(t, step, 80, 24)
	wantIn(t, "step 1 read aloud", v, "/callback", "/conn_", "abc123   alfa · bravo · charlie · one · two · three")
	redirectExec(step.Update(press("a")))
	if v := viewFits(t, step, 80, 24); strings.Contains(v, "alfa · bravo") {
		t.Errorf("a again should hide the spelling:\n%s", v)
	}
}

func TestRedirectURIProviderPickerSwitchesAndCachesGuides(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	setup := redirectSetup(env)
	orgEnter(t, step, setup)
	run(t, step, press("p"), orgWait)
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "esc close") {
		t.Errorf("picker keys %s lack esc", got)
	}
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "▸ Generic OpenID Connect provider") || !strings.Contains(v, "Read which identity provider's guide") {
		t.Errorf("picker:\n%s", v)
	}
	for range 12 {
		run(t, step, press("up"), orgWait)
	}
	run(t, step, press("enter"), orgWait)
	// Reading the Okta guide records nothing; s chooses Okta.
	if setup.Provider != "" {
		t.Fatalf("reading a guide recorded the provider %q", setup.Provider)
	}
	v = viewFits(t, step, 80, 24)
	if !strings.Contains(v, "Guide for Okta") || !strings.Contains(v, "Sign-in redirect URIs") || !strings.Contains(v, "Reading only") {
		t.Errorf("the Okta guide is not shown as read only:\n%s", v)
	}
	if got := strings.Join(keysHelp(step.Keys()), ","); !strings.Contains(got, "s set as provider") {
		t.Errorf("keys while reading %s lack s", got)
	}
	run(t, step, press("s"), orgWait)
	if setup.Provider != "okta" {
		t.Fatalf("provider %q after s, want okta", setup.Provider)
	}
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Guide for Okta") || strings.Contains(v, "Reading only") {
		t.Errorf("the chosen Okta guide:\n%s", v)
	}
	// Back to generic: cached, so shown with no command.
	run(t, step, press("p"), orgWait)
	for range 12 {
		run(t, step, press("down"), orgWait)
	}
	if cmd, _ := step.Update(press("enter")); cmd != nil {
		t.Error("a guide rendered before was rendered again")
	}
	if setup.Provider != "okta" {
		t.Errorf("reading the generic guide changed the provider to %q", setup.Provider)
	}
	// Leaving and coming back shows the recorded provider's guide again.
	orgEnter(t, step, setup)
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Guide for Okta") {
		t.Errorf("coming back does not show the chosen guide:\n%s", v)
	}
	run(t, step, press("p"), orgWait)
	for range 12 {
		run(t, step, press("down"), orgWait)
	}
	run(t, step, press("enter"), orgWait)
	run(t, step, press("s"), orgWait)
	if setup.Provider != "" {
		t.Errorf("generic is stored as %q, want empty", setup.Provider)
	}
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Generic OpenID Connect provider") {
		t.Errorf("generic guide not shown:\n%s", v)
	}
	// esc closes the picker without a change.
	run(t, step, press("p"), orgWait)
	run(t, step, press("up"), orgWait)
	run(t, step, press("esc"), orgWait)
	if setup.Provider != "" || step.(*redirectURI).picking {
		t.Errorf("esc changed the provider to %q or left the picker open", setup.Provider)
	}
}

func TestRedirectURIScrollsAndFitsEveryWidth(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	setup := redirectSetup(env)
	setup.Provider = "entra"
	orgEnter(t, step, setup)
	before := viewFits(t, step, 80, 17)
	run(t, step, press("pgdown"), orgWait)
	after := viewFits(t, step, 80, 17)
	if before == after || !strings.Contains(after, setup.Connection.RedirectURI) {
		t.Errorf("pgdown did not scroll the guide alone:\n%s\n---\n%s", before, after)
	}
	for _, w := range []int{80, 60, 40} {
		run(t, step, tea.WindowSizeMsg{Width: w, Height: 24}, orgWait)
		v := viewFits(t, step, w, 17)
		if strings.Contains(v, "Loading the guide") || !strings.Contains(v, "Entra") {
			t.Errorf("width %d: guide not re-rendered:\n%s", w, v)
		}
		viewFits(t, step, w, 8)
	}
	// A light background re-renders the guide in the light style.
	step.(Themed).SetTheme(NewTheme(false)) // as the shell does, then the message
	run(t, step, tea.BackgroundColorMsg{Color: color.White}, orgWait)
	if got := step.(*redirectURI).shownKey.style; got != "light" {
		t.Errorf("guide style after a light background: %q", got)
	}
}

func TestRedirectURIRunLines(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true)).(LineStep)
	setup := redirectSetup(env)
	o, err := runLines(t, step, setup, "99\n2\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if setup.Provider != "entra" {
		t.Errorf("provider %q, want entra", setup.Provider)
	}
	wantOutput(t, o, "Redirect URI: "+setup.Connection.RedirectURI, "Type a number from 1 to 11",
		"\nMicrosoft Entra ID (Azure AD)\n", "value "+setup.Connection.RedirectURI+" → Register")
	if strings.Contains(o, "\x1b") || strings.Contains(o, "{{") || strings.Contains(o, "**") {
		t.Errorf("output has escapes or placeholders:\n%s", o)
	}
	if _, err := runLines(t, step, setup, "\nback\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back returned %v", err)
	}
}

func TestRedirectURIHelpFitsBesideTheShellKeys(t *testing.T) {
	t.Parallel()
	step := NewRedirectURI(&Env{Context: t.Context()}, NewTheme(true))
	// The shell adds " • esc back • q quit • ? more keys" (34 cells); the
	// step's own keys must leave room for them at 80.
	line := strings.Join(keysHelp(step.Keys()), " • ")
	if w := len([]rune(line)); w > 80-34 {
		t.Errorf("step 1's help is %d cells: %q", w, line)
	}
}

func TestPlainGuideDropsMarkdownMarkers(t *testing.T) {
	got := plainGuide("# Okta\n\n**Client ID**: the `Client ID` field; the *Value*, not the ID.\n")
	want := "Okta\n\nClient ID: the Client ID field; the Value, not the ID."
	if got != want {
		t.Errorf("plainGuide:\n%q\nwant\n%q", got, want)
	}
}

// TestRedirectURISwitchesToThisWizardsAddress: a connection whose Redirect
// URI points elsewhere (another --redirect-base, an import) can take the
// address this wizard receives callbacks at, so its test login can work.
func TestRedirectURISwitchesToThisWizardsAddress(t *testing.T) {
	t.Parallel()
	env := &Env{Context: t.Context(), RedirectBase: "http://localhost:9999"}
	s := redirectSetup(env)
	s.Connection.RedirectURI = "http://localhost:8976/callback/conn_abc123"
	step := NewRedirectURI(env, NewTheme(true))
	step.Enter(s)
	for _, w := range []int{80, 60, 40} {
		view := flat(ansi.Strip(viewAt(step, w, 17)))
		if !strings.Contains(view, "press u to use it") {
			t.Errorf("width %d: no offer to switch: %s", w, view)
		}
	}
	msgs := redirectExec(step.Update(press("u")))
	if s.Connection.RedirectURI != "http://localhost:9999/callback/conn_abc123" {
		t.Fatalf("Redirect URI %q after u", s.Connection.RedirectURI)
	}
	if !slices.ContainsFunc(msgs, func(m tea.Msg) bool { _, ok := m.(StatusMsg); return ok }) {
		t.Errorf("no status after switching: %v", msgs)
	}
	if view := ansi.Strip(viewAt(step, 80, 17)); strings.Contains(view, "press u") || slices.Contains(keysHelp(step.Keys()), "u use this URI") {
		t.Errorf("still offering to switch:\n%s", view)
	}
}
