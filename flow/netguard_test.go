package flow

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestBlockedAddress(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"127.0.0.1":              "a loopback",
		"::1":                    "a loopback",
		"10.1.2.3":               "a private",
		"172.20.0.1":             "a private",
		"192.168.1.1":            "a private",
		"fd12::1":                "a private",
		"169.254.169.254":        "the cloud metadata service's",
		"fd00:ec2::254":          "the cloud metadata service's",
		"169.254.1.1":            "a link-local",
		"fe80::1":                "a link-local",
		"100.64.0.1":             "a carrier-grade NAT",
		"0.0.0.0":                "an unspecified",
		"::":                     "an unspecified",
		"224.0.0.1":              "a multicast",
		"ff02::1":                "a multicast",
		"255.255.255.255":        "a reserved",
		"::ffff:127.0.0.1":       "a loopback",
		"::ffff:169.254.169.254": "the cloud metadata service's",
		"64:ff9b::a00:1":         "a private",
		"93.184.216.34":          "",
		"2606:4700::1111":        "",
		"172.32.0.1":             "",
		"100.128.0.1":            "",
	}
	for in, want := range cases {
		if got := BlockedAddress(netip.MustParseAddr(in)); got != want {
			t.Errorf("BlockedAddress(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestNetGuardDial dials through the guarded client: a loopback server is
// refused (the name "localhost" resolves to it, as a rebinding name would),
// unless its exact address is allowed.
func TestNetGuardDial(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	guarded := NewHTTPClient(ClientOptions{DialControl: NetGuard{}.Control})
	resp, err := guarded.Get("http://localhost:" + port + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the guarded client reached a loopback server")
	}
	if !IsCode(err, "address_blocked") {
		t.Fatalf("err = %v, want address_blocked", err)
	}
	if msg, fix := Explain(err); fix == "" || msg == "" {
		t.Fatalf("the refusal is not explained: %q / %q", msg, fix)
	}

	allowed := NewHTTPClient(ClientOptions{DialControl: NetGuard{Allow: []string{srv.Listener.Addr().String()}}.Control})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	resp, err = allowed.Do(req)
	if err != nil {
		t.Fatalf("an allowed address was refused: %v", err)
	}
	resp.Body.Close()
}
