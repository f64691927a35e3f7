package flow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func loadClaims(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "pitfalls", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func provider(t *testing.T, fixture string) flow.IdP {
	t.Helper()
	md, raw := loadDoc(t, fixture)
	return flow.DetectProvider(md, raw)
}

// findingByID returns the finding with id, failing the test when absent.
func findingByID(t *testing.T, fs []flow.Finding, id string) flow.Finding {
	t.Helper()
	for _, f := range fs {
		if f.ID == id {
			if f.Message == "" || f.Fix == "" || f.Evidence == "" {
				t.Errorf("finding %s lacks message, fix or evidence: %+v", id, f)
			}
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", id, fs)
	return flow.Finding{}
}

func assertNoFinding(t *testing.T, fs []flow.Finding, id string) {
	t.Helper()
	for _, f := range fs {
		if f.ID == id {
			t.Errorf("unexpected %s finding: %+v", id, f)
		}
	}
}

func TestEntraGroupOverage(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	roles := flow.RoleAssignment{Mappings: []flow.RoleMapping{{Group: "Sales", Role: "member"}}}
	for _, fixture := range []string{"entra-overage", "entra-hasgroups"} {
		fs := flow.DiagnoseClaims(entra, loadClaims(t, fixture), flow.ClaimMapping{}, roles)
		f := findingByID(t, fs, flow.FindingEntraGroupOverage)
		for _, want := range []string{"200", "Groups assigned to the application"} {
			if !strings.Contains(f.Message+f.Fix, want) {
				t.Errorf("%s: overage finding does not mention %q: %+v", fixture, want, f)
			}
		}
	}
	assertNoFinding(t, flow.DiagnoseClaims(entra, loadClaims(t, "entra-clean"), flow.ClaimMapping{}, roles), flow.FindingEntraGroupOverage)
}

func TestGroupGUIDsAreOfferedForLabels(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	claims := loadClaims(t, "entra-guid-groups-no-email")
	f := findingByID(t, flow.DiagnoseClaims(entra, claims, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingGroupGUIDs)
	if !slices.Equal(f.Values, []string{"c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8", "0e9f8a7b-6c5d-4e3f-8a1b-2c3d4e5f6a7b"}) {
		t.Errorf("GUIDs to label: %v", f.Values)
	}
	assertNoFinding(t, flow.DiagnoseClaims(entra, loadClaims(t, "entra-clean"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingGroupGUIDs)
}

func TestEmailMissingWithUsernamePresent(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	f := findingByID(t, flow.DiagnoseClaims(entra, loadClaims(t, "entra-guid-groups-no-email"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailMissing)
	if f.Suggestion != "--claim email=preferred_username" || !strings.Contains(f.Fix, "Token configuration") {
		t.Errorf("email finding: %+v", f)
	}
	// ADFS sends upn: the fix points at AD FS's claim rules.
	adfs := provider(t, "adfs")
	f = findingByID(t, flow.DiagnoseClaims(adfs, map[string]any{"sub": "x", "upn": "ana@acme.example"}, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailMissing)
	if f.Suggestion != "--claim email=upn" || !strings.Contains(f.Fix, "Issuance Transform Rules") {
		t.Errorf("ADFS email finding: %+v", f)
	}
	assertNoFinding(t, flow.DiagnoseClaims(entra, loadClaims(t, "entra-clean"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailMissing)
	// With email mapped to upn, a token with upn is fine.
	assertNoFinding(t, flow.DiagnoseClaims(adfs, map[string]any{"upn": "ana@acme.example"}, flow.ClaimMapping{Email: "upn"}, flow.RoleAssignment{}), flow.FindingEmailMissing)
}

func TestEmailVerified(t *testing.T) {
	t.Parallel()
	g := provider(t, "google")
	for name, v := range map[string]any{"false": false, "string false": "false"} {
		claims := loadClaims(t, "google")
		claims["email_verified"] = v
		f := findingByID(t, flow.DiagnoseClaims(g, claims, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailUnverified)
		if !strings.Contains(f.Message, "not verified") {
			t.Errorf("%s: %+v", name, f)
		}
	}
	absent := findingByID(t, flow.DiagnoseClaims(provider(t, "entra-v2"), loadClaims(t, "entra-guid-groups-no-email"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailUnverified)
	if !strings.Contains(absent.Fix, "xms_edov") {
		t.Errorf("Entra's fix should name xms_edov: %+v", absent)
	}
	clean := loadClaims(t, "google")
	assertNoFinding(t, flow.DiagnoseClaims(g, clean, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailUnverified)
	clean["email_verified"] = "true" // Cognito sends a string
	assertNoFinding(t, flow.DiagnoseClaims(provider(t, "cognito"), clean, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingEmailUnverified)
}

func TestOktaNoGroupsClaim(t *testing.T) {
	t.Parallel()
	org, custom := provider(t, "okta-org"), provider(t, "okta-custom-as")
	f := findingByID(t, flow.DiagnoseClaims(org, loadClaims(t, "okta-no-groups"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingOktaNoGroups)
	if !strings.Contains(f.Fix, "Applications → this app → Sign On") {
		t.Errorf("org AS fix should point at the app's Sign On tab: %s", f.Fix)
	}
	f = findingByID(t, flow.DiagnoseClaims(custom, loadClaims(t, "okta-no-groups"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingOktaNoGroups)
	if !strings.Contains(f.Fix, "Authorization Servers") {
		t.Errorf("custom AS fix should point at the authorization server: %s", f.Fix)
	}
	assertNoFinding(t, flow.DiagnoseClaims(org, loadClaims(t, "okta-groups"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingOktaNoGroups)
	// The same claims from another provider are not Okta's pitfall.
	assertNoFinding(t, flow.DiagnoseClaims(provider(t, "keycloak"), loadClaims(t, "okta-no-groups"), flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingOktaNoGroups)
}

func TestOktaAuthorizationServerFromMetadata(t *testing.T) {
	t.Parallel()
	for fixture, want := range map[string]string{"okta-org": "org authorization server", "okta-custom-as": "custom authorization server"} {
		md, raw := loadDoc(t, fixture)
		f := findingByID(t, flow.DiagnoseMetadata(flow.DetectProvider(md, raw), md, flow.RoleAssignment{}), flow.FindingOktaAuthServer)
		if !strings.Contains(f.Message, want) {
			t.Errorf("%s: %s", fixture, f.Message)
		}
	}
	md, raw := loadDoc(t, "keycloak")
	assertNoFinding(t, flow.DiagnoseMetadata(flow.DetectProvider(md, raw), md, flow.RoleAssignment{}), flow.FindingOktaAuthServer)
}

func TestGoogleNoGroupsBeforeTheTestLogin(t *testing.T) {
	t.Parallel()
	md, raw := loadDoc(t, "google")
	withRoles := flow.RoleAssignment{Mappings: []flow.RoleMapping{{Group: "eng@acme.example", Role: "admin"}}}
	// From the metadata alone: no claims were seen yet.
	fs := flow.Diagnose(flow.DiagnoseInput{Metadata: md, RawMetadata: raw, Roles: withRoles})
	f := findingByID(t, fs, flow.FindingGoogleNoGroups)
	if f.Severity != flow.SeverityWarn {
		t.Errorf("role mappings on Google should warn: %+v", f)
	}
	if f := findingByID(t, flow.DiagnoseMetadata(flow.DetectProvider(md, raw), md, flow.RoleAssignment{}), flow.FindingGoogleNoGroups); f.Severity != flow.SeverityInfo {
		t.Errorf("without role mappings it is information: %+v", f)
	}
	// With the claims too, it is said once.
	fs = flow.Diagnose(flow.DiagnoseInput{Metadata: md, RawMetadata: raw, Roles: withRoles, Claims: loadClaims(t, "google")})
	n := 0
	for _, f := range fs {
		if f.ID == flow.FindingGoogleNoGroups {
			n++
		}
	}
	if n != 1 {
		t.Errorf("google_no_groups said %d times", n)
	}
	okta, oraw := loadDoc(t, "okta-org")
	assertNoFinding(t, flow.Diagnose(flow.DiagnoseInput{Metadata: okta, RawMetadata: oraw, Roles: withRoles}), flow.FindingGoogleNoGroups)
}

func TestAuth0CustomClaimsMustBeNamespaced(t *testing.T) {
	t.Parallel()
	a0 := provider(t, "auth0")
	claims := loadClaims(t, "auth0-namespaced")
	roles := flow.RoleAssignment{GroupsClaim: "roles", Mappings: []flow.RoleMapping{{Group: "admin", Role: "owner"}}}
	f := findingByID(t, flow.DiagnoseClaims(a0, claims, flow.ClaimMapping{}, roles), flow.FindingAuth0Namespace)
	if f.Suggestion != "--groups-claim https://acme.example/roles" {
		t.Errorf("should suggest the namespaced claim: %+v", f)
	}
	delete(claims, "https://acme.example/roles")
	f = findingByID(t, flow.DiagnoseClaims(a0, claims, flow.ClaimMapping{}, roles), flow.FindingAuth0Namespace)
	if !strings.Contains(f.Fix, "setCustomClaim('https://") {
		t.Errorf("fix should show a namespaced claim: %s", f.Fix)
	}
	clean := flow.RoleAssignment{GroupsClaim: "https://acme.example/roles", Mappings: roles.Mappings}
	assertNoFinding(t, flow.DiagnoseClaims(a0, loadClaims(t, "auth0-namespaced"), flow.ClaimMapping{}, clean), flow.FindingAuth0Namespace)
	// Standard claims need no namespace, even when absent.
	assertNoFinding(t, flow.DiagnoseClaims(a0, map[string]any{"sub": "auth0|1"}, flow.ClaimMapping{}, flow.RoleAssignment{}), flow.FindingAuth0Namespace)
}

func TestSecretLooksLikeEntraSecretID(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	f := findingByID(t, flow.DiagnoseSecret(entra, "b7e1c9d2-4a3f-4e8b-9c6d-1f2e3a4b5c6d"), flow.FindingSecretLooksLikeID)
	if !strings.Contains(f.Fix, "\"Value\"") || strings.Contains(f.Message+f.Evidence+f.Fix, "b7e1c9d2") {
		t.Errorf("finding should point at Value and never quote the secret: %+v", f)
	}
	// A real Entra secret value has ~ and 40 characters.
	if fs := flow.DiagnoseSecret(entra, "Qk8Q~tB3rS1vX.yZ0aBcDeFgHiJkLmNoPqRsTuVw"); len(fs) != 0 {
		t.Errorf("a secret value was flagged: %+v", fs)
	}
}

func entraError(t *testing.T, code string) (string, string) {
	t.Helper()
	body := loadClaims(t, "entra-error-"+code)
	return body["error"].(string), body["error_description"].(string)
}

func TestAADSTSCodesInPlainWords(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	for code, want := range map[string]string{
		"7000215": "Secret ID",
		"7000222": "expired",
		"700016":  "Application (client) ID",
		"50105":   "Users and groups",
		"50011":   "Redirect URIs",
	} {
		errCode, desc := entraError(t, code)
		fs := flow.DiagnoseIdPError(entra, errCode, desc, "http://localhost:8976/callback/")
		f := findingByID(t, fs, flow.FindingAADSTS)
		if f.Values[0] != code || !strings.Contains(f.Message+f.Fix, want) || strings.Contains(f.Message, "AADSTS") {
			t.Errorf("AADSTS%s: %+v", code, f)
		}
	}
	fs := flow.DiagnoseIdPError(entra, "invalid_client", "Client authentication failed", "")
	assertNoFinding(t, fs, flow.FindingAADSTS)
	assertNoFinding(t, flow.DiagnoseIdPError(entra, "invalid_client", "AADSTS90002: Tenant not found", ""), flow.FindingAADSTS)
}

func TestRedirectMismatchDiff(t *testing.T) {
	t.Parallel()
	kc := provider(t, "keycloak")
	sent := "http://localhost:8976/callback/"
	fs := flow.DiagnoseIdPError(kc, "invalid_request",
		"Invalid parameter: redirect_uri. The redirect_uri 'http://localhost:8976/callback/' does not match the registered 'http://localhost:8976/callback'.", sent)
	f := findingByID(t, fs, flow.FindingRedirectMismatch)
	if !strings.Contains(f.Message, "trailing slash: sent one, expected none") || !strings.Contains(f.Fix, "Valid redirect URIs") {
		t.Errorf("finding: %+v", f)
	}
	want := "sent:     http://localhost:8976/callback/\nexpected: http://localhost:8976/callback\n" + strings.Repeat(" ", 10+len("http://localhost:8976/callback")) + "^"
	if f.Evidence != want {
		t.Errorf("evidence:\n%s\nwant:\n%s", f.Evidence, want)
	}
	// Entra echoes the URI it received: no diff, but the URI sent is shown,
	// and the documentation link in the text is not taken for a redirect URI.
	_, desc := entraError(t, "50011")
	f = findingByID(t, flow.DiagnoseIdPError(provider(t, "entra-v2"), "invalid_request", desc, sent), flow.FindingRedirectMismatch)
	if f.Evidence != "we sent "+sent || len(f.Values) != 0 {
		t.Errorf("entra 50011: %+v", f)
	}
	assertNoFinding(t, flow.DiagnoseIdPError(kc, "access_denied", "User is not assigned to the app", sent), flow.FindingRedirectMismatch)
}

func TestDiffRedirectURIs(t *testing.T) {
	t.Parallel()
	cases := []struct{ sent, expected, want string }{
		{"http://localhost:8976/callback", "https://localhost:8976/callback", "scheme: sent http, expected https"},
		{"http://LocalHost:8976/callback", "http://localhost:8976/callback", "host letter case"},
		{"http://127.0.0.1:8976/callback", "http://localhost:8976/callback", "host: sent 127.0.0.1, expected localhost"},
		{"http://localhost:8976/callback", "http://localhost:8080/callback", "port: sent 8976, expected 8080"},
		{"https://app.acme.example/callback", "https://app.acme.example:8443/callback", "port: sent 443 (default), expected 8443"},
		{"http://localhost:8976/callback", "http://localhost:8976/callback/", "trailing slash: sent none, expected one"},
		{"http://localhost:8976/Callback", "http://localhost:8976/callback", "path letter case"},
		{"http://localhost:8976/cb", "http://localhost:8976/callback", "path: sent /cb, expected /callback"},
	}
	for _, c := range cases {
		d := flow.DiffRedirectURIs(c.sent, c.expected)
		if len(d.Differences) != 1 || !strings.Contains(d.Differences[0], c.want) {
			t.Errorf("%s vs %s: %v, want %q", c.sent, c.expected, d.Differences, c.want)
		}
	}
	d := flow.DiffRedirectURIs("http://localhost:8976/cb", "http://localhost:8976/callback")
	if d.Marker != strings.Repeat(" ", len("http://localhost:8976/c"))+strings.Repeat("^", len("allback")) {
		t.Errorf("marker %q", d.Marker)
	}
}
