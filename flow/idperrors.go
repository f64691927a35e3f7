package flow

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

var aadstsPattern = regexp.MustCompile(`AADSTS(\d{5,7})`)

// AADSTSCode returns the first Entra error code (AADSTS…) in text, e.g.
// "7000215", or "".
func AADSTSCode(text string) string {
	m := aadstsPattern.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}

// aadsts explains the Entra errors a setup runs into, in plain words with
// the place in the Entra admin center to fix them.
func aadsts(code Code) (message, fix string, ok bool) {
	switch code {
	case CodeAADSTS50011:
		return "Entra says the redirect URI this login sent is not one of the app's registered redirect URIs",
			"in the Microsoft Entra admin center: App registrations → this app → Authentication → Web → Redirect URIs: add the URI exactly as sent (scheme, host, port, path, trailing slash)", true
	case CodeAADSTS7000215:
		return "Entra says the client secret is invalid: often the secret's ID was pasted instead of its value",
			"in the Microsoft Entra admin center: App registrations → this app → Certificates & secrets: copy the \"Value\" of a current secret (not the \"Secret ID\"); create a new secret if the value is no longer shown", true
	case CodeAADSTS7000222:
		return "Entra says the app's client secret has expired",
			"in the Microsoft Entra admin center: App registrations → this app → Certificates & secrets → New client secret; copy its Value and update the connection", true
	case CodeAADSTS700016:
		return "Entra found no app with this client ID in the tenant of the discovery URL",
			"check that the Client ID is the \"Application (client) ID\" on the app's Overview page, and that the discovery URL names the tenant the app is registered in (not common, or another tenant)", true
	case CodeAADSTS50105:
		return "Entra blocked the user: the app requires assignment and this user (or their group) is not assigned to it",
			"in the Microsoft Entra admin center: Enterprise applications → this app → Users and groups → Add user/group; or set Properties → \"Assignment required?\" to No", true
	}
	return "", "", false
}

// DiagnoseIdPError explains an IdP's error (error= and error_description,
// or text pasted from the browser): Entra's AADSTS codes in plain words,
// and a refused redirect URI with the URI sent and, when the IdP names the
// one it expected, where the two differ.
func DiagnoseIdPError(p IdP, code, description, sentRedirectURI string) []Finding {
	var out []Finding
	if c := AADSTSCode(description); c != "" {
		if msg, fix, ok := aadsts(EntraCode(description)); ok {
			out = append(out, Finding{ID: FindingAADSTS, Severity: SeverityError, Provider: IdPEntra,
				Message: msg, Evidence: "AADSTS" + c + " in the error description", Fix: fix, Values: []string{c}})
		}
	}
	if isRedirectError(code, description) {
		out = append(out, redirectFinding(p, description, sentRedirectURI))
	}
	return out
}

// isRedirectError recognizes a refused redirect URI in an error response.
func isRedirectError(code, description string) bool {
	if Code(code) == CodeRedirectURIMismatch || EntraCode(description) == CodeAADSTS50011 {
		return true
	}
	d := strings.ToLower(description)
	return (strings.Contains(d, "redirect") || strings.Contains(d, "callback url")) &&
		(strings.Contains(d, "mismatch") || strings.Contains(d, "match") || strings.Contains(d, "invalid") ||
			strings.Contains(d, "not registered") || strings.Contains(d, "not in the list") || strings.Contains(d, "allowed"))
}

func redirectFinding(p IdP, description, sent string) Finding {
	f := Finding{ID: FindingRedirectMismatch, Severity: SeverityError, Provider: p.Kind,
		Message:  "the IdP refused the redirect URI",
		Evidence: "we sent " + cmp.Or(sent, "(unknown)"),
		Fix:      redirectPlace(p) + ": add " + cmp.Or(sent, "the Redirect URI") + " exactly, character for character"}
	if sent == "" {
		return f
	}
	expected := ExpectedRedirectURI(description, sent)
	if expected == "" {
		return f
	}
	d := DiffRedirectURIs(sent, expected)
	f.Message = "the redirect URI we sent differs from the one the IdP expects: " + strings.Join(d.Differences, "; ")
	f.Evidence = d.String()
	f.Values = []string{sent, expected}
	return f
}

