package steps

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Fixtures written from the providers' public documentation.

const (
	diagEntraTenant    = "9188040d-6c67-4c5b-b112-36a304b66dad"
	diagEntraDiscovery = "https://login.microsoftonline.com/" + diagEntraTenant + "/v2.0/.well-known/openid-configuration"
	diagGoogleIssuer   = "https://accounts.google.com"
	diagEntraSecretID  = "8c4b7c2e-3f0a-4d2b-9e61-5a7f0c1d2e3f" // the "Secret ID" column, not the value
	diagGroupA         = "93ee6f0b-5d6c-4a8e-a0e1-3b7a8f2c4d51"
	diagGroupB         = "f2a4c6e8-1b3d-4f5a-8c7e-9d0b2a4c6e81"
)

// diagEntraDoc makes a loopback discovery document look like Entra's v2.0
// one (Microsoft identity platform: "OpenID Connect on the Microsoft
// identity platform"): its cloud_instance_name and tenant_region_scope
// give it away even on another host.
func diagEntraDoc(_ string, doc map[string]any) {
	doc["cloud_instance_name"] = "microsoftonline.com"
	doc["tenant_region_scope"] = "EU"
	doc["cloud_graph_host_name"] = "graph.windows.net"
	doc["msgraph_host"] = "graph.microsoft.com"
	doc["response_modes_supported"] = []string{"query", "fragment", "form_post"}
	doc["scopes_supported"] = []string{"openid", "profile", "email", "offline_access"}
	doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}
	doc["claims_supported"] = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
		"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}
	delete(doc, "code_challenge_methods_supported")
}

