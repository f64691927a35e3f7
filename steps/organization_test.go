package steps

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

const orgWait = 5 * time.Second

// orgEnter enters step s with setup and runs what Enter started; it
// returns the messages meant for the shell.
func orgEnter(t *testing.T, s Step, setup *Setup) []tea.Msg {
	t.Helper()
	cmd := s.Enter(setup)
	if cmd == nil {
		return nil
	}
	return run(t, s, cmd(), orgWait)
}

// orgEnterNew builds the step that build makes in env, enters it with a
// new setup and runs what Enter started.
func orgEnterNew(t *testing.T, build Constructor, env *Env) (Step, *Setup) {
	t.Helper()
	step := build(env, NewTheme(true))
	setup := NewSetup()
	orgEnter(t, step, setup)
	return step, setup
}

// orgType types text into the step key by key.
func orgType(t *testing.T, s Step, text string) {
	t.Helper()
	for _, r := range text {
		k := string(r)
		if r == ' ' {
			k = "space"
		}
		run(t, s, press(k), orgWait)
	}
}

// orgHas reports whether msgs holds a message of type T.
func orgHas[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// orgSeed stores an active connection of Acme and a draft of Globex that
// stopped at the credentials step.
func orgSeed(t *testing.T, env *Env) (conn *flow.Connection, draft store.Draft) {
	t.Helper()
	ctx := context.Background()
	conn = &flow.Connection{Organization: "Acme", Name: "Acme OIDC", Status: flow.StatusActive,
		DiscoveryURL: env.Demo.DiscoveryURL, ClientID: "acme-client", ClientSecret: "acme-secret-0123456789"}
	if err := env.Store.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	s := NewSetup()
	s.Step = StepCredentials
	s.Connection.Organization, s.Connection.Name = "Globex", "Globex OIDC"
	s.Connection.ClientID = "globex-typed"
	s.DiscoveryInput = "https://globex.example"
	form, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	draft, err = env.Store.SaveDraft(ctx, store.Draft{Organization: "Globex", Step: StepCredentials, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	return conn, draft
}

func TestOrganizationEmptyStoreOpensTheFormAndCreatesTheConnection(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step, setup := orgEnterNew(t, NewOrganization, env)
	if !step.Capturing() {
		t.Fatal("an empty store should open the new-connection form at once")
	}
	v := viewFits(t, step, 80, 17)
	wantIn(t, "view", v, "Client ID, Client Secret and Discovery Endpoint", "Organization", "Connection name")
	orgType(t, step, "Acme Corp")
	run(t, step, press("enter"), orgWait) // to the name field
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Acme Corp OIDC") {
		t.Errorf("the default name is not proposed:\n%s", v)
	}
	msgs := run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("no NextMsg after creating; got %v\n%s", msgs, viewFits(t, step, 80, 17))
	}
	c := setup.Connection
	if !strings.HasPrefix(c.ID, "conn_") || c.Organization != "Acme Corp" || c.Name != "Acme Corp OIDC" {
		t.Fatalf("setup connection = %+v", c)
	}
	if c.RedirectURI != env.RedirectURIFor(c.ID) {
		t.Errorf("Redirect URI %q, want %q", c.RedirectURI, env.RedirectURIFor(c.ID))
	}
	stored, err := env.Store.GetConnection(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != flow.StatusDraft || stored.RedirectURI != c.RedirectURI {
		t.Errorf("stored %+v", stored)
	}
	events, err := env.Store.ListAudit(context.Background(), store.AuditQuery{ConnectionID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != "connection.create" || events[0].Actor != env.Actor {
		t.Errorf("audit events %+v", events)
	}
}

func TestOrganizationDuplicateNameIsExplainedAndInputKept(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	ctx := context.Background()
	if err := env.Store.SaveConnection(ctx, &flow.Connection{Organization: "Initech", Name: "SSO"}); err != nil {
		t.Fatal(err)
	}
	step := NewOrganization(env, NewTheme(false))
	orgEnter(t, step, NewSetup())
	if step.Capturing() {
		t.Fatal("a store with a connection should show the list first")
	}
	// The list: the connection, then "New connection".
	run(t, step, press("j"), orgWait)
	run(t, step, press("enter"), orgWait)
	if !step.Capturing() {
		t.Fatalf("New connection did not open the form:\n%s", viewFits(t, step, 80, 17))
	}
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "Existing: Initech") {
		t.Errorf("existing organizations are not offered:\n%s", v)
	}
	run(t, step, press("I"), orgWait)
	run(t, step, press("tab"), orgWait) // completes the suggestion
	run(t, step, press("enter"), orgWait)
	orgType(t, step, "SSO")
	msgs := run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); ok {
		t.Fatal("a duplicate name moved on")
	}
	v = viewFits(t, step, 80, 17)
	wantIn(t, "view", v, `Initech already has a connection named "SSO"`, "Fix: choose another name", "> SSO")
	// esc goes back to the list, which is in the keys while the form is open.
	if !strings.Contains(strings.Join(keysHelp(step.Keys()), ","), "esc list") {
		t.Errorf("keys %v lack esc", keysHelp(step.Keys()))
	}
	run(t, step, press("esc"), orgWait)
	if step.Capturing() {
		t.Error("esc did not close the form")
	}
}

func TestOrganizationListsDraftsWithStepAndAgeAndResumes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	conn, draft := orgSeed(t, env)
	env.Now = func() time.Time { return draft.UpdatedAt.Add(2*time.Hour + 5*time.Minute) }
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	v := viewFits(t, step, 80, 17)
	wantIn(t, "view", v, "Resume a draft", "▸ Globex / Globex OIDC · stopped at Credentials · 2 h ago",
		"Edit a connection", "Acme / Acme OIDC · active", "New connection")
	if strings.Index(v, "Globex") > strings.Index(v, "Acme") {
		t.Error("drafts should come before connections")
	}
	msgs := run(t, step, press("enter"), orgWait)
	r, ok := orgHas[ResumeMsg](msgs)
	if !ok {
		t.Fatalf("no ResumeMsg: %v", msgs)
	}
	s := r.Setup
	if s.DraftID != draft.ID || s.Step != StepCredentials || s.Connection.ClientID != "globex-typed" ||
		s.DiscoveryInput != "https://globex.example" {
		t.Errorf("resumed setup %+v", s)
	}

	// Edit the connection: its secret comes back unsealed.
	setup := NewSetup()
	orgEnter(t, step, setup)
	run(t, step, press("down"), orgWait)
	msgs = run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("no NextMsg after choosing a connection: %v", msgs)
	}
	if setup.Connection.ID != conn.ID || setup.Connection.ClientSecret != "acme-secret-0123456789" ||
		setup.DiscoveryInput != conn.DiscoveryURL || setup.Connection.RedirectURI != env.RedirectURIFor(conn.ID) {
		t.Errorf("edited setup %+v", setup)
	}
}

