package flow_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// TestGuardedClientIgnoresTheEnvironmentsProxy: a client whose dials are
// checked (customer sessions in serve) must not go through HTTPS_PROXY,
// where the check would see only the proxy's address; an unguarded client
// (the local wizard, check, login) still uses it. The environment's proxy
// is read once per process, so each case runs in a child process.
func TestGuardedClientIgnoresTheEnvironmentsProxy(t *testing.T) {
	if mode := os.Getenv("FLOW_PROXY_CHILD"); mode != "" {
		opts := flow.ClientOptions{Timeout: 2 * time.Second}
		if mode == "guarded" {
			opts.DialControl = func(string, string, syscall.RawConn) error { return nil }
		}
		resp, err := flow.NewHTTPClient(opts).Get("https://idp.example.invalid/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
		}
		return
	}
	t.Parallel()
	for mode, wantVia := range map[string]bool{"guarded": false, "unguarded": true} {
		var connects atomic.Int32
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodConnect {
				connects.Add(1)
			}
			http.Error(w, "no", http.StatusBadGateway)
		}))
		cmd := exec.Command(os.Args[0], "-test.run", "^TestGuardedClientIgnoresTheEnvironmentsProxy$")
		cmd.Env = append(os.Environ(), "FLOW_PROXY_CHILD="+mode, "HTTPS_PROXY="+proxy.URL, "NO_PROXY=", "no_proxy=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s child: %v\n%s", mode, err, out)
		}
		proxy.Close()
		if got := connects.Load() > 0; got != wantVia {
			t.Errorf("%s client: went through HTTPS_PROXY = %v, want %v", mode, got, wantVia)
		}
	}
}
