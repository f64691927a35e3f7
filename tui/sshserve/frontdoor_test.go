package sshserve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestSSHWrongCodesAnsweredAtOnceStayWithinTheLimit: thirty prompts held
// open and answered at the same moment must not get thirty tries; the
// limit counts the codes being checked, not only those already refused.
func TestSSHWrongCodesAnsweredAtOnceStayWithinTheLimit(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	const n = 30
	var prompted, answered sync.WaitGroup
	prompted.Add(n)
	release := make(chan struct{})
	for i := range n {
		answered.Add(1)
		go func() {
			defer answered.Done()
			once := sync.Once{}
			auth := gossh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				if len(questions) == 0 {
					return nil, nil
				}
				first := false
				once.Do(func() { first = true; prompted.Done() })
				if first {
					<-release
				}
				return []string{"zzzz-zzzz-zzzz-zz" + string(rune('a'+i/26)) + string(rune('a'+i%26))}, nil
			})
			if c, err := sshDial(s.addr, "setup", auth); err == nil {
				c.Close()
				t.Error("a wrong code was accepted")
			}
		}()
	}
	prompted.Wait() // every prompt is open
	close(release)  // and all are answered at once
	answered.Wait()
	failures, refused := 0, 0
	for _, e := range s.audit(t) {
		switch e.Action {
		case "auth.failure":
			failures++
		case "auth.refused":
			refused++
		}
	}
	if failures > CodeFailLimit {
		t.Errorf("%d wrong codes were checked, want at most %d", failures, CodeFailLimit)
	}
	if refused == 0 {
		t.Error("no refusal past the limit was audited")
	}
}

// TestSSHConnectionWithoutSessionIsClosed: a client that authenticates
// and opens no session (ssh -N) is closed after the idle timeout and the
// closing is audited, instead of holding a connection for hours unseen.
func TestSSHConnectionWithoutSessionIsClosed(t *testing.T) {
	t.Parallel()
	s := sshStart(t, func(o *ServerOptions) { o.IdleTimeout = 300 * time.Millisecond })
	code, inv := s.invite(t, "Acme Corp")
	c, err := sshDial(s.addr, code)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan error, 1)
	go func() { closed <- c.Wait() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("a connection without a session is still open 5 s after a 300 ms idle timeout")
	}
	e := s.waitAudit(t, "connection.closed")
	if e.Actor != "invite:"+inv.ID || e.Organization != "Acme Corp" || !strings.Contains(e.Detail, "no session") {
		t.Errorf("audited %+v", e)
	}
}

// TestSSHRevokedInviteEndsItsSessionAtTheNextSave: withdrawing an invite
// while its customer is in the wizard ends the session at the next draft
// save (within recheckEvery of it: the re-reads are throttled), with the
// draft kept and the customer told why, not hours later.
func TestSSHRevokedInviteEndsItsSessionAtTheNextSave(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	term, inv := s.customerAtCredentials(t, "Acme Corp")
	if err := s.st.RevokeInvite(context.Background(), inv.ID); err != nil {
		t.Fatal(err)
	}
	term.send("typed-after-revoke")
	term.waitEnd(t)
	if all := term.all(); !strings.Contains(all, "withdrawn") || !strings.Contains(all, "draft is saved") {
		t.Errorf("the customer was not told: %q", all)
	}
	s.waitAudit(t, "session.ended")
	drafts, err := s.st.ListDrafts(context.Background(), "Acme Corp")
	if err != nil || len(drafts) != 1 || !strings.Contains(string(drafts[0].Form), "typed-after-revoke") {
		t.Fatalf("drafts = %d (err %v), want the one holding what was typed", len(drafts), err)
	}
}

// TestSSHOneInviteCannotFillTheServer: the sessions of one invite code
// are capped, and customers together leave room for support engineers.
func TestSSHOneInviteCannotFillTheServer(t *testing.T) {
	t.Parallel()
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	signer, line := sshKey(t)
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sshStart(t, func(o *ServerOptions) { o.MaxSessions = 4; o.MaxPerInvite = 2; o.AuthorizedKeys = keys })
	codeA, _ := s.invite(t, "Acme Corp")
	codeB, _ := s.invite(t, "Globex")
	s.connect(t, 80, 24, codeA)
	s.connect(t, 80, 24, codeA)
	if stderr := s.refused(t, codeA); !strings.Contains(stderr, "busy") {
		t.Errorf("a third session of one invite: stderr %q, want refused", stderr)
	}
	s.connect(t, 80, 24, codeB) // 3 of 4: the last is the engineers'
	codeC, _ := s.invite(t, "Initech")
	if stderr := s.refused(t, codeC); !strings.Contains(stderr, "busy") {
		t.Errorf("a customer in the engineers' reserve: stderr %q, want refused", stderr)
	}
	s.connect(t, 80, 24, "engineer", gossh.PublicKeys(signer))
	reasons := s.refusals(t)
	if len(reasons) != 2 || !strings.Contains(reasons[0], "invite code") || !strings.Contains(reasons[1], "support engineers") {
		t.Errorf("refusals audited: %q", reasons)
	}
}

// TestFailLimiterLetsGoodCodesWait: codes being checked hold the tries
// left; one more waits for them instead of being refused, and goes on
// when a good one gives its place back (many customers behind one NAT
// connecting at once are not turned away).
func TestFailLimiterLetsGoodCodesWait(t *testing.T) {
	t.Parallel()
	l := newFailLimiter(5, 10*time.Minute, time.Now)
	for range 5 {
		if ok, _ := l.reserve(context.Background(), "192.0.2.7"); !ok {
			t.Fatal("a try below the limit was refused")
		}
	}
	got := make(chan bool, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ok, _ := l.reserve(ctx, "192.0.2.7")
		got <- ok
	}()
	select {
	case ok := <-got:
		t.Fatalf("the sixth check did not wait for the five in flight (ok=%v)", ok)
	case <-time.After(100 * time.Millisecond):
	}
	l.settle("192.0.2.7", true) // a good code gives its place back
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("the waiting check was refused although a good code freed a try")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting check never went on")
	}
	for range 4 {
		l.settle("192.0.2.7", false)
	}
	l.settle("192.0.2.7", false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if ok, wait := l.reserve(ctx, "192.0.2.7"); ok || wait <= 0 {
		t.Fatalf("after five wrong codes: ok=%v wait=%s, want refused with a wait", ok, wait)
	}
}
