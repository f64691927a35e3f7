package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// e2eEnv is the environment of `oidc-onboard --demo`, for real: a SQLite
// store in a temporary folder, the demo IdP on a free loopback port, and
// the callback server on another. Its browser signs the demo user in at
// the IdP (demoidp.SignIn stops where the IdP sends the browser back) and
// then follows that redirect to the callback server, as a browser would.
func e2eEnv(t *testing.T) (*steps.Env, *demoidp.IdP) {
	t.Helper()
	w := stepstest.StartWorld(t)
	browser := flow.NewHTTPClient(flow.ClientOptions{Timeout: 10 * time.Second})
	openBrowser := func(authURL string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		back, err := w.IdP.SignIn(ctx, authURL)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, back.String(), nil)
		if err != nil {
			return err
		}
		resp, err := browser.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("the callback page answered HTTP %d", resp.StatusCode)
		}
		return nil
	}
	return &steps.Env{
		Context:      t.Context(),
		Store:        stepstest.OpenStore(t, time.Now),
		HTTP:         w.HTTP,
		Timeout:      stepstest.Timeout,
		Callbacks:    w.Callbacks,
		RedirectBase: w.RedirectBase(),
		OpenBrowser:  openBrowser,
		Now:          time.Now,
		Actor:        "local:test",
		Demo: &steps.Demo{DiscoveryURL: w.IdP.DiscoveryURL, ClientID: w.IdP.ClientID, ClientSecret: w.IdP.ClientSecret,
			Username: w.IdP.User.Username, Password: w.IdP.User.Password},
	}, w.IdP
}

// createAcme answers step 0 on an empty store, whose new connection's
// form opens at once: organization Acme Corp, connection Acme OIDC.
func (w *wizard) createAcme(t *testing.T) {
	t.Helper()
	w.waitText(t, "Start: Organization", "New connection")
	w.tm.Type("Acme Corp")
	w.press("enter")
	w.tm.Type("Acme OIDC")
	w.press("enter")
}

// A newcomer's `oidc-onboard --demo`, typed key by key: every step,
// validation and test login against the demo IdP included, then what
// landed in the store.
func TestWizardDemoWalkthroughLandsInTheStore(t *testing.T) {
	t.Parallel()
	env, idp := e2eEnv(t)
	w := startWizard(t, env, nil)

	// Step 0: an empty store opens the new connection's form.
	w.createAcme(t)

	w.waitText(t, "Step 1 of 7: Redirect URI", "Guide for Generic")
	w.press("enter")

	// The demo's credentials are pre-filled: enter walks the three fields.
	w.waitText(t, "Step 2 of 7: Credentials", "Pre-filled with the demo")
	w.press("enter", "enter", "enter")

	w.waitText(t, "Step 3 of 7: Validate", "All 11 checks passed")
	w.press("enter")

	w.waitText(t, "Step 4 of 7: Claims", "Configure ID token claims")
	w.press("c")

	// Step 5: add oidc-admins → admin (enter moves to the role, then saves).
	w.waitText(t, "Step 5 of 7: Role assignment", "Role assignment (optional)")
	w.press("a")
	w.tm.Type("oidc-admins")
	w.press("enter")
	w.tm.Type("admin")
	w.press("enter")
	w.waitText(t, "oidc-admins", "add mapping") // the table again, not the row editor
	w.press("c")

	w.waitText(t, "Step 6 of 7: Test login", "Sign in once")
	w.press("enter")
	shown := w.waitText(t, "The test login worked")
	for _, want := range []string{"ada.lovelace@example.com", "engineering, oidc-admins", "roles        admin"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the test login's profile lacks %q:\n%s", want, shown)
		}
	}
	w.press("enter")

	w.waitText(t, "Step 7 of 7: Review", "oidc-admins → admin", "worked at")
	w.press("enter")
	w.waitText(t, "is active", "oidc-onboard connections export conn_")

	e2eCheckStore(t, env, idp)
	w.press("q")
	w.tm.WaitFinished(t)
}

