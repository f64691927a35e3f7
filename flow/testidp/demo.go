package testidp

import (
	"context"
	"net/url"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
)

// StartDemo starts the demo IdP (flow/demoidp) with opts for a test, and
// stops it when the test ends. It accepts the loopback redirect URIs a
// login on this machine sends, whatever opts says.
func StartDemo(t testing.TB, opts demoidp.Options) *demoidp.IdP {
	t.Helper()
	opts.AllowLoopbackRedirects = true
	idp, err := demoidp.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	return idp
}

// SignInDemo plays the browser as SignIn does, signing the demo IdP's user
// in, and stops at the redirect URI that authURL names.
func SignInDemo(idp *demoidp.IdP, authURL string) (int, string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return 0, "", err
	}
	return SignIn(authURL, u.Query().Get("redirect_uri"), map[string]string{"username": idp.User.Username, "password": idp.User.Password})
}
