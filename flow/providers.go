package flow

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// IdPKind names an identity provider product. The values are the names of
// the wizard's guide files: assets/guides/<kind>.md.
type IdPKind string

// The providers the engine recognizes.
const (
	IdPOkta      IdPKind = "okta"
	IdPEntra     IdPKind = "entra"
	IdPGoogle    IdPKind = "google"
	IdPAuth0     IdPKind = "auth0"
	IdPKeycloak  IdPKind = "keycloak"
	IdPOneLogin  IdPKind = "onelogin"
	IdPJumpCloud IdPKind = "jumpcloud"
	IdPPing      IdPKind = "ping"
	IdPCognito   IdPKind = "cognito"
	IdPADFS      IdPKind = "adfs"
	IdPGeneric   IdPKind = "generic"
)

// IdPKinds lists every kind, Generic last, e.g. for checking that each has
// a guide.
func IdPKinds() []IdPKind {
	return []IdPKind{IdPOkta, IdPEntra, IdPGoogle, IdPAuth0, IdPKeycloak, IdPOneLogin,
		IdPJumpCloud, IdPPing, IdPCognito, IdPADFS, IdPGeneric}
}

// Okta authorization server variants and Entra endpoint versions, as
// IdP.Variant.
const (
	VariantOktaOrgAS    = "org authorization server"
	VariantOktaCustomAS = "custom authorization server"
	VariantEntraV1      = "v1.0 endpoint"
	VariantEntraV2      = "v2.0 endpoint"
	VariantPingOne      = "PingOne"
	VariantPingFed      = "PingFederate"
)

// IdP is a detected identity provider: which product, which flavour of it,
// and the evidence the detection rests on, for showing to a person.
type IdP struct {
	Kind IdPKind `json:"kind"`
	// Name is the product's name for display, e.g. "Microsoft Entra ID".
	Name string `json:"name"`
	// Variant is the flavour when it matters for the fix, e.g. Okta's
	// "custom authorization server"; empty otherwise.
	Variant string `json:"variant,omitempty"`
	// Evidence says what gave the provider away, e.g. "issuer host ends in .okta.com".
	Evidence string `json:"evidence"`
	// Cloud is the Entra national cloud ("Azure Government", ...) when not the
	// global one.
	Cloud string `json:"cloud,omitempty"`
}

// DisplayName is Name with the variant, e.g. "Okta (custom authorization server)".
func (p IdP) DisplayName() string {
	if p.Variant == "" {
		return p.Name
	}
	return p.Name + " (" + p.Variant + ")"
}

func idpName(k IdPKind) string {
	switch k {
	case IdPOkta:
		return "Okta"
	case IdPEntra:
		return "Microsoft Entra ID"
	case IdPGoogle:
		return "Google Workspace"
	case IdPAuth0:
		return "Auth0"
	case IdPKeycloak:
		return "Keycloak"
	case IdPOneLogin:
		return "OneLogin"
	case IdPJumpCloud:
		return "JumpCloud"
	case IdPPing:
		return "Ping Identity"
	case IdPCognito:
		return "AWS Cognito"
	case IdPADFS:
		return "AD FS"
	}
	return "Generic OpenID Provider"
}

// entraClouds maps Entra's login hosts to their cloud's name ("" for the
// global cloud).
func entraCloud(host string) (cloud string, ok bool) {
	switch host {
	case "login.microsoftonline.com", "login.windows.net", "sts.windows.net", "login.microsoft.com":
		return "", true
	case "login.microsoftonline.us", "login.usgovcloudapi.net":
		return "Azure Government", true
	case "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return "Azure China (21Vianet)", true
	}
	return "", false
}

// oktaCustomAS matches a custom authorization server's issuer path:
// /oauth2/default or /oauth2/aus… .
var oktaCustomAS = regexp.MustCompile(`^/oauth2/[A-Za-z0-9]+$`)

