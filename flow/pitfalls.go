package flow

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Severity says how much a Finding matters.
type Severity string

// Finding severities: info explains, warn needs attention before the
// connection is activated, error stops logins.
const (
	SeverityInfo  Severity = "info"
	SeverityWarn  Severity = "warn"
	SeverityError Severity = "error"
)

// Finding IDs. They are stable: scripts read them from JSON output.
const (
	FindingEntraGroupOverage = "entra_group_overage"   // _claim_names/_claim_sources or hasgroups instead of groups
	FindingGroupGUIDs        = "group_guids"           // group values are object IDs, not names
	FindingEmailMissing      = "email_missing"         // no email, but preferred_username/upn holds one
	FindingEmailUnverified   = "email_unverified"      // email_verified false or absent
	FindingAADSTS            = "aadsts"                // an Entra AADSTS error code, explained
	FindingOktaNoGroups      = "okta_no_groups"        // Okta sent no groups claim
	FindingOktaAuthServer    = "okta_auth_server"      // org vs custom authorization server
	FindingGoogleNoGroups    = "google_no_groups"      // Google ID tokens never carry groups
	FindingAuth0Namespace    = "auth0_claim_namespace" // Auth0 custom claim not namespaced
	FindingRedirectMismatch  = "redirect_uri_mismatch" // the IdP refused the redirect URI
	FindingSecretLooksLikeID = "secret_looks_like_id"  // a GUID pasted as the client secret
)

// Finding is one known pitfall detected from evidence: metadata, an IdP
// error, the test login's claims or the pasted secret. Message says what is
// wrong, Evidence what showed it, Fix what to change and where, in the
// IdP's own console.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Provider IdPKind  `json:"provider"`
	Message  string   `json:"message"`
	Evidence string   `json:"evidence"`
	Fix      string   `json:"fix"`
	// Values are the items concerned, e.g. the group IDs to label.
	Values []string `json:"values,omitempty"`
	// Suggestion is a mapping change that would help, as remap flags, e.g.
	// "--claim email=upn".
	Suggestion string `json:"suggestion,omitempty"`
}

// DiagnoseInput is the evidence Diagnose looks at; every field is
// optional, and each detection runs only when its evidence is there.
type DiagnoseInput struct {
	// Provider is the detected provider; zero means detect it from Metadata.
	Provider    IdP
	Metadata    *Metadata
	RawMetadata []byte
	// ClientSecret is the secret as pasted; it is only inspected, never
	// quoted.
	ClientSecret string
	// Claims are the test login's claims (ID token and userinfo merged).
	Claims  map[string]any
	Mapping ClaimMapping
	Roles   RoleAssignment
	// ErrorCode and ErrorDescription are an IdP's error= and
	// error_description (or text a person pasted from the browser).
	ErrorCode, ErrorDescription string
	// RedirectURI is the redirect URI this side sent.
	RedirectURI string
}

// Diagnose runs every detection that has evidence in in, in a stable order:
// errors first, then metadata, secret and claims.
func Diagnose(in DiagnoseInput) []Finding {
	p := in.Provider
	if p.Kind == "" {
		p = DetectProvider(in.Metadata, in.RawMetadata)
	}
	var out []Finding
	if in.ErrorCode != "" || in.ErrorDescription != "" {
		out = append(out, DiagnoseIdPError(p, in.ErrorCode, in.ErrorDescription, in.RedirectURI)...)
	}
	if in.Metadata != nil {
		out = append(out, DiagnoseMetadata(p, in.Metadata, in.Roles)...)
	}
	if in.ClientSecret != "" {
		out = append(out, DiagnoseSecret(p, in.ClientSecret)...)
	}
	if in.Claims != nil {
		out = append(out, DiagnoseClaims(p, in.Claims, in.Mapping, in.Roles)...)
	}
	return dedupe(out)
}

// dedupe drops a finding said before (the same ID and message), as when the
// metadata and the claims both show Google's missing groups.
func dedupe(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !slices.ContainsFunc(out, func(g Finding) bool { return g.ID == f.ID && g.Message == f.Message }) {
			out = append(out, f)
		}
	}
	return out
}

// --- metadata (before the test login) ------------------------------------------

