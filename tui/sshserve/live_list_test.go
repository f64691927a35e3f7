package sshserve

import (
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// An engineer in their own wizard sees the customer's session in step 0's
// live list, chooses it, and — once the customer says yes — sees exactly
// the customer's screen, as `join` shows it, their keys reaching nothing;
// ctrl+c brings them back to their wizard, told why. A customer's own
// step 0 never shows the list.
func TestSSHEngineerJoinsFromTheLiveList(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	cust, inv := s.customerAtCredentials(t, "Acme Corp")
	id := s.sessionOf(t, "Acme Corp")

	engConn, eng := s.connect(t, 80, 24, "alice", gossh.PublicKeys(signer))
	watchFromList(t, eng, cust, "Acme Corp · invite:"+inv.ID+" · "+id, "Step 2 Credentials for", "nobody watching")
	noneFor(t, eng, cust, "abc", "Q")
	sameScreen(t, cust, eng, 80, 24)
	if got := s.srv.LiveSessions(); len(got) != 1 || strings.Join(got[0].Watchers, ",") != "alice" {
		t.Errorf("the list while alice watches: %+v", got)
	}

	eng.send(keyLeaveByte)
	eng.waitFor(t, "You left the session.")
	eng.waitFor(t, "Customers' live sessions")
	cust.waitGone(t, "shared with")
	if e := s.waitAudit(t, "share.left"); !strings.Contains(e.Detail, "alice") || e.Organization != "Acme Corp" {
		t.Errorf("share.left = %+v", e)
	}

	// A customer of another organization, at their step 0 meanwhile,
	// sees nothing of it, and l is only a letter to them.
	code, _ := s.invite(t, "Globex")
	_, other := s.connect(t, 80, 24, code)
	other.answer(t, "l", "l")
	if scr := other.screen(); strings.Contains(scr, "Acme") || strings.Contains(scr, "live") || strings.Contains(scr, "in the wizard now") {
		t.Errorf("a customer's step 0 shows live sessions:\n%s", scr)
	}

	// Joined again, the engineer's connection drops: the customer's
	// screen is theirs alone again.
	eng.waitFor(t, "Acme Corp · invite:")
	rejoinAndDrop(t, engConn, eng, cust)
}

// rejoinAndDrop joins the session chosen in the engineer's live list
// (with enter, their next key), the customer says yes, and the
// engineer's connection c drops mid-watch: the customer's screen is
// theirs alone again.
func rejoinAndDrop(t *testing.T, c *gossh.Client, eng, cust *sshTerm) {
	t.Helper()
	eng.send("\r")
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.answer(t, "y", "shared with alice")
	eng.waitFor(t, "Step 2 of 7")
	c.Close()
	cust.waitGone(t, "shared with")
}

// watchFromList opens the engineer's live list, where the one customer's
// session shows each of listed, and chooses it; the customer says yes,
// and the engineer sees their screen (at step 2, both 80×24).
func watchFromList(t *testing.T, eng, cust *sshTerm, listed ...string) {
	t.Helper()
	eng.waitFor(t, "1 customer is in the wizard now")
	eng.send("l")
	for _, text := range listed {
		eng.waitFor(t, text)
	}
	eng.send("\r")
	eng.waitFor(t, "Waiting for the customer")
	cust.answer(t, "", "alice from support wants to see your screen: y/n")
	cust.answer(t, "y", "Your screen is shared with alice (support)")
	eng.waitFor(t, "Step 2 of 7")
	sameScreen(t, cust, eng, 80, 24)
}

// A customer who does not answer says no: after the consent wait the
// question goes, the engineer is told and leaves; a question for control
// left unanswered is a no too, which the watching engineer reads.
func TestSSHUnansweredQuestionIsANo(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	s.stop(t)
	s = sshStart(t, func(o *ServerOptions) {
		o.AuthorizedKeys = s.srv.opts.AuthorizedKeys
		o.ConsentWait = 700 * time.Millisecond
	})
	cust, _ := s.customerAtCredentials(t, "Acme Corp")
	eng := s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.waitFor(t, "wants to see your screen: y/n")
	eng.waitEnd(t)
	if all := eng.all(); !strings.Contains(all, "The customer did not answer within 700ms: you did not join their session.") {
		t.Errorf("the engineer was not told:\n%s", eng.screen())
	}
	cust.waitGone(t, "y/n")
	cust.answer(t, "typed", "typed") // the customer's keys are theirs again
	s.waitAudit(t, "share.unanswered")

	eng = s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.answer(t, "y", "shared with alice")
	eng.waitFor(t, "Step 2 of 7")
	eng.send(ctrlO)
	cust.waitFor(t, "asks to type in your session too: y/n")
	eng.waitFor(t, "did not answer within 700ms: you cannot type")
	cust.waitGone(t, "asks to type")
	s.waitAudit(t, "share.control_unanswered")
	noneFor(t, eng, cust, "xyz", "M")
}

// A join is a session: it counts toward the server's limit, in the
// engineers' reserve, and a join past the limit is refused.
func TestSSHJoinCountsTowardTheLimit(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	s.stop(t)
	s = sshStart(t, func(o *ServerOptions) { o.AuthorizedKeys = s.srv.opts.AuthorizedKeys; o.MaxSessions = 2 })
	code, _ := s.invite(t, "Acme Corp")
	cust := func() *sshTerm { _, c := s.connect(t, 80, 24, code); return c }()
	id := s.sessionOf(t, "Acme Corp")
	eng := s.join(t, signer, id, 80, 24) // the engineers' reserve
	cust.answer(t, "", "wants to see your screen: y/n")
	if n := s.srv.Sessions(); n != 2 {
		t.Errorf("sessions with the customer and a join: %d, want 2", n)
	}

	if _, stderr, err := s.run(t, "alice", "join "+id, gossh.PublicKeys(signer)); err == nil || !strings.Contains(stderr, "busy") {
		t.Errorf("a join past the limit: %v, stderr %q", err, stderr)
	}
	if e := s.waitAudit(t, "session.refused"); !strings.Contains(e.Detail, "join "+id) {
		t.Errorf("session.refused = %+v", e)
	}

	eng.send(keyLeaveByte)
	eng.waitEnd(t)
	deadline := time.Now().Add(sshWait)
	for s.srv.Sessions() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions after the join ended: %d, want 1", s.srv.Sessions())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The customer reads "NAME (support)" once, whether or not the engineer's
// key comment already says support.
func TestSupportNamesSaySupportOnce(t *testing.T) {
	t.Parallel()
	ws := []*watcher{{name: "alice"}, {name: "support"}, {name: "Acme Support"}, {name: "bob (support)"}}
	if got, want := supportNames(ws), "alice (support), support, Acme Support, bob (support)"; got != want {
		t.Errorf("supportNames = %q, want %q", got, want)
	}
	m := &sessionModel{}
	for _, c := range []struct {
		w    *watcher
		want string
	}{
		{ws[0], "alice from support wants to see your screen: y/n"},
		{ws[1], "support wants to see your screen: y/n"},
		{ws[3], "bob (support) wants to see your screen: y/n"},
	} {
		if got := m.question(askMsg{w: c.w}); got != c.want {
			t.Errorf("question = %q, want %q", got, c.want)
		}
	}
}
