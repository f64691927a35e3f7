package flow

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// tokenError explains a failed code exchange at the token endpoint. Every
// explanation names the client authentication method the request used, and
// the IdP's own OAuth error code verbatim; the IdP's text is redacted
// (ec.redact) before anything reads it.
func tokenError(err error, tokenURL string, ec errorContext) error {
	used := fmt.Sprintf("client authentication %s", ec.authMethod)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var fe *Error
		if errors.As(err, &fe) {
			named := *fe
			named.Message += " (" + used + ")"
			return &named
		}
		return &Error{Code: CodeTokenUnreachable,
			Message: fmt.Sprintf("could not reach the token endpoint %s (%s)", tokenURL, used),
			Fix:     "check that this machine can reach the IdP (VPN, firewall, proxy); raise --timeout if the IdP is slow",
			Err:     errors.New(ec.redact(shortErr(err).Error()))}
	}
	theirs := Code(ec.redact(re.ErrorCode))
	description := ec.redact(re.ErrorDescription)
	code := theirs
	if code == "" && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		code = CodeInvalidClient
	}
	tail := oauthTail(theirs, used)
	if other := otherAuthMethod(code, description, ec.authMethod); other != "" {
		return &Error{Code: code,
			Message: fmt.Sprintf("the IdP refused how the app authenticated: this login sent the client secret with %s, but the app is registered for %s (the secret itself may be right)", ec.authMethod, other) +
				tail + idpSays(description),
			Fix: fmt.Sprintf("switch to %s here (in the wizard: step 2, Credentials, the token auth method; with login: --auth-method %s), or ask the IdP admin to allow %s for this app",
				other, other, ec.authMethod)}
	}
	if e := explainIdPError(code, description, ec, tail); e != nil {
		return e
	}
	desc := idpSays(description)
	if code == "" {
		status := "no answer"
		if re.Response != nil {
			status = re.Response.Status
		}
		return &Error{Code: CodeTokenHTTPStatus,
			Message: fmt.Sprintf("the token endpoint %s answered %s without an OAuth error (%s)%s", tokenURL, status, used, desc),
			Fix:     "check the token_endpoint in the discovery document; ask the IdP admin whether the app is set up"}
	}
	if code == CodeInvalidGrant && mentionsRedirect(description) {
		code = CodeRedirectURIMismatch
	}
	if msg, fix, ok := oauthErrorText(atToken, code); ok {
		return &Error{Code: code, Message: msg + tail + desc, Fix: fix}
	}
	return &Error{Code: code,
		Message: "the token endpoint refused the code exchange" + tail + desc,
		Fix:     "ask the IdP admin to check the app's settings against this error"}
}

// oauthTail names, after the plain words, the IdP's OAuth error code as it
// sent it and, at the token endpoint, the client authentication used.
func oauthTail(theirs Code, used string) string {
	var parts []string
	if theirs != "" {
		parts = append(parts, "OAuth error "+Display(string(theirs)))
	}
	if used != "" {
		parts = append(parts, used)
	}
	if len(parts) == 0 {
		return ""
	}
	return " — " + strings.Join(parts, ", ")
}

// otherAuthMethod is the client authentication method an IdP's refusal
// says the app is registered for instead of used: the description names
// the other method (Hydra: "The OAuth 2.0 Client supports client
// authentication method 'client_secret_post', but method
// 'client_secret_basic' was requested"), or says the method is not allowed
// ("client authentication method not allowed"). "" for any other answer,
// e.g. a wrong secret.
func otherAuthMethod(code Code, description, used string) string {
	if code != CodeInvalidClient && code != CodeUnauthorizedClient && code != CodeInvalidRequest {
		return ""
	}
	other := AuthMethodPost
	if used == AuthMethodPost {
		other = AuthMethodBasic
	}
	if strings.Contains(strings.ToLower(description), other) || methodRefused.MatchString(description) {
		return other
	}
	return ""
}

// methodRefused is an IdP's way of saying the client authentication method
// is not one the app may use; "unsupported authentication method" in
// Hydra's generic "Client authentication failed (e.g. …)" does not match.
var methodRefused = regexp.MustCompile(`(?i)(authentication method|auth method|client_secret_(basic|post))[^.]*?\b(not allowed|not permitted|not supported|not enabled|not configured|disallowed)`)

// callbackError explains an error= callback from the authorization
// endpoint; code and description are already redacted.
func callbackError(code Code, description string, ec errorContext) error {
	tail := oauthTail(code, "")
	if code == CodeAccessDenied && !mentionsAssignment(description) && !knownEntraError(description) {
		return &Error{Code: code,
			Message: "the sign-in was declined in the browser: the person pressed Deny or Cancel (or closed the consent) instead of approving" + tail + idpSays(description),
			Fix:     "run the login again and approve the sign-in and the consent in the browser; if nobody declined, ask the IdP admin whether this user may sign in to the app"}
	}
	if e := explainIdPError(code, description, ec, tail); e != nil {
		return e
	}
	desc := idpSays(description)
	if code == CodeInvalidRequest && mentionsRedirect(description) {
		code = CodeRedirectURIMismatch
	}
	if msg, fix, ok := oauthErrorText(atCallback, code); ok {
		return &Error{Code: code, Message: msg + tail + desc, Fix: fix}
	}
	return &Error{Code: CodeIdPError,
		Message: "the IdP ended the sign-in" + tail + desc,
		Fix:     "ask the IdP admin to check the app's settings against this error"}
}

