package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/store/pgtest"
)

// instance is one `serve` process of the built binary.
type instance struct {
	cmd      *exec.Cmd
	sshAddr  string
	httpAddr string
	mu       sync.Mutex
	log      bytes.Buffer
}

func (in *instance) Write(p []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log.Write(p)
}

func (in *instance) output() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log.String()
}

// freeAddr is a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe starts `serve` on db with args, and waits until its SSH port
// answers.
func startServe(t *testing.T, env []string, db, publicURL string, args ...string) *instance {
	t.Helper()
	in := &instance{sshAddr: freeAddr(t), httpAddr: freeAddr(t)}
	ctx, stop := context.WithCancel(context.Background())
	in.cmd = exec.CommandContext(ctx, binary, append([]string{"--db", db, "serve", "--ssh-addr", in.sshAddr, "--http-addr", in.httpAddr,
		"--public-url", publicURL, "--allow-private-networks"}, args...)...)
	in.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	in.cmd.Stdout, in.cmd.Stderr = in, in
	// Stopped as an operator would (SIGTERM), killed if it lingers.
	in.cmd.Cancel = func() error { return in.cmd.Process.Signal(syscall.SIGTERM) }
	in.cmd.WaitDelay = 15 * time.Second
	if err := in.cmd.Start(); err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		_ = in.cmd.Wait()
		if t.Failed() {
			t.Logf("serve on %s:\n%s", in.sshAddr, in.output())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(in.output(), "Make an invite with") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", in.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return in
}

// sshArgs are an OpenSSH client's options for the tests' servers: no
// known_hosts, no configuration of the machine's user.
func sshArgs(port string, more ...string) []string {
	return append([]string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=no", "-p", port}, more...)
}

// Two `serve` processes on one PostgreSQL database behind one public URL
// (a proxy that sends every callback to B): a customer on A starts a test
// login, the callback reaches B, and the login completes on A; an engineer
// on B joins the session on A (the customer says yes on A); A is killed
// with SIGKILL mid-session, B lists the session as lost, and the customer
// reconnects through B with the same code and resumes the draft.
func TestTwoInstancesOnePostgres(t *testing.T) {
	t.Parallel()
	sshClient, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs the OpenSSH client: apt-get install openssh-client")
		}
		t.Skip("this test needs the OpenSSH client (ssh): apt-get install openssh-client")
	}
	db := pgtest.Fresh(t)
	rawKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := []string{"OIDC_ONBOARD_KEY=" + rawKey}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")

	// The engineer's key, in an OpenSSH private key file and in the
	// instances' authorized_keys.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	engineerKey := filepath.Join(dir, "engineer")
	sshPub, _ := gossh.NewPublicKey(pub)
	if os.WriteFile(engineerKey, pem.EncodeToMemory(block), 0o600) != nil ||
		os.WriteFile(filepath.Join(dir, "authorized_keys"), append(bytes.TrimSpace(gossh.MarshalAuthorizedKey(sshPub)), []byte(" alice\n")...), 0o600) != nil {
		t.Fatal("writing the engineer's key")
	}

	// The IdP, and a draft of Acme Corp stopped at the test login.
	idp, err := demoidp.Start(t.Context(), demoidp.Options{AllowLoopbackRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	st, err := store.Open(db, store.Options{Key: rawKey})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// The balancer's HTTP side: every callback goes to B.
	var toB lockedValue[string]
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := url.Parse("http://" + toB.get())
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer lb.Close()
	args := []string{"--host-key", hostKey, "--authorized-keys", filepath.Join(dir, "authorized_keys")}
	a := startServe(t, env, db, lb.URL, args...)
	b := startServe(t, env, db, lb.URL, args...)
	toB.set(b.httpAddr)

	ctx := t.Context()
	conn := &flow.Connection{Organization: "Acme Corp", Name: "Acme SSO", Status: flow.StatusDraft,
		DiscoveryURL: idp.DiscoveryURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Claims: flow.DefaultClaimMapping(), GroupsClaim: flow.DefaultGroupsClaim}
	if err := st.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	conn.RedirectURI = lb.URL + "/callback/" + conn.ID
	form, _ := json.Marshal(steps.Setup{Connection: *conn, Step: steps.StepTestLogin, Reached: steps.StepTestLogin})
	if _, err := st.SaveDraft(ctx, store.Draft{Organization: conn.Organization, ConnectionID: conn.ID,
		Step: steps.StepTestLogin, Form: form, Actor: "local:x"}); err != nil {
		t.Fatal(err)
	}
	code, _, err := st.CreateInvite(ctx, "Acme Corp", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// The customer on A starts the test login; the browser's callback
	// reaches B; the login completes on A.
	_, portA, _ := net.SplitHostPort(a.sshAddr)
	cust := startOnTerminal(t, exec.Command(sshClient, sshArgs(portA, "-tt", code+"@127.0.0.1")...), 400, 30)
	cust.waitFor(t, "stopped at Test login")
	cust.typeText(t, "\r")
	cust.waitFor(t, "start the test login")
	cust.typeText(t, "\r")
	cust.waitFor(t, "Waiting for you to sign in")
	authURL := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\S*state=\S+`).FindString(cust.screen())
	if authURL == "" {
		t.Fatalf("no authorization URL on the customer's screen:\n%s", cust.screen())
	}
	status, page, err := testidp.SignInDemo(idp, authURL)
	if err != nil || status != http.StatusOK || !strings.Contains(page, "Signed in") {
		t.Fatalf("the browser, through B: %d %v %s", status, err, page)
	}
	cust.waitFor(t, "test login worked")

	// B lists A's session; the engineer on B joins it, and the customer
	// on A says yes.
	_, portB, _ := net.SplitHostPort(b.sshAddr)
	engineer := func(more ...string) []string {
		return sshArgs(portB, append([]string{"-i", engineerKey, "-o", "IdentitiesOnly=yes", "alice@127.0.0.1"}, more...)...)
	}
	var id string // the session B lists, once it does
	sessionOnB := func(state string) bool {
		out, err := exec.Command(sshClient, engineer("sessions", "--json")...).Output()
		var list []struct{ Organization, State, ID string }
		if err != nil || json.Unmarshal(out, &list) != nil || len(list) != 1 {
			return false
		}
		id = list[0].ID
		return list[0].Organization == "Acme Corp" && list[0].State == state
	}
	waitUntil(t, 20*time.Second, "B lists A's session as live", func() bool { return sessionOnB("live") })
	eng := startOnTerminal(t, exec.Command(sshClient, append(engineer("-tt"), "join", id)...), 400, 30)
	eng.waitFor(t, "Waiting for the customer")
	cust.waitFor(t, "alice from support wants to see your screen: y/n")
	cust.typeText(t, "y")
	eng.waitFor(t, "test login worked")

	// A dies mid-session: B shows the session lost within 15 s, and the
	// customer resumes through B with the same code.
	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "B lists A's session as lost", func() bool { return sessionOnB("lost") })
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("the session was shown lost %s after A died, want within 15 s", took)
	}
	again := startOnTerminal(t, exec.Command(sshClient, sshArgs(portB, "-tt", code+"@127.0.0.1")...), 400, 30)
	again.waitFor(t, "stopped at")
	again.typeText(t, "\r")
	// The draft A saved resumes on B, with the test login's result.
	again.waitFor(t, "Step 6 of 7: Test login")
	again.waitFor(t, "The test login worked")
}

// waitUntil polls ok until it holds or within passes.
func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s (waited %s)", what, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lockedValue is a value set by one goroutine and read by others.
type lockedValue[T any] struct {
	mu sync.Mutex
	v  T
}

func (a *lockedValue[T]) set(v T) { a.mu.Lock(); a.v = v; a.mu.Unlock() }
func (a *lockedValue[T]) get() T  { a.mu.Lock(); defer a.mu.Unlock(); return a.v }