// redirectPlace is where the provider's console lists an app's redirect URIs.
func redirectPlace(p IdP) string {
	switch p.Kind {
	case IdPEntra:
		return "in the Microsoft Entra admin center: App registrations → this app → Authentication → Web → Redirect URIs"
	case IdPOkta:
		return "in the Okta Admin Console: Applications → this app → General → Login → Sign-in redirect URIs"
	case IdPGoogle:
		return "in the Google Cloud console: APIs & Services → Credentials → this OAuth client → Authorized redirect URIs"
	case IdPAuth0:
		return "in the Auth0 Dashboard: Applications → this app → Settings → Allowed Callback URLs"
	case IdPKeycloak:
		return "in the Keycloak admin console: this realm → Clients → this client → Settings → Valid redirect URIs"
	case IdPOneLogin:
		return "in the OneLogin admin: Applications → this app → Configuration → Redirect URIs"
	case IdPJumpCloud:
		return "in the JumpCloud Admin Portal: SSO Applications → this app → SSO → Redirect URIs"
	case IdPPing:
		if p.Variant == VariantPingFed {
			return "in PingFederate: Applications → OAuth → Clients → this client → Redirection URIs"
		}
		return "in PingOne: Applications → this app → Configuration → Redirect URIs"
	case IdPCognito:
		return "in the Amazon Cognito console: User pools → this pool → App integration → this app client → Hosted UI → Allowed callback URLs"
	case IdPADFS:
		return "in AD FS Management: Application Groups → this group → Server application → Redirect URI"
	}
	return "in the IdP's settings for this app, under its redirect (callback) URIs"
}

var urlInText = regexp.MustCompile(`https?://[^\s'"<>]+`)

// ExpectedRedirectURI finds the redirect URI an IdP's error text names
// other than the one sent: a URL on the same host, or with the same path,
// as sent (so documentation links are ignored). "" when there is none.
func ExpectedRedirectURI(description, sent string) string {
	s, err := url.Parse(sent)
	if err != nil {
		return ""
	}
	for _, raw := range urlInText.FindAllString(description, -1) {
		raw = strings.TrimRight(raw, ".,;:)]}")
		if raw == sent {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		sameHost := strings.EqualFold(u.Hostname(), s.Hostname()) || (IsLoopbackHost(u.Hostname()) && IsLoopbackHost(s.Hostname()))
		samePath := strings.EqualFold(strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(s.Path, "/")) && u.Path != "" && u.Path != "/"
		if sameHost || samePath {
			return raw
		}
	}
	return ""
}

// URIDiff is where two redirect URIs differ.
type URIDiff struct {
	Sent, Expected string
	// Differences name each differing part in words, e.g.
	// "trailing slash: sent none, expected one".
	Differences []string
	// Marker has a ^ under each differing character of the aligned URIs.
	Marker string
}

// String shows the two URIs aligned with the marker line under them.
func (d URIDiff) String() string {
	return "sent:     " + d.Sent + "\nexpected: " + d.Expected + "\n          " + d.Marker
}

// DiffRedirectURIs compares the URI sent with the one expected, part by
// part (scheme, host, port, path, trailing slash, case, query) and
// character by character.
func DiffRedirectURIs(sent, expected string) URIDiff {
	d := URIDiff{Sent: sent, Expected: expected, Marker: charMarker(sent, expected)}
	s, err1 := url.Parse(sent)
	e, err2 := url.Parse(expected)
	if err1 != nil || err2 != nil {
		d.Differences = []string{"the two are not comparable as URLs"}
		return d
	}
	add := func(format string, a ...any) { d.Differences = append(d.Differences, fmt.Sprintf(format, a...)) }
	if s.Scheme != e.Scheme {
		add("scheme: sent %s, expected %s", s.Scheme, e.Scheme)
	}
	switch sh, eh := s.Hostname(), e.Hostname(); {
	case sh == eh:
	case strings.EqualFold(sh, eh):
		add("host letter case: sent %s, expected %s", sh, eh)
	default:
		add("host: sent %s, expected %s", sh, eh)
	}
	if sp, ep := portOf(s), portOf(e); sp != ep {
		add("port: sent %s, expected %s", sp, ep)
	}
	sp, ep := s.EscapedPath(), e.EscapedPath()
	if st, et := strings.HasSuffix(sp, "/"), strings.HasSuffix(ep, "/"); st != et && sp != "" && ep != "" {
		if st {
			add("trailing slash: sent one, expected none")
		} else {
			add("trailing slash: sent none, expected one")
		}
	}
	switch sp, ep = strings.TrimSuffix(sp, "/"), strings.TrimSuffix(ep, "/"); {
	case sp == ep:
	case strings.EqualFold(sp, ep):
		add("path letter case: sent %s, expected %s", sp, ep)
	default:
		add("path: sent %s, expected %s", cmp.Or(sp, "/"), cmp.Or(ep, "/"))
	}
	if s.RawQuery != e.RawQuery {
		add("query: sent %q, expected %q", s.RawQuery, e.RawQuery)
	}
	if len(d.Differences) == 0 && sent != expected {
		add("they differ only in encoding")
	}
	return d
}

// portOf is the URL's port, the scheme's default when none is written.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443 (default)"
	}
	return "80 (default)"
}