// DiagnoseMetadata reports what the provider and its metadata alone tell:
// Google's missing groups, which Okta authorization server this is.
func DiagnoseMetadata(p IdP, md *Metadata, roles RoleAssignment) []Finding {
	var out []Finding
	switch p.Kind {
	case IdPGoogle:
		sev := SeverityInfo
		msg := "Google ID tokens never carry group memberships, so roles cannot come from a groups claim"
		if len(roles.Mappings) > 0 {
			sev = SeverityWarn
			msg = "role mappings are set, but Google ID tokens never carry group memberships: no mapping can ever match"
		}
		out = append(out, Finding{ID: FindingGoogleNoGroups, Severity: sev, Provider: p.Kind, Message: msg,
			Evidence: "the issuer is accounts.google.com; Google's ID token has no groups claim and no scope adds one",
			Fix: "give everyone a default role, and assign other roles in this application; " +
				"group-based roles need Google's Cloud Identity Groups API, outside the login"})
	case IdPOkta:
		out = append(out, oktaAuthServerFinding(p, md))
	}
	return out
}

func oktaAuthServerFinding(p IdP, md *Metadata) Finding {
	f := Finding{ID: FindingOktaAuthServer, Severity: SeverityInfo, Provider: p.Kind,
		Evidence: "issuer " + md.Issuer}
	if p.Variant == VariantOktaCustomAS {
		f.Message = "this is an Okta custom authorization server: its claims (groups included) are set on the server, not on the app"
		f.Fix = "in the Okta Admin Console: Security → API → Authorization Servers → this server → Claims; " +
			"the issuer must stay " + md.Issuer + " (the org issuer, without /oauth2/…, is a different server)"
		return f
	}
	f.Message = "this is the Okta org authorization server: its ID token's groups claim is set on the app itself"
	f.Fix = "in the Okta Admin Console: Applications → this app → Sign On → OpenID Connect ID Token → Groups claim filter; " +
		"a custom server (…/oauth2/default) has another issuer and would need a new connection"
	return f
}

// --- client secret -------------------------------------------------------------------

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID such as Entra's object and secret IDs.
func IsGUID(s string) bool { return guidPattern.MatchString(strings.TrimSpace(s)) }

// DiagnoseSecret warns when the pasted client secret is a GUID: in Entra
// that is the secret's ID, shown next to its value, not the value itself.
func DiagnoseSecret(p IdP, secret string) []Finding {
	if !IsGUID(secret) {
		return nil
	}
	f := Finding{ID: FindingSecretLooksLikeID, Severity: SeverityWarn, Provider: p.Kind,
		Message:  "the client secret is a GUID: that is what Entra's \"Secret ID\" looks like, not a secret value",
		Evidence: "the secret has the 8-4-4-4-12 hex shape of an ID (the secret itself is not shown)",
		Fix: "in the Microsoft Entra admin center: App registrations → this app → Certificates & secrets → Client secrets: " +
			"copy the \"Value\" column, not \"Secret ID\"; a value is shown only right after it is created, so create a new secret if it is hidden"}
	if p.Kind != IdPEntra && p.Kind != IdPGeneric {
		f.Severity = SeverityInfo
		f.Message = "the client secret is a GUID, which is unusual for " + p.Name + " and typical of a pasted ID instead of a secret"
		f.Fix = "check that you copied the app's client secret, not its client ID or another ID"
	}
	return []Finding{f}
}

// --- claims (after the test login) ---------------------------------------------------

// DiagnoseClaims inspects a test login's claims with the connection's
// mapping: group overage and GUID groups, missing email with a username
// that holds one, unverified email, Okta's and Auth0's missing claims.
func DiagnoseClaims(p IdP, claims map[string]any, m ClaimMapping, r RoleAssignment) []Finding {
	m = m.WithDefaults()
	groupsClaim := cmp.Or(strings.TrimSpace(r.GroupsClaim), DefaultGroupsClaim)
	var out []Finding
	if f, ok := groupOverage(p, claims, groupsClaim); ok {
		out = append(out, f)
	} else if f, ok := groupGUIDs(p, claims, groupsClaim); ok {
		out = append(out, f)
	}
	if f, ok := emailMissing(p, claims, m.Email); ok {
		out = append(out, f)
	}
	if f, ok := emailUnverified(p, claims); ok {
		out = append(out, f)
	}
	if f, ok := oktaNoGroups(p, claims, groupsClaim); ok {
		out = append(out, f)
	}
	if p.Kind == IdPGoogle && len(r.Mappings) > 0 {
		if _, has := claims[groupsClaim]; !has {
			out = append(out, DiagnoseMetadata(p, nil, r)...)
		}
	}
	out = append(out, auth0Namespace(p, claims, m, r)...)
	return out
}

