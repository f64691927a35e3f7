package flow

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check IDs. They are stable: scripts read them from `check --json`.
// A report lists them in this order; checks that need the discovery document
// are left out when the document could not be fetched or parsed, and
// CheckIssuerTemplate stands in place of CheckIssuer when the issuer holds a
// placeholder such as Entra's {tenantid}.
const (
	CheckURL            = "url"             // the input is a usable address
	CheckReachable      = "reachable"       // the discovery endpoint answered HTTP 200
	CheckJSON           = "json"            // it served a JSON object (not an HTML page)
	CheckIssuer         = "issuer"          // issuer equals the discovery URL's prefix
	CheckIssuerTemplate = "issuer_template" // issuer is a multi-tenant template
	CheckRequiredFields = "required_fields" // the fields a login needs are present
	CheckHTTPSEndpoints = "https_endpoints" // endpoints are https (http on loopback only)
	CheckJWKS           = "jwks"            // jwks_uri holds a signing key usable with an advertised algorithm
	CheckScopes         = "scopes"          // scopes_supported has openid (email, profile)
	CheckClaims         = "claims"          // claims_supported covers the mapped claims
	CheckTokenAuth      = "token_auth"      // client_secret_basic or client_secret_post offered
	CheckPKCE           = "pkce"            // S256 advertised
	CheckClock          = "clock"           // the IdP's Date header against our clock
)

// MaxClockSkew is the clock difference past which ID token iat/exp checks
// start to fail.
const MaxClockSkew = 60 * time.Second

// CheckName is the short human name of a check ID, for display.
func CheckName(id string) string {
	switch id {
	case CheckURL:
		return "Address"
	case CheckReachable:
		return "Reachable"
	case CheckJSON:
		return "Served JSON"
	case CheckIssuer:
		return "Issuer matches URL"
	case CheckIssuerTemplate:
		return "Issuer template"
	case CheckRequiredFields:
		return "Required fields"
	case CheckHTTPSEndpoints:
		return "HTTPS endpoints"
	case CheckJWKS:
		return "Signing keys"
	case CheckScopes:
		return "Scopes"
	case CheckClaims:
		return "Claims"
	case CheckTokenAuth:
		return "Client secret auth"
	case CheckPKCE:
		return "PKCE S256"
	case CheckClock:
		return "Clock"
	}
	return id
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// Now is the clock the IdP's Date header is compared with; nil means
	// time.Now.
	Now func() time.Time
	// Progress, when set, is called once for every check of the report as
	// soon as that check is known, so that a screen can show checks as
	// they finish. It is called from the goroutine running Validate, one
	// call at a time, before Validate returns. The checks that need only
	// the discovery document are known before the key set has been
	// fetched, so the calls may come in another order than the report's.
	Progress func(Check)
}

// Validate fetches the discovery document named by input (a discovery URL
// or an issuer) and runs every check on it. The JWKS fetch starts as soon
// as the document is in and the other checks run meanwhile, so the wall
// time is that of the two fetches. ctx and client bound the time spent.
// Validate never returns nil; Report.OK says whether no check failed.
func Validate(ctx context.Context, client *http.Client, input string, opts ValidateOptions) *Report {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	progress := func(checks ...Check) {
		if opts.Progress != nil {
			for _, c := range checks {
				opts.Progress(c)
			}
		}
	}
	r := &Report{}
	discoveryURL, _, err := DiscoveryURLFor(input)
	if err != nil {
		r.DiscoveryURL = WithoutUserinfo(strings.TrimSpace(input))
		r.Checks = append(r.Checks, failFrom(CheckURL, err))
		progress(r.Checks...)
		return r.finish()
	}
	r.DiscoveryURL = discoveryURL

	d, err := FetchDiscovery(ctx, client, discoveryURL)
	received := now()
	fetchChecks, ok := discoveryFetchChecks(discoveryURL, d, err)
	r.Checks = append(r.Checks, fetchChecks...)
	progress(fetchChecks...)
	if d != nil {
		r.RawMetadata = d.Body
	}
	if !ok {
		return r.finish()
	}
	m := d.Metadata
	r.Metadata, r.Issuer = m, m.Issuer

	type jwksResult struct {
		check Check
		raw   []byte
	}
	jwksDone := make(chan jwksResult, 1)
	go func() {
		c, raw := fetchJWKSCheck(ctx, client, m)
		jwksDone <- jwksResult{c, raw}
	}()
	before, after := DocumentChecks(discoveryURL, m, d.Header, received)
	progress(before...)
	progress(after...)
	jr := <-jwksDone
	progress(jr.check)
	r.RawJWKS = jr.raw
	r.Checks = append(r.Checks, before...)
	r.Checks = append(r.Checks, jr.check)
	r.Checks = append(r.Checks, after...)
	return r.finish()
}

