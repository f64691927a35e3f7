package flow_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func exported() *flow.Connection {
	return &flow.Connection{ID: "conn_7h3kq9", Organization: "Acme Corp", Name: "Acme OIDC", Status: flow.StatusActive,
		DiscoveryURL: "https://idp.acme.test/.well-known/openid-configuration", Issuer: "https://idp.acme.test",
		ClientID: "client-123", ClientSecret: "s3cr3t-value-that-must-never-leak-9f2a",
		RedirectURI: "http://localhost:8976/callback/conn_7h3kq9", Claims: flow.DefaultClaimMapping(),
		GroupsClaim: "groups", RoleMappings: []flow.RoleMapping{{Group: "g-admins", Role: "admin"}}, DefaultRole: "member"}
}

// TestExportImportRoundTrip: what export writes, import reads back as the
// same connection, except the secret, which import never takes from the
// file.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	c := exported()
	for _, withSecret := range []bool{false, true} {
		raw, err := json.Marshal(flow.Export(c, withSecret))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), c.ClientSecret) != withSecret {
			t.Errorf("secret in export (withSecret %v): %s", withSecret, raw)
		}
		got, present, err := flow.ParseImport(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := *c
		want.ClientSecret = ""
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", *got, want)
		}
		if len(present) != 13 || !present["role_mappings"] {
			t.Errorf("present = %v", present)
		}
	}
	if b, _ := json.Marshal(flow.Export(&flow.Connection{}, false)); !strings.Contains(string(b), `"role_mappings":[]`) {
		t.Errorf("no role mappings is not an empty list: %s", b)
	}
}

func TestParseImportNamesTheFieldAtFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{`{"organization":"A","name":"N","client_id":"c"}`, `"discovery_url" is missing`},
		{`{"organization":"A","name":"N","discovery_url":"https://i.test","client_id":"c","status":"live"}`, `"status" is "live"`},
		{`{"organization":"A","name":"N","discovery_url":"https://i.test","client_id":"c","redirect_uri":"nohost"}`, `"redirect_uri" is not a usable URL`},
		{`{"organization":"A","name":"N","discovery_url":"https://i.test","client_id":"c","role_mappings":[{"group":"g"}]}`, `"role_mappings[0]" needs both`},
		{`{"organization": 5}`, `"organization" has the wrong type`},
		{"{\n\"organization\":", "line 2"},
	} {
		_, _, err := flow.ParseImport([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was imported") {
			t.Errorf("ParseImport(%s) = %v; want %q", tc.doc, err, tc.want)
		}
	}
	c, present, err := flow.ParseImport([]byte(`{"organization":" A ","name":"N","discovery_url":"https://i.test","client_id":"c"}`))
	if err != nil || c.Organization != "A" || c.Status != flow.StatusDraft || c.GroupsClaim != "groups" ||
		c.Issuer != "https://i.test" || c.DiscoveryURL != "https://i.test/.well-known/openid-configuration" || present["claims"] {
		t.Errorf("minimal import = %+v, %v, %v", c, present, err)
	}
	stored := exported()
	flow.KeepStored(c, stored, present)
	if c.Status != stored.Status || c.RoleMappings == nil || c.DefaultRole != "member" || c.RedirectURI != stored.RedirectURI {
		t.Errorf("KeepStored kept %+v", c)
	}
}

func TestNewTestLoginKeepsWhatOnlyUserinfoGave(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 29, 10, 0, 0, 0, time.UTC)
	res := &flow.LoginResult{Profile: flow.Profile{IDPID: "u1", RawClaims: map[string]any{"sub": "u1"}},
		Claims: map[string]any{"sub": "u1", "email": "ana@acme.example"}, IDTokenClaims: map[string]any{"sub": "u1"}, UsedUserinfo: true}
	tl := flow.NewTestLogin(at, res, nil)
	if !tl.OK || tl.At != at || tl.Profile.IDPID != "u1" || tl.Profile.RawClaims != nil ||
		!reflect.DeepEqual(tl.UserinfoClaims, map[string]any{"email": "ana@acme.example"}) || tl.AuditDetail() != "test login succeeded" {
		t.Errorf("NewTestLogin = %+v", tl)
	}
	res.UsedUserinfo = false
	if tl := flow.NewTestLogin(at, res, nil); tl.UserinfoClaims != nil {
		t.Errorf("userinfo claims without userinfo: %v", tl.UserinfoClaims)
	}
	failed := flow.NewTestLogin(at, nil, &flow.Error{Code: "invalid_client", Message: "the IdP rejected the client", Fix: "check it"})
	if failed.OK || failed.Profile != nil || failed.AuditDetail() != "test login failed: the IdP rejected the client" {
		t.Errorf("failed NewTestLogin = %+v", failed)
	}
}

