package flow_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// What an IdP says in a failed login, and how it is explained: secrets it
// echoes are gone before anything can show, store or log them; the method
// the client authenticated with is named; its text is kept whole.

// secretsSent is what the login sent the token endpoint that must never be
// shown: the secret, the code, the PKCE verifier and the Basic header.
func secretsSent(t *testing.T, idp *testidp.IdP) []string {
	t.Helper()
	reqs := idp.TokenRequests()
	if len(reqs) == 0 {
		t.Fatal("the token endpoint was not asked")
	}
	r := reqs[len(reqs)-1]
	out := []string{idp.ClientSecret, r.Form.Get("code"), r.Form.Get("code_verifier")}
	if _, basic, ok := strings.Cut(r.Authorization, "Basic "); ok {
		out = append(out, basic)
	}
	return out
}

func TestLoginRedactsWhatTheIdPEchoes(t *testing.T) {
	t.Parallel()
	for _, method := range []string{flow.AuthMethodBasic, flow.AuthMethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			idp := testidp.New(t, testidp.Options{AuthMethods: []string{method}})
			idp.EchoSecret()
			o := runLogin(t, discover(t, idp), baseConfig(idp))
			assertCode(t, o.err, "invalid_client", "Invalid client secret: [secret removed]")
			msg, fix := flow.Explain(o.err)
			rec := flow.NewTestLogin(time.Now(), nil, o.err)
			for _, s := range secretsSent(t, idp) {
				for where, text := range map[string]string{"message": msg, "fix": fix, "error text": o.err.Error(),
					"browser page": o.page, "stored test login": rec.Error, "audit detail": rec.AuditDetail()} {
					if strings.Contains(text, s) {
						t.Errorf("the %s shows %q: %s", where, s, text)
					}
				}
			}
		})
	}
}

func TestLoginRedactsAnEchoInTheCallbackError(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.FailAuthorize("invalid_request", "bad client, secret "+idp.ClientSecret)
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if msg, fix := flow.Explain(o.err); strings.Contains(msg+fix+o.page, idp.ClientSecret) || !strings.Contains(msg, "[secret removed]") {
		t.Errorf("the callback's echo of the secret was not removed: %s / %s", msg, fix)
	}
}

// An IdP that offers both methods while the client is registered for
// client_secret_post only (Hydra, Okta): the refusal is explained as the
// method, with the switch to make here, and the method set on the
// connection makes the login work.
func TestLoginAuthMethodPerConnection(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{AuthMethods: []string{flow.AuthMethodBasic, flow.AuthMethodPost}})
	idp.RegisterFor(flow.AuthMethodPost)
	p := discover(t, idp)
	cfg := baseConfig(idp)
	o := runLogin(t, p, cfg)
	assertCode(t, o.err, "invalid_client", "registered for client_secret_post")
	msg, fix := flow.Explain(o.err)
	for _, want := range []string{"sent the client secret with client_secret_basic", "OAuth error invalid_client",
		"You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_basic'."} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if !strings.Contains(fix, "switch to client_secret_post here") || !strings.Contains(fix, "--auth-method client_secret_post") ||
		!strings.Contains(fix, "step 2") || strings.Contains(msg+fix, "secret is wrong") {
		t.Errorf("fix %q (message %q)", fix, msg)
	}

	c := flow.Connection{ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, TokenAuthMethod: flow.AuthMethodPost}
	cfg = flow.LoginConfigFromConnection(c)
	cfg.Wait = 10 * time.Second
	o = runLogin(t, p, cfg)
	if o.err != nil {
		t.Fatalf("with client_secret_post set: %v", o.err)
	}
	reqs := idp.TokenRequests()
	if last := reqs[len(reqs)-1]; last.Authorization != "" || last.Form.Get("client_secret") != idp.ClientSecret || o.login.AuthMethod() != flow.AuthMethodPost {
		t.Errorf("the login did not authenticate with client_secret_post: %+v", last)
	}
}

// Other ways an IdP says the method is not the app's: named generically.
func TestLoginRecognizesARefusedAuthMethod(t *testing.T) {
	t.Parallel()
	for _, desc := range []string{"client authentication method not allowed", "The client_secret_basic authentication method is not allowed for this client."} {
		idp := testidp.New(t, testidp.Options{})
		idp.FailToken(http.StatusUnauthorized, "invalid_client", desc)
		o := runLogin(t, discover(t, idp), baseConfig(idp))
		assertCode(t, o.err, "invalid_client", "registered for client_secret_post")
	}
	// A wrong secret with Hydra's generic first sentence is still a wrong secret.
	idp := testidp.New(t, testidp.Options{})
	idp.FailToken(http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).")
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	assertCode(t, o.err, "invalid_client", "client secret is wrong")
}