func (r *Report) finish() *Report {
	r.OK = !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
	return r
}

func pass(id, detail string) Check { return Check{ID: id, Status: Pass, Detail: detail} }

func warn(id, detail, fix string) Check {
	return Check{ID: id, Status: Warn, Detail: detail, Fix: fix}
}

func fail(id, detail, fix string) Check {
	return Check{ID: id, Status: Fail, Detail: detail, Fix: fix}
}

// failFrom turns an engine error into a failed check.
func failFrom(id string, err error) Check {
	msg, fix := Explain(err)
	if fe, ok := err.(*Error); ok {
		msg = fe.Message
		if cause := rootCause(fe.Err); cause != "" && fe.Code == CodeUnreachable {
			msg += " (" + cause + ")"
		}
	}
	if fix == "" {
		fix = "check the address, and that this machine can reach the IdP"
	}
	return fail(id, msg, fix)
}

// rootCause is the innermost useful error text, e.g. "connection refused",
// without the URL the message already names.
func rootCause(err error) string {
	if err == nil {
		return ""
	}
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// discoveryFetchChecks reports the reachable and json checks, and whether
// the document is in hand for the others.
func discoveryFetchChecks(discoveryURL string, d *Discovery, err error) ([]Check, bool) {
	answered := "the server answered"
	if d != nil {
		answered = fmt.Sprintf("answered HTTP %d in %s", d.StatusCode, roundMS(d.Elapsed))
	}
	if err == nil {
		return []Check{
			pass(CheckReachable, answered),
			pass(CheckJSON, fmt.Sprintf("a JSON object with %d fields", len(d.Fields))),
		}, true
	}
	fe, _ := err.(*Error)
	if fe != nil {
		switch fe.Code {
		case CodeHTMLPage, CodeNotJSON, CodeBadMetadata, CodeResponseTooLarge:
			return []Check{pass(CheckReachable, answered), withoutURL(failFrom(CheckJSON, err), discoveryURL)}, false
		}
	}
	return []Check{withoutURL(failFrom(CheckReachable, err), discoveryURL)}, false
}

// withoutURL words a check's detail without the discovery URL, which the
// report shows once at the top.
func withoutURL(c Check, discoveryURL string) Check {
	c.Detail = strings.ReplaceAll(c.Detail, discoveryURL, "the discovery endpoint")
	return c
}

func roundMS(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// DocumentChecks runs the checks that need only the discovery document and
// the headers it came with: those listed before the jwks check and those
// after it. received is when the response arrived, by our clock.
func DocumentChecks(discoveryURL string, m *Metadata, header http.Header, received time.Time) (before, after []Check) {
	before = append(before, checkIssuer(discoveryURL, m.Issuer), checkRequiredFields(m))
	if c, ok := checkHTTPSEndpoints(m); ok {
		before = append(before, c)
	}
	after = []Check{checkScopes(m), checkClaims(m), checkTokenAuth(m), checkPKCE(m), checkClock(header, received)}
	return before, after
}

// --- issuer -----------------------------------------------------------------

func checkIssuer(discoveryURL, issuer string) Check {
	if issuer == "" {
		return fail(CheckIssuer, "the document has no issuer",
			"ask the IdP admin to check the provider's OpenID configuration: every provider must publish its issuer; make sure this URL is the provider's Discovery Endpoint")
	}
	if placeholder, ok := issuerPlaceholder(issuer); ok {
		return issuerTemplateCheck(discoveryURL, issuer, placeholder)
	}
	expected := IssuerFromDiscoveryURL(discoveryURL)
	switch issuer {
	case expected:
		return pass(CheckIssuer, "matches the discovery URL; ID tokens must carry "+issuer)
	case expected + "/":
		return pass(CheckIssuer, `matches the discovery URL up to the terminating "/" the URL drops (valid per the spec); ID tokens must carry `+issuer)
	}
	return issuerMismatch(expected, issuer)
}

// issuerPlaceholder finds a template placeholder such as "{tenantid}".
func issuerPlaceholder(issuer string) (string, bool) {
	_, rest, ok := strings.Cut(issuer, "{")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "}")
	if !ok || name == "" {
		return "", false
	}
	return "{" + name + "}", true
}

func issuerTemplateCheck(discoveryURL, issuer, placeholder string) Check {
	detail := fmt.Sprintf("the issuer %s is a template: %s stands for each customer's own value, so no ID token carries this issuer", issuer, placeholder)
	if strings.EqualFold(placeholder, "{tenantid}") {
		detail += ` (this is Microsoft Entra's multi-tenant "common" or "organizations" endpoint)`
		return fail(CheckIssuerTemplate, detail,
			"use your tenant's own Discovery Endpoint: "+tenantDiscoveryURL(discoveryURL, issuer, placeholder)+
				" — the tenant ID is in the Microsoft Entra admin center under Entra ID (or Identity) → Overview → Tenant ID, and on the app registration's Overview page as \"Directory (tenant) ID\"")
	}
	return fail(CheckIssuerTemplate, detail,
		"use the Discovery Endpoint with "+placeholder+" replaced by your own value: "+tenantDiscoveryURL(discoveryURL, issuer, placeholder)+
			"; ask the IdP admin for that value")
}

// tenantDiscoveryURL is the discovery URL to use instead of a multi-tenant
// one: the "common"/"organizations"/"consumers" segment of the URL replaced,
// or else the issuer with its placeholder filled in.
func tenantDiscoveryURL(discoveryURL, issuer, placeholder string) string {
	const mine = "<your-tenant-id>"
	if u, err := url.Parse(discoveryURL); err == nil {
		segs := strings.Split(u.Path, "/")
		for i, s := range segs {
			switch strings.ToLower(s) {
			case "common", "organizations", "consumers":
				segs[i] = mine
				return u.Scheme + "://" + u.Host + strings.Join(segs, "/")
			}
		}
	}
	filled := strings.Replace(issuer, placeholder, mine, 1)
	return strings.TrimSuffix(filled, "/") + WellKnownPath
}

// issuerMismatch explains precisely how the issuer differs from the prefix
// of the discovery URL, with the two values one above the other.
func issuerMismatch(expected, issuer string) Check {
	diffs := issuerDiffs(expected, issuer)
	detail := fmt.Sprintf("the issuer differs from the discovery URL in %s:\n  expected  %s\n  issuer    %s",
		joinWords(diffs), expected, issuer)
	useIssuer := strings.TrimSuffix(issuer, "/") + WellKnownPath
	var fix string
	switch {
	case slices.Contains(diffs, "scheme") && strings.HasPrefix(issuer, "http://"):
		fix = "the IdP believes it is served over plain http, typically because it sits behind a TLS proxy: ask the IdP admin to set its public URL to https (Keycloak: KC_HOSTNAME; or have the proxy send X-Forwarded-Proto: https)"
	case slices.Contains(diffs, "host") || slices.Contains(diffs, "port") || slices.Contains(diffs, "scheme"):
		fix = "if users sign in at " + issuer + ", use " + useIssuer + " as the Discovery Endpoint; otherwise ask the IdP admin to set the IdP's public address (Keycloak: Frontend URL or KC_HOSTNAME; behind a proxy: X-Forwarded-Host) to match the URL you have"
	case slices.Contains(diffs, "trailing slash"):
		fix = `the issuer and the URL differ only by a "/": use exactly ` + useIssuer + " as the Discovery Endpoint"
	case slices.Contains(diffs, "letter case"):
		fix = "issuers are compared exactly, letter case included: use " + useIssuer + " as the Discovery Endpoint, spelled as the IdP spells it"
	default:
		fix = "the URL points at another tenant, realm or authorization server than the document describes: use " + useIssuer +
			" as the Discovery Endpoint (Okta: the org URL and /oauth2/default are different issuers; Keycloak: check the realm name)"
	}
	return fail(CheckIssuer, detail, fix)
}

// issuerFixIsHere reports whether an issuer that differs from the
// discovery URL in diffs is fixed by using its own discovery URL: not when
// the IdP believes it is served over plain http (its admin fixes that),
// nor when the issuer is no URL to build one from.
func issuerFixIsHere(diffs []string, issuer string) bool {
	return !(slices.Contains(diffs, "scheme") && strings.HasPrefix(issuer, "http://")) &&
		!slices.ContainsFunc(diffs, func(d string) bool { return strings.HasPrefix(d, "form") || strings.HasPrefix(d, "query") })
}

// DiscoveryEndpointFix is the Discovery Endpoint a report's failed issuer
// check suggests instead of the one checked, when the fix is a change of
// that address rather than on the IdP's side: the tenant's own URL for a
// multi-tenant template (Entra's common or organizations endpoint, with
// <your-tenant-id> to fill in), or the discovery URL of the issuer the
// document names (an issuer typed where its discovery URL was expected, a
// discovery URL whose issuer differs). "" when the report suggests none.
func DiscoveryEndpointFix(r *Report) string {
	if r == nil || r.Issuer == "" {
		return ""
	}
	for _, c := range r.Checks {
		if c.Status != Fail {
			continue
		}
		switch c.ID {
		case CheckIssuerTemplate:
			if placeholder, ok := issuerPlaceholder(r.Issuer); ok {
				return tenantDiscoveryURL(r.DiscoveryURL, r.Issuer, placeholder)
			}
		case CheckIssuer:
			if issuerFixIsHere(issuerDiffs(IssuerFromDiscoveryURL(r.DiscoveryURL), r.Issuer), r.Issuer) {
				return strings.TrimSuffix(r.Issuer, "/") + WellKnownPath
			}
		}
	}
	return ""
}

// issuerDiffs names the parts in which two issuer URLs differ.
func issuerDiffs(expected, issuer string) []string {
	e, err1 := url.Parse(expected)
	g, err2 := url.Parse(issuer)
	if err1 != nil || err2 != nil || g.Host == "" {
		return []string{"form (the issuer is not a full URL)"}
	}
	var diffs []string
	caseOnly := false
	compare := func(name, a, b string) {
		switch {
		case a == b:
		case strings.EqualFold(a, b):
			caseOnly = true
		default:
			diffs = append(diffs, name)
		}
	}
	compare("scheme", e.Scheme, g.Scheme)
	compare("host", e.Hostname(), g.Hostname())
	compare("port", e.Port(), g.Port())
	switch ep, gp := e.EscapedPath(), g.EscapedPath(); {
	case ep == gp:
	case strings.TrimRight(ep, "/") == strings.TrimRight(gp, "/"):
		diffs = append(diffs, "trailing slash")
	default:
		compare("path", ep, gp)
	}
	if g.RawQuery != "" || g.Fragment != "" {
		diffs = append(diffs, "query (an issuer has none)")
	}
	if caseOnly {
		diffs = append(diffs, "letter case")
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "spelling")
	}
	return diffs
}