func TestBuildTranscript(t *testing.T) {
	t.Parallel()
	c := exported()
	c.DiscoveryURL = "https://dev-1.okta.com/.well-known/openid-configuration"
	t0 := time.Date(2024, 5, 29, 10, 0, 0, 0, time.UTC)
	validation := &flow.Validation{At: t0, Report: flow.Report{OK: true, Issuer: "https://dev-1.okta.com",
		Checks: []flow.Check{{ID: "issuer", Status: flow.Pass, Detail: "matches"}, {ID: "pkce", Status: flow.Warn, Detail: "no S256", Fix: "enable PKCE"}}}}
	r := flow.ConnectionRecord{Connection: c, LastValidation: validation,
		Activation: &flow.Validation{At: t0.Add(2 * time.Minute), Report: validation.Report},
		// Test logins are numbered per connection (#1, #2), not by their
		// store-wide IDs; the newest comes first.
		TestLogins: []flow.TestLogin{{ID: 9, At: t0.Add(90 * time.Second), Error: "the IdP rejected the client"}, {ID: 7, At: t0.Add(time.Minute), OK: true,
			Profile: &flow.Profile{IDPID: "u1", Groups: []string{"g-admins"}, Roles: []string{"admin"}},
			Claims:  map[string]any{"sub": "u1", "nonce": "n-123", "id_token": c.ClientSecret}}},
		Events:                 []flow.AuditEvent{{At: t0.Add(3 * time.Minute), Actor: "local:ana", Action: "connection.activate", Detail: "activated"}},
		MappingsCheckedAgainst: 7, GroupLabels: map[string]string{"g-admins": "Admins"}}
	tr := flow.BuildTranscript(r, t0.Add(time.Hour))
	if tr.Provider.Kind != flow.IdPOkta || tr.SupportCode != flow.SupportCode(c.ID, t0.Add(time.Hour)) ||
		tr.Settings["mappings_tested"] != "checked against test login #1" || tr.Settings["group_labels"] != "g-admins = Admins" ||
		tr.Settings["role_mappings"] != "g-admins (Admins) → admin" || tr.Settings["client_secret"] != "set (sealed; not shown)" {
		t.Errorf("transcript head: %+v", tr)
	}
	var kinds []string
	for _, e := range tr.Entries {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, " ") != "validation test_login test_login activation audit" {
		t.Errorf("entries not oldest first: %v", kinds)
	}
	var b strings.Builder
	if err := tr.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	// The activation entry is at the activation's time, and says it.
	if a := tr.Entries[3]; !a.At.Equal(t0.Add(3 * time.Minute)) {
		t.Errorf("activation entry at %v, want the activation's time", a.At)
	}
	for _, want := range []string{"#1 succeeded (current mappings checked against it)", "#2 failed: the IdP rejected the client", "groups=[g-admins (Admins)]",
		"warn pkce: no S256 — fix: enable PKCE", "10:03:00  activation  activated at 2024-05-29 10:03:00 UTC, with the snapshot of the validation of 2024-05-29 10:02:00",
		"connection.activate: activated", "nonce: [removed]"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, c.ClientSecret) || strings.Contains(text, "n-123") {
		t.Errorf("transcript leaks a secret:\n%s", text)
	}
}

func TestValidatedProvider(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"issuer":"https://login.microsoftonline.com/3c1e9b5a/v2.0","authorization_endpoint":"https://login.microsoftonline.com/3c1e9b5a/oauth2/v2.0/authorize"}`)
	if p := (&flow.Validation{Report: flow.Report{RawMetadata: raw}}).Provider("https://idp.example"); p.Kind != flow.IdPEntra {
		t.Errorf("from the served metadata: %s", p.Kind)
	}
	if p := (*flow.Validation)(nil).Provider("https://dev-1.okta.com"); p.Kind != flow.IdPOkta {
		t.Errorf("from the URL without a validation: %s", p.Kind)
	}
	if p := flow.ValidatedProvider("https://dev-1.okta.com", nil, []byte("not json")); p.Kind != flow.IdPOkta {
		t.Errorf("unreadable metadata falls back to the URL: %s", p.Kind)
	}
}
