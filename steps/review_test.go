package steps

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// rvSetup is a setup that reached the review: a stored draft connection,
// a passed validation, a successful test login, and an open invite for
// its organization.
func rvSetup(t *testing.T, env *Env) *Setup {
	t.Helper()
	s := tlSetup(t, env)
	s.Connection.ClientSecret = "s3cr3t-value-0123456789"
	s.Connection.Issuer = strings.TrimSuffix(env.Demo.DiscoveryURL, "/.well-known/openid-configuration")
	s.Connection.DefaultRole = "viewer"
	s.Report = &flow.Report{OK: true, DiscoveryURL: s.Connection.DiscoveryURL, Issuer: s.Connection.Issuer,
		Checks: []flow.Check{{ID: "discovery", Status: flow.Pass, Detail: "served"}, {ID: "jwks", Status: flow.Warn, Detail: "one key"}}}
	s.TestLogin = &TestLoginResult{At: env.Now(), OK: true, Profile: &flow.Profile{IDPID: "user-1", Email: "ada.lovelace@example.com"}}
	s.Step, s.Reached = StepReview, StepReview
	// The validate step stores its report; activation snapshots it.
	if err := env.Store.SaveValidation(t.Context(), s.Connection.ID, *s.Report); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Store.CreateInvite(t.Context(), s.Connection.Organization, time.Hour); err != nil {
		t.Fatal(err)
	}
	return s
}

// rvFinish presses key, which must save and activate the connection:
// the step then sends the shell FinishedMsg and nothing else.
func rvFinish(t *testing.T, step Step, key string) {
	t.Helper()
	if shell := run(t, step, press(key), 10*time.Second); len(shell) != 1 || shell[0] != (FinishedMsg{}) {
		t.Fatalf("%s sent %v", key, shell)
	}
}

// rvEnterStays presses enter, which must not finish the step (it asks
// first, or the save failed): the step sends the shell nothing and its
// view at width×60, named what, says each of wants.
func rvEnterStays(t *testing.T, step Step, timeout time.Duration, width int, what string, wants ...string) {
	t.Helper()
	if shell := run(t, step, press("enter"), timeout); len(shell) != 0 {
		t.Fatalf("enter sent %v, want nothing before the %s", shell, what)
	}
	wantIn(t, what, flat(viewFits(t, step, width, 60)), wants...)
}

// rvActivates presses key, which must save and activate the connection
// of s, and checks what activation left in the store.
func rvActivates(t *testing.T, env *Env, step Step, s *Setup, key string) {
	t.Helper()
	rvFinish(t, step, key)
	rvAssertActive(t, env, s)
}