// e2eCheckStore checks what the walkthrough saved: the active connection
// with the demo's credentials, the default claims and the role mapping, its
// validation and activation snapshot, the test login, the audit trail, and
// no draft left.
func e2eCheckStore(t *testing.T, env *steps.Env, idp *demoidp.IdP) {
	t.Helper()
	ctx := context.Background()
	st := env.Store
	conns, err := st.ListConnections(ctx, "")
	if err != nil || len(conns) != 1 {
		t.Fatalf("connections %v, %v; want one", conns, err)
	}
	id := conns[0].ID
	c, err := st.GetConnection(ctx, id) // unseals the secret
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != flow.StatusActive || c.Organization != "Acme Corp" || c.Name != "Acme OIDC" {
		t.Errorf("connection %s is %s, %q / %q; want active, Acme Corp / Acme OIDC", id, c.Status, c.Organization, c.Name)
	}
	if c.ClientID != idp.ClientID || c.ClientSecret != idp.ClientSecret {
		t.Errorf("client %q with a %d-character secret; want the demo's %q and its secret", c.ClientID, len(c.ClientSecret), idp.ClientID)
	}
	if c.DiscoveryURL != idp.DiscoveryURL || c.Issuer != idp.Issuer || c.RedirectURI != env.RedirectURIFor(id) {
		t.Errorf("discovery %q, issuer %q, redirect %q; want %q, %q, %q", c.DiscoveryURL, c.Issuer, c.RedirectURI,
			idp.DiscoveryURL, idp.Issuer, env.RedirectURIFor(id))
	}
	if c.Claims != flow.DefaultClaimMapping() {
		t.Errorf("claims %+v, want the defaults %+v", c.Claims, flow.DefaultClaimMapping())
	}
	if want := []flow.RoleMapping{{Group: "oidc-admins", Role: "admin"}}; !slices.Equal(c.RoleMappings, want) {
		t.Errorf("role mappings %+v, want %+v", c.RoleMappings, want)
	}

	if v, err := st.LastValidation(ctx, id); err != nil || v == nil || !v.Report.OK || len(v.Report.RawMetadata) == 0 {
		t.Errorf("last validation %+v, %v; want a passed report with the metadata as served", v, err)
	}
	if v, err := st.ActivationSnapshot(ctx, id); err != nil || v == nil || !v.Report.OK || len(v.Report.RawJWKS) == 0 {
		t.Errorf("activation snapshot %+v, %v; want the passed validation with its key set", v, err)
	}

	logins, err := st.ListTestLogins(ctx, id)
	if err != nil || len(logins) != 1 {
		t.Fatalf("test logins %+v, %v; want one", logins, err)
	}
	l := logins[0]
	if !l.OK || l.Profile == nil || l.Profile.Email != idp.User.Email || !slices.Equal(l.Profile.Roles, []string{"admin"}) {
		t.Errorf("test login ok=%v profile %+v; want ok, %s with roles [admin]", l.OK, l.Profile, idp.User.Email)
	}
	if l.Claims["sub"] != idp.User.Subject {
		t.Errorf("the ID token's sub is %v, want %s", l.Claims["sub"], idp.User.Subject)
	}

	// The shell deletes the draft when the review reports the connection
	// finished, in a command of its own: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		drafts, err := st.ListDrafts(ctx, "")
		if err == nil && len(drafts) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drafts %+v, %v; want none once the connection is active", drafts, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	events, err := st.ListAudit(ctx, store.AuditQuery{ConnectionID: id})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"connection.create", "connection.validate", "connection.test_login", "connection.activate"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit events %v lack %s", actions, want)
		}
	}
}

// A wizard stopped abruptly (no question, no last save) in the middle of
// typing the client ID resumes, in a new wizard on the same store, at the
// credentials step with the text as typed.
func TestWizardResumesAnAbruptlyStoppedDraft(t *testing.T) {
	t.Parallel()
	env := &steps.Env{Context: t.Context(), Store: stepstest.OpenStore(t, time.Now), RedirectBase: "http://localhost:8976", Now: time.Now,
		Actor: "local:test"}

	first := startWizard(t, env, nil)
	first.createAcme(t)
	first.waitText(t, "Step 1 of 7: Redirect URI")
	first.press("enter")
	first.waitText(t, "Step 2 of 7: Credentials", "Client ID")
	first.tm.Type("0oa5x9-part")
	first.waitText(t, "> 0oa5x9-part")
	// The shell saves a draft within moments of a keystroke; a process
	// killed before that loses only those moments. Wait for the save, then
	// stop at once, as a kill would.
	draft := resumeWaitForDraft(t, env.Store, func(s *steps.Setup) bool { return s.Connection.ClientID == "0oa5x9-part" })
	stopped := first.stop(t).Setup()

	second := startWizard(t, env, nil)
	second.waitText(t, "Resume a draft", "▸ Acme Corp / Acme OIDC · stopped at Credentials")
	second.press("enter")
	// The Client ID is shown as typed; the focus (its "> ") is on the
	// first empty field, the secret.
	shown := second.waitText(t, "Step 2 of 7: Credentials", "  0oa5x9-part", "> (the Client Secret)")
	checkFits(t, standard, shown)

	resumed := second.stop(t).Setup()
	if resumed.Step != steps.StepCredentials || resumed.Connection.ClientID != "0oa5x9-part" {
		t.Errorf("resumed at step %d with client ID %q; want step %d with 0oa5x9-part", resumed.Step,
			resumed.Connection.ClientID, steps.StepCredentials)
	}
	if resumed.DraftID != draft.ID || resumed.Connection.ID != stopped.Connection.ID {
		t.Errorf("resumed draft %q of connection %q; want draft %q of %q", resumed.DraftID, resumed.Connection.ID,
			draft.ID, stopped.Connection.ID)
	}
	if drafts, err := env.Store.ListDrafts(context.Background(), ""); err != nil || len(drafts) != 1 {
		t.Errorf("drafts %+v, %v; want still the one", drafts, err)
	}
}

// resumeWaitForDraft waits until the store's only draft holds a setup that
// ok accepts, and returns it.
func resumeWaitForDraft(t *testing.T, st *store.Store, ok func(*steps.Setup) bool) store.Draft {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		drafts, err := st.ListDrafts(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(drafts) == 1 {
			var s steps.Setup
			if err := json.Unmarshal(drafts[0].Form, &s); err == nil && ok(&s) {
				return drafts[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no draft with the typed text after 5 s: %+v", drafts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