func groupOverage(p IdP, claims map[string]any, groupsClaim string) (Finding, bool) {
	var evidence string
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		if _, ok := names["groups"]; ok {
			evidence = "the ID token has _claim_names.groups pointing at _claim_sources (a Microsoft Graph link) and no groups list"
		}
	}
	if hg, ok := claims["hasgroups"]; ok && (hg == true || hg == "true") {
		evidence = "the ID token has \"hasgroups\": true and no groups list"
	}
	if evidence == "" {
		return Finding{}, false
	}
	return Finding{ID: FindingEntraGroupOverage, Severity: SeverityWarn, Provider: IdPEntra,
		Message: "group overage: the user is in more groups than fit in a token (Entra's limit is 200 in an ID token), " +
			"so Entra left the " + groupsClaim + " claim out and sent a link to Microsoft Graph instead",
		Evidence: evidence,
		Fix: "in the Microsoft Entra admin center: App registrations → this app → Token configuration → Edit groups claim → " +
			"choose \"Groups assigned to the application\", then assign the groups that matter to the app under " +
			"Enterprise applications → this app → Users and groups (or use App roles instead of groups)"}, true
}

func groupGUIDs(p IdP, claims map[string]any, groupsClaim string) (Finding, bool) {
	groups, _ := claimGroups(claims, groupsClaim)
	if len(groups) == 0 {
		return Finding{}, false
	}
	var ids []string
	for _, g := range groups {
		if IsGUID(g) {
			ids = append(ids, g)
		}
	}
	if len(ids) == 0 || len(ids) < len(groups) {
		return Finding{}, false
	}
	fix := "map the IDs to roles as they are and label each with its group's name here; the names are in the IdP's group list"
	if p.Kind == IdPEntra || p.Kind == IdPGeneric {
		fix = "label each ID with its group name (Microsoft Entra admin center → Groups → All groups shows the Object ID of each); " +
			"Entra sends names only for groups synced from on-premises AD (Token configuration → groups claim → sAMAccountName)"
	}
	return Finding{ID: FindingGroupGUIDs, Severity: SeverityInfo, Provider: p.Kind,
		Message:  fmt.Sprintf("the %d groups in %q are object IDs (GUIDs), not names: role mappings must use the IDs", len(ids), groupsClaim),
		Evidence: "e.g. " + ids[0],
		Fix:      fix,
		Values:   ids}, true
}

// usernameClaims hold a sign-in name that is often an email address.
var usernameClaims = []string{"preferred_username", "upn", "unique_name", "email_address", "mail"}

func emailMissing(p IdP, claims map[string]any, emailClaim string) (Finding, bool) {
	if s, _ := claims[emailClaim].(string); strings.TrimSpace(s) != "" {
		return Finding{}, false
	}
	var found string
	for _, c := range usernameClaims {
		if v, _ := claims[c].(string); c != emailClaim && strings.Contains(v, "@") {
			found = c
			break
		}
	}
	if found == "" {
		return Finding{}, false
	}
	f := Finding{ID: FindingEmailMissing, Severity: SeverityWarn, Provider: p.Kind,
		Message:    fmt.Sprintf("the claims have no %q, but %q holds an address", emailClaim, found),
		Evidence:   fmt.Sprintf("%s is absent or empty; %s is present", emailClaim, found),
		Suggestion: "--claim email=" + found}
	switch p.Kind {
	case IdPEntra:
		f.Fix = "Entra fills email only for users whose Email (mail) attribute is set: set it on the users, and add it under " +
			"App registrations → this app → Token configuration → Add optional claim → ID → email; or map email to " + found +
			" (a sign-in name, not always a mailbox)"
	case IdPADFS:
		f.Fix = "in AD FS Management: Application Groups → this app → Web API → Issuance Transform Rules → add an LDAP attribute rule " +
			"E-Mail-Addresses → email; or map email to " + found
	default:
		f.Fix = "ask the IdP admin to release the email claim (scope \"email\") for this app, or map email to " + found
	}
	return f, true
}

