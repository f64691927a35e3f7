package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// The golden screens (testdata/TestGoldenScreens/*.golden) are every step
// of the wizard without colours, as a person sees them, in terminals of
// 40, 80 and 120 columns with a dark and a light background. They are
// deterministic because everything a screen shows is fixed here: the clock
// (goldenNow), the Redirect URI's base, the connection's ID, and the
// IdP's addresses (real validation reports, with the loopback addresses
// they name rewritten to fixed ones, see goldenReports).
//
// After a deliberate change of a screen, regenerate them and review the
// diff:
//
//	go test ./tui -run TestGoldenScreens -update

// Fixed values of the golden screens.
const (
	goldenConnID    = "conn_g0lden"
	goldenBase      = "http://localhost:8976"
	goldenIssuer    = "http://127.0.0.1:9000"
	goldenDiscovery = goldenIssuer + flow.WellKnownPath
	// goldenOtherIdP stands for the server of the failed validation.
	goldenOtherIdP = "http://127.0.0.1:9001"
)

// goldenNow is the golden screens' clock: a Saturday morning, in UTC.
func goldenNow() time.Time { return time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC) }

// goldenEnv is a wizard environment whose every shown value is fixed: the
// store's clock and the wizard's are goldenNow unless the test moves the
// store's (to age drafts), the Redirect URI's base is fixed, and the demo
// client is the demo IdP's, at goldenIssuer. Nothing in it reaches the
// network: the screens of steps that would (validate, test login) are
// shown from results kept in the setup. It has a browser to open, as a
// local run has (the goldens never start a login, so it is never called).
func goldenEnv(t *testing.T) (*steps.Env, *testClock) {
	t.Helper()
	clock := newTestClock(goldenNow())
	user := demoidp.DemoUser()
	return &steps.Env{
		Context: t.Context(),
		Store:   stepstest.OpenStore(t, clock.now),
		HTTP:    flow.NewHTTPClient(flow.ClientOptions{Timeout: 2 * time.Second}),
		Timeout: 2 * time.Second,
		Callbacks: func(string) (*flow.CallbackServer, error) {
			return nil, errors.New("the golden screens start no login")
		},
		RedirectBase: goldenBase,
		OpenBrowser:  func(string) error { return errors.New("the golden screens open no browser") },
		Now:          goldenNow,
		Actor:        "local:test",
		Demo: &steps.Demo{DiscoveryURL: goldenDiscovery, ClientID: demoidp.DefaultClientID,
			ClientSecret: demoidp.DefaultClientSecret, Username: user.Username, Password: user.Password},
	}, clock
}

// goldenSetup is a setup at step, as the wizard leaves it on reaching that
// step of the demo walkthrough: the connection exists in the store (step
// 0 created it), the credentials are the demo's, and from the validate
// step on the passed report is kept.
func goldenSetup(t *testing.T, env *steps.Env, step int, reports goldenReportSet) *steps.Setup {
	t.Helper()
	s := steps.NewSetup()
	s.Step, s.Reached = step, step
	c := &s.Connection
	c.ID, c.Organization, c.Name = goldenConnID, "Acme Corp", "Acme OIDC"
	c.RedirectURI = env.RedirectURIFor(goldenConnID)
	if step > steps.StepCredentials {
		c.ClientID, c.ClientSecret = env.Demo.ClientID, env.Demo.ClientSecret
		c.DiscoveryURL, s.DiscoveryInput = goldenDiscovery, goldenDiscovery
	}
	if step > steps.StepValidate {
		s.Report, s.Metadata = reports.passed, reports.metadata
		c.Issuer = reports.passed.Issuer
	}
	if err := env.Store.SaveConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return s
}

// goldenReportSet are validation reports made by the real checks against
// the demo IdP, with fixed addresses.
type goldenReportSet struct {
	passed, failed *flow.Report
	metadata       *flow.Metadata
}