func TestOrganizationWalledSessionSeesOnlyItsOrganization(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	orgSeed(t, env)
	env.Organization = "Globex"
	step, setup := orgEnterNew(t, NewOrganization, env)
	v := viewFits(t, step, 80, 17)
	if strings.Contains(v, "Acme") || !strings.Contains(v, "Globex / Globex OIDC") {
		t.Fatalf("walled view shows another organization or not its own:\n%s", v)
	}
	run(t, step, press("down"), orgWait)
	run(t, step, press("enter"), orgWait) // New connection
	v = viewFits(t, step, 80, 17)
	if strings.Contains(v, "Existing:") || !strings.Contains(v, "Globex") {
		t.Errorf("the organization should be fixed to Globex:\n%s", v)
	}
	orgType(t, step, "Second")
	msgs := run(t, step, press("enter"), orgWait)
	if _, ok := orgHas[NextMsg](msgs); !ok {
		t.Fatalf("no NextMsg: %v\n%s", msgs, viewFits(t, step, 80, 17))
	}
	if setup.Connection.Organization != "Globex" || setup.Connection.Name != "Second" {
		t.Errorf("created %+v", setup.Connection)
	}
	if _, err := orgEditConnection(context.Background(), env, "conn_nope"); err == nil {
		t.Error("an unknown connection loaded")
	}
	acme, err := env.Store.ListConnections(context.Background(), "Acme")
	if err != nil || len(acme) != 1 {
		t.Fatal(acme, err)
	}
	if _, err := orgEditConnection(context.Background(), env, acme[0].ID); !flow.IsCode(err, "not_found") {
		t.Errorf("another organization's connection loaded: %v", err)
	}
}