// diagGoogleMetadata is Google's discovery document
// (https://accounts.google.com/.well-known/openid-configuration), trimmed.
func diagGoogleMetadata() *flow.Metadata {
	return &flow.Metadata{
		Issuer:                            diagGoogleIssuer,
		AuthorizationEndpoint:             "https://accounts.google.com/o/oauth2/v2/auth",
		TokenEndpoint:                     "https://oauth2.googleapis.com/token",
		UserinfoEndpoint:                  "https://openidconnect.googleapis.com/v1/userinfo",
		JWKSURI:                           "https://www.googleapis.com/oauth2/v3/certs",
		ResponseTypesSupported:            []string{"code", "token", "id_token", "code token", "code id_token", "none"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ScopesSupported:                   []string{"openid", "email", "profile"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		ClaimsSupported:                   []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
		CodeChallengeMethodsSupported:     []string{"plain", "S256"},
	}
}

// diagEntraClaims is an Entra v2.0 ID token's payload (Microsoft identity
// platform: "ID token claims reference") for a user in too many groups:
// _claim_names/_claim_sources point at Microsoft Graph instead of a groups
// list, and there is no email, only preferred_username.
func diagEntraClaims() map[string]any {
	return map[string]any{
		"aud": "6cb04018-a3f5-46a7-b995-940c78f5aef3", "iss": "https://login.microsoftonline.com/" + diagEntraTenant + "/v2.0",
		"iat": 1536275124.0, "nbf": 1536275124.0, "exp": 1536279024.0,
		"name": "Abe Lincoln", "oid": "00000000-0000-0000-66f3-3332eca7ea81", "preferred_username": "AbeLi@contoso.com",
		"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": diagEntraTenant, "ver": "2.0",
		"_claim_names": map[string]any{"groups": "src1"},
		"_claim_sources": map[string]any{"src1": map[string]any{
			"endpoint": "https://graph.microsoft.com/v1.0/users/00000000-0000-0000-66f3-3332eca7ea81/getMemberObjects"}},
	}
}

// diagEntraGroupClaims is the same user under the groups limit: the
// groups arrive as object IDs.
func diagEntraGroupClaims() map[string]any {
	c := diagEntraClaims()
	delete(c, "_claim_names")
	delete(c, "_claim_sources")
	c["groups"] = []any{diagGroupA, diagGroupB}
	return c
}

// diagCleanClaims is an ID token with nothing to remark on.
func diagCleanClaims() map[string]any {
	return map[string]any{"sub": "user-42", "email": "ada@example.com", "email_verified": true,
		"given_name": "Ada", "family_name": "Lovelace", "groups": []any{"engineering"}}
}

// diagTested is a setup after a successful test login with claims, the
// profile mapped as the test login step maps it.
func diagTested(discoveryInput string, claims map[string]any) *Setup {
	s := NewSetup()
	s.Connection.Organization, s.Connection.Name = "Contoso", "Contoso SSO"
	s.DiscoveryInput = discoveryInput
	s.Connection.DiscoveryURL, _, _ = flow.DiscoveryURLFor(discoveryInput)
	p, warnings := flow.MapProfile(claims, s.Connection.Claims, s.Connection.Roles())
	p.RawClaims = nil
	s.TestLogin = &TestLoginResult{At: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), OK: true, Profile: &p, Claims: claims, Warnings: warnings}
	return s
}

// diagEnter builds a step in an environment that holds only the test's
// context, and enters it with s.
func diagEnter(t *testing.T, build Constructor, s *Setup) Step {
	st := build(&Env{Context: t.Context()}, NewTheme(true))
	st.Enter(s)
	return st
}

// diagEntraStep is the step that build makes, entered with a setup whose
// test login against Entra returned claims.
func diagEntraStep(t *testing.T, build Constructor, claims map[string]any) (*Setup, Step) {
	s := diagTested(diagEntraDiscovery, claims)
	return s, diagEnter(t, build, s)
}

// diagValidated is the validate step run against a loopback IdP whose
// discovery document edit changed, in a test environment.
func diagValidated(t *testing.T, edit func(base string, doc map[string]any)) (*Env, Step, *Setup) {
	t.Helper()
	env := testEnv(t)
	srv := validateIdP(t, edit, nil)
	s := validateSetup(t, env, srv.URL+flow.WellKnownPath)
	v := NewValidate(env, NewTheme(true))
	validateRun(t, v, s)
	return env, v, s
}

func TestDiagProviderKindsAreGuideIDs(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, g := range assets.Guides() {
		ids = append(ids, g.ID)
	}
	for _, k := range flow.IdPKinds() {
		if _, ok := assets.GuideMarkdown(string(k), ""); !ok || !slices.Contains(ids, string(k)) {
			t.Errorf("provider kind %q has no guide", k)
		}
	}
	if len(ids) != len(flow.IdPKinds()) {
		t.Errorf("guides %v, kinds %v", ids, flow.IdPKinds())
	}
}

func TestDiagValidateDetectsEntraAndKeepsItInTheSetup(t *testing.T) {
	t.Parallel()
	env, v, s := diagValidated(t, diagEntraDoc)
	if s.Detected == nil || s.Detected.Kind != flow.IdPEntra {
		t.Fatalf("detected %+v", s.Detected)
	}
	for _, w := range []int{80, 60, 40} {
		if view := flat(viewFits(t, v, w, 17)); !strings.Contains(view, "Provider: Microsoft Entra ID") {
			t.Errorf("width %d: no provider:\n%s", w, view)
		}
	}
	// A resumed draft has no raw document: the detection survives in it.
	s.Report.RawMetadata = nil
	if p, source := diagProvider(s); p.Kind != flow.IdPEntra || !strings.Contains(source, "cloud_instance_name") {
		t.Errorf("after resume: %+v %q", p, source)
	}
	// Steps 4 to 7 name it too.
	for _, st := range []Step{NewClaims(env, NewTheme(true)), NewRoles(env, NewTheme(true)), NewTestLogin(env, NewTheme(true)), NewReview(env, NewTheme(true))} {
		st.Enter(s)
		if view := viewFits(t, st, 80, 30); !strings.Contains(view, "Microsoft Entra ID") {
			t.Errorf("%s does not name the provider:\n%s", st.Title(), view)
		}
	}
}

func TestDiagValidateListsGooglesMissingGroupsBeforeTheTestLogin(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := NewSetup()
	s.Connection.DiscoveryURL = diagGoogleIssuer + flow.WellKnownPath
	md := diagGoogleMetadata()
	s.Report = &flow.Report{OK: true, DiscoveryURL: s.Connection.DiscoveryURL, Issuer: md.Issuer, Metadata: md,
		Checks: []flow.Check{{ID: flow.CheckReachable, Status: flow.Pass, Detail: "HTTP 200"}, {ID: flow.CheckIssuer, Status: flow.Pass, Detail: md.Issuer}}}
	s.Metadata = md
	v := NewValidate(env, NewTheme(false))
	if cmd := v.Enter(s); cmd != nil {
		t.Fatal("a stored report was validated again")
	}
	view := flat(viewFits(t, v, 80, 40))
	wantIn(t, "view", view, "Provider: Google Workspace (detected: the issuer is accounts.google.com)", "Before the test login",
		"Google ID tokens never carry group memberships", "Fix: give everyone a default role")
	viewsFit(t, v, 17)
	text, err := runLines(t, v, s, "\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text, "Note: Google ID tokens never carry group memberships")
}

func TestDiagValidateOktaCustomAuthorizationServer(t *testing.T) {
	t.Parallel()
	// An Okta custom domain: only the endpoints' layout shows Okta.
	_, v, _ := diagValidated(t, func(base string, doc map[string]any) {
		doc["authorization_endpoint"] = base + "/oauth2/default/v1/authorize"
		doc["token_endpoint"] = base + "/oauth2/default/v1/token"
	})
	if view := flat(viewFits(t, v, 80, 60)); !strings.Contains(view, "Provider: Okta") || !strings.Contains(view, "Okta org authorization server") {
		t.Errorf("no Okta note:\n%s", view)
	}
}

func TestDiagCleanValidationShowsNoProviderNotes(t *testing.T) {
	t.Parallel()
	_, v, s := diagValidated(t, nil)
	if s.Detected == nil || s.Detected.Kind != flow.IdPGeneric {
		t.Errorf("detected %+v", s.Detected)
	}
	if view := viewFits(t, v, 80, 40); strings.Contains(view, "Provider:") || strings.Contains(view, "Before the test login") {
		t.Errorf("a generic IdP got provider notes:\n%s", view)
	}
}

func TestDiagGuideFollowsTheDetectedProvider(t *testing.T) {
	t.Parallel()
	env := &Env{Context: t.Context(), RedirectBase: "http://127.0.0.1:8085"}
	s := NewSetup()
	s.Connection.RedirectURI = "http://127.0.0.1:8085/callback/conn_abc"
	s.DiscoveryInput = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
	step := NewRedirectURI(env, NewTheme(true))
	run(t, step, step.Enter(s)(), orgWait)
	view := viewFits(t, step, 80, 17)
	if !strings.Contains(view, "Guide for Microsoft Entra ID (Azure AD) (detected)") {
		t.Errorf("the guide does not follow the discovery URL:\n%s", view)
	}
	for _, w := range []int{60, 40} {
		viewFits(t, step, w, 17)
	}
	// Choosing the generic guide sticks, though Entra is detected.
	claimsPress(t, step, "p")
	for range len(assets.Guides()) {
		claimsPress(t, step, "down")
	}
	claimsPress(t, step, "enter") // reads the generic guide
	claimsPress(t, step, "s")     // and chooses it
	if s.Provider != assets.GenericGuide {
		t.Errorf("the generic choice is stored as %q", s.Provider)
	}
	if view := viewFits(t, step, 80, 17); strings.Contains(view, "(detected)") {
		t.Errorf("the detection overrides the choice:\n%s", view)
	}

	// Line mode: Enter keeps the detected provider's guide.
	s2 := NewSetup()
	s2.Connection.RedirectURI = s.Connection.RedirectURI
	s2.DiscoveryInput = "https://acme.okta.com/oauth2/default"
	text, err := runLines(t, step, s2, "\n\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text, "Enter keeps Okta", "\nOkta\n")

	// Nothing detected: the generic guide, unmarked.
	s3 := NewSetup()
	s3.DiscoveryInput = "https://sso.acme.example/.well-known/openid-configuration"
	if got := redirectGuideID(s3); got != assets.GenericGuide {
		t.Errorf("guide %q for an unknown host", got)
	}
}

func TestDiagCredentialsWarnsOfAnEntraSecretID(t *testing.T) {
	t.Parallel()
	s := NewSetup()
	step := diagEnter(t, NewCredentials, s)
	for _, k := range append(strings.Split("6cb04018-a3f5-46a7-b995-940c78f5aef3", ""), "tab") {
		claimsPress(t, step, k)
	}
	step.Update(tea.PasteMsg{Content: diagEntraSecretID})
	claimsPress(t, step, "tab")
	step.Update(tea.PasteMsg{Content: diagEntraDiscovery})
	claimsPress(t, step, "shift+tab") // back to the secret
	for _, w := range []int{80, 60, 40} {
		view := flat(viewFits(t, step, w, 17))
		if !strings.Contains(view, "Secret ID") || !strings.Contains(view, "Certificates & secrets") {
			t.Errorf("width %d: no warning under the secret:\n%s", w, view)
		}
		if !strings.Contains(view, "Client Secret") {
			t.Errorf("width %d: the focused field scrolled away:\n%s", w, view)
		}
	}
	if strings.Contains(viewFits(t, step, 80, 17), diagEntraSecretID) {
		t.Error("the hidden secret is shown")
	}
	// A warning, not a refusal.
	claimsPress(t, step, "tab")
	if !claimsHasNext(claimsPress(t, step, "enter")) {
		t.Error("a GUID secret blocked the step")
	}

	text, err := runLines(t, step, NewSetup(), "client-1\n"+diagEntraSecretID+"\n"+diagEntraDiscovery+"\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, text, "Warning: The client secret is a GUID")
}

func TestDiagCredentialsRealSecretHasNoWarning(t *testing.T) {
	t.Parallel()
	s := NewSetup()
	s.Connection.ClientID, s.Connection.ClientSecret = "client-1", "Qx~8Q~abcDEF123ghiJKL456mnoPQR789stuVWX0"
	s.DiscoveryInput = diagEntraDiscovery
	step := diagEnter(t, NewCredentials, s)
	if view := viewFits(t, step, 80, 17); strings.Contains(view, "Secret ID") {
		t.Errorf("warned about a real secret:\n%s", view)
	}
}

func TestDiagClaimsPreviewFollowsTheTyping(t *testing.T) {
	t.Parallel()
	s, c := diagEntraStep(t, NewClaims, diagEntraClaims())
	view := flat(viewFits(t, c, 80, 17))
	if !strings.Contains(view, "Preview from the last test login") || !strings.Contains(view, "no change (roles: none)") {
		t.Errorf("no preview:\n%s", view)
	}
	// Edit email: clear "email", type "preferred_username".
	claimsPress(t, c, "down", "enter")
	for range len("email") {
		claimsPress(t, c, "backspace")
	}
	rolesType(t, c, "preferred")
	if s.Connection.Claims.Email != "preferred" {
		t.Fatalf("mapping %+v", s.Connection.Claims)
	}
	if view := flat(viewFits(t, c, 80, 17)); !strings.Contains(view, `the claims have no "preferred"`) {
		t.Errorf("the preview does not follow the typing:\n%s", view)
	}
	rolesType(t, c, "_username")
	for _, w := range []int{80, 60, 40} {
		view := flat(viewFits(t, c, w, 17))
		if !strings.Contains(view, `email: "" → "AbeLi@contoso.com"`) && !strings.Contains(view, `email: "" → "AbeLi@contoso`) {
			t.Errorf("width %d: the change is not shown:\n%s", w, view)
		}
	}
	if s.TestLogin.Profile.Email != "" {
		t.Error("the preview changed the stored test login")
	}
}

func TestDiagRolesPreviewAndGroupFindings(t *testing.T) {
	t.Parallel()
	_, r := diagEntraStep(t, NewRoles, diagEntraGroupClaims())
	claimsPress(t, r, "a")
	rolesType(t, r, diagGroupA)
	claimsPress(t, r, "tab")
	rolesType(t, r, "admin")
	view := flat(viewFits(t, r, 80, 40))
	wantIn(t, "view", view, "Provider: Microsoft Entra ID", "are object IDs (GUIDs)", "Groups → All groups",
		"Preview from the last test login", "roles: [] → [admin]")
	if strings.Contains(view, "Past 200 groups it sends none") {
		t.Errorf("the general Entra note repeats what the claims showed:\n%s", view)
	}
	viewsFit(t, r, 17)

	over := diagTested(diagEntraDiscovery, diagEntraClaims())
	r.Enter(over)
	if view := flat(viewFits(t, r, 80, 60)); !strings.Contains(view, "Group overage") || !strings.Contains(view, "Groups assigned to the application") {
		t.Errorf("no overage:\n%s", view)
	}
}

func TestDiagCleanSetupShowsNoDiagnosis(t *testing.T) {
	t.Parallel()
	s := diagTested("https://sso.acme.example", diagCleanClaims())
	env := &Env{Context: t.Context(), Now: func() time.Time { return time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC) }}
	for _, st := range []Step{NewClaims(env, NewTheme(true)), NewRoles(env, NewTheme(true)), NewTestLogin(env, NewTheme(true)), NewReview(env, NewTheme(true))} {
		st.Enter(s)
		view := viewFits(t, st, 80, 60)
		for _, unwanted := range []string{"Provider:", "Fix:", "•", "GUID", "not verified", "!"} {
			if strings.Contains(view, unwanted) {
				t.Errorf("%s shows %q:\n%s", st.Title(), unwanted, view)
			}
		}
	}
	if w := rvWarnings(s, (&Env{}).words()); len(w) != 0 {
		t.Errorf("review warnings %v", w)
	}
}

func TestDiagTestLoginExplainsTheClaims(t *testing.T) {
	t.Parallel()
	s, step := diagEntraStep(t, NewTestLogin, diagEntraClaims())
	view := flat(viewFits(t, step, 80, 80))
	wantIn(t, "view", view, "Provider: Microsoft Entra ID (v2.0 endpoint) (detected)", "Group overage", "200", "Groups assigned to the application",
		`no "email", but "preferred_username" holds an address`, "Or map email to preferred_username in step 4, Claims",
		"does not say whether the email address is verified")
	viewsFit(t, step, 17)
	// Following the suggestion in step 4 shows what changed since the login.
	s.Connection.Claims.Email = "preferred_username"
	if view := flat(viewFits(t, step, 80, 80)); !strings.Contains(view, "The mappings changed since this login") ||
		strings.Contains(view, `"preferred_username" holds an address`) {
		t.Errorf("after the remap:\n%s", view)
	}

	var out bytes.Buffer
	tlPrintResult(&out, s, nil, (&Env{}).words())
	if !strings.Contains(out.String(), "Warning: Group overage") {
		t.Errorf("line mode:\n%s", out.String())
	}
}

func TestDiagTestLoginFailurePointsToTheStepToFix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		r    TestLoginResult
		step string
	}{
		{"unknown client ID", TestLoginResult{OK: false, Code: "unauthorized_client",
			Error: "Entra found no app with this client ID in the tenant of the discovery URL (the IdP says: \"AADSTS700016: Application with identifier 'abc' was not found in the directory 'Contoso'.\")",
			Fix:   "check that the Client ID is the \"Application (client) ID\" on the app's Overview page"}, "step 2, Credentials"},
		{"redirect mismatch", TestLoginResult{OK: false, Code: "redirect_uri_mismatch",
			Error: "the redirect URI we sent differs from the one the IdP expects: trailing slash: sent none, expected one (the IdP says: \"AADSTS50011: ...\")\n" +
				"sent:     http://127.0.0.1:8085/callback\nexpected: http://127.0.0.1:8085/callback/\n                                         ^",
			Fix: "in the Microsoft Entra admin center: App registrations → this app → Authentication → Web → Redirect URIs: add http://127.0.0.1:8085/callback exactly"}, "step 1, Redirect URI"},
	}
	for _, c := range cases {
		s := NewSetup()
		s.DiscoveryInput = diagEntraDiscovery
		r := c.r
		s.TestLogin = &r
		step := diagEnter(t, NewTestLogin, s)
		view := viewFits(t, step, 80, 40)
		flat := flat(view)
		for _, want := range []string{"Fix: " + r.Fix[:30], c.step, "Provider: Microsoft Entra ID"} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: view lacks %q:\n%s", c.name, want, view)
			}
		}
		if c.name == "redirect mismatch" && (!strings.Contains(view, "\nexpected: http://127.0.0.1:8085/callback/ ") || strings.Contains(view, "^.")) {
			t.Errorf("the evidence is not shown as is:\n%s", view)
		}
		for _, w := range []int{60, 40} {
			viewFits(t, step, w, 17)
		}
	}
}

func TestDiagReviewWarnsOfAnUnverifiedEmail(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := rvSetup(t, env)
	claims := diagCleanClaims()
	claims["email_verified"] = false
	s.TestLogin.Claims = claims
	r := NewReview(env, NewTheme(true))
	r.Enter(s)
	view := flat(viewFits(t, r, 80, 40))
	if !strings.Contains(view, "not verified (email_verified is false)") || !strings.Contains(view, "match users by idp_id") {
		t.Errorf("no warning:\n%s", view)
	}
	for _, w := range []int{60, 40} {
		viewFits(t, r, w, 17)
	}
	if shell := claimsPress(t, r, "enter"); len(shell) != 0 || r.(*review).phase != rvConfirm {
		t.Fatalf("activated without asking: %v", shell)
	}
	claimsPress(t, r, "n")

	delete(claims, "email_verified") // absent: Entra never sends it
	s.Detected = &flow.IdP{Kind: flow.IdPEntra, Name: "Microsoft Entra ID"}
	if w := strings.Join(rvWarnings(s, (&Env{}).words()), " "); !strings.Contains(w, "no email_verified claim") || !strings.Contains(w, "xms_edov") {
		t.Errorf("warnings %q", w)
	}
}
