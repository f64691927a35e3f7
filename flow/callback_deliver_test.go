package flow_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

// redirectTarget plays the browser up to the IdP's redirect to the callback
// and returns that address without following it, as a person would copy it
// from an address bar when the redirect URI is unreachable.
func redirectTarget(t *testing.T, authURL string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no redirect from the IdP (HTTP %d): %v", resp.StatusCode, err)
	}
	return loc.String()
}

func TestDeliverPastedCallbackFinishesTheLogin(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	p := discover(t, idp)
	srv := serveCallback(t, "http://localhost:0/callback", flow.CallbackOptions{})
	// A connection's own path, as the wizard registers it.
	cfg := baseConfig(idp)
	cfg.RedirectURI = srv.RedirectURI() + "/conn_paste"
	l, err := p.StartLogin(srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := l.Wait(context.Background())
		if err == nil && res.Profile.IDPID == "" {
			err = errors.New("login succeeded without a subject")
		}
		done <- err
	}()
	pasted := redirectTarget(t, l.AuthURL())
	if !strings.HasPrefix(pasted, cfg.RedirectURI+"?") {
		t.Fatalf("IdP redirected to %s", pasted)
	}
	// Spaces and a line break around a paste are harmless.
	if err := srv.Deliver("  " + pasted + "\n"); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("login after paste: %v", err)
	}
	// A state is good once: the same address again, pasted or browsed, is refused.
	assertCode(t, srv.Deliver(pasted), "paste_unknown_state", "")
	if got := statusOf(t, pasted); got != http.StatusBadRequest {
		t.Errorf("replayed callback answered %d", got)
	}
}

func TestDeliverRefusesWhatIsNotThisLoginsCallback(t *testing.T) {
	t.Parallel()
	srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{})
	ch, cancel, err := srv.Register(srv.RedirectURI(), "waiting-state")
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	u, _ := url.Parse(srv.RedirectURI())
	other := *u
	other.Host = "127.0.0.1:1"
	for pasted, code := range map[string]string{
		"":                                      "paste_not_url",
		"hello there":                           "paste_not_url",
		"127.0.0.1/callback?x=1":                "paste_not_url",
		"ftp://127.0.0.1/cb":                    "paste_not_url",
		other.String() + "?state=waiting-state": "paste_other_address",
		"http://" + u.Host + "/elsewhere?state=waiting-state":      "paste_other_address",
		u.String() + "/?code=SECRET-AUTH-CODE&state=waiting-state": "paste_other_address",
		"https://" + u.Host + "/callback?state=waiting-state":      "paste_other_address",
		u.String() + "?code=abc":                                   "paste_no_state",
		u.String() + "?code=abc&state=old-state":                   "paste_unknown_state",
	} {
		err := srv.Deliver(pasted)
		assertCode(t, err, code, "")
		if msg, fix := flow.Explain(err); msg == "" || fix == "" {
			t.Errorf("Deliver(%q): message %q, fix %q", pasted, msg, fix)
		} else if strings.Contains(msg+fix, "SECRET-AUTH-CODE") {
			t.Errorf("Deliver(%q) shows the authorization code: %s", pasted, msg)
		}
	}
	select {
	case cb := <-ch:
		t.Fatalf("a refused paste reached the login: %+v", cb)
	default:
	}
	// The waiting login still gets its callback, with an IdP error too.
	if err := srv.Deliver(u.String() + "?state=waiting-state&error=access_denied&error_description=no"); err != nil {
		t.Fatal(err)
	}
	if cb := <-ch; cb.Error != "access_denied" || cb.ErrorDescription != "no" || cb.Code != "" {
		t.Errorf("callback %+v", cb)
	}
}
