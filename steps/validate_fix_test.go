package steps

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// validateEntraIdP serves Entra's multi-tenant document at
// /common/v2.0/.well-known/openid-configuration: its issuer is the
// {tenantid} template.
func validateEntraIdP(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL
		switch r.URL.Path {
		case "/common/v2.0" + flow.WellKnownPath:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": base + "/{tenantid}/v2.0", "authorization_endpoint": base + "/common/oauth2/v2.0/authorize",
				"token_endpoint": base + "/common/oauth2/v2.0/token", "jwks_uri": base + "/jwks",
				"response_types_supported": []string{"code"}, "subject_types_supported": []string{"pairwise"},
				"id_token_signing_alg_values_supported": []string{"RS256"}, "scopes_supported": []string{"openid", "email", "profile"},
			})
		case "/jwks":
			validateWriteKeys(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestValidateOffersTheFixThatIsHere: when a failed check's fix is another
// Discovery Endpoint, e opens step 2 with it filled in and focused, and
// the help line offers e, not an enter that does not go on.
func TestValidateOffersTheFixThatIsHere(t *testing.T) {
	t.Parallel()
	entra := validateEntraIdP(t)
	okta := validateIdP(t, func(base string, doc map[string]any) { doc["issuer"] = base + "/oauth2/default" }, nil)
	moved := validateIdP(t, func(base string, doc map[string]any) {
		doc["issuer"] = strings.Replace(base, "127.0.0.1", "localhost", 1)
	}, nil)
	cases := []struct {
		name, input, want string
	}{
		{"Entra's common endpoint", entra.URL + "/common/v2.0" + flow.WellKnownPath,
			entra.URL + "/<your-tenant-id>/v2.0" + flow.WellKnownPath},
		{"an issuer typed where the discovery URL was expected", okta.URL,
			okta.URL + "/oauth2/default" + flow.WellKnownPath},
		{"a discovery URL whose issuer differs", moved.URL + flow.WellKnownPath,
			strings.Replace(moved.URL, "127.0.0.1", "localhost", 1) + flow.WellKnownPath},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t)
			s := validateSetup(t, env, c.input)
			v := NewValidate(env, NewTheme(true))
			validateRun(t, v, s)
			if s.Report == nil || s.Report.OK {
				t.Fatalf("report %+v", s.Report)
			}
			help := strings.Join(keysHelp(v.Keys()), ",")
			if !strings.HasPrefix(help, "e edit the URL") || strings.Contains(help, "enter") {
				t.Errorf("help line %q: want e first and no enter", help)
			}
			wantIn(t, "view", viewFits(t, v, 80, 24), "e: edit the Discovery Endpoint")
			shell := run(t, v, press("e"), time.Second)
			if len(shell) != 1 || shell[0] != (GotoMsg{Step: StepCredentials}) {
				t.Fatalf("e sent %v", shell)
			}
			if s.DiscoveryInput != c.want || s.Focus != FocusDiscovery {
				t.Fatalf("discovery input %q focus %q, want %q focused", s.DiscoveryInput, s.Focus, c.want)
			}
			cr := NewCredentials(env, NewTheme(true)).(*credentials)
			cr.Enter(s)
			if cr.focus != credDiscovery || cr.inputs[credDiscovery].Value() != c.want || s.Focus != "" {
				t.Errorf("step 2 focus %d value %q (Focus left %q)", cr.focus, cr.inputs[credDiscovery].Value(), s.Focus)
			}
			// The line mode: e goes back to step 2 with the fix filled in.
			lines := NewSetup()
			lines.Connection = s.Connection
			lines.Connection.DiscoveryURL, lines.DiscoveryInput = c.input, ""
			text, err := runLines(t, NewValidate(env, NewTheme(true)), lines, "e\n")
			if !errors.Is(err, ErrBack) || lines.DiscoveryInput != c.want || !strings.Contains(text, "type e to edit the Discovery Endpoint, filled in with "+c.want) {
				t.Errorf("line mode: err %v, discovery input %q\n%s", err, lines.DiscoveryInput, text)
			}
		})
	}
}

// TestValidateNoFixHereOffersNoEdit: a failure fixed on the IdP's side
// offers no e, and the help line no enter while enter cannot go on.
func TestValidateNoFixHereOffersNoEdit(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	idp := validateIdP(t, nil, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	s := validateSetup(t, env, idp.URL)
	v := NewValidate(env, NewTheme(true))
	validateRun(t, v, s)
	if s.Report == nil || s.Report.OK {
		t.Fatalf("report %+v", s.Report)
	}
	v.SetSize(80, 200)
	if help := strings.Join(keysHelp(v.Keys()), ","); !strings.HasPrefix(help, "r check again,o go on anyway") || strings.Contains(help, "enter") || strings.Contains(help, "edit") {
		t.Errorf("help line %q", help)
	}
	if shell := run(t, v, press("e"), time.Second); len(shell) != 0 || s.Focus != "" {
		t.Errorf("e without a fix here sent %v", shell)
	}
	if view := viewFits(t, v, 80, 24); strings.Contains(view, "edit the Discovery Endpoint") {
		t.Errorf("the view offers an edit:\n%s", view)
	}
}

// TestValidatePassedDetailsExpand: a passed check's detail cut to one line
// ("…") is shown whole after d, and d is offered only when one is cut.
func TestValidatePassedDetailsExpand(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := validateSetup(t, env, "https://idp.example.test"+flow.WellKnownPath)
	long := "a JSON object with 42 fields, among them every endpoint a login needs and the signing algorithms RS256, ES256 and PS256"
	s.Report = &flow.Report{OK: true, DiscoveryURL: s.Connection.DiscoveryURL, Issuer: "https://idp.example.test",
		Checks: []flow.Check{{ID: flow.CheckJSON, Status: flow.Pass, Detail: long}}}
	v := NewValidate(env, NewTheme(true))
	v.SetSize(80, 20)
	if cmd := v.Enter(s); cmd != nil {
		t.Fatal("a stored report was checked again")
	}
	if view := viewFits(t, v, 80, 20); strings.Contains(view, "PS256") || !strings.Contains(view, "…") {
		t.Fatalf("the long detail is not cut to one line:\n%s", view)
	}
	if help := strings.Join(keysHelp(v.Keys()), ","); !strings.Contains(help, "d details") {
		t.Errorf("help line %q lacks d", help)
	}
	run(t, v, press("d"), time.Second)
	if view := flat(viewFits(t, v, 80, 20)); !strings.Contains(view, "signing algorithms RS256, ES256 and PS256") {
		t.Errorf("d did not show the whole detail:\n%s", view)
	}
	if help := strings.Join(keysHelp(v.Keys()), ","); !strings.Contains(help, "d fewer details") {
		t.Errorf("help line %q", help)
	}
	s.Report.Checks[0].Detail = "short"
	v.Enter(s)
	run(t, v, press("d"), time.Second)
	if help := strings.Join(keysHelp(v.Keys()), ","); strings.Contains(help, "d ") {
		t.Errorf("d offered with nothing cut: %q", help)
	}
}
