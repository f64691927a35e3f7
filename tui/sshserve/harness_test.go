package sshserve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// sshWait bounds every wait for a screen or an event in these tests; it is
// generous for a loaded CI machine, and only reached when a test fails.
const sshWait = 20 * time.Second

// sshServer is a serve instance on loopback with its own database.
type sshServer struct {
	srv      *Server
	st       *store.Store
	addr     string
	url      string // the public URL (the callback listener)
	dir      string
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopped  time.Duration
}

func sshStart(t *testing.T, tweak func(*ServerOptions)) *sshServer {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "onboard.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := LoadHostKey(filepath.Join(dir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	sshLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := ServerOptions{Store: st, HostKey: signer, PublicURL: "http://" + httpLn.Addr().String(),
		HTTP: flow.NewHTTPClient(flow.ClientOptions{DialControl: flow.NetGuard{}.Control}), Timeout: 5 * time.Second}
	if tweak != nil {
		tweak(&opts)
	}
	if opts.Store != st { // another database, e.g. several instances' PostgreSQL
		st.Close()
		st = opts.Store
	}
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &sshServer{srv: srv, st: st, addr: sshLn.Addr().String(), url: opts.PublicURL, dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, sshLn, httpLn) }()
	select {
	case <-srv.Ready():
	case err := <-s.done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		s.stop(t)
		st.Close()
	})
	return s
}

// stop shuts the server down and records how long it took.
func (s *sshServer) stop(t *testing.T) {
	s.stopOnce.Do(func() {
		start := time.Now()
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the server did not stop within 15 s")
		}
		s.stopped = time.Since(start)
	})
}

// invite makes an invite and returns its code.
func (s *sshServer) invite(t *testing.T, org string) (string, store.Invite) {
	t.Helper()
	code, inv, err := s.st.CreateInvite(context.Background(), org, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return code, inv
}

// audit returns the audit events, oldest first.
func (s *sshServer) audit(t *testing.T) []store.Event {
	t.Helper()
	ev, err := s.st.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ev)-1; i < j; i, j = i+1, j-1 {
		ev[i], ev[j] = ev[j], ev[i]
	}
	return ev
}

