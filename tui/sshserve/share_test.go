package sshserve

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
)

// Control keys as a terminal sends them.
const (
	ctrlO = "\x0f"
	ctrlR = "\x12"
	ctrlT = "\x14"
	ctrlX = "\x18"
)

// sshWithEngineer is a server whose authorized keys hold one engineer's
// key, commented "alice" (their name in the list and the questions).
func sshWithEngineer(t *testing.T) (*sshServer, gossh.Signer) {
	t.Helper()
	signer, line := sshKey(t)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, []byte(strings.TrimSpace(line)+" alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return sshStart(t, func(o *ServerOptions) { o.AuthorizedKeys = keys }), signer
}

// sessionOf is the ID of the one live session of org.
func (s *sshServer) sessionOf(t *testing.T, org string) string {
	t.Helper()
	for _, i := range s.srv.LiveSessions() {
		if i.Organization == org {
			return i.ID
		}
	}
	t.Fatalf("no live session of %s in %+v", org, s.srv.LiveSessions())
	return ""
}

// run runs command as the engineer (or whoever auth lets in) without a
// terminal and returns its standard output, its standard error and how
// it ended.
func (s *sshServer) run(t *testing.T, user, command string, auth ...gossh.AuthMethod) (string, string, error) {
	t.Helper()
	c, err := sshDial(s.addr, user, auth...)
	if err != nil {
		t.Fatalf("%s was refused: %v", user, err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stdout, stderr strings.Builder
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run(command)
	return stdout.String(), stderr.String(), err
}

// join connects the engineer to `join id` in a w×h terminal.
func (s *sshServer) join(t *testing.T, signer gossh.Signer, id string, w, h int) *sshTerm {
	t.Helper()
	_, term := s.joinConn(t, signer, id, w, h)
	return term
}

// joinConn is join that also returns the engineer's connection.
func (s *sshServer) joinConn(t *testing.T, signer gossh.Signer, id string, w, h int) (*gossh.Client, *sshTerm) {
	t.Helper()
	c, err := sshDial(s.addr, "alice", gossh.PublicKeys(signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, sshOpenTermCmd(t, c, w, h, "join "+id)
}

// sameScreen waits until a's screen, cut to w×h, equals b's.
func sameScreen(t *testing.T, a, b *sshTerm, w, h int) {
	t.Helper()
	deadline := time.Now().Add(sshWait)
	var ga, gb string
	for time.Now().Before(deadline) {
		ga, gb = cut(a.screen(), w, h), cut(b.screen(), w, h)
		if ga == gb && strings.TrimSpace(ga) != "" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the screens differ:\n%s\n---\n%s", ga, gb)
}

// cut is the top left w×h of a screen, trailing spaces trimmed.
func cut(screen string, w, h int) string {
	lines := strings.Split(screen, "\n")
	lines = lines[:min(h, len(lines))]
	for i, l := range lines {
		r := []rune(l)
		lines[i] = strings.TrimRight(string(r[:min(w, len(r))]), " ")
	}
	return strings.Join(lines, "\n")
}

// waitGone waits until the screen no longer shows text.
func (s *sshTerm) waitGone(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(sshWait)
	for strings.Contains(s.screen(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the screen still shows %q:\n%s", text, s.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noneFor sends keys as the engineer, then a marker as the customer, and
// checks that the keys never reached the customer's wizard.
func noneFor(t *testing.T, eng, cust *sshTerm, keys, marker string) {
	t.Helper()
	eng.send(keys)
	time.Sleep(300 * time.Millisecond)
	cust.answer(t, marker, marker)
	if strings.Contains(cust.screen(), keys) {
		t.Fatalf("the engineer's %q reached the customer without control:\n%s", keys, cust.screen())
	}
}

// subSecond is a duration finer than a second, as Go prints one (1.5ms).
var subSecond = regexp.MustCompile(`\d(\.\d+)?(ms|µs|ns)\b`)

// The engineers' list shows every live customer session with its
// organization, who, step and states, as text and as JSON; a customer
// can neither list nor join, and is audited trying.
func TestSSHSessionsListForEngineersOnly(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	cust, inv := s.customerAtCredentials(t, "Acme Corp")
	_ = cust
	id := s.sessionOf(t, "Acme Corp")
	deadline := time.Now().Add(sshWait)
	for s.srv.LiveSessions()[0].StepTitle == "" || s.srv.LiveSessions()[0].Step != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the step was never reported: %+v", s.srv.LiveSessions())
		}
		time.Sleep(10 * time.Millisecond)
	}

	out, stderr, err := s.run(t, "alice", "sessions", gossh.PublicKeys(signer))
	if err != nil {
		t.Fatalf("sessions: %v (%s)", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], id) || !strings.Contains(lines[1], "Acme Corp") ||
		!strings.Contains(lines[1], "invite:"+inv.ID) || !strings.Contains(lines[1], "2 Credentials") ||
		!strings.Contains(lines[1], "not run") {
		t.Errorf("sessions printed:\n%s", out)
	}
	// Not "ms" anywhere: the random IDs may hold it (sms4yqy).
	if subSecond.MatchString(strings.NewReplacer(id, "", inv.ID, "").Replace(out)) {
		t.Errorf("times in the list are not in whole seconds:\n%s", out)
	}

	out, _, err = s.run(t, "alice", "sessions --json", gossh.PublicKeys(signer))
	var list []SessionInfo
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 {
		t.Fatalf("sessions --json: %v\n%s", err, out)
	}
	if got := list[0]; got.ID != id || got.Organization != "Acme Corp" || got.Who != "invite:"+inv.ID || got.Step != 2 ||
		got.Validation != "not run" || got.TestLogin != "not run" || len(got.Watchers) != 0 || got.LastKeyAt.IsZero() {
		t.Errorf("sessions --json = %+v", got)
	}

	// A customer of another organization (and of the same one) is refused
	// both commands, and learns nothing of the sessions.
	for _, org := range []string{"Globex", "Acme Corp"} {
		code, _ := s.invite(t, org)
		for _, cmd := range []string{"sessions", "sessions --json", "join " + id} {
			out, stderr, err := s.run(t, code, cmd)
			if err == nil || out != "" || strings.Contains(stderr, id) || strings.Contains(stderr, "Acme SSO") ||
				!strings.Contains(stderr, "connect without a command") {
				t.Errorf("a customer of %s ran %q: err %v, stdout %q, stderr %q", org, cmd, err, out, stderr)
			}
		}
	}
	if e := s.waitAudit(t, "command.refused"); !strings.HasPrefix(e.Actor, "invite:") {
		t.Errorf("command.refused = %+v", e)
	}
	if got := s.srv.LiveSessions(); len(got) != 1 || len(got[0].Watchers) != 0 {
		t.Errorf("after the customers' attempts: %+v", got)
	}
}

// An engineer joins only after the customer says yes; then sees exactly
// the customer's screen; their keys do nothing until the customer grants
// control, reach the wizard then, and do nothing again once taken back;
// the customer stops sharing with one key. Every step is audited.
func TestSSHJoinConsentWatchAndControl(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	cust, _ := s.customerAtCredentials(t, "Acme Corp")
	eng := s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	eng.waitFor(t, "Waiting for the customer")
	cust.waitFor(t, "alice from support wants to see your screen: y/n")
	cust.send("k") // not an answer: nothing happens, the question stays
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(eng.screen(), "Step 2 of 7") || !strings.Contains(cust.screen(), "y/n") {
		t.Fatalf("a key other than y let the engineer in, or dropped the question:\n%s\n---\n%s", eng.screen(), cust.screen())
	}
	cust.answer(t, "y", "Your screen is shared with alice")
	eng.waitFor(t, "Step 2 of 7")
	sameScreen(t, cust, eng, 80, 24)
	s.waitAudit(t, "share.joined")

	noneFor(t, eng, cust, "abc", "Q")

	eng.send(ctrlO)
	cust.answer(t, "", "alice from support asks to type in your session too: y/n")
	cust.answer(t, "y", "alice (support) can type too")
	eng.send("xyz")
	cust.waitFor(t, "Qxyz")
	sameScreen(t, cust, eng, 80, 24)
	s.waitAudit(t, "share.control_granted")

	cust.answer(t, ctrlT, "Your screen is shared with alice")
	s.waitAudit(t, "share.control_revoked")
	noneFor(t, eng, cust, "pqr", "M")

	cust.send(ctrlX)
	eng.waitEnd(t)
	if !strings.Contains(eng.all(), "The customer stopped sharing their screen.") {
		t.Errorf("the engineer was not told why the watch ended:\n%s", eng.screen())
	}
	cust.waitGone(t, "shared with")
	for _, a := range []string{"share.requested", "share.control_requested", "share.stopped", "share.left"} {
		if e := s.waitAudit(t, a); !strings.Contains(e.Detail, "alice") || e.Organization != "Acme Corp" {
			t.Errorf("%s = %+v", a, e)
		}
	}
}

// A customer who says no keeps their screen to themselves; the engineer
// is told and leaves.
func TestSSHJoinRefused(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	cust, _ := s.customerAtCredentials(t, "Acme Corp")
	eng := s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.send("n")
	eng.waitEnd(t)
	if all := eng.all(); strings.Contains(all, "Step 2 of 7") || !strings.Contains(all, "The customer said no") {
		t.Errorf("the engineer saw the screen or was not told:\n%s", all)
	}
	s.waitAudit(t, "share.refused")
}

// A customer at 120×40 and an engineer at 80×24 share an 80×24 screen:
// the engineer's is it, the customer's shows it framed; when the engineer
// grows, the shared screen grows with them; when they leave, the
// customer's wizard takes the whole terminal again.
func TestSSHJoinSizes(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	code, _ := s.invite(t, "Acme Corp")
	c, cust := s.connect(t, 120, 40, code)
	_ = c
	cust.answer(t, "Acme SSO\r", "Step 1 of 7")
	eng := s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.answer(t, "y", "Your screen is shared with alice")
	eng.waitFor(t, "Step 1 of 7")
	sameScreen(t, cust, eng, 80, 24)
	cust.waitFor(t, "┘")
	lines := strings.Split(cust.screen(), "\n")
	if r := []rune(lines[0]); len(r) < 81 || r[80] != '│' {
		t.Errorf("the customer's screen is not framed at column 81:\n%s", cust.screen())
	}

	if err := eng.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	eng.term.Resize(100, 30)
	deadline := time.Now().Add(sshWait)
	for !strings.Contains(strings.Split(cust.screen(), "\n")[30], "┘") {
		if time.Now().After(deadline) {
			t.Fatalf("the shared screen did not grow to 100×30:\n%s", cust.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sameScreen(t, cust, eng, 100, 30)

	eng.send(keyLeaveByte)
	eng.waitEnd(t)
	cust.waitGone(t, "┘")
	cust.waitGone(t, "shared with")
	s.waitAudit(t, "share.left")
}

// keyLeaveByte is ctrl+c as a terminal sends it.
const keyLeaveByte = "\x03"

// A customer who leaves while watched ends the watch, which says so; an
// engineer whose connection drops while in control leaves the customer
// in sole control, banner gone.
func TestSSHJoinEnds(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)

	cust, _ := s.customerAtCredentials(t, "Acme Corp")
	engConn, eng := s.joinConn(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.answer(t, "y", "shared with alice")
	eng.waitFor(t, "Step 2 of 7")
	eng.send(ctrlO)
	cust.answer(t, "", "asks to type")
	cust.answer(t, "y", "can type too")
	engConn.Close() // the engineer's connection drops
	cust.waitGone(t, "can type too")
	cust.answer(t, "still-mine", "still-mine")
	s.waitAudit(t, "share.left")

	code, _ := s.invite(t, "Globex")
	custConn, cust2 := s.connect(t, 80, 24, code)
	eng2 := s.join(t, signer, s.sessionOf(t, "Globex"), 80, 24)
	cust2.answer(t, "", "wants to see your screen: y/n")
	cust2.answer(t, "y", "shared with alice")
	eng2.waitFor(t, "Start: Organization")
	custConn.Close() // the customer leaves
	eng2.waitEnd(t)
	if !strings.Contains(eng2.all(), "The customer's session ended.") {
		t.Errorf("the engineer was not told the customer left:\n%s", eng2.screen())
	}
}

// While watched, ctrl+r is refused with a reason, a secret shown before
// the engineer joined is hidden, and no frame the engineer receives
// carries the secret's characters.
func TestSSHJoinNeverShowsTheSecret(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	cust, _ := s.customerAtCredentials(t, "Acme Corp")
	const secret = "Zq8-very-secret-value"
	cust.answer(t, "client-1\t"+secret, "21 characters")
	cust.answer(t, ctrlR, secret) // shown while nobody watches
	eng := s.join(t, signer, s.sessionOf(t, "Acme Corp"), 80, 24)
	cust.answer(t, "", "wants to see your screen: y/n")
	cust.answer(t, "y", "shared with alice")
	eng.waitFor(t, "Step 2 of 7")
	sameScreen(t, cust, eng, 80, 24)
	cust.answer(t, ctrlR, "stays hidden while someone watches")
	sameScreen(t, cust, eng, 80, 24)
	eng.send(ctrlO)
	cust.answer(t, "", "asks to type")
	cust.answer(t, "y", "can type too")
	eng.send(ctrlR)
	cust.send(ctrlX)
	eng.waitEnd(t)
	if strings.Contains(eng.all(), secret) || strings.Contains(eng.all(), "very-secret") {
		t.Fatalf("a frame the engineer received carries the secret")
	}
}

// What an engineer cares about is told when it changes, once: a failed
// validation with its failing check, the test login reached, a failed
// test login with its reason, the connection activated.
func TestEventChanges(t *testing.T) {
	t.Parallel()
	bad := &flow.Report{Checks: []flow.Check{{ID: "issuer", Status: flow.Fail, Detail: "issuer mismatch"}}}
	good := &flow.Report{OK: true, Checks: []flow.Check{{ID: "issuer", Status: flow.Pass}}}
	lost := &steps.TestLoginResult{Error: "the IdP refused the code"}
	at := func(step int, r *flow.Report, l *steps.TestLoginResult, active bool) seen {
		return seen{step: step, report: r, login: l, active: active, draft: true}
	}
	for _, c := range []struct {
		before, now seen
		want        string
	}{
		{at(2, nil, nil, false), at(3, bad, nil, false), EventValidationFailed + ": 1 check failing: issuer mismatch"},
		{at(3, bad, nil, false), at(3, bad, nil, false), ""},
		{at(3, nil, nil, false), at(3, good, nil, false), ""},
		{at(5, good, nil, false), at(steps.StepTestLogin, good, nil, false), EventTestLoginReached + ": "},
		{at(6, good, nil, false), at(6, good, lost, false), EventTestLoginFailed + ": failed: the IdP refused the code"},
		{at(7, good, nil, false), at(7, good, nil, true), EventConnectionActive + ": "},
	} {
		kinds, details := changes(c.before, c.now)
		var got []string
		for i := range kinds {
			got = append(got, kinds[i]+": "+details[i])
		}
		if strings.Join(got, "; ") != c.want {
			t.Errorf("changes(%+v, %+v) = %q, want %q", c.before, c.now, got, c.want)
		}
	}
}

// An engineer's `events` stream hears of a customer's failed validation,
// with the failing check, and of the customer leaving with a draft; an
// engineer in the wizard sees the same as a notice, without asking.
func TestSSHEventsReachEngineers(t *testing.T) {
	t.Parallel()
	s, signer := sshWithEngineer(t)
	_, wiz := s.connect(t, 80, 24, "alice", gossh.PublicKeys(signer))
	next := s.events(t, signer)

	code, inv := s.invite(t, "Acme Corp")
	custConn, cust := s.connect(t, 80, 24, code)
	cust.answer(t, "Acme SSO\r", "Step 1 of 7")
	cust.answer(t, "\r", "Step 2 of 7")
	cust.answer(t, "client-1\tsecret-1\thttp://127.0.0.1:9/.well-known/openid-configuration\r", "Step 3 of 7")
	e := next(EventValidationFailed)
	if e.Organization != "Acme Corp" || e.Who != "invite:"+inv.ID || !strings.Contains(e.Detail, "failing") {
		t.Errorf("validation event = %+v", e)
	}
	wiz.waitFor(t, "validation failed")
	custConn.Close()
	if e := next(EventLeftWithDraft); !strings.Contains(e.Detail, "step 3") {
		t.Errorf("left event = %+v", e)
	}
}

// events opens the engineer's `events --json` stream and waits until the
// server holds it: next is the next event, which must be of kind.
func (s *sshServer) events(t *testing.T, signer gossh.Signer) (next func(kind string) Event) {
	t.Helper()
	c, err := sshDial(s.addr, "alice", gossh.PublicKeys(signer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	stream, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := stream.StdoutPipe()
	if err := stream.Start("events --json"); err != nil {
		t.Fatal(err)
	}
	events := make(chan Event, 8)
	go func() {
		dec := json.NewDecoder(out)
		for {
			var e Event
			if dec.Decode(&e) != nil {
				return
			}
			events <- e
		}
	}()
	deadline := time.Now().Add(sshWait)
	for s.srv.streamCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return func(kind string) Event {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != kind {
				t.Fatalf("event %+v, want %s", e, kind)
			}
			return e
		case <-time.After(sshWait):
			t.Fatalf("no %s event", kind)
		}
		return Event{}
	}
}

// streamCount is the number of `events` streams open now.
func (s *Server) streamCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// An engineer who asks to join a session that is ending is told so at
// once, rather than waiting for an answer that never comes.
func TestJoinASessionThatEnded(t *testing.T) {
	t.Parallel()
	ls := newLiveSession(context.Background(), identity{invite: "inv_1", organization: "Acme Corp"}, time.Now())
	ls.end()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &watcher{name: "alice"}
	w.program = tea.NewProgram(newWatchModel(w, ls, func(string, string) {}), tea.WithContext(ctx))
	ls.addWatcher(w)
	if got := ls.watching(watchAsked); len(got) != 0 || w.reason() != "The customer's session ended." {
		t.Errorf("watchers %v, reason %q", got, w.reason())
	}
}
