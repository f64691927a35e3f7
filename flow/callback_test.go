package flow_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
)

func TestCallbackServerServesOnlyTheCallbackPath(t *testing.T) {
	t.Parallel()
	srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{Page: assets.CallbackPage()})
	base := strings.TrimSuffix(srv.RedirectURI(), "/callback")
	for path, want := range map[string]int{
		"/":                     http.StatusBadRequest,
		"/callback/extra":       http.StatusBadRequest,
		"/favicon.ico":          http.StatusBadRequest,
		"/callback":             http.StatusBadRequest, // no state
		"/callback?state=nope":  http.StatusBadRequest,
		"/callback?error=x&s=1": http.StatusBadRequest,
	} {
		if got := statusOf(t, base+path); got != want {
			t.Errorf("GET %s = %d, want %d", path, got, want)
		}
	}
}

// TestCallbackRefusalsTellNothing: a connection's callback path with an
// unknown state, a connection ID no login waits on, and any other path get
// the same answer, so that probing the public callback listener does not
// tell which connection IDs exist.
func TestCallbackRefusalsTellNothing(t *testing.T) {
	t.Parallel()
	srv := serveCallback(t, "http://127.0.0.1:0/callback", flow.CallbackOptions{Page: assets.CallbackPage()})
	_, cancel, err := srv.Register(srv.RedirectURI()+"/conn_known", "a-state-nobody-guesses")
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	base := strings.TrimSuffix(srv.RedirectURI(), "/callback")
	answer := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.Status + "\n" + string(body)
	}
	known := answer("/callback/conn_known?state=guess")
	for _, path := range []string{"/callback/conn_unknown?state=guess", "/callback/other/conn_known?state=guess", "/favicon.ico"} {
		if got := answer(path); got != known {
			t.Errorf("GET %s answers differently from a known connection's path:\n%s\n---\n%s", path, got, known)
		}
	}
}

func TestResultPageNeverEchoesTheCode(t *testing.T) {
	t.Parallel()
	idp := testidp.New(t, testidp.Options{})
	_, l := startLogin(t, idp, "http://127.0.0.1:0/callback", flow.CallbackOptions{Page: assets.CallbackPage()})
	done := make(chan error, 1)
	go func() { _, err := l.Wait(t.Context()); done <- err }()
	var code string
	client := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		code = r.URL.Query().Get("code")
		return nil
	}}
	resp, err := client.Get(l.AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code == "" || strings.Contains(page, code) {
		t.Fatalf("code %q echoed or missing in page", code)
	}
	if !strings.Contains(page, "<html") || !strings.Contains(page, "return to the terminal") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("page: %s", page)
	}
}

func TestBusyPortIsAClearError(t *testing.T) {
	t.Parallel()
	port := testidp.BusyPort(t)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err := flow.StartCallbackServer("http://"+host+":"+port+"/callback", flow.CallbackOptions{})
		assertCode(t, err, "port_busy", "port "+port)
	}
}

func TestLocalhostListensOnBothLoopbacks(t *testing.T) {
	t.Parallel()
	srv := serveCallback(t, "http://localhost:0/callback", flow.CallbackOptions{})
	var v4, v6 bool
	for _, a := range srv.Addrs() {
		ip := a.(*net.TCPAddr).IP
		v4 = v4 || ip.Equal(net.IPv4(127, 0, 0, 1))
		v6 = v6 || ip.Equal(net.IPv6loopback)
	}
	if !v4 {
		t.Errorf("not on 127.0.0.1: %v", srv.Addrs())
	}
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		probe.Close()
		if !v6 {
			t.Errorf("::1 is available but not bound: %v", srv.Addrs())
		}
		port := mustParse(t, srv.RedirectURI()).Port()
		if got := statusOf(t, "http://[::1]:"+port+"/callback?state=x"); got != http.StatusBadRequest {
			t.Errorf("::1 answered %d", got)
		}
	}
}

func TestRedirectURIsTheLoginCannotServe(t *testing.T) {
	t.Parallel()
	for uri, code := range map[string]string{
		"http://idp.example.com:8976/callback": "redirect_not_loopback",
		"https://localhost:8976/callback":      "redirect_https_loopback",
		"localhost:8976/callback":              "bad_redirect_uri",
		"http://localhost:8976/callback?x=1":   "bad_redirect_uri",
	} {
		_, err := flow.StartCallbackServer(uri, flow.CallbackOptions{})
		assertCode(t, err, code, "")
	}
}

func TestServeModeUsesGivenListeners(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveCallback(t, "https://onboard.example.com/callback/conn_1", flow.CallbackOptions{Listeners: []net.Listener{ln}})
	if _, _, err := srv.Register("https://other.example.com/callback", "s"); !flow.IsCode(err, "redirect_uri_server") {
		t.Errorf("foreign redirect URI registered: %v", err)
	}
	if got := statusOf(t, "http://"+ln.Addr().String()+"/callback/conn_1?"+url.Values{"state": {"unknown"}}.Encode()); got != http.StatusBadRequest {
		t.Errorf("status %d", got)
	}
}

// statusOf GETs address and returns the HTTP status of the answer.
func statusOf(t *testing.T, address string) int {
	t.Helper()
	resp, err := http.Get(address)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := flow.ReadBody(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
