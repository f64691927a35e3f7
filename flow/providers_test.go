package flow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// loadDoc reads a provider fixture and parses it like a fetched document.
func loadDoc(t *testing.T, name string) (*flow.Metadata, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "providers", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	_, md, err := flow.ParseDiscovery("https://x"+flow.WellKnownPath, "application/json", raw)
	if err != nil {
		t.Fatal(err)
	}
	return md, raw
}

func TestDetectProvider(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture string
		kind    flow.IdPKind
		variant string
		cloud   string
	}{
		{"okta-org", flow.IdPOkta, flow.VariantOktaOrgAS, ""},
		{"okta-custom-as", flow.IdPOkta, flow.VariantOktaCustomAS, ""}, // custom domain: by endpoint layout
		{"entra-v2", flow.IdPEntra, flow.VariantEntraV2, ""},
		{"entra-v1", flow.IdPEntra, flow.VariantEntraV1, ""},
		{"entra-usgov", flow.IdPEntra, flow.VariantEntraV2, "Azure Government"},
		{"google", flow.IdPGoogle, "", ""},
		{"auth0", flow.IdPAuth0, "", ""},
		{"auth0-custom-domain", flow.IdPAuth0, "", ""},
		{"keycloak", flow.IdPKeycloak, "", ""},
		{"keycloak-legacy", flow.IdPKeycloak, "", ""},
		{"onelogin", flow.IdPOneLogin, "", ""},
		{"jumpcloud", flow.IdPJumpCloud, "", ""},
		{"pingone", flow.IdPPing, flow.VariantPingOne, ""},
		{"pingfederate", flow.IdPPing, flow.VariantPingFed, ""},
		{"cognito", flow.IdPCognito, "", ""},
		{"adfs", flow.IdPADFS, "", ""},
		{"generic-authentik", flow.IdPGeneric, "", ""},
	}
	for _, c := range cases {
		md, raw := loadDoc(t, c.fixture)
		p := flow.DetectProvider(md, raw)
		if p.Kind != c.kind || p.Variant != c.variant || p.Cloud != c.cloud {
			t.Errorf("%s: detected %+v, want kind %s variant %q cloud %q", c.fixture, p, c.kind, c.variant, c.cloud)
		}
		if p.Evidence == "" || p.Name == "" {
			t.Errorf("%s: no name or evidence: %+v", c.fixture, p)
		}
	}
}

func TestDetectProviderWithoutRawFields(t *testing.T) {
	t.Parallel()
	// PingFederate on a custom domain is known by its ping_* fields; without
	// the raw document, its /as/ endpoint layout still gives it away.
	md, _ := loadDoc(t, "pingfederate")
	if p := flow.DetectProvider(md, nil); p.Kind != flow.IdPPing {
		t.Errorf("pingfederate without raw fields: %+v", p)
	}
	if p := flow.DetectProvider(nil, nil); p.Kind != flow.IdPGeneric {
		t.Errorf("nil metadata: %+v", p)
	}
}

func TestDetectProviderURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]flow.IdPKind{
		"https://acme.okta.com": flow.IdPOkta,
		"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0": flow.IdPEntra,
		"https://accounts.google.com/.well-known/openid-configuration":   flow.IdPGoogle,
		"https://sso.acme.example/realms/acme":                           flow.IdPKeycloak,
		"https://sso.acme.example/application/o/portal/":                 flow.IdPGeneric,
		"https://fs.acme.example/adfs":                                   flow.IdPADFS,
		"not a url":                                                      flow.IdPGeneric,
	} {
		if got := flow.DetectProviderURL(in).Kind; got != want {
			t.Errorf("DetectProviderURL(%q) = %s, want %s", in, got, want)
		}
	}
}
