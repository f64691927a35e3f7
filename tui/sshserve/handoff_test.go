package sshserve

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// handoffCodeOn is the hand-off code a screen shows, or "".
func handoffCodeOn(screen string) string {
	for _, word := range strings.FieldsFunc(screen, func(r rune) bool { return r == ' ' || r == '@' || r == '\n' }) {
		if store.IsHandoffCode(word) {
			return word
		}
	}
	return ""
}

// customerClient is the customer's ssh: OpenSSH's client as the customer
// runs it (ssh -p PORT CODE@HOST, a terminal forced), typing into its
// standard input; or, where OpenSSH is not installed, Go's client with a
// PTY, said in the test's log.
type customerClient struct {
	in   io.Writer
	out  *stepstest.Buffer
	done chan struct{}
}

func startCustomer(t *testing.T, addr, user string) *customerClient {
	t.Helper()
	c := &customerClient{out: &stepstest.Buffer{}, done: make(chan struct{})}
	host, port, _ := net.SplitHostPort(addr)
	if path, err := exec.LookPath("ssh"); err == nil {
		cmd := exec.Command(path, "-tt", "-p", port, "-F", "/dev/null",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"-o", "PubkeyAuthentication=no", "-o", "BatchMode=yes", user+"@"+host)
		cmd.Env = append(os.Environ(), "TERM=xterm-256color")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = c.out, c.out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.in = stdin
		go func() { _ = cmd.Wait(); close(c.done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
		return c
	}
	t.Log("OpenSSH's ssh is not installed: the customer uses Go's SSH client")
	conn, err := sshDial(addr, user)
	if err != nil {
		t.Fatalf("%s was refused: %v", user, err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	c.in, _ = sess.StdinPipe()
	sess.Stdout, sess.Stderr = c.out, c.out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = sess.Wait(); close(c.done) }()
	return c
}

func (c *customerClient) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(sshWait)
	for time.Now().Before(deadline) {
		if strings.Contains(c.out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the customer never saw %q; they saw:\n%s", want, c.out.String())
}

func (c *customerClient) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(sshWait):
		t.Fatalf("the customer's session did not end; it shows:\n%s", c.out.String())
	}
}

// engineerAtCredentials is an engineer of a server whose SSH host is known
// (so the hand-off's command is shown), in the wizard at the credentials
// step of a new connection "Acme SSO" of Acme Corp.
func engineerAtCredentials(t *testing.T) (*sshServer, *sshTerm, gossh.Signer) {
	t.Helper()
	signer, line := sshKey(t)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, []byte(strings.TrimSpace(line)+" alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sshStart(t, func(o *ServerOptions) { o.AuthorizedKeys, o.SSHHost = keys, "onboard.example.test:2222" })
	_, eng := s.connect(t, 80, 24, "alice", gossh.PublicKeys(signer))
	eng.answer(t, "Acme Corp\r", "Connection name")
	eng.answer(t, "Acme SSO\r", "Step 1 of 7")
	eng.answer(t, "\r", "Step 2 of 7")
	return s, eng, signer
}

// The engineer asks for the secret at the credentials step; the customer
// pastes it over SSH with the code shown; the engineer's form says it
// arrived, and neither the engineer's frames nor the database's bytes ever
// carry it.
func TestSSHSecretHandoffEndToEnd(t *testing.T) {
	t.Parallel()
	s, eng, signer := engineerAtCredentials(t)
	eng.answer(t, "acme-client-id\t", "Client Secret")
	eng.answer(t, "\x07", "s the client secret only")
	eng.answer(t, "s", "Waiting for the customer")
	code := handoffCodeOn(eng.screen())
	if code == "" || !strings.Contains(eng.screen(), "ssh -p 2222 "+code+"@onboard.example.test") {
		t.Fatalf("no ssh command with a hand-off code on the engineer's screen:\n%s", eng.screen())
	}

	const secret = "Sup3r-s3cret-from-the-customer-034" // 34 characters
	cust := startCustomer(t, s.addr, code)
	cust.waitFor(t, "Secret hand-off: Acme Corp, connection Acme SSO")
	if _, err := io.WriteString(cust.in, secret+"\r"); err != nil {
		t.Fatal(err)
	}
	cust.waitFor(t, "Thank you")
	cust.waitEnd(t)
	if strings.Contains(cust.out.String(), secret) {
		t.Errorf("the customer's own screen echoed the secret:\n%s", cust.out.String())
	}

	eng.waitFor(t, "✓ secret received (34 characters)")
	eng.answer(t, ctrlR, "never shown here")
	if strings.Contains(eng.all(), secret) || strings.Contains(eng.all(), "s3cret-from") {
		t.Fatal("a frame the engineer received carries the secret")
	}
	received := s.waitAudit(t, "handoff.received")
	created := s.waitAudit(t, "handoff.created")
	if created.Actor != "ssh:"+gossh.FingerprintSHA256(signer.PublicKey()) || !strings.HasPrefix(received.Actor, "handoff:ho_") ||
		received.Organization != "Acme Corp" || strings.Contains(received.Detail, secret) {
		t.Errorf("audit: created %+v, received %+v", created, received)
	}

	// The engineer's draft, saved after the poll took the secret in, holds
	// it (sealed); the database's bytes never hold it in plain text.
	deadline := time.Now().Add(sshWait)
	for {
		drafts, err := s.st.ListDrafts(context.Background(), "Acme Corp")
		if err == nil && len(drafts) == 1 && strings.Contains(string(drafts[0].Form), secret) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engineer's draft never took the secret: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	eng.send("\x03")
	s.stop(t)
	for _, p := range []string{"onboard.db", "onboard.db-wal", "onboard.db-shm"} {
		b, err := os.ReadFile(filepath.Join(s.dir, p))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds the secret in plain text", p)
		}
	}
}

// A hand-off code that is wrong, used or expired is refused as a wrong
// invite code is: audited, and counted towards the address's limit.
func TestSSHHandoffCodeWrongUsedOrExpiredIsRefused(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	ctx := context.Background()
	draft := func(st *store.Store) store.Draft {
		if _, err := st.EnsureOrganization(ctx, "Acme Corp", ""); err != nil {
			t.Fatal(err)
		}
		d, err := st.SaveDraft(ctx, store.Draft{Organization: "Acme Corp", Form: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := draft(s.st)
	used, h, err := s.st.CreateHandoff(ctx, "Acme Corp", d.ID, "Acme SSO", store.HandoffSecret, store.Event{Actor: "ssh:engineer"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.ReceiveHandoff(ctx, h.ID, "Acme Corp", store.HandoffValues{ClientSecret: "x"}, store.Event{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	// A store whose clock is 20 minutes behind makes a code that expired.
	past, err := store.Open(filepath.Join(s.dir, "onboard.db"), store.Options{Now: func() time.Time { return time.Now().Add(-20 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := past.CreateHandoff(ctx, "Acme Corp", d.ID, "Acme SSO", store.HandoffSecret, store.Event{Actor: "ssh:engineer"})
	past.Close()
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := s.st.CreateHandoff(ctx, "Acme Corp", d.ID, "Acme SSO", store.HandoffSecret, store.Event{Actor: "ssh:engineer"})
	if err != nil {
		t.Fatal(err)
	}

	for _, code := range []string{"secret-aaaa-bbbb-cccc-dddd", used, expired} {
		if c, err := sshDial(s.addr, code); err == nil {
			c.Close()
			t.Fatalf("%s was let in", code)
		}
	}
	var failures []string
	for _, e := range s.audit(t) {
		if e.Action == "auth.failure" && strings.Contains(e.Detail, "hand-off code given as the user name") {
			failures = append(failures, e.Detail)
		}
	}
	if len(failures) != 3 || !strings.Contains(failures[0], "not known") || !strings.Contains(failures[1], "already used") ||
		!strings.Contains(failures[2], "expired") {
		t.Fatalf("failures audited: %q", failures)
	}
	// Two wrong invite codes more make five: even the good hand-off code
	// is refused now.
	for _, code := range []string{"zzzz-zzzz-zzzz-zzza", "zzzz-zzzz-zzzz-zzzb"} {
		if c, err := sshDial(s.addr, code); err == nil {
			c.Close()
			t.Fatal("a wrong invite code was let in")
		}
	}
	if c, err := sshDial(s.addr, good); err == nil {
		c.Close()
		t.Fatal("the address was not limited after five wrong codes of both kinds")
	}
}