// waitAudit waits until an event with action exists and returns it.
func (s *sshServer) waitAudit(t *testing.T, action string) store.Event {
	t.Helper()
	deadline := time.Now().Add(sshWait)
	for time.Now().Before(deadline) {
		for _, e := range s.audit(t) {
			if e.Action == action {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s audit event", action)
	return store.Event{}
}

func sshDial(addr, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: sshWait})
}

// sshAnswer answers the keyboard-interactive prompt with each code in turn
// and keeps the instructions it was shown.
type sshAnswer struct {
	codes        []string
	instructions []string
}

func (a *sshAnswer) method() gossh.AuthMethod {
	return gossh.KeyboardInteractive(func(_, instruction string, questions []string, _ []bool) ([]string, error) {
		a.instructions = append(a.instructions, instruction)
		if len(questions) == 0 {
			return nil, nil
		}
		if len(a.codes) == 0 {
			return nil, errors.New("no more codes")
		}
		code := a.codes[0]
		a.codes = a.codes[1:]
		return []string{code}, nil
	})
}

func sshKey(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, string(gossh.MarshalAuthorizedKey(signer.PublicKey()))
}

// sshTerm is a client session with a PTY whose output feeds a terminal
// emulator, which also answers the program's queries, as a real terminal does.
type sshTerm struct {
	sess  *gossh.Session
	mu    sync.Mutex
	term  *vt.Emulator
	raw   strings.Builder // everything received, stripped of nothing
	ended chan struct{}
}

func sshOpenTerm(t *testing.T, c *gossh.Client, w, h int) *sshTerm {
	t.Helper()
	return sshOpenTermCmd(t, c, w, h, "")
}

// sshOpenTermCmd is sshOpenTerm running command (none: the wizard).
func sshOpenTermCmd(t *testing.T, c *gossh.Client, w, h int, command string) *sshTerm {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	st := &sshTerm{sess: sess, term: vt.NewEmulator(w, h), ended: make(chan struct{})}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	sess.Stderr = io.Discard
	go func() {
		// The emulator answers the program's queries through a pipe: keep
		// draining it after the session's input closed, or its next
		// answer blocks a write to the screen (holding mu) for good.
		readChunks(st.term, 4096, func(b []byte) { _, _ = stdin.Write(b) })
	}()
	go func() {
		defer close(st.ended)
		readChunks(stdout, 32<<10, func(b []byte) {
			st.mu.Lock()
			_, _ = st.term.Write(b)
			st.raw.Write(b)
			st.mu.Unlock()
		})
	}()
	start := sess.Shell
	if command != "" {
		start = func() error { return sess.Start(command) }
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return st
}

func (s *sshTerm) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term.String()
}

// all is everything the session printed, the screen's history included.
func (s *sshTerm) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

func (s *sshTerm) send(text string) { s.term.SendText(text) }

// waitFor waits until the screen shows want.
func (s *sshTerm) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(sshWait)
	for time.Now().Before(deadline) {
		if strings.Contains(s.screen(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the screen never showed %q; it shows:\n%s", want, s.screen())
}

// httpStatus is the status code of a GET of url, whose body it discards.
func httpStatus(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// readChunks reads r in chunks of up to size bytes until it ends or
// fails, handing got each chunk; got must not keep the slice.
func readChunks(r io.Reader, size int, got func([]byte)) {
	buf := make([]byte, size)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			got(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// answer sends text, as typed, and waits until the screen shows want.
func (s *sshTerm) answer(t *testing.T, text, want string) {
	t.Helper()
	s.send(text)
	s.waitFor(t, want)
}

// waitEnd waits until the server ended the session.
func (s *sshTerm) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(sshWait):
		t.Fatalf("the session did not end; the screen shows:\n%s", s.screen())
	}
}

// connect logs in as user, opens a w×h terminal and waits for the
// wizard's first screen; the connection closes with the test.
func (s *sshServer) connect(t *testing.T, w, h int, user string, auth ...gossh.AuthMethod) (*gossh.Client, *sshTerm) {
	t.Helper()
	c, err := sshDial(s.addr, user, auth...)
	if err != nil {
		t.Fatalf("%s was refused: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	term := sshOpenTerm(t, c, w, h)
	term.waitFor(t, "Start: Organization")
	// Keys pressed while the first step still reads the store are not
	// taken (slower on PostgreSQL under load): wait until it has read it.
	term.waitGone(t, "Loading organizations")
	return c, term
}

// sshRefusal opens a terminal session on c that the server is expected to
// refuse, and returns what it said on standard error and how it ended.
func sshRefusal(t *testing.T, c *gossh.Client) (string, error) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	_ = sess.RequestPty("xterm", 24, 80, nil)
	_ = sess.Shell()
	err = sess.Wait()
	return stderr.String(), err
}

// refused is what the server said on standard error to user when it
// refused their session; "" when it did not refuse it within sshWait.
func (s *sshServer) refused(t *testing.T, user string, auth ...gossh.AuthMethod) string {
	t.Helper()
	c, err := sshDial(s.addr, user, auth...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	timer := time.AfterFunc(sshWait, func() { c.Close() })
	defer timer.Stop()
	stderr, err := sshRefusal(t, c)
	if err == nil || !timer.Stop() {
		return ""
	}
	return stderr
}

// refusals are the audited reasons of the sessions refused, oldest first.
func (s *sshServer) refusals(t *testing.T) []string {
	t.Helper()
	var reasons []string
	for _, e := range s.audit(t) {
		if e.Action == "session.refused" {
			reasons = append(reasons, e.Detail)
		}
	}
	return reasons
}

// customerAtCredentials connects a customer of org with a new invite, at
// 80×24, and walks to the credentials step (connection "Acme SSO").
func (s *sshServer) customerAtCredentials(t *testing.T, org string) (*sshTerm, store.Invite) {
	t.Helper()
	code, inv := s.invite(t, org)
	_, term := s.connect(t, 80, 24, code)
	term.answer(t, "Acme SSO\r", "Step 1 of 7")
	term.answer(t, "\r", "Step 2 of 7")
	return term, inv
}
