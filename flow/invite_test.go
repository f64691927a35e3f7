package flow

import "testing"

func TestSSHHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ given, publicURL, want string }{
		{"", "https://onboard.example.com", "onboard.example.com:2222"},
		{"", "http://localhost:8976", "localhost:2222"},
		{"ssh.example.com", "https://onboard.example.com", "ssh.example.com"},
		{"", "http://[::1]:8976", "[::1]:2222"},
	} {
		if got := SSHHost(tc.given, tc.publicURL, "[::]:2222"); got != tc.want {
			t.Errorf("SSHHost(%q, %q) = %q; want %q", tc.given, tc.publicURL, got, tc.want)
		}
	}
}
