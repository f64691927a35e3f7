package steps

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// TestTestLoginRetryRediscoversAfterAFailure: the IdP admin fixes the token
// auth method after the first test login failed on it; trying again must
// see the fixed metadata, not the metadata cached by the first try.
func TestTestLoginRetryRediscoversAfterAFailure(t *testing.T) {
	t.Parallel()
	var fixed atomic.Bool
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods := []string{"private_key_jwt"}
		if fixed.Load() {
			methods = []string{"client_secret_basic"}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.URL,
			"authorization_endpoint": idp.URL + "/a", "token_endpoint": idp.URL + "/t", "jwks_uri": idp.URL + "/j",
			"token_endpoint_auth_methods_supported": methods})
	}))
	defer idp.Close()
	cb, err := flow.StartCallbackServer("http://127.0.0.1:0/cb", flow.CallbackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	env := &Env{Context: t.Context(), Now: time.Now, HTTP: flow.NewHTTPClient(flow.ClientOptions{}),
		Callbacks: func(string) (*flow.CallbackServer, error) { return cb, nil }}
	s := NewSetup()
	s.Connection.ID, s.Connection.ClientID, s.Connection.ClientSecret = "conn_test1", "id", "secret"
	s.Connection.DiscoveryURL = idp.URL + "/.well-known/openid-configuration"
	s.Connection.RedirectURI = cb.RedirectURI()
	tl := NewTestLogin(env, NewTheme(true)).(*testLogin)
	tl.Enter(s)
	attempt := func() *TestLoginResult {
		for _, c := range tl.start()().(tea.BatchMsg) {
			if c == nil {
				continue
			}
			if m, ok := c().(tlStartedMsg); ok {
				tl.Update(m)
			}
		}
		return s.TestLogin
	}
	if r := attempt(); r == nil || r.Code != "auth_method_unsupported" {
		t.Fatalf("first try: %+v, want auth_method_unsupported", r)
	}
	fixed.Store(true) // the IdP admin allowed client_secret_basic
	first := s.TestLogin
	attempt()
	if tl.phase != tlWaiting || s.TestLogin != first {
		t.Errorf("the retry did not start the login with the fixed metadata: %+v", s.TestLogin)
	}
	tl.cancelLogin()
}
