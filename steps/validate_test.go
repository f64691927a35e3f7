package steps

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// validateSetup stores a draft connection for discoveryURL, as step 0 and
// the credentials step leave it, and returns its setup.
func validateSetup(t *testing.T, env *Env, discoveryURL string) *Setup {
	t.Helper()
	s := NewSetup()
	s.Connection.Organization, s.Connection.Name = "Acme Corp", "Acme OIDC"
	s.Connection.DiscoveryURL = discoveryURL
	if err := env.Store.SaveConnection(context.Background(), &s.Connection); err != nil {
		t.Fatal(err)
	}
	return s
}

// validateIdP is an OpenID Provider on loopback whose discovery document
// is a correct one changed by edit; jwks serves its key set.
func validateIdP(t *testing.T, edit func(base string, doc map[string]any), jwks http.HandlerFunc) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case flow.WellKnownPath:
			base := srv.URL
			doc := map[string]any{
				"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
				"jwks_uri": base + "/jwks", "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
				"scopes_supported":                 []string{"openid", "email", "profile"},
				"claims_supported":                 []string{"sub", "email", "given_name", "family_name"},
				"code_challenge_methods_supported": []string{"S256"},
			}
			if edit != nil {
				edit(base, doc)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(doc)
		case "/jwks":
			if jwks != nil {
				jwks(w, r)
				return
			}
			validateWriteKeys(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func validateWriteKeys(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "kid": "k1", "e": "AQAB",
		"n": base64.RawURLEncoding.EncodeToString(make([]byte, 256))}}})
}

// validateRun enters the step and runs the validation to its end.
func validateRun(t *testing.T, v Step, s *Setup) []tea.Msg {
	t.Helper()
	cmd := v.Enter(s)
	if cmd == nil {
		t.Fatal("Enter started no validation")
	}
	return run(t, v, cmd(), 15*time.Second)
}

