package flow

import (
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// A port this user may not listen on is the Redirect URI's to change. The
// tests may run as root, who may listen anywhere, so the refusal is the
// operating system's error, as net.Listen returns it.
func TestARefusedPortLeadsBackToTheRedirectURI(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("http://localhost:80/callback")
	if err != nil {
		t.Fatal(err)
	}
	refused := &net.OpError{Op: "listen", Net: "tcp4", Err: os.NewSyscallError("bind", syscall.EACCES)}
	fe, ok := listenError(u, refused).(*Error)
	if !ok || fe.Code != CodePortDenied {
		t.Fatalf("want code %q, got %v", CodePortDenied, fe)
	}
	if got := fe.Code.Step(); got != StepRedirectURI {
		t.Errorf("%s leads back to %q", fe.Code, got)
	}
}