// Every failure at the token endpoint names the method used and the IdP's
// OAuth error code verbatim.
func TestTokenFailuresNameTheMethodAndCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status                int
		code, desc, inMessage string
	}{
		{http.StatusUnauthorized, "invalid_client", "bad secret", "OAuth error invalid_client"},
		{http.StatusBadRequest, "invalid_grant", "code expired", "OAuth error invalid_grant"},
		{http.StatusBadRequest, "unauthorized_client", "", "OAuth error unauthorized_client"},
		{http.StatusBadRequest, "weird_error", "whatever", "OAuth error weird_error"},
		{http.StatusInternalServerError, "", "", "without an OAuth error"},
	}
	for _, tc := range cases {
		idp := testidp.New(t, testidp.Options{})
		idp.FailToken(tc.status, tc.code, tc.desc)
		o := runLogin(t, discover(t, idp), baseConfig(idp))
		msg, _ := flow.Explain(o.err)
		if !strings.Contains(msg, "client_secret_basic") || !strings.Contains(msg, tc.inMessage) {
			t.Errorf("%s: %s", tc.code, msg)
		}
	}
}

// An IdP's text is kept whole, however long: the actionable part is often
// at its end.
func TestLoginKeepsTheIdPTextWhole(t *testing.T) {
	t.Parallel()
	desc := strings.Repeat("The request was refused for a reason explained at length. ", 8) + "ACTION: register the client for PKCE."
	idp := testidp.New(t, testidp.Options{})
	idp.FailToken(http.StatusBadRequest, "invalid_request", desc)
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if msg, _ := flow.Explain(o.err); !strings.Contains(msg, desc) || !strings.Contains(msg, "OAuth error invalid_request") {
		t.Errorf("the IdP's %d characters are not all there: %s", len(desc), msg)
	}
}

// access_denied after the person pressed Deny or Cancel is not a missing
// assignment; Okta's and Entra's assignment errors still are.
func TestLoginDeclinedIsNotAnAssignmentProblem(t *testing.T) {
	t.Parallel()
	for _, desc := range []string{"The resource owner denied the request.", "", "User declined consent"} {
		idp := testidp.New(t, testidp.Options{})
		idp.FailAuthorize("access_denied", desc)
		o := runLogin(t, discover(t, idp), baseConfig(idp))
		assertCode(t, o.err, "access_denied", "declined")
		msg, fix := flow.Explain(o.err)
		if !strings.Contains(fix, "run the login again and approve") || strings.Contains(msg+fix, "assign") || !strings.Contains(msg, "OAuth error access_denied") {
			t.Errorf("%q: %s / %s", desc, msg, fix)
		}
	}
	_, unassigned := entraError(t, "50105")
	for _, desc := range []string{"User is not assigned to the client application.", unassigned} {
		idp := testidp.New(t, testidp.Options{})
		idp.FailAuthorize("access_denied", desc)
		o := runLogin(t, discover(t, idp), baseConfig(idp))
		if msg, fix := flow.Explain(o.err); !strings.Contains(msg+fix, "assign") || strings.Contains(msg, "declined") {
			t.Errorf("%q: %s / %s", desc, msg, fix)
		}
	}
}

// A token response that grants fewer scopes than asked explains the
// missing claims by the scopes, not as claims the IdP admin forgot.
func TestLoginSaysWhenScopesWereNotGranted(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.GrantOnly("openid")
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	if o.err != nil {
		t.Fatal(o.err)
	}
	all := strings.Join(o.res.Warnings, "\n")
	for _, want := range []string{`granted only the scopes "openid" of the "openid email profile groups" asked`, "email, given_name, family_name, groups",
		"the scopes email, profile, groups were not granted"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "ask the IdP admin to add a groups claim") {
		t.Errorf("the missing groups are blamed on the IdP admin:\n%s", all)
	}
}

// No callback within the wait: the browser may be showing the IdP's own
// error, which is then the cause.
func TestCallbackTimeoutPointsAtTheIdPsErrorPage(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	cfg := baseConfig(idp)
	cfg.Wait = 50 * time.Millisecond // and nobody signs in
	l, err := discover(t, idp).StartLogin(serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Wait(context.Background())
	assertCode(t, err, "callback_timeout", "the IdP's own error page")
	msg, fix := flow.Explain(err)
	if !strings.Contains(msg, "unknown client ID") || !strings.Contains(msg, "Redirect URI that is not registered") || !strings.Contains(msg, "that error is the cause") ||
		!strings.Contains(fix, "if the IdP shows an error") {
		t.Errorf("%s / %s", msg, fix)
	}
}