// rvAssertActive checks what activation left in the store.
func rvAssertActive(t *testing.T, env *Env, s *Setup) {
	t.Helper()
	ctx := t.Context()
	c, err := env.Store.GetConnection(ctx, s.Connection.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != flow.StatusActive || c.ClientSecret != s.Connection.ClientSecret || c.DefaultRole != "viewer" ||
		len(c.RoleMappings) != 1 || c.RedirectURI != s.Connection.RedirectURI {
		t.Errorf("stored connection %+v", c)
	}
	if v, err := env.Store.ActivationSnapshot(ctx, c.ID); err != nil || v == nil || len(v.Report.Checks) != 2 {
		t.Errorf("activation snapshot %+v, %v", v, err)
	}
	invites, err := env.Store.ListInvites(ctx, c.Organization)
	if err != nil || len(invites) != 1 || invites[0].UsedAt.IsZero() {
		t.Errorf("invites %+v, %v", invites, err)
	}
	events, err := env.Store.ListAudit(ctx, store.AuditQuery{ConnectionID: c.ID})
	if err != nil || !slices.ContainsFunc(events, func(e store.Event) bool { return e.Action == "connection.activate" }) {
		t.Errorf("audit %+v, %v", events, err)
	}
}

func TestReviewSavesAndActivates(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	step := NewReview(env, NewTheme(true))
	step.Enter(s)
	for _, w := range []int{80, 60, 40} {
		v := flat(viewFits(t, step, w, 60))
		for _, want := range []string{"Acme SSO", s.Connection.ID, s.Connection.ClientID, flow.MaskSecret(s.Connection.ClientSecret),
			"passed, 1 warning(s) in 2 checks", "idp_id ← sub", "oidc-admins → admin", "viewer", "worked at", "ada.lovelace@example.com"} {
			if !strings.Contains(v, want) {
				t.Errorf("width %d: summary lacks %q: %s", w, want, v)
			}
		}
		if strings.Contains(v, s.Connection.ClientSecret) || strings.Contains(v, "Warning") {
			t.Errorf("width %d: secret shown or warning without cause: %s", w, v)
		}
	}
	viewFits(t, step, 80, 17)
	if help := keysHelp(step.Keys()); !slices.Equal(help, []string{"enter save and activate", "↑/↓ scroll"}) {
		t.Errorf("keys %v", help)
	}
	rvActivates(t, env, step, s, "enter")
	if s.Connection.Status != flow.StatusActive {
		t.Errorf("setup status %q", s.Connection.Status)
	}

	for _, w := range []int{80, 40} {
		v := flat(viewFits(t, step, w, 17))
		for _, want := range []string{"is active", "oidc-onboard connections export " + s.Connection.ID, "oidc-onboard login --connection " + s.Connection.ID} {
			if !strings.Contains(v, want) {
				t.Errorf("width %d: final screen lacks %q: %s", w, want, v)
			}
		}
	}
	shell := run(t, step, press("n"), time.Second)
	if len(shell) != 1 {
		t.Fatalf("n sent %v", shell)
	}
	if r, ok := shell[0].(ResumeMsg); !ok || r.Setup.Connection.Organization != "" || r.Setup.Step != StepOrganization {
		t.Errorf("n sent %+v", shell[0])
	}
}

func TestReviewWarnsBeforeActivatingUntestedOrOverridden(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	s.TestLogin, s.Override = nil, true
	s.Report.Checks[1].Status = flow.Fail
	step := NewReview(env, NewTheme(false))
	step.Enter(s)
	rvEnterStays(t, step, time.Second, 80, "confirm view", "test login was skipped", "overridden", "1 of 2 checks failed — overridden", "Activate it anyway?")
	if help := keysHelp(step.Keys()); !slices.Contains(help, "y activate anyway") || !slices.Contains(help, "n not now") {
		t.Errorf("confirm keys %v", help)
	}
	run(t, step, press("n"), time.Second)
	if c, _ := env.Store.GetConnection(t.Context(), s.Connection.ID); c.Status != flow.StatusDraft {
		t.Errorf("activated after n: %q", c.Status)
	}
	run(t, step, press("enter"), time.Second)
	rvActivates(t, env, step, s, "y")
}

func TestReviewSaveFailureKeepsEverythingAndRetries(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	s.Connection.Name = " " // the store refuses a connection without a name
	step := NewReview(env, NewTheme(true))
	step.Enter(s)
	rvEnterStays(t, step, 10*time.Second, 60, "failure view", "Not saved: The connection has no name.", "Fix: give the connection's name", "Nothing is lost")
	if s.Connection.ClientSecret == "" || s.Connection.Status == flow.StatusActive {
		t.Errorf("setup changed by a failed save: %+v", s.Connection)
	}
	s.Connection.Name = "Acme SSO"
	rvActivates(t, env, step, s, "enter")
}

func TestReviewRunLines(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	d, err := env.Store.SaveDraft(t.Context(), store.Draft{Organization: "Acme", ConnectionID: s.Connection.ID, Step: StepReview, Form: []byte(`{}`), Actor: "local:test"})
	if err != nil {
		t.Fatal(err)
	}
	s.DraftID = d.ID
	step := NewReview(env, NewTheme(true))

	text, err := runLines(t, step, s, "\n")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := env.Store.GetConnection(t.Context(), s.Connection.ID); c.Status != flow.StatusDraft || !strings.Contains(text, "Not saved") {
		t.Errorf("no answer activated: %q, %s", c.Status, text)
	}
	if _, err := runLines(t, step, s, "back\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back: %v", err)
	}

	if text, err = runLines(t, step, s, "y\n"); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text, "Client secret", flow.MaskSecret(s.Connection.ClientSecret), "Save and activate? [y/N]", "is active", "oidc-onboard connections export "+s.Connection.ID)
	if strings.Contains(text, s.Connection.ClientSecret) || strings.Contains(text, "\x1b[") {
		t.Errorf("secret or ANSI in output:\n%s", text)
	}
	rvAssertActive(t, env, s)
	if _, err := env.Store.GetDraft(t.Context(), d.ID); err == nil {
		t.Error("the draft of the activated connection is still there")
	}
}

