package main

import (
	"net"
	"testing"
)

func TestServeSSHHost(t *testing.T) {
	t.Parallel()
	ssh := &net.TCPAddr{IP: net.IPv6zero, Port: 2222}
	for _, tc := range []struct{ flag, publicURL, want string }{
		{"", "https://onboard.example.com", "onboard.example.com:2222"},
		{"", "http://localhost:8976", "localhost:2222"},
		{"ssh.example.com", "https://onboard.example.com", "ssh.example.com"},
		{"", "http://[::1]:8976", "[::1]:2222"},
	} {
		if got := serveSSHHost(tc.flag, tc.publicURL, ssh); got != tc.want {
			t.Errorf("serveSSHHost(%q, %q) = %q; want %q", tc.flag, tc.publicURL, got, tc.want)
		}
	}
}
