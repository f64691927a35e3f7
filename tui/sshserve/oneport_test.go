package sshserve

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/store"
)

// serveInBackground runs Serve with cfg on a new store until the test
// ends, and returns the store and the SSH port serve recorded for invites
// once it listens.
func serveInBackground(t *testing.T, cfg ServeConfig) (*store.Store, string) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onboard.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	for deadline := time.Now().Add(sshWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		host, _, err := st.InviteAddresses(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := strings.CutPrefix(host, "localhost:"); ok && p != "0" {
			return st, p
		}
	}
	t.Fatal("serve never recorded where it listens")
	return nil, ""
}

// With --ssh-http-addr, one port takes both: OpenSSH's own client runs
// an engineer's command there, and an HTTP client gets the invite page
// from the same port.
func TestServeSSHAndHTTPOnOnePort(t *testing.T) {
	t.Parallel()
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal("this test needs OpenSSH's client, ssh (apt-get install openssh-client)")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	st, port := serveInBackground(t, ServeConfig{SSHHTTPAddr: "127.0.0.1:0", PublicURL: "http://localhost:8976",
		AuthorizedKeys: key + ".pub", Timeout: time.Second})
	ctx := t.Context()
	code, _, err := st.CreateInvite(ctx, "Acme Corp", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/i/" + code)
	if err != nil {
		t.Fatalf("HTTP on the shared port: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), code) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the invite page on the shared port: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}

	cmd := exec.CommandContext(ctx, sshBin, "-F", "none", "-p", port, "-i", key, "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile="+filepath.Join(dir, "known_hosts"),
		"-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", "alice@127.0.0.1", "sessions")
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No customer session is running.") {
		t.Errorf("OpenSSH on the shared port: %v\n%s", err, out)
	}
}
