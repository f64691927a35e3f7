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

// A sign-in the IdP refuses with error= is explained in the person's
// words: an unassigned Entra user with the admin center's place to assign
// them, and a refused redirect URI, when the IdP names the one it expected,
// with the diff against the URI the login really sent.
func TestLoginExplainsRefusedSignIns(t *testing.T) {
	t.Parallel()
	_, unassigned := entraError(t, "50105")
	cases := []struct {
		name              string
		error, desc, code string
		inMessage         []string
		inFix             string
	}{
		{"unassigned Entra user", "access_denied", unassigned, "access_denied", []string{"not assigned"}, "Enterprise applications"},
		{"redirect URI diff", "invalid_request", "redirect_uri mismatch: expected http://localhost/Callback/", "redirect_uri_mismatch", []string{
			"trailing slash: sent none, expected one", "port: sent ", "expected 80 (default)", "path letter case: sent /callback, expected /Callback",
			"sent:     http://localhost:", "^", // the diff, aligned
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := testidp.New(t, testidp.Options{})
			idp.FailAuthorize(tc.error, tc.desc)
			o := runLogin(t, discover(t, idp), baseConfig(idp))
			assertCode(t, o.err, tc.code, "")
			msg, fix := flow.Explain(o.err)
			for _, want := range tc.inMessage {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if !strings.Contains(fix, tc.inFix) {
				t.Errorf("fix lacks %q: %s", tc.inFix, fix)
			}
		})
	}
}