// charMarker puts ^ under the differing middle of two strings once their
// common prefix and suffix are taken away.
func charMarker(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	p := 0
	for p < len(ra) && p < len(rb) && ra[p] == rb[p] {
		p++
	}
	s := 0
	for s < len(ra)-p && s < len(rb)-p && ra[len(ra)-1-s] == rb[len(rb)-1-s] {
		s++
	}
	width := max(len(ra)-p-s, len(rb)-p-s, 1)
	return strings.Repeat(" ", p) + strings.Repeat("^", width)
}

// errorContext is what explaining an IdP error needs from the login.
type errorContext struct {
	provider    IdP
	redirectURI string
	// authMethod is the client authentication the token request used.
	authMethod string
	// hide removes what must stay secret from the IdP's text.
	hide *Redactor
}

// errorContext is the login's provider, the redirect URI and client
// authentication it sent, and what to hide from an IdP's answer: the
// client secret (as typed, form-encoded, and in the Basic header), the
// PKCE verifier, and the code when one came back (more: e.g. the code).
func (l *Login) errorContext(more ...string) errorContext {
	s := l.cfg.ClientSecret
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(l.cfg.ClientID) + ":" + url.QueryEscape(s)))
	return errorContext{provider: DetectProvider(l.p.md, nil), redirectURI: l.cfg.RedirectURI, authMethod: l.AuthMethod(),
		hide: NewRedactor(append([]string{s, url.QueryEscape(s), basic, l.verifier}, more...)...)}
}

// redact is an IdP's text without the login's secrets; the zero context
// hides nothing.
func (ec errorContext) redact(s string) string {
	if ec.hide == nil {
		return s
	}
	return ec.hide.Redact(s)
}

// explainIdPError turns an IdP error the pitfalls know into an *Error, or
// returns nil to leave it to the generic explanation.
// tail, the OAuth error code and client authentication, follows the plain
// words.
func explainIdPError(code Code, description string, ec errorContext, tail string) *Error {
	fs := DiagnoseIdPError(ec.provider, string(code), description, ec.redirectURI)
	if len(fs) == 0 {
		return nil
	}
	f := fs[0]
	// Keep the OAuth error code scripts already know; a refused redirect
	// URI always reads redirect_uri_mismatch.
	errCode := cmp.Or(code, EntraCode(description))
	if fs[len(fs)-1].ID == FindingRedirectMismatch {
		errCode = CodeRedirectURIMismatch
	}
	if f.ID == FindingAADSTS {
		if len(fs) > 1 { // 50011 is a refused redirect URI: add what was sent and the diff
			f.Message += "; " + fs[1].Message
			f.Evidence = fs[1].Evidence
		} else {
			f.Evidence = ""
		}
	}
	msg := f.Message + tail + idpSays(description)
	if f.Evidence != "" {
		msg += "\n" + f.Evidence
	}
	return &Error{Code: errCode, Message: msg, Fix: f.Fix}
}
