package flow_test

import (
	"net/url"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		// Other *.localhost names are resolved by DNS, which may answer anything.
		"idp.localhost": false, "localhost.example.com": false, "10.0.0.1": false, "example.com": false,
	} {
		if got := flow.IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
		u := &url.URL{Scheme: "http", Host: host}
		if host == "::1" {
			u.Host = "[::1]"
		}
		if err := flow.CheckURLScheme(u); (err == nil) != want {
			t.Errorf("CheckURLScheme(%s) = %v", u, err)
		}
	}
}