func TestOrganizationViewsFitNarrowTerminals(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	orgSeed(t, env)
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	viewsFit(t, step, 17, 5)
	run(t, step, press("down"), orgWait)
	run(t, step, press("down"), orgWait)
	run(t, step, press("enter"), orgWait)
	viewsFit(t, step, 17)
}

func TestOrganizationRunLinesCreatesAndResumes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step := NewOrganization(env, NewTheme(true))
	setup := NewSetup()
	text, err := runLines(t, step, setup, "\nInitech\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if setup.Connection.ID == "" || setup.Connection.Name != "Initech OIDC" ||
		setup.Connection.RedirectURI != env.RedirectURIFor(setup.Connection.ID) {
		t.Fatalf("setup after lines: %+v\n%s", setup.Connection, text)
	}
	if !strings.Contains(text, "Type the organization's name") || strings.Contains(text, "\x1b") {
		t.Errorf("output:\n%s", text)
	}

	_, draft := orgSeed(t, env)
	resumed := NewSetup()
	// 9 is not in the list; then 1, the Globex draft (drafts come first).
	if text, err = runLines(t, step, resumed, "9\n1\n"); err != nil {
		t.Fatal(err)
	}
	if resumed.DraftID != draft.ID || resumed.Step != StepCredentials || resumed.Connection.ClientID != "globex-typed" {
		t.Errorf("resumed %+v\n%s", resumed, text)
	}
	if !strings.Contains(text, "Type a number from the list") {
		t.Errorf("a bad choice is not explained:\n%s", text)
	}
	if _, err := runLines(t, step, NewSetup(), ""); !flow.IsCode(err, "input_ended") {
		t.Errorf("the end of input: %v, want input_ended", err)
	}
}

func TestOrgAge(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 5 * time.Minute: "5 min ago", 2 * time.Hour: "2 h ago",
		72 * time.Hour: "3 days ago",
	} {
		if got := orgAge(d); got != want {
			t.Errorf("orgAge(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOrganizationComingBackOffersToContinueAndExplainsAVanishedDraft(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	conn, draft := orgSeed(t, env)
	setup := NewSetup()
	setup.Connection = *conn
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, setup)
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "▸ Acme / Acme OIDC · the connection you are on") || strings.Count(v, "Acme / Acme OIDC") != 1 {
		t.Errorf("the current connection should be offered once, to continue:\n%s", v)
	}
	if msgs := run(t, step, press("enter"), orgWait); len(msgs) != 1 || msgs[0] != (NextMsg{}) {
		t.Errorf("continue gave %v", msgs)
	}
	// The draft is deleted (by another session) after the list was shown.
	if err := env.Store.DeleteDraft(context.Background(), draft.ID); err != nil {
		t.Fatal(err)
	}
	run(t, step, press("down"), orgWait)
	if msgs := run(t, step, press("enter"), orgWait); len(msgs) != 0 {
		t.Fatalf("a vanished draft resumed: %v", msgs)
	}
	v = viewFits(t, step, 80, 17)
	if !strings.Contains(v, "✗ that draft is gone") || !strings.Contains(v, "Globex / Globex OIDC") || step.Capturing() {
		t.Errorf("the error should show under the list:\n%s", v)
	}
}