func validateAudit(t *testing.T, env *Env, connID, action string) []store.Event {
	t.Helper()
	events, err := env.Store.ListAudit(context.Background(), store.AuditQuery{ConnectionID: connID})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, e := range events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func TestValidateDemoIdPPasses(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := validateSetup(t, env, env.Demo.DiscoveryURL)
	v := NewValidate(env, NewTheme(true))
	if shell := validateRun(t, v, s); len(shell) != 0 {
		t.Fatalf("the validation itself sent %v to the shell", shell)
	}
	if s.Report == nil || !s.Report.OK || s.Metadata == nil || s.Connection.Issuer == "" || s.Connection.Issuer != s.Report.Issuer {
		t.Fatalf("setup after validation: report %+v, metadata %v, issuer %q", s.Report, s.Metadata, s.Connection.Issuer)
	}
	view := viewFits(t, v, 80, 17)
	wantIn(t, "view", view, env.Demo.DiscoveryURL, "checks passed", "✓ Reachable", "✓ Signing keys")
	last, err := env.Store.LastValidation(context.Background(), s.Connection.ID)
	if err != nil || last == nil || !last.Report.OK || len(last.Report.Checks) != len(s.Report.Checks) {
		t.Fatalf("stored validation %+v, %v", last, err)
	}
	if ev := validateAudit(t, env, s.Connection.ID, "connection.validate"); len(ev) != 1 || !strings.Contains(ev[0].Detail, "passed") {
		t.Errorf("audit events %+v", ev)
	}
	if shell := run(t, v, press("enter"), time.Second); len(shell) != 1 || shell[0] != (NextMsg{}) {
		t.Errorf("enter after a passing validation sent %v", shell)
	}
}

// TestValidateShowsChecksAsTheyFinish: while the key set is still being
// fetched, the finished checks are shown and the key set check spins.
func TestValidateShowsChecksAsTheyFinish(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	release := make(chan struct{})
	idp := validateIdP(t, nil, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			validateWriteKeys(w)
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	s := validateSetup(t, env, idp.URL)
	v := NewValidate(env, NewTheme(true)).(*validate)

	cmd := v.Enter(s)
	view := viewFits(t, v, 80, 40)
	if !strings.Contains(view, "0 of 11 checks done") || !strings.Contains(view, "Signing keys") || !strings.Contains(view, "Clock") {
		t.Errorf("before any check finished, the pending checks are not listed:\n%s", view)
	}
	released := false
	validatePump(t, v, cmd, func() {
		if !released && len(v.known) == len(validateSlots)-1 {
			view := viewFits(t, v, 80, 40)
			if !strings.Contains(view, "✓ Clock") || strings.Contains(view, "✓ Signing keys") || !strings.Contains(view, "10 of 11") {
				t.Errorf("with the keys pending:\n%s", view)
			}
			released = true
			release <- struct{}{}
		}
	})
	if !released || s.Report == nil || !s.Report.OK {
		t.Fatalf("released=%v report=%+v", released, s.Report)
	}
	if view := viewFits(t, v, 80, 40); !strings.Contains(view, "✓ Signing keys") || strings.Contains(view, "Checking…") {
		t.Errorf("after the run:\n%s", view)
	}
}

// validatePump runs cmd and every command the step returns, feeding
// their messages back one at a time; after each it calls each.
func validatePump(t *testing.T, s Step, cmd tea.Cmd, each func()) {
	t.Helper()
	results := make(chan tea.Msg, 64)
	pending := 0
	dispatch := func(c tea.Cmd) {
		if c != nil {
			pending++
			go func() { results <- c() }()
		}
	}
	dispatch(cmd)
	timeout := time.After(15 * time.Second)
	for pending > 0 {
		select {
		case m := <-results:
			pending--
			switch m := m.(type) {
			case tea.BatchMsg:
				for _, c := range m {
					dispatch(c)
				}
			case nil, spinner.TickMsg:
			default:
				cmd, _ := s.Update(m)
				dispatch(cmd)
				each()
			}
		case <-timeout:
			t.Fatal("the validation did not end")
		}
	}
}

func TestValidateFailureBlocksUntilOverride(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	idp := validateIdP(t, func(base string, doc map[string]any) { doc["issuer"] = base + "/realms/other" }, nil)
	s := validateSetup(t, env, idp.URL+"/") // an issuer is accepted: the well-known path is added
	v := NewValidate(env, NewTheme(true))
	validateRun(t, v, s)
	if s.Report == nil || s.Report.OK || s.Report.DiscoveryURL != idp.URL+flow.WellKnownPath {
		t.Fatalf("report %+v", s.Report)
	}
	view := viewFits(t, v, 80, 17)
	wantIn(t, "view", view, "✗ Issuer matches URL", "fix:", "1 check failed")
	if shell := run(t, v, press("enter"), time.Second); len(shell) != 0 {
		t.Fatalf("enter with a failed check sent %v", shell)
	}
	// The fix is a change here (the realm's own discovery URL): the
	// refusal points at e, not at the IdP admin.
	if view := viewFits(t, v, 80, 17); !strings.Contains(view, "press e to edit the Discovery") {
		t.Errorf("the refusal does not say what to do:\n%s", view)
	}
	run(t, v, press("o"), time.Second)
	if view := viewFits(t, v, 80, 17); !strings.Contains(view, "Go on despite 1 failed check?") {
		t.Errorf("no confirmation asked:\n%s", view)
	}
	if h := strings.Join(keysHelp(v.Keys()), ","); !strings.HasPrefix(h, "y yes, go on,n no") {
		t.Errorf("keys while confirming: %s", h)
	}
	run(t, v, press("n"), time.Second)
	if s.Override {
		t.Fatal("n overrode")
	}
	run(t, v, press("o"), time.Second)
	shell := run(t, v, press("y"), 5*time.Second)
	if len(shell) != 1 || shell[0] != (NextMsg{}) || !s.Override {
		t.Fatalf("override: shell %v, Override=%v", shell, s.Override)
	}
	if ev := validateAudit(t, env, s.Connection.ID, "connection.validate_override"); len(ev) != 1 || !strings.Contains(ev[0].Detail, flow.CheckIssuer) {
		t.Errorf("override audit %+v", ev)
	}
	if ev := validateAudit(t, env, s.Connection.ID, "connection.validate"); len(ev) != 1 || !strings.Contains(ev[0].Detail, "failed: issuer") {
		t.Errorf("validation audit %+v", ev)
	}
	// Back on the step, the override stands and enter goes on.
	if cmd := v.Enter(s); cmd != nil {
		t.Fatal("coming back re-ran the validation")
	}
	if shell := run(t, v, press("enter"), time.Second); len(shell) != 1 {
		t.Errorf("enter after an override sent %v", shell)
	}
}

func TestValidateUnreachableIsAFailedCheck(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	idp := validateIdP(t, nil, nil)
	url := idp.URL
	idp.Close() // nothing listens there any more
	s := validateSetup(t, env, url)
	v := NewValidate(env, NewTheme(true))
	validateRun(t, v, s)
	if s.Report == nil || s.Report.OK || len(s.Report.Checks) != 1 || s.Report.Checks[0].ID != flow.CheckReachable {
		t.Fatalf("report %+v", s.Report)
	}
	view := viewFits(t, v, 60, 17)
	wantIn(t, "view", view, "✗ Reachable", "fix:", "could not be read")
	if strings.Contains(view, "Signing keys") {
		t.Errorf("checks that did not run are still listed:\n%s", view)
	}
}

// TestValidateResumeAndRerun: a report for the same URL is shown without
// running again; r runs again and replaces it.
func TestValidateResumeAndRerun(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	var fixed atomic.Bool
	idp := validateIdP(t, func(base string, doc map[string]any) {
		if !fixed.Load() {
			delete(doc, "code_challenge_methods_supported")
			doc["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
		}
	}, nil)
	s := validateSetup(t, env, idp.URL+flow.WellKnownPath)
	validateRun(t, NewValidate(env, NewTheme(true)), s)
	if s.Report == nil || s.Report.OK {
		t.Fatalf("first report %+v", s.Report)
	}
	// A new step (a resumed session) with the draft's setup, through JSON.
	b, _ := json.Marshal(s)
	resumed := &Setup{}
	if err := json.Unmarshal(b, resumed); err != nil {
		t.Fatal(err)
	}
	v := NewValidate(env, NewTheme(true))
	if cmd := v.Enter(resumed); cmd != nil {
		t.Fatal("a resumed report was validated again")
	}
	view := viewFits(t, v, 80, 17)
	if !strings.Contains(view, "✗ Client secret auth") || !strings.Contains(view, "! PKCE S256") || !strings.Contains(view, "1 check failed, 1 warning") {
		t.Errorf("resumed view:\n%s", view)
	}
	if strings.Index(view, "✗ Client secret auth") > strings.Index(view, "! PKCE S256") {
		t.Errorf("failures are not listed first:\n%s", view)
	}
	fixed.Store(true) // the customer fixed their side
	run(t, v, press("r"), 15*time.Second)
	if resumed.Report == nil || !resumed.Report.OK {
		t.Fatalf("after r: %+v", resumed.Report)
	}
	if n := len(validateAudit(t, env, s.Connection.ID, "connection.validate")); n != 2 {
		t.Errorf("%d validation audit events, want 2", n)
	}
}

// TestValidateViewFits: a long failing report scrolls within the height,
// with the summary and the refusal always visible, at every width.
func TestValidateViewFits(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	idp := validateIdP(t, func(base string, doc map[string]any) {
		doc["issuer"] = strings.Replace(base, "127.0.0.1", "localhost", 1) + "/tenant"
		delete(doc, "claims_supported")
		delete(doc, "scopes_supported")
		delete(doc, "code_challenge_methods_supported")
		doc["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
	}, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	s := validateSetup(t, env, idp.URL)
	v := NewValidate(env, NewTheme(false))
	validateRun(t, v, s)
	run(t, v, press("enter"), time.Second)
	// The help line knows whether the list scrolls as soon as the step is
	// sized, before anything is drawn: not one frame late.
	v.SetSize(80, 200)
	if h := strings.Join(keysHelp(v.Keys()), ","); strings.Contains(h, "↑/↓ scroll") {
		t.Errorf("a list that fits offers scrolling: %s", h)
	}
	v.SetSize(80, 17)
	if h := strings.Join(keysHelp(v.Keys()), ","); !strings.Contains(h, "↑/↓ scroll") {
		t.Errorf("a list that overflows does not offer scrolling: %s", h)
	}
	for _, width := range []int{80, 60, 40} {
		view := viewFits(t, v, width, 17)
		if !strings.Contains(view, "checks failed") || !strings.Contains(view, "press o to go on") {
			t.Errorf("at %d the summary or the refusal is not visible:\n%s", width, view)
		}
		if !strings.Contains(view, "more lines below") {
			t.Errorf("at %d the list does not say it scrolls:\n%s", width, view)
		}
	}
	if h := strings.Join(keysHelp(v.Keys()), ","); !strings.Contains(h, "↑/↓ scroll") {
		t.Errorf("keys %s", h)
	}
	if testing.Verbose() {
		t.Logf("\n%s\n%s\n%s", viewFits(t, v, 80, 17), viewFits(t, v, 60, 17), viewFits(t, v, 40, 17))
	}
	before := viewFits(t, v, 80, 17)
	for range 40 {
		run(t, v, press("down"), time.Second)
	}
	after := viewFits(t, v, 80, 17)
	if before == after || !strings.Contains(after, "✓ ") {
		t.Errorf("scrolling down changed nothing or did not reach the passed checks:\n%s", after)
	}
}

func TestValidateRunLines(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := validateSetup(t, env, env.Demo.DiscoveryURL)
	var out bytes.Buffer
	v := NewValidate(env, NewTheme(true))
	p := NewPrompter(strings.NewReader("\nnext step's answer\n"), &out)
	if err := v.(LineStep).RunLines(t.Context(), s, p); err != nil {
		t.Fatal(err)
	}
	if next, err := p.Ask(t.Context(), ""); err != nil || next != "next step's answer" {
		t.Errorf("the next step's answer: %q, %v", next, err)
	}
	text := out.String()
	wantOutput(t, text, "Pass: Reachable:", "Pass: Signing keys:", "checks passed", "Press Enter to continue")
	if strings.Contains(text, "\x1b") {
		t.Errorf("ANSI in the line mode:\n%q", text)
	}
	if s.Report == nil || !s.Report.OK {
		t.Fatalf("report %+v", s.Report)
	}
	if last, err := env.Store.LastValidation(context.Background(), s.Connection.ID); err != nil || last == nil {
		t.Errorf("not recorded: %v", err)
	}

	// The same report again (resume), then back.
	text, err := runLines(t, v, s, "back\n")
	if !errors.Is(err, ErrBack) {
		t.Fatalf("back: %v", err)
	}
	if !strings.Contains(text, "Result of the last check") {
		t.Errorf("the stored report was not shown:\n%s", text)
	}
}

func TestValidateRunLinesFailureAndOverride(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	idp := validateIdP(t, func(base string, doc map[string]any) { doc["issuer"] = base + "/other" }, nil)
	s := validateSetup(t, env, idp.URL)
	text, err := runLines(t, NewValidate(env, NewTheme(true)), s, "\nr\no\nno\no\nyes\n")
	if err != nil || !s.Override {
		t.Fatalf("err %v, override %v\n%s", err, s.Override, text)
	}
	wantOutput(t, text, "Failed: Issuer matches URL:", "  Fix: ", "1 failed check: logins will not work", "Type yes to go on")
	if n := strings.Count(text, "Checking…"); n != 2 {
		t.Errorf("r ran the checks %d times in all, want 2", n-1)
	}
	if ev := validateAudit(t, env, s.Connection.ID, "connection.validate_override"); len(ev) != 1 {
		t.Errorf("override audit %+v", ev)
	}
	// A resumed session shows the stored report and can override again.
	if _, err := runLines(t, NewValidate(env, NewTheme(true)), s, "o\nyes\n"); err != nil {
		t.Fatal(err)
	}
	if ev := validateAudit(t, env, s.Connection.ID, "connection.validate_override"); len(ev) != 2 {
		t.Errorf("override audit after resume %+v", ev)
	}
}

// TestValidateEndsWithTheSession: a validation runs under the session's
// context, so a session that ends (a dropped SSH connection) stops it at
// once rather than when the IdP's slow answer times out.
func TestValidateEndsWithTheSession(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	session, end := context.WithCancel(t.Context())
	env.Context = session
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(hung.Close)
	s := validateSetup(t, env, hung.URL+flow.WellKnownPath)
	v := NewValidate(env, NewTheme(true))
	time.AfterFunc(200*time.Millisecond, end)
	start := time.Now()
	validateRun(t, v, s)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the validation ran %s after its session ended", took.Round(time.Millisecond))
	}
	if s.Report == nil || s.Report.OK {
		t.Errorf("report %+v, want a failed one", s.Report)
	}
}
