package flow_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The hooks of several instances: Registered hears of each waiting state
// and of its end; a callback no login here waits for goes to Forward
// (only under the redirect path), whose page the browser gets; Accept
// hands a forwarded callback to the login here.
func TestCallbackHooksForOtherInstances(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	registered, released, forwarded := []string{}, []string{}, []string{}
	opts := flow.CallbackOptions{
		Registered: func(state string) func() {
			mu.Lock()
			registered = append(registered, state)
			mu.Unlock()
			return func() { mu.Lock(); released = append(released, state); mu.Unlock() }
		},
		Forward: func(_ context.Context, q url.Values) (flow.ResultPage, bool) {
			mu.Lock()
			forwarded = append(forwarded, q.Get("state"))
			mu.Unlock()
			if q.Get("state") != "elsewhere" {
				return flow.ResultPage{}, false
			}
			return flow.ResultPage{OK: true, Title: "Handled by the other instance"}, true
		},
	}
	srv := serveCallback(t, "http://127.0.0.1:0/callback", opts)
	base := strings.TrimSuffix(srv.RedirectURI(), "/callback")
	ch, cancel, err := srv.Register(srv.RedirectURI()+"/conn_x", "here")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"/callback/conn_y?state=elsewhere&code=c": http.StatusOK,
		"/callback/conn_y?state=unknown&code=c":   http.StatusBadRequest,
		"/other?state=elsewhere&code=c":           http.StatusBadRequest, // not a callback path: never forwarded
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if want == http.StatusOK && !strings.Contains(string(body), "Handled by the other instance") {
			t.Errorf("GET %s: the forwarded page is missing: %q", path, body)
		}
	}
	reply, ok := srv.Accept(url.Values{"state": {"here"}, "code": {"from-b"}})
	if !ok {
		t.Fatal("Accept refused the state a login waits for")
	}
	cb := <-ch
	if cb.Code != "from-b" {
		t.Errorf("the login got %q, want the forwarded code", cb.Code)
	}
	cb.Reply(flow.ResultPage{OK: true, Title: "done"})
	if p := <-reply; p.Title != "done" {
		t.Errorf("Accept's page = %+v", p)
	}
	if _, ok := srv.Accept(url.Values{"state": {"here"}}); ok {
		t.Error("a state was accepted twice")
	}
	cancel()
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(registered, ",") != "here" || strings.Join(released, ",") != "here" {
		t.Errorf("registered %v, released %v; want the state once each", registered, released)
	}
	if strings.Join(forwarded, ",") != "elsewhere,unknown" && strings.Join(forwarded, ",") != "unknown,elsewhere" {
		t.Errorf("forwarded %v, want the two callback-path states only", forwarded)
	}
}
