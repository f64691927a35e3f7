package flow_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// A real login whose token endpoint answers with Entra's error bodies: the
// person reads plain words and the Entra admin center's place, and the OAuth
// error code scripts know is kept.
func TestLoginExplainsEntraTokenErrors(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"7000215": "Secret ID", "7000222": "expired", "700016": "Application (client) ID"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			idp := testidp.New(t, testidp.Options{})
			errCode, desc := entraError(t, code)
			idp.FailToken(http.StatusUnauthorized, errCode, desc)
			o := runLogin(t, discover(t, idp), baseConfig(idp))
			if !flow.IsCode(o.err, flow.Code(errCode)) {
				t.Fatalf("want code %s, got %v", errCode, o.err)
			}
			msg, fix := flow.Explain(o.err)
			if !strings.Contains(msg+fix, want) || !strings.Contains(msg, "AADSTS"+code) {
				t.Errorf("AADSTS%s explained as %q / %q", code, msg, fix)
			}
		})
	}
}

func TestLoginExplainsUnassignedUser(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	_, desc := entraError(t, "50105")
	idp.FailAuthorize("access_denied", desc)
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	assertCode(t, o.err, "access_denied", "not assigned")
	if _, fix := flow.Explain(o.err); !strings.Contains(fix, "Enterprise applications") {
		t.Errorf("fix: %s", fix)
	}
}

// An IdP that names the redirect URI it expected gets the diff in the
// error, against the URI the login really sent.
func TestLoginShowsRedirectURIDiff(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	idp.FailAuthorize("invalid_request", "redirect_uri mismatch: expected http://localhost/Callback/")
	o := runLogin(t, discover(t, idp), baseConfig(idp))
	assertCode(t, o.err, "redirect_uri_mismatch", "trailing slash: sent none, expected one")
	msg, _ := flow.Explain(o.err)
	for _, want := range []string{"port: sent ", "expected 80 (default)", "path letter case: sent /callback, expected /Callback"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if !strings.Contains(msg, "sent:     http://localhost:") || !strings.Contains(msg, "^") {
		t.Errorf("no aligned diff in %q", msg)
	}
}