// DetectProvider says which identity provider serves md. raw is the
// discovery document as served (Report.RawMetadata) and may be nil; with it,
// provider-specific fields (ping_*, ADFS's access_token_issuer, Entra's
// cloud_instance_name) count as evidence too, so providers on custom
// domains are recognized. It never fails: Generic is the answer when nothing
// matched.
func DetectProvider(md *Metadata, raw []byte) IdP {
	if md == nil {
		return generic()
	}
	fields := map[string]json.RawMessage{}
	_ = json.Unmarshal(raw, &fields)
	has := func(name string) bool { _, ok := fields[name]; return ok }
	iss, _ := url.Parse(md.Issuer)
	if iss == nil {
		iss = &url.URL{}
	}
	host := strings.ToLower(iss.Hostname())
	path := strings.TrimSuffix(iss.Path, "/")
	authz := endpointPath(md.AuthorizationEndpoint)

	found := func(k IdPKind, evidence string) IdP { return IdP{Kind: k, Name: idpName(k), Evidence: evidence} }
	switch {
	case strings.HasSuffix(strings.ToLower(path), "/adfs") || (has("access_token_issuer") && strings.Contains(authz, "/adfs/")):
		return found(IdPADFS, "the issuer ends in /adfs")
	}
	if cloud, ok := entraCloud(host); ok {
		p := found(IdPEntra, "the issuer is on "+host)
		p.Cloud = cloud
		p.Variant = VariantEntraV2
		if host == "sts.windows.net" || !strings.HasSuffix(path, "/v2.0") {
			p.Variant = VariantEntraV1
		}
		return p
	}
	if has("cloud_instance_name") && has("tenant_region_scope") {
		return found(IdPEntra, "the document has Entra's cloud_instance_name and tenant_region_scope")
	}
	switch {
	case host == "accounts.google.com":
		return found(IdPGoogle, "the issuer is accounts.google.com")
	case strings.HasPrefix(host, "cognito-idp.") && strings.HasSuffix(host, ".amazonaws.com"):
		return found(IdPCognito, "the issuer is a Cognito user pool ("+host+")")
	case host == "oauth.id.jumpcloud.com" || strings.HasSuffix(host, ".jumpcloud.com"):
		return found(IdPJumpCloud, "the issuer is on "+host)
	case strings.HasSuffix(host, ".onelogin.com") || (strings.HasSuffix(path, "/oidc/2") && strings.HasSuffix(authz, "/oidc/2/auth")):
		return found(IdPOneLogin, "the issuer is OneLogin's /oidc/2")
	case isOkta(host, authz):
		p := found(IdPOkta, "the endpoints are Okta's /oauth2/…/v1/")
		if isOktaHost(host) {
			p.Evidence = "the issuer is on " + host
		}
		p.Variant = VariantOktaOrgAS
		if oktaCustomAS.MatchString(path) {
			p.Variant = VariantOktaCustomAS
		}
		return p
	case strings.HasSuffix(host, ".auth0.com") || (has("mfa_challenge_endpoint") && authz == "/authorize"):
		return found(IdPAuth0, "the issuer is an Auth0 tenant")
	case strings.Contains(path, "/realms/") && (authz == "" || strings.Contains(authz, "/protocol/openid-connect/")):
		return found(IdPKeycloak, "the issuer has Keycloak's /realms/ path")
	case strings.HasSuffix(host, ".pingone.com") || strings.HasSuffix(host, ".pingone.eu") || strings.HasSuffix(host, ".pingone.asia") || strings.HasSuffix(host, ".pingone.ca"):
		p := found(IdPPing, "the issuer is on "+host)
		p.Variant = VariantPingOne
		return p
	case hasPrefixKey(fields, "ping_") || strings.HasPrefix(authz, "/as/authorization.oauth2"):
		p := found(IdPPing, "the document has PingFederate's ping_* fields or /as/ endpoints")
		p.Variant = VariantPingFed
		return p
	}
	return generic()
}

// DetectProviderURL guesses the provider from a discovery URL or issuer
// alone, before the document is fetched (the wizard's step 1 guide).
func DetectProviderURL(input string) IdP {
	u, _, err := DiscoveryURLFor(input)
	if err != nil {
		return generic()
	}
	return DetectProvider(&Metadata{Issuer: IssuerFromDiscoveryURL(u)}, nil)
}

func generic() IdP {
	return IdP{Kind: IdPGeneric, Name: idpName(IdPGeneric), Evidence: "no provider-specific sign in the issuer or metadata"}
}

func isOktaHost(host string) bool {
	for _, s := range []string{".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com", ".okta.mil"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// isOkta recognizes Okta by host, or on a custom domain by its endpoint
// layout: /oauth2/v1/authorize (org) or /oauth2/<id>/v1/authorize (custom).
func isOkta(host, authz string) bool {
	if isOktaHost(host) {
		return true
	}
	return strings.HasPrefix(authz, "/oauth2/") && strings.HasSuffix(authz, "/v1/authorize")
}

func endpointPath(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func hasPrefixKey(fields map[string]json.RawMessage, prefix string) bool {
	for k := range fields {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