func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return "its " + words[0]
	}
	return "its " + strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// --- required fields and endpoints -------------------------------------------

func checkRequiredFields(m *Metadata) Check {
	var missing []string
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint != ""},
		{"token_endpoint", m.TokenEndpoint != ""},
		{"jwks_uri", m.JWKSURI != ""},
		{"response_types_supported", len(m.ResponseTypesSupported) > 0},
		{"subject_types_supported", len(m.SubjectTypesSupported) > 0},
		{"id_token_signing_alg_values_supported", len(m.IDTokenSigningAlgValuesSupported) > 0},
	} {
		if !f.present {
			missing = append(missing, f.name)
		}
	}
	noCode := len(m.ResponseTypesSupported) > 0 && !slices.Contains(m.ResponseTypesSupported, "code")
	switch {
	case len(missing) == 0 && !noCode:
		return pass(CheckRequiredFields, "all fields a login needs are present, and the code flow is supported")
	case m.Issuer == "" && m.AuthorizationEndpoint == "" && m.TokenEndpoint == "":
		return fail(CheckRequiredFields, "this JSON is not an OpenID Connect discovery document (missing: "+strings.Join(missing, ", ")+")",
			"check the URL: the Discovery Endpoint ends with "+WellKnownPath+" and shows \"issuer\", \"authorization_endpoint\" and \"token_endpoint\"")
	case len(missing) == 0:
		return fail(CheckRequiredFields, `response_types_supported does not list "code", so the authorization code flow is not offered`,
			"ask the IdP admin to enable the authorization code flow (grant type authorization_code) for this application")
	}
	detail := "missing: " + strings.Join(missing, ", ")
	if noCode {
		detail += `; response_types_supported does not list "code"`
	}
	return fail(CheckRequiredFields, detail,
		"ask the IdP admin to publish a complete OpenID Connect configuration (these fields are required by OpenID Connect Discovery); make sure this is the OpenID Connect endpoint, not a plain OAuth 2.0 one")
}

