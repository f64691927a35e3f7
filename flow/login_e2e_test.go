package flow_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// TestEndToEndAgainstARealProvider logs in against zitadel's OpenID
// Provider (flow/demoidp) with both client authentication methods, playing
// the browser with a plain HTTP client that posts the provider's sign-in
// form.
func TestEndToEndAgainstARealProvider(t *testing.T) {
	t.Parallel()
	for _, method := range []string{demoidp.AuthMethodBasic, demoidp.AuthMethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			idp := testidp.StartDemo(t, demoidp.Options{AuthMethod: method})
			p, err := flow.DiscoverProvider(context.Background(), newClient(), idp.DiscoveryURL)
			if err != nil {
				t.Fatal(err)
			}
			srv := serveCallback(t, "http://localhost:0/callback", flow.CallbackOptions{Page: assets.CallbackPage()})
			cfg := flow.LoginConfigFromConnection(flow.Connection{
				ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURI: srv.RedirectURI(),
				RoleMappings: []flow.RoleMapping{{Group: "oidc-admins", Role: "admin"}}, DefaultRole: "member",
			})
			l, err := p.StartLogin(srv, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if l.AuthMethod() != method {
				t.Errorf("auth method %s, want %s", l.AuthMethod(), method)
			}
			done := make(chan error, 1)
			var res *flow.LoginResult
			go func() {
				var err error
				res, err = l.Wait(context.Background())
				done <- err
			}()
			status, page, err := testidp.SignInDemo(idp, l.AuthURL())
			if err != nil {
				t.Fatalf("browser leg: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("login: %v", err)
			}
			if status != http.StatusOK || !strings.Contains(page, "Signed in") {
				t.Errorf("result page %d: %s", status, page)
			}
			u := idp.User
			got := res.Profile
			if got.IDPID != u.Subject || got.Email != u.Email || got.FirstName != u.GivenName || got.LastName != u.FamilyName {
				t.Errorf("profile %+v, user %+v", got, u)
			}
			if !slices.Equal(got.Groups, u.Groups) || !slices.Equal(got.Roles, []string{"admin"}) {
				t.Errorf("groups %v roles %v", got.Groups, got.Roles)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
		})
	}
}
