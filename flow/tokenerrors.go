package flow

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// tokenError explains a failed code exchange at the token endpoint.
func tokenError(err error, tokenURL string, ec errorContext) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var fe *Error
		if errors.As(err, &fe) {
			return fe
		}
		return &Error{Code: CodeTokenUnreachable,
			Message: fmt.Sprintf("could not reach the token endpoint %s", tokenURL),
			Fix:     "check that this machine can reach the IdP (VPN, firewall, proxy); raise --timeout if the IdP is slow",
			Err:     shortErr(err)}
	}
	code := Code(re.ErrorCode)
	if code == "" && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		code = CodeInvalidClient
	}
	if e := explainIdPError(code, re.ErrorDescription, ec); e != nil {
		return e
	}
	desc := idpSays(re.ErrorDescription)
	if code == "" {
		status := "no answer"
		if re.Response != nil {
			status = re.Response.Status
		}
		return &Error{Code: CodeTokenHTTPStatus,
			Message: fmt.Sprintf("the token endpoint %s answered %s without an OAuth error", tokenURL, status),
			Fix:     "check the token_endpoint in the discovery document; ask the IdP admin whether the app is set up"}
	}
	if code == CodeInvalidGrant && mentionsRedirect(re.ErrorDescription) {
		code = CodeRedirectURIMismatch
	}
	if msg, fix, ok := oauthErrorText(atToken, code); ok {
		return &Error{Code: code, Message: msg + desc, Fix: fix}
	}
	return &Error{Code: code,
		Message: fmt.Sprintf("the token endpoint refused the code exchange with %q%s", code, desc),
		Fix:     "ask the IdP admin to check the app's settings against this error"}
}

// callbackError explains an error= callback from the authorization endpoint.
func callbackError(code Code, description string, ec errorContext) error {
	if e := explainIdPError(code, description, ec); e != nil {
		return e
	}
	desc := idpSays(description)
	if code == CodeInvalidRequest && mentionsRedirect(description) {
		code = CodeRedirectURIMismatch
	}
	if msg, fix, ok := oauthErrorText(atCallback, code); ok {
		return &Error{Code: code, Message: msg + desc, Fix: fix}
	}
	return &Error{Code: CodeIdPError,
		Message: fmt.Sprintf("the IdP ended the sign-in with %q%s", code, desc),
		Fix:     "ask the IdP admin to check the app's settings against this error"}
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

// idpSays formats the IdP's own description as a suffix, kept short and on
// one line because it is foreign text shown in a terminal.
func idpSays(description string) string {
	d := oneLine(description, 300)
	if d == "" {
		return ""
	}
	return fmt.Sprintf(" (the IdP says: %q)", d)
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