func checkHTTPSEndpoints(m *Metadata) (Check, bool) {
	var bad, plain []string
	checked := 0
	for _, e := range []struct{ name, value string }{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"jwks_uri", m.JWKSURI},
		{"end_session_endpoint", m.EndSessionEndpoint},
	} {
		if e.value == "" {
			continue
		}
		checked++
		u, err := url.Parse(e.value)
		switch {
		case err != nil || u.Host == "":
			bad = append(bad, e.name+" is not a full URL ("+e.value+")")
		case CheckURLScheme(u) != nil:
			bad = append(bad, e.name+" uses "+u.Scheme+" ("+e.value+")")
		case u.Scheme != "https":
			plain = append(plain, e.name)
		}
	}
	if checked == 0 {
		return Check{}, false
	}
	if len(bad) > 0 {
		return fail(CheckHTTPSEndpoints, strings.Join(bad, "; "),
			"ask the IdP admin to publish https:// endpoints (behind a TLS proxy: set the IdP's public URL to https, or have the proxy send X-Forwarded-Proto: https); plain http is accepted only for localhost"), true
	}
	return pass(CheckHTTPSEndpoints, httpsDetail(checked, plain)), true
}

// httpsDetail says how many of the checked endpoints use https, and names
// those that are plain http on this machine (accepted for a local IdP).
func httpsDetail(checked int, plain []string) string {
	switch len(plain) {
	case 0:
		return fmt.Sprintf("all %d endpoints use https", checked)
	case checked:
		return fmt.Sprintf("no https: all %d endpoints are plain http on loopback, accepted for a local IdP only", checked)
	}
	return fmt.Sprintf("%d of %d endpoints use https; plain http on loopback: %s", checked-len(plain), checked, strings.Join(plain, ", "))
}