// knownEntraError reports whether description quotes an Entra error the
// pitfalls explain (e.g. AADSTS50105, a user not assigned to the app).
func knownEntraError(description string) bool {
	_, _, ok := aadsts(EntraCode(description))
	return ok
}

// mentionsAssignment reports whether an access_denied description says
// the user is not assigned to the app (Okta: "User is not assigned to the
// client application."), rather than that the person declined.
func mentionsAssignment(description string) bool {
	return strings.Contains(strings.ToLower(description), "assign")
}

// endpoint is where an IdP answered with an OAuth error code.
type endpoint int

const (
	atToken    endpoint = iota // the token endpoint, at the code exchange
	atCallback                 // the authorization endpoint, in an error= callback
)

// oauthErrorText says what an OAuth error code the IdP answered at means,
// in plain words, and what to do about it; ok is false for a code it does
// not know there.
func oauthErrorText(at endpoint, code Code) (message, fix string, ok bool) {
	for _, t := range [...]struct {
		at           endpoint
		codes        []Code
		message, fix string
	}{
		{atToken, []Code{CodeInvalidClient}, "the IdP rejected the client credentials: the client secret is wrong or expired, or the client ID is not the app's",
			"ask the IdP admin to copy the Client ID and a current Client Secret of this app again"},
		{atToken, []Code{CodeRedirectURIMismatch}, "the IdP says the redirect URI does not match the one registered for the app",
			"register the Redirect URI exactly as shown (scheme, host, port, path, no trailing slash) in the IdP's app"},
		{atToken, []Code{CodeInvalidGrant}, "the IdP refused the authorization code: it expired, was already used, or the PKCE check failed",
			"run the login again and finish it without delay; if it keeps failing, check that this machine's clock is right"},
		{atToken, []Code{CodeUnauthorizedClient}, "the app is not allowed to use the authorization code flow",
			"ask the IdP admin to enable the \"Authorization Code\" grant type for this app"},
		{atToken, []Code{CodeUnsupportedGrantType}, "the IdP does not accept the authorization code grant for this app",
			"ask the IdP admin to make the app a web application with the Authorization Code grant"},
		{atToken, []Code{CodeInvalidRequest}, "the IdP rejected the token request as malformed",
			"check the app's settings in the IdP (client authentication method, PKCE); the IdP's description above names the part"},
		{atCallback, []Code{CodeAccessDenied}, "the sign-in was denied",
			"sign in with a user assigned to the app, or ask the IdP admin to assign this user (or their group) to it"},
		{atCallback, []Code{CodeUnauthorizedClient}, "the IdP does not allow this app to sign users in this way",
			"ask the IdP admin to enable the Authorization Code flow for this app"},
		{atCallback, []Code{CodeInvalidScope}, "the IdP refused a requested scope",
			"ask the IdP admin to allow the scopes openid, email and profile for this app, or drop the extra scope"},
		{atCallback, []Code{CodeRedirectURIMismatch}, "the IdP says the redirect URI is not registered for the app",
			"register the Redirect URI exactly as shown (scheme, host, port, path) in the IdP's app"},
		{atCallback, []Code{CodeInvalidRequest}, "the IdP rejected the sign-in request",
			"check the app's settings in the IdP against the description above"},
		{atCallback, []Code{CodeLoginRequired, CodeInteractionRequired, CodeConsentRequired}, "the IdP needs the person to sign in or consent interactively",
			"run the login again and complete every step in the browser"},
		{atCallback, []Code{CodeServerError, CodeTemporarilyUnavailable}, "the IdP had a problem on its side",
			"try again in a few minutes; if it persists, ask the IdP admin"},
	} {
		if t.at == at && slices.Contains(t.codes, code) {
			return t.message, t.fix, true
		}
	}
	return "", "", false
}

// mentionsRedirect reports whether an IdP's error description is about the
// redirect URI.
func mentionsRedirect(description string) bool {
	return strings.Contains(strings.ToLower(description), "redirect")
}

// idpSays formats the IdP's own description as a suffix, whole (up to
// MaxShownBytes: the actionable part is often at its end), on one line and
// quoted, because it is foreign text shown in a terminal; screens wrap it.
func idpSays(description string) string {
	d := strings.Join(strings.Fields(description), " ")
	if d == "" {
		return ""
	}
	return fmt.Sprintf(" (the IdP says: %q)", Display(d))
}

// oneLine flattens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// shortErr keeps an underlying error's text to one short line, so that a
// response body quoted by a library never floods the terminal.
func shortErr(err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return errors.New(oneLine(err.Error(), 200))
}