func TestReviewRecordsTheTestLoginTheMappingsWereCheckedAgainst(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	stored, err := env.Store.SaveTestLogin(t.Context(), store.TestLogin{ConnectionID: s.Connection.ID, At: s.TestLogin.At, OK: true, Profile: s.TestLogin.Profile})
	if err != nil {
		t.Fatal(err)
	}
	s.TestLogin.ID, s.TestLogin.Number = stored.ID, stored.Number
	step := NewReview(env, NewTheme(true))
	step.Enter(s)
	// The connection's first test login is #1, whatever its store-wide ID.
	want := fmt.Sprintf("Mappings checked against test login #1 (%s)", s.TestLogin.At.Format("15:04"))
	for _, w := range []int{80, 60, 40} {
		if v := flat(viewFits(t, step, w, 60)); !strings.Contains(v, want) {
			t.Errorf("width %d: summary lacks %q: %s", w, want, v)
		}
	}
	rvFinish(t, step, "enter")
	if id, err := env.Store.MappingsCheckedAgainst(t.Context(), s.Connection.ID); err != nil || id != stored.ID {
		t.Errorf("checked against %d, %v; want %d", id, err, stored.ID)
	}
}

func TestReviewLeavesMappingsUncheckedWithoutASuccessfulTestLogin(t *testing.T) {
	t.Parallel()
	for name, result := range map[string]*TestLoginResult{
		"skipped": nil,
		"failed":  {ID: 0, At: time.Now(), Error: "invalid client"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t)
			s := rvSetup(t, env)
			s.TestLogin = result
			if result != nil {
				stored, err := env.Store.SaveTestLogin(t.Context(), store.TestLogin{ConnectionID: s.Connection.ID, Error: result.Error})
				if err != nil {
					t.Fatal(err)
				}
				result.ID = stored.ID
			}
			step := NewReview(env, NewTheme(true))
			step.Enter(s)
			if v := flat(viewFits(t, step, 80, 60)); !strings.Contains(v, "Mappings not checked against a test login") {
				t.Errorf("summary: %s", v)
			}
			run(t, step, press("enter"), time.Second)
			rvFinish(t, step, "y")
			if id, err := env.Store.MappingsCheckedAgainst(t.Context(), s.Connection.ID); err != nil || id != 0 {
				t.Errorf("checked against %d, %v; want none", id, err)
			}
		})
	}
}

// rvFailingProfile is rvSetup with a test login whose email claim holds
// no address ("ada" from preferred_username) while email holds one, and
// the review step.
func rvFailingProfile(t *testing.T) (*Env, *Setup, Step) {
	env := testEnv(t)
	s := rvSetup(t, env)
	claims := map[string]any{"sub": "user-1", "preferred_username": "ada", "email": "ada@example.com"}
	s.Connection.Claims.Email = "preferred_username"
	p, _ := flow.MapProfile(claims, s.Connection.Claims, s.Connection.Roles())
	s.TestLogin = &TestLoginResult{At: s.TestLogin.At, OK: true, Profile: &p, Claims: claims}
	return env, s, NewReview(env, NewTheme(true))
}

// TestReviewActivatesAFailingProfileOnlyWithARecordedOverride: y does not
// activate a profile without an email address; o does, and the audit
// event and the transcript say what was overridden.
func TestReviewActivatesAFailingProfileOnlyWithARecordedOverride(t *testing.T) {
	t.Parallel()
	env, s, step := rvFailingProfile(t)
	step.Enter(s)
	rvEnterStays(t, step, time.Second, 80, "override question", `Email "ada" (claim "preferred_username") is not an email address`,
		`the claim "email" holds an address`, "worked at", "as ada, but the mapped profile fails", "o overrides and activates it anyway (the override is recorded)")
	if v := flat(viewAt(step, 80, 12)); !strings.Contains(v, "goes back to the summary.") {
		t.Errorf("at 80×12 the question is out of view: %s", v)
	}
	if help := keysHelp(step.Keys()); !slices.Equal(help, []string{"o override: activate with the profile failing", "n not now", "↑/↓ scroll"}) {
		t.Errorf("keys %v", help)
	}
	run(t, step, press("y"), time.Second)
	if c, _ := env.Store.GetConnection(t.Context(), s.Connection.ID); c.Status != flow.StatusDraft {
		t.Fatalf("y activated a failing profile")
	}
	run(t, step, press("up"), time.Second) // the summary scrolls while the question waits
	if v := flat(viewAt(step, 80, 12)); strings.Contains(v, "goes back to the summary.") {
		t.Errorf("up did not scroll: %s", v)
	}
	if _, err := rvActivate(t.Context(), env, s, false); !flow.IsCode(err, flow.CodeProfileFails) {
		t.Fatalf("activation without override: %v", err)
	}
	rvActivates(t, env, step, s, "o")
	c, _ := env.Store.GetConnection(t.Context(), s.Connection.ID)
	r, err := env.Store.Record(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := flow.BuildTranscript(r, time.Now()).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text.String(), `connection.activate: activated with an override of the failing profile (email "ada" (claim "preferred_username") is not an email address`)
}