// --- scopes, claims, client auth, PKCE -----------------------------------------

func checkScopes(m *Metadata) Check {
	if len(m.ScopesSupported) == 0 {
		return warn(CheckScopes, "scopes_supported is not listed (it is optional), so openid, email and profile cannot be confirmed here",
			"nothing to do if the test login returns the email and name; otherwise ask the IdP admin to allow the openid, email and profile scopes for this application")
	}
	if !slices.Contains(m.ScopesSupported, "openid") {
		return fail(CheckScopes, `scopes_supported does not list "openid", so this is not an OpenID Connect provider as configured`,
			"ask the IdP admin to enable OpenID Connect (the openid scope) for this application; make sure the URL is the OpenID Connect endpoint")
	}
	var missing []string
	for _, s := range []string{"email", "profile"} {
		if !slices.Contains(m.ScopesSupported, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return warn(CheckScopes, "openid is supported, but not "+strings.Join(missing, " or ")+", so the email or name may not reach the ID token",
			"ask the IdP admin to allow the "+strings.Join(missing, " and ")+" scope for this application, or to add the email and name claims to the ID token")
	}
	return pass(CheckScopes, "openid, email and profile are supported")
}

const groupsNote = `; "groups" is not listed (needed only to assign roles by IdP group)`

func checkClaims(m *Metadata) Check {
	if len(m.ClaimsSupported) == 0 {
		return warn(CheckClaims, "claims_supported is not listed, so sub, email, given_name and family_name can only be confirmed by a test login",
			"run the test login and look at the raw claims; if one is missing, ask the IdP admin to add it to the ID token (claim mapping or attribute release)")
	}
	var missing []string
	for _, c := range []string{"sub", "email", "given_name", "family_name"} {
		if !slices.Contains(m.ClaimsSupported, c) {
			missing = append(missing, c)
		}
	}
	note := ""
	if !slices.Contains(m.ClaimsSupported, DefaultGroupsClaim) {
		note = groupsNote
	}
	if len(missing) > 0 {
		return warn(CheckClaims, "claims_supported does not list "+strings.Join(missing, ", ")+note,
			"ask the IdP admin to release "+strings.Join(missing, ", ")+" in the ID token (claim mapping or attribute release), or map other claims to these attributes in the claims step; a test login shows what really arrives")
	}
	return pass(CheckClaims, "sub, email, given_name and family_name are supported"+note)
}

func checkTokenAuth(m *Metadata) Check {
	methods := m.TokenAuthMethods()
	switch {
	case len(m.TokenEndpointAuthMethodsSupported) == 0:
		return pass(CheckTokenAuth, "no methods listed, so client_secret_basic applies (the spec's default)")
	case slices.Contains(methods, "client_secret_basic"):
		return pass(CheckTokenAuth, "client_secret_basic is offered and will be used")
	case slices.Contains(methods, "client_secret_post"):
		return pass(CheckTokenAuth, "client_secret_post is offered and will be used")
	}
	return fail(CheckTokenAuth, "the token endpoint does not accept a client secret; it offers only "+strings.Join(methods, ", "),
		"ask the IdP admin to allow client secret authentication (client_secret_basic or client_secret_post) for this application, and to issue a client secret")
}

func checkPKCE(m *Metadata) Check {
	switch {
	case slices.Contains(m.CodeChallengeMethodsSupported, "S256"):
		return pass(CheckPKCE, "S256 is advertised; logins use it")
	case len(m.CodeChallengeMethodsSupported) == 0:
		return warn(CheckPKCE, "code_challenge_methods_supported is not listed; logins still send PKCE S256, which many IdPs (Entra, ADFS) accept without advertising it",
			"nothing to do if the test login works; if it fails on the code challenge, ask the IdP admin to enable PKCE with S256 for this application")
	}
	return warn(CheckPKCE, "PKCE is advertised only as "+strings.Join(m.CodeChallengeMethodsSupported, ", ")+", not S256, which logins send",
		"ask the IdP admin to enable PKCE with the S256 method for this application; plain is not safe")
}

// --- clock -----------------------------------------------------------------------

func checkClock(header http.Header, received time.Time) Check {
	date, err := http.ParseTime(header.Get("Date"))
	if err != nil {
		return warn(CheckClock, "the IdP sent no usable Date header, so its clock could not be compared with ours",
			"nothing to do unless test logins fail with a token \"issued in the future\" or \"expired\": then make sure both machines sync their clocks with NTP")
	}
	// A cached response's Date is when the origin made it; Age says how long ago.
	if age, err := strconv.Atoi(header.Get("Age")); err == nil && age > 0 {
		date = date.Add(time.Duration(age) * time.Second)
	}
	// Date has whole seconds: take the middle of the second it names.
	skew := date.Add(time.Second / 2).Sub(received).Round(time.Second)
	direction := "ahead of"
	if skew < 0 {
		direction, skew = "behind", -skew
	}
	if skew > MaxClockSkew {
		return warn(CheckClock, fmt.Sprintf("the IdP's clock is %s %s this machine's; past %s ID tokens look issued in the future or already expired, and the iat/exp checks fail",
			skew, direction, MaxClockSkew),
			"make sure both this machine and the IdP sync their clocks with NTP; compare each with a public time source to see which one is off")
	}
	return pass(CheckClock, fmt.Sprintf("the IdP's clock is within %s of this machine's", max(skew, time.Second)))
}

// --- jwks -------------------------------------------------------------------------

// fetchJWKSCheck fetches jwks_uri and judges its keys against the advertised
// algorithms. It returns the key set as served when it was read.
func fetchJWKSCheck(ctx context.Context, client *http.Client, m *Metadata) (Check, []byte) {
	if m.JWKSURI == "" {
		return fail(CheckJWKS, "the document has no jwks_uri, so no key can verify ID tokens",
			"ask the IdP admin to check the provider's OpenID configuration: it must publish its signing keys at jwks_uri"), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.JWKSURI, nil)
	if err != nil {
		return fail(CheckJWKS, "jwks_uri is not a URL: "+m.JWKSURI,
			"ask the IdP admin to check the provider's OpenID configuration: jwks_uri must be the https address of its signing keys"), nil
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return failFrom(CheckJWKS, unreachable(m.JWKSURI, err)), nil
	}
	body, err := ReadBody(resp)
	if err != nil {
		return failFrom(CheckJWKS, unreachable(m.JWKSURI, err)), nil
	}
	if resp.StatusCode != http.StatusOK {
		return fail(CheckJWKS, fmt.Sprintf("jwks_uri answered HTTP %d, so ID tokens cannot be verified", resp.StatusCode),
			"the IdP's key endpoint is failing: retry in a few minutes; if it keeps failing, ask the IdP admin to check the service and that a signing key (certificate) is active"), nil
	}
	return KeySetCheck(body, m.IDTokenSigningAlgValuesSupported), body
}

// jwk is the part of a JSON Web Key that says what it can verify.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Alg    string   `json:"alg"`
	Crv    string   `json:"crv"`
	KeyOps []string `json:"key_ops"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// KeySetCheck judges a JWKS document: it passes when at least one key can
// verify ID tokens signed with an advertised algorithm (kty, crv, alg and
// use compatible). No advertised algorithm means RS256, the spec's default.
func KeySetCheck(body []byte, advertised []string) Check {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return fail(CheckJWKS, "the document at jwks_uri is not a JSON Web Key Set",
			"check that jwks_uri points at the IdP's keys (a JSON object with a \"keys\" list); ask the IdP admin to correct it in the provider's configuration")
	}
	if len(set.Keys) == 0 {
		return fail(CheckJWKS, "the key set at jwks_uri holds no keys, so no ID token can be verified",
			"ask the IdP admin to create or activate a signing key (certificate) for the provider; it then appears at jwks_uri")
	}
	algs := asymmetricAlgs(advertised)
	if len(algs) == 0 {
		return fail(CheckJWKS, "id_token_signing_alg_values_supported lists only "+strings.Join(advertised, ", ")+", none verifiable with a published key",
			"ask the IdP admin to sign ID tokens with RS256 (the OpenID Connect default) or another public-key algorithm")
	}
	var usable int
	var usableAlgs, unusable []string
	for _, raw := range set.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			unusable = append(unusable, "malformed")
			continue
		}
		if why := notForSigning(k); why != "" {
			unusable = append(unusable, why)
			continue
		}
		fits := keyAlgs(k, algs)
		if len(fits) == 0 {
			unusable = append(unusable, describeKey(k))
			continue
		}
		usable++
		for _, a := range fits {
			if !slices.Contains(usableAlgs, a) {
				usableAlgs = append(usableAlgs, a)
			}
		}
	}
	if usable == 0 {
		return fail(CheckJWKS, fmt.Sprintf("none of the %d keys can verify ID tokens signed with %s: %s",
			len(set.Keys), strings.Join(algs, ", "), countWords(unusable)),
			"ask the IdP admin to publish a signing key (use \"sig\") for an advertised algorithm ("+strings.Join(algs, ", ")+
				"), or to advertise the algorithm its signing key uses in id_token_signing_alg_values_supported")
	}
	slices.SortFunc(usableAlgs, func(a, b string) int { return slices.Index(algs, a) - slices.Index(algs, b) })
	return pass(CheckJWKS, fmt.Sprintf("%d of %d keys can verify ID tokens (%s)", usable, len(set.Keys), strings.Join(usableAlgs, ", ")))
}

// asymmetricAlgs keeps the advertised algorithms a published key can
// verify; HS* use the client secret and "none" is never accepted.
func asymmetricAlgs(advertised []string) []string {
	if len(advertised) == 0 {
		return []string{"RS256"}
	}
	var out []string
	for _, a := range advertised {
		if kty, _ := keyTypeFor(a); kty != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// keyTypeFor is the key type an algorithm needs, and for EC and OKP the
// curve; "" for algorithms no published key verifies.
func keyTypeFor(alg string) (kty, crv string) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return "RSA", ""
	case "ES256":
		return "EC", "P-256"
	case "ES384":
		return "EC", "P-384"
	case "ES512":
		return "EC", "P-521"
	case "EdDSA", "Ed25519":
		return "OKP", "Ed25519"
	}
	return "", ""
}

// notForSigning says why a key cannot verify signatures, or "" if it can.
func notForSigning(k jwk) string {
	if k.Use == "enc" {
		return "for encryption only (use=enc)"
	}
	if len(k.KeyOps) > 0 && !slices.Contains(k.KeyOps, "verify") {
		return "not for verifying (key_ops)"
	}
	if !keyMaterialOK(k) {
		return "incomplete " + cmp.Or(k.Kty, "untyped") + " key"
	}
	return ""
}

// keyMaterialOK checks that the public key's parameters decode to the sizes
// its type needs.
func keyMaterialOK(k jwk) bool {
	switch k.Kty {
	case "RSA":
		return b64len(k.N) > 0 && b64len(k.E) > 0
	case "EC":
		size := map[string]int{"P-256": 32, "P-384": 48, "P-521": 66}[k.Crv]
		return size > 0 && b64len(k.X) == size && b64len(k.Y) == size
	case "OKP":
		return k.Crv == "Ed25519" && b64len(k.X) == 32
	}
	return false
}

// b64len is the decoded length of a base64url value, or -1 if it is not one.
func b64len(s string) int {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return -1
	}
	return len(b)
}

// keyAlgs lists the algorithms of algs that key k can verify.
func keyAlgs(k jwk, algs []string) []string {
	var out []string
	for _, a := range algs {
		kty, crv := keyTypeFor(a)
		if k.Kty == kty && (crv == "" || k.Crv == crv) && (k.Alg == "" || k.Alg == a) {
			out = append(out, a)
		}
	}
	return out
}

func describeKey(k jwk) string {
	s := k.Kty
	if k.Crv != "" {
		s += " " + k.Crv
	}
	if k.Alg != "" {
		s += " for " + k.Alg
	}
	return s + " key"
}

// countWords turns ["a", "b", "a"] into "2 a, 1 b".
func countWords(items []string) string {
	var order []string
	counts := map[string]int{}
	for _, it := range items {
		if counts[it] == 0 {
			order = append(order, it)
		}
		counts[it]++
	}
	parts := make([]string, len(order))
	for i, it := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[it], it)
	}
	return strings.Join(parts, ", ")
}