// goldenReports validates the demo IdP, and a server that serves the demo
// IdP's discovery document with another issuer (the classic mistake of a
// discovery URL copied from another tenant), and rewrites the loopback
// addresses in both reports to goldenIssuer and goldenOtherIdP.
func goldenReports(t *testing.T) goldenReportSet {
	t.Helper()
	idp, err := demoidp.Start(context.Background(), demoidp.Options{AllowLoopbackRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: 5 * time.Second})
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := goldenFetchJSON(r.Context(), client, idp.DiscoveryURL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		doc["issuer"] = "https://login.example.com/acme-prod"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer other.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	passed := flow.Validate(ctx, client, idp.DiscoveryURL, flow.ValidateOptions{})
	failed := flow.Validate(ctx, client, other.URL+flow.WellKnownPath, flow.ValidateOptions{})
	if !passed.OK || failed.OK {
		t.Fatalf("the demo IdP's report is OK=%v (want true), the other issuer's OK=%v (want false)", passed.OK, failed.OK)
	}
	fixed := map[string]string{idp.Issuer: goldenIssuer, other.URL: goldenOtherIdP}
	set := goldenReportSet{passed: goldenRewrite(passed, fixed), failed: goldenRewrite(failed, fixed),
		metadata: passed.Metadata}
	if set.passed.DiscoveryURL != goldenDiscovery {
		t.Fatalf("rewritten discovery URL %q, want %q", set.passed.DiscoveryURL, goldenDiscovery)
	}
	return set
}

func goldenFetchJSON(ctx context.Context, client *http.Client, url string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	return doc, json.Unmarshal(body, &doc)
}

// goldenRewrite copies r with every address of fixed (a base URL, such as
// http://127.0.0.1:41234) written as its fixed replacement, and what was
// measured written as fixed values: the reachable check's response time
// as 3 ms, the clock check's skew as 1s (it reads 2s when the machine is
// so busy that the answer took over half a second). Whole
// addresses are matched, so that one port is never taken for the start
// of another.
func goldenRewrite(r *flow.Report, fixed map[string]string) *flow.Report {
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	elapsed, skew := regexp.MustCompile(`in \d+ ms`), regexp.MustCompile(`within \d+s of`)
	fix := func(s string) string {
		s = skew.ReplaceAllString(elapsed.ReplaceAllString(s, "in 3 ms"), "within 1s of")
		return base.ReplaceAllStringFunc(s, func(m string) string {
			if f, ok := fixed[m]; ok {
				return f
			}
			return m
		})
	}
	out := &flow.Report{OK: r.OK, DiscoveryURL: fix(r.DiscoveryURL), Issuer: fix(r.Issuer)}
	for _, c := range r.Checks {
		c.Detail, c.Fix = fix(c.Detail), fix(c.Fix)
		out.Checks = append(out.Checks, c)
	}
	return out
}

// goldenTestLogin is a successful test login of the demo user, as the
// test login step keeps it, at goldenNow.
func goldenTestLogin(s *steps.Setup) *steps.TestLoginResult {
	u := demoidp.DemoUser()
	at := goldenNow().Add(-2 * time.Minute)
	return &steps.TestLoginResult{
		At: at, OK: true,
		Profile: &flow.Profile{IDPID: u.Subject, Email: u.Email, FirstName: u.GivenName, LastName: u.FamilyName,
			Groups: u.Groups, Roles: []string{"admin"}},
		Claims: map[string]any{
			"iss": goldenIssuer, "aud": s.Connection.ClientID, "sub": u.Subject,
			"email": u.Email, "email_verified": true, "given_name": u.GivenName, "family_name": u.FamilyName,
			"groups": u.Groups, "iat": float64(at.Unix()), "exp": float64(at.Add(5 * time.Minute).Unix()),
		},
	}
}

// goldenScreen waits until the wizard shows a screen that ready accepts,
// stops it, and compares its final screen with the golden file of the
// test, after checking it fits the terminal l.
func goldenScreen(t *testing.T, l look, w *wizard, ready func(string) bool) {
	t.Helper()
	w.waitFor(t, "the screen", ready)
	screen := screenOf(w.stop(t))
	if !ready(screen) {
		t.Fatalf("the screen changed after it was ready:\n%s", screen)
	}
	checkFits(t, l, screen)
	checkHelpLine(t, l, screen)
	golden.RequireEqual(t, normalize(screen))
}

// checkHelpLine: from 80 columns on, the help line is never cut: it ends
// with "? more keys" (which lists every key) or, while a field is typed
// in, with the way out.
func checkHelpLine(t *testing.T, l look, screen string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if l.width >= 80 && !strings.HasSuffix(last, "? more keys") && !strings.HasSuffix(last, "ctrl+c quit") {
		t.Errorf("the help line at %d columns is cut: %q", l.width, last)
	}
}

// has accepts a screen that holds every text and none of the texts after
// a "!" prefix.
func has(texts ...string) func(string) bool {
	return func(s string) bool {
		for _, text := range texts {
			if gone, ok := strings.CutPrefix(text, "!"); ok {
				if strings.Contains(s, gone) {
					return false
				}
			} else if !strings.Contains(s, text) {
				return false
			}
		}
		return true
	}
}

// goldenLooks are the terminals of the golden screens: 40, 80 and 120
// columns, dark and light. The standard one's goldens keep the screen's
// bare name; the others' add the look (4_claims_40x24_light).
var goldenLooks = []look{
	standard, {width: 80, height: 24, light: true},
	{width: 40, height: 24}, {width: 40, height: 24, light: true},
	{width: 120, height: 24}, {width: 120, height: 24, light: true},
}

func (l look) String() string {
	if l == standard {
		return ""
	}
	theme := "dark"
	if l.light {
		theme = "light"
	}
	return fmt.Sprintf("_%dx%d_%s", l.width, l.height, theme)
}

// goldenCase is one golden screen: how to get there, and when it is ready.
type goldenCase struct {
	name  string
	start func(t *testing.T, l look) *wizard
	ready func(string) bool
}

func TestGoldenScreens(t *testing.T) {
	t.Parallel()
	reports := goldenReports(t)

	// at resumes a setup of the demo walkthrough at step, changed by edit.
	at := func(step int, edit func(s *steps.Setup)) func(t *testing.T, l look) *wizard {
		return func(t *testing.T, l look) *wizard {
			env, _ := goldenEnv(t)
			s := goldenSetup(t, env, step, reports)
			if edit != nil {
				edit(s)
			}
			return startWizardIn(t, l, env, s)
		}
	}
	// tested is a setup with a role mapping and a successful test login.
	tested := func(s *steps.Setup) {
		s.Connection.RoleMappings = []flow.RoleMapping{{Group: "oidc-admins", Role: "admin"}}
		s.TestLogin = goldenTestLogin(s)
	}
	cases := []goldenCase{
		{"0_new_connection_empty_store", func(t *testing.T, l look) *wizard {
			env, _ := goldenEnv(t)
			return startWizardIn(t, l, env, nil)
		}, has("New connection", "Connection name")},
		{"0_drafts_and_connections", func(t *testing.T, l look) *wizard {
			env, clock := goldenEnv(t)
			goldenSeedStore(t, env, clock)
			return startWizardIn(t, l, env, nil)
		}, has("Resume a draft", "Edit a connection", "New connection")},
		{"1_redirect_uri_generic_guide", at(steps.StepRedirectURI, nil),
			has("Step 1 of 7", "Guide for Generic", "!Loading the guide…")},
		{"2_credentials_demo_prefilled", at(steps.StepCredentials, nil), has("Step 2 of 7", "Pre-filled with the demo")},
		{"2_credentials_invalid_discovery_url", at(steps.StepCredentials, func(s *steps.Setup) {
			s.Connection.ClientID, s.Connection.ClientSecret = "0oa5x9acme", "s3cr3t-from-the-it-team"
			s.DiscoveryInput = "http://login.acme.example/oauth2/default"
		}), has("Step 2 of 7", "Discovery Endpoint", "✗")},
		{"3_validate_passed", at(steps.StepValidate, func(s *steps.Setup) {
			s.Report, s.Metadata, s.Connection.Issuer = reports.passed, reports.metadata, reports.passed.Issuer
		}), has("Step 3 of 7", "checks passed")},
		{"3_validate_failed_issuer", at(steps.StepValidate, func(s *steps.Setup) {
			s.Connection.DiscoveryURL = reports.failed.DiscoveryURL
			s.DiscoveryInput = reports.failed.DiscoveryURL
			s.Report = reports.failed
		}), has("Step 3 of 7", "failed", "fix:")},
		{"4_claims", at(steps.StepClaims, nil), has("Step 4 of 7", "Configure ID token claims")},
		{"5_roles_with_a_mapping", at(steps.StepRoles, func(s *steps.Setup) {
			s.Connection.RoleMappings = []flow.RoleMapping{{Group: "oidc-admins", Role: "admin"}}
		}), has("Step 5 of 7", "oidc-admins")},
		{"6_test_login_idle", at(steps.StepTestLogin, nil), has("Step 6 of 7", "Sign in once")},
		{"6_test_login_success", at(steps.StepTestLogin, tested), has("Step 6 of 7", "The test login worked")},
		{"7_review", at(steps.StepReview, tested), has("Step 7 of 7", "Review the connection")},
		// The review shows "is active" a moment before the shell hears the
		// connection is finished and stops offering esc back.
		{"7_active", func(t *testing.T, l look) *wizard {
			w := at(steps.StepReview, tested)(t, l)
			w.waitText(t, "Review the connection")
			w.press("enter")
			return w
		}, has("is active", "What happens next", "!esc back")},
	}
	for _, l := range goldenLooks {
		for _, c := range cases {
			t.Run(c.name+l.String(), func(t *testing.T) {
				t.Parallel()
				goldenScreen(t, l, c.start(t, l), c.ready)
			})
		}
	}
}

// goldenSeedStore fills the store as after a few weeks of use: two
// connections (one active) and two drafts stopped at different steps,
// each saved at its own time so that the list's order and ages are fixed.
func goldenSeedStore(t *testing.T, env *steps.Env, clock *testClock) {
	t.Helper()
	ctx := context.Background()
	st := env.Store
	for i, c := range []flow.Connection{
		{Organization: "Globex", Name: "Globex Okta", Status: flow.StatusActive, ClientID: "0oa1globex"},
		{Organization: "Initech", Name: "Initech Entra ID", Status: flow.StatusInactive, ClientID: "initech-app"},
	} {
		clock.set(goldenNow().Add(-time.Duration(30-i) * 24 * time.Hour))
		if err := st.SaveConnection(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []struct {
		org, name string
		step      int
		ago       time.Duration
	}{
		{"Umbrella", "Umbrella Keycloak", steps.StepValidate, 3 * 24 * time.Hour},
		{"Acme Corp", "Acme OIDC", steps.StepCredentials, 2 * time.Hour},
	} {
		s := steps.NewSetup()
		s.Step, s.Reached = d.step, d.step
		s.Connection.Organization, s.Connection.Name = d.org, d.name
		clock.set(goldenNow().Add(-d.ago))
		if err := st.SaveConnection(ctx, &s.Connection); err != nil {
			t.Fatal(err)
		}
		form, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SaveDraft(ctx, draftOf(env, s, form)); err != nil {
			t.Fatal(err)
		}
	}
	clock.set(goldenNow())
}