func TestReviewRunLinesNeedsOverrideForAFailingProfile(t *testing.T) {
	t.Parallel()
	env, s, step := rvFailingProfile(t)
	text, err := runLines(t, step, s, "y\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text, "Type override to activate it anyway", "Not saved")
	if c, _ := env.Store.GetConnection(t.Context(), s.Connection.ID); c.Status != flow.StatusDraft {
		t.Fatal("y activated a failing profile in line mode")
	}
	if _, err := runLines(t, step, s, "override\n"); err != nil {
		t.Fatal(err)
	}
	rvAssertActive(t, env, s)
	events, _ := env.Store.ListAudit(t.Context(), store.AuditQuery{ConnectionID: s.Connection.ID})
	if len(events) == 0 || !strings.Contains(events[0].Detail, "override of the failing profile") {
		t.Errorf("audit %+v", events)
	}
}

// TestCustomerIsAddressedAsTheIdPAdmin: over SSH with an invite the
// person at the keyboard is the organization's admin: steps 0, 1 and 2
// speak to them, in the full screen and the line mode; the commands only
// the vendor can run are not shown; the last screen says the setup is
// done and the vendor has been told.
func TestCustomerIsAddressedAsTheIdPAdmin(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Customer, env.Organization = true, "Acme"
	s := rvSetup(t, env)
	relayed := []string{"customer's organization", "organization's admin", "organization's IT team", "ask the IdP admin", "oidc-onboard "}

	redirect := NewRedirectURI(env, NewTheme(true))
	redirect.Enter(s)
	lines, err := runLines(t, redirect, s, "\n\n")
	if err != nil {
		t.Fatal(err)
	}
	credentials := NewCredentials(env, NewTheme(true))
	credentials.Enter(s)
	org := NewOrganization(env, NewTheme(true))
	orgEnter(t, org, NewSetup())
	login, untested := NewTestLogin(env, NewTheme(true)), *s
	untested.TestLogin = nil
	login.Enter(&untested)
	screens := map[string]string{
		"step 1": flat(viewFits(t, redirect, 80, 24)), "step 1 (lines)": lines,
		"step 2": flat(viewFits(t, credentials, 80, 24)), "step 0": flat(viewFits(t, org, 80, 24)),
		"step 6": flat(viewFits(t, login, 80, 24)),
	}
	wantIn(t, "step 1", screens["step 1"], "Paste this Redirect URI into your OIDC application")
	wantIn(t, "step 1 (lines)", lines, "Paste this Redirect URI into your OIDC application")
	wantIn(t, "step 2", screens["step 2"], "Paste your OIDC application's Client ID")
	wantIn(t, "step 6", screens["step 6"], "the vendor's team can test it later")

	review := NewReview(env, NewTheme(true))
	review.Enter(s)
	rvActivates(t, env, review, s, "enter")
	screens["step 7"] = flat(viewFits(t, review, 80, 24))
	wantIn(t, "the last screen", screens["step 7"], "The setup is done.", "The vendor's team has been told")
	for name, text := range screens {
		for _, words := range relayed {
			if strings.Contains(text, words) {
				t.Errorf("%s speaks of %q to the customer:\n%s", name, words, text)
			}
		}
	}
}

// TestCustomerReadsFixesAsTheAdmin: a check's fix written for someone
// who relays it reads, to the customer, as what they do in their IdP, in
// the full screen and the line mode; an engineer reads it as written.
func TestCustomerReadsFixesAsTheAdmin(t *testing.T) {
	t.Parallel()
	check := flow.Check{ID: "pkce", Status: flow.Fail, Detail: "no S256", Fix: "ask the IdP admin to enable PKCE with the S256 method"}
	for customer, want := range map[bool]string{true: "in your IdP, enable PKCE", false: "ask the IdP admin to enable PKCE"} {
		env := &Env{Context: t.Context(), Customer: customer}
		var out strings.Builder
		validatePrintCheck(&out, check, env.words())
		v := NewValidate(env, NewTheme(true)).(*validate)
		screen := flat(strings.Join(v.checkLines(check, 80), "\n"))
		if !strings.Contains(out.String(), want) || !strings.Contains(screen, want) {
			t.Errorf("customer %v: the fix reads %q on the screen, %q in lines; want %q", customer, screen, out.String(), want)
		}
	}
}

func TestLeaveNoteSaysUntilWhen(t *testing.T) {
	t.Parallel()
	got := LeaveNote(time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC))
	if got != "Your draft is saved; connect again with the same code until Mon 30 Nov 2026 14:00 UTC." {
		t.Errorf("LeaveNote = %q", got)
	}
}
