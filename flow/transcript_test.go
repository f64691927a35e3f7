package flow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestSupportCodeIsShortStableAndReadable(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 29, 10, 0, 0, 0, time.UTC)
	a := flow.SupportCode("conn_7h3kq9", at)
	if a != flow.SupportCode("conn_7h3kq9", at) || a == flow.SupportCode("conn_7h3kq8", at) || a == flow.SupportCode("conn_7h3kq9", at.Add(time.Second)) {
		t.Errorf("support code not derived from ID and time: %s", a)
	}
	if len(a) != 9 || a[4] != '-' || strings.ContainsAny(a, "01OILUV") {
		t.Errorf("support code %q is not readable over a call", a)
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := flow.NewRedactor("Zq8~pLk3RtY7vBn2")
	in := "secret Zq8~pLk3RtY7vBn2 jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc token 4f9Kx2LmQ8vR7tZ1pN3sW6yB5cD0eH9j " +
		"kept: c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8 https://login.microsoftonline.com/3c1e9b5a/v2.0/.well-known/openid-configuration"
	out := r.Redact(in)
	for _, gone := range []string{"Zq8~pLk3RtY7vBn2", "eyJhbGci", "4f9Kx2LmQ8vR7tZ1pN3sW6yB5cD0eH9j"} {
		if strings.Contains(out, gone) {
			t.Errorf("%q left in %q", gone, out)
		}
	}
	for _, kept := range []string{"c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8", "https://login.microsoftonline.com/3c1e9b5a/v2.0/.well-known/openid-configuration"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q removed from %q", kept, out)
		}
	}
	lines := r.RedactClaims(map[string]any{"nonce": "abc", "at_hash": "x", "email": "ana@acme.example"})
	if strings.Join(lines, "|") != "at_hash: [removed]|email: ana@acme.example|nonce: [removed]" {
		t.Errorf("claims %q", lines)
	}
}