func emailUnverified(p IdP, claims map[string]any) (Finding, bool) {
	v, present := claims["email_verified"]
	if present && (v == true || v == "true") {
		return Finding{}, false
	}
	f := Finding{ID: FindingEmailUnverified, Severity: SeverityWarn, Provider: p.Kind}
	if present {
		f.Message = "the IdP says this user's email address is not verified (email_verified is false)"
		f.Evidence = fmt.Sprintf("email_verified: %v", v)
	} else {
		f.Message = "the IdP does not say whether the email address is verified (no email_verified claim)"
		f.Evidence = "the claims have no email_verified"
	}
	f.Message += ": matching accounts by email could let someone take over another person's account"
	switch p.Kind {
	case IdPEntra:
		f.Fix = "Entra never sends email_verified; before activating, match users by idp_id (sub/oid), not email, " +
			"or add the optional claim xms_edov (email domain owner verified) under Token configuration"
	default:
		f.Fix = "before activating, match users by idp_id, not email; or ask the IdP admin to verify users' addresses " +
			"and release email_verified with the email scope"
	}
	return f, true
}

func oktaNoGroups(p IdP, claims map[string]any, groupsClaim string) (Finding, bool) {
	if p.Kind != IdPOkta {
		return Finding{}, false
	}
	if _, ok := claims[groupsClaim]; ok {
		return Finding{}, false
	}
	f := Finding{ID: FindingOktaNoGroups, Severity: SeverityWarn, Provider: p.Kind,
		Message:  fmt.Sprintf("Okta sent no %q claim: Okta adds one only when a groups claim with a filter is configured", groupsClaim),
		Evidence: fmt.Sprintf("the ID token and userinfo have no %q", groupsClaim)}
	if p.Variant == VariantOktaCustomAS {
		f.Fix = "in the Okta Admin Console: Security → API → Authorization Servers → this server → Claims → Add Claim: name " +
			groupsClaim + ", include in ID Token (Always), value type Groups, filter Matches regex .* (or a narrower one)"
	} else {
		f.Fix = "in the Okta Admin Console: Applications → this app → Sign On → OpenID Connect ID Token → Groups claim type Filter, " +
			"name " + groupsClaim + ", Matches regex .* (or a narrower one)"
	}
	return f, true
}

// standardClaims are OpenID Connect's own claim names, which Auth0 lets
// through without a namespace.
var standardClaims = []string{"sub", "name", "given_name", "family_name", "middle_name", "nickname",
	"preferred_username", "profile", "picture", "website", "email", "email_verified", "gender",
	"birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at"}

// auth0Namespace explains mapped custom claims an Auth0 token lacks: Auth0
// drops custom claims whose names are not namespaced URLs.
func auth0Namespace(p IdP, claims map[string]any, m ClaimMapping, r RoleAssignment) []Finding {
	if p.Kind != IdPAuth0 {
		return nil
	}
	names := []string{m.IDPID, m.Email, m.FirstName, m.LastName}
	if len(r.Mappings) > 0 || r.GroupsClaim != "" {
		names = append(names, cmp.Or(strings.TrimSpace(r.GroupsClaim), DefaultGroupsClaim))
	}
	var out []Finding
	for _, n := range names {
		if _, ok := claims[n]; ok || slices.Contains(standardClaims, n) || strings.Contains(n, "://") {
			continue
		}
		f := Finding{ID: FindingAuth0Namespace, Severity: SeverityWarn, Provider: p.Kind,
			Message:  fmt.Sprintf("the mapped claim %q is missing: Auth0 leaves custom claims out of tokens unless their names are namespaced URLs", n),
			Evidence: fmt.Sprintf("%q is not a standard claim, has no namespace, and is not in the ID token", n),
			Fix: "in the Auth0 Dashboard: Actions → Library → the Post Login action: set it as " +
				"api.idToken.setCustomClaim('https://your-domain/" + n + "', …), then map that name here"}
		if ns := namespacedMatch(claims, n); ns != "" {
			f.Fix = fmt.Sprintf("the token already has the namespaced claim %q: map that instead", ns)
			f.Suggestion = remapFlag(m, r, n, ns)
		}
		out = append(out, f)
	}
	return out
}

// namespacedMatch finds a claim like "https://acme.com/roles" for name.
func namespacedMatch(claims map[string]any, name string) string {
	for _, c := range SortedClaimNames(claims) {
		if strings.Contains(c, "://") && strings.HasSuffix(c, "/"+name) {
			return c
		}
	}
	return ""
}

// remapFlag is the remap flag that points the attribute reading old at
// claim.
func remapFlag(m ClaimMapping, r RoleAssignment, old, claim string) string {
	switch old {
	case m.IDPID:
		return "--claim idp_id=" + claim
	case m.Email:
		return "--claim email=" + claim
	case m.FirstName:
		return "--claim first_name=" + claim
	case m.LastName:
		return "--claim last_name=" + claim
	}
	return "--groups-claim " + claim
}
