package sshserve

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// A customer who gives the code as the user name (in capitals, dashes
// kept) gets the wizard walled into the invite's organization, and the
// session is audited with the invite and the address.
func TestSSHCodeAsUserName(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, inv := s.invite(t, "Acme Corp")
	_, term := s.connect(t, 80, 24, strings.ToUpper(code))
	term.waitFor(t, "Acme Corp")

	ev := s.waitAudit(t, "session.start")
	if ev.Actor != "invite:"+inv.ID || ev.Organization != "Acme Corp" || ev.Address != "127.0.0.1" {
		t.Errorf("session_start = %+v", ev)
	}
	for _, e := range s.audit(t) {
		if strings.Contains(e.Detail, code) || strings.Contains(e.Actor, code) {
			t.Errorf("the code is in the audit: %+v", e)
		}
	}
}

// At the keyboard-interactive prompt a wrong code is explained and the
// right one, typed in another case and with spaces, lets the person in.
func TestSSHKeyboardInteractive(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, _ := s.invite(t, "Acme Corp")
	ans := &sshAnswer{codes: []string{"aaaa-bbbb-cccc-dddd", strings.ReplaceAll(strings.ToUpper(code), "-", " ")}}
	c, err := sshDial(s.addr, "setup", ans.method())
	if err != nil {
		t.Fatalf("refused: %v (instructions %q)", err, ans.instructions)
	}
	defer c.Close()
	if len(ans.instructions) != 2 || !strings.Contains(ans.instructions[1], "not known") {
		t.Errorf("instructions = %q, want the second to say the first code is not known", ans.instructions)
	}
	sshOpenTerm(t, c, 80, 24).waitFor(t, "Acme Corp")
	if e := s.waitAudit(t, "auth.failure"); e.Address != "127.0.0.1" {
		t.Errorf("auth_failure = %+v", e)
	}
}

// Support engineers come in with a key from --authorized-keys and see
// every organization; an unknown key is refused, and a key removed from
// the file after the handshake is refused when the session starts.
func TestSSHEngineerKey(t *testing.T) {
	t.Parallel()
	signer, line := sshKey(t)
	other, _ := sshKey(t)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, []byte("# engineers\n"+line), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sshStart(t, func(o *ServerOptions) { o.AuthorizedKeys = keys })
	ctx := context.Background()
	if _, err := s.st.EnsureOrganization(ctx, "Globex", ""); err != nil {
		t.Fatal(err)
	}

	s.connect(t, 80, 24, "alice", gossh.PublicKeys(signer))
	ev := s.waitAudit(t, "session.start")
	if ev.Actor != "ssh:"+gossh.FingerprintSHA256(signer.PublicKey()) || ev.Organization != "" {
		t.Errorf("session_start = %+v, want the key's fingerprint and no organization", ev)
	}

	if c2, err := sshDial(s.addr, "mallory", gossh.PublicKeys(other)); err == nil {
		c2.Close()
		t.Fatal("an unknown key was let in")
	}

	c3, err := sshDial(s.addr, "alice", gossh.PublicKeys(signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if stderr, err := sshRefusal(t, c3); err == nil || !strings.Contains(stderr, "no longer authorized") {
		t.Errorf("a removed key: err %v, stderr %q", err, stderr)
	}
}

// Five wrong codes from one address in ten minutes, and the sixth attempt
// — even with the right code — is refused with a message; each failure is
// audited with the address.
func TestSSHWrongCodeRateLimit(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, _ := s.invite(t, "Acme Corp")
	for i := range CodeFailLimit {
		ans := &sshAnswer{codes: []string{"zzzz-zzzz-zzzz-zzz" + string(rune('a'+i))}}
		if c, err := sshDial(s.addr, "setup", ans.method()); err == nil {
			c.Close()
			t.Fatal("a wrong code was accepted")
		}
	}
	ans := &sshAnswer{codes: []string{code}}
	if c, err := sshDial(s.addr, "setup", ans.method()); err == nil {
		c.Close()
		t.Fatal("the address was not limited after five wrong codes")
	}
	if len(ans.instructions) == 0 || !strings.Contains(ans.instructions[0], "Too many wrong invite codes") {
		t.Errorf("instructions = %q, want the limit explained", ans.instructions)
	}
	if c, err := sshDial(s.addr, code); err == nil {
		c.Close()
		t.Fatal("the code as user name got past the limit")
	}
	failures := 0
	for _, e := range s.audit(t) {
		if e.Action == "auth.failure" {
			failures++
			if e.Address != "127.0.0.1" {
				t.Errorf("failure without the address: %+v", e)
			}
		}
	}
	if failures != CodeFailLimit {
		t.Errorf("%d failures audited, want %d", failures, CodeFailLimit)
	}
}

func TestFailLimiterWindow(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	l := newFailLimiter(5, 10*time.Minute, func() time.Time { return now })
	for range 5 {
		l.fail("192.0.2.1")
		now = now.Add(time.Minute)
	}
	if blocked, wait := l.blocked(context.Background(), "192.0.2.1"); !blocked || wait != 5*time.Minute {
		t.Fatalf("blocked = %v, wait %s; want blocked for 5m (until the oldest leaves the window)", blocked, wait)
	}
	if blocked, _ := l.blocked(context.Background(), "192.0.2.2"); blocked {
		t.Fatal("another address is blocked")
	}
	now = now.Add(5 * time.Minute)
	if blocked, _ := l.blocked(context.Background(), "192.0.2.1"); blocked {
		t.Fatal("still blocked once the oldest failure left the window")
	}
}

// A session without a PTY, or with a command, is refused with a message
// that says how to connect.
func TestSSHNoPTY(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, _ := s.invite(t, "Acme Corp")
	c, err := sshDial(s.addr, code)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range []string{"", "connections export conn_x"} {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, stderr bytes.Buffer
		sess.Stdout, sess.Stderr = &out, &stderr
		if cmd == "" {
			err = sess.Run("")
			_ = err
		} else {
			_ = sess.RequestPty("xterm", 24, 80, nil)
			err = sess.Run(cmd)
		}
		var exit *gossh.ExitError
		if !errorsAs(err, &exit) || exit.ExitStatus() != 1 {
			t.Errorf("%q: err = %v, want exit status 1", cmd, err)
		}
		want := map[string]string{"": "needs a terminal", "connections export conn_x": "connect without a command"}[cmd]
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("%q: stderr %q, want %q", cmd, stderr.String(), want)
		}
		sess.Close()
	}
}

func errorsAs(err error, target **gossh.ExitError) bool {
	e, ok := err.(*gossh.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// Garbage on the SSH port and garbage typed into a session neither crash
// the server nor disturb another session; a terminal too small gets a
// message instead of a broken screen.
func TestSSHGarbageAndTinyTerminal(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, _ := s.invite(t, "Acme Corp")

	_, watcher := s.connect(t, 80, 24, code)

	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.UintN(256))
	}
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.Write(junk)
	raw.Close()

	_, noisy := s.connect(t, 80, 24, code)
	noisy.send(string(junk[:8<<10]) + "\x1b[" + "\x1b]11;" + "\x1bP" + "\x03")

	// The other session still answers: it redraws for a tiny window.
	if err := watcher.sess.WindowChange(10, 30); err != nil {
		t.Fatal(err)
	}
	watcher.waitFor(t, "larger")
	if err := watcher.sess.WindowChange(24, 80); err != nil {
		t.Fatal(err)
	}
	watcher.waitFor(t, "Start: Organization")

	// And new sessions still start.
	s.connect(t, 80, 24, code)
}

// A customer's session is walled into its organization: another
// organization's connection and draft are not shown, typing their IDs
// creates nothing there, and commands (an export) are refused.
func TestSSHWall(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	ctx := context.Background()
	other := &flow.Connection{Organization: "Globex", Name: "Globex SSO", Status: flow.StatusDraft,
		ClientID: "globex-client", ClientSecret: "globex-secret-value", Claims: flow.DefaultClaimMapping()}
	if err := s.st.SaveConnection(ctx, other); err != nil {
		t.Fatal(err)
	}
	form, _ := json.Marshal(steps.Setup{Connection: *other})
	draft, err := s.st.SaveDraft(ctx, store.Draft{Organization: "Globex", ConnectionID: other.ID, Step: 2, Form: form, Actor: "local:x"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.st.GetConnection(ctx, other.ID)

	code, _ := s.invite(t, "Acme Corp")
	c, term := s.connect(t, 80, 24, code)
	term.waitFor(t, "Acme Corp")
	for _, secret := range []string{"Globex", other.ID, draft.ID, "globex-client"} {
		if strings.Contains(term.all(), secret) {
			t.Errorf("the customer's screen shows %q", secret)
		}
	}
	// Type the other organization's IDs where names go, and continue.
	term.answer(t, other.ID+" "+draft.ID+"\r", "Step 1 of 7")

	after, err := s.st.GetConnection(ctx, other.ID)
	if err != nil || after.Organization != "Globex" || !after.UpdatedAt.Equal(before.UpdatedAt) || after.Name != before.Name {
		t.Errorf("the other organization's connection changed: %+v (err %v)", after, err)
	}
	if d, err := s.st.GetDraft(ctx, draft.ID); err != nil || d.Organization != "Globex" || !d.UpdatedAt.Equal(draft.UpdatedAt) {
		t.Errorf("the other organization's draft changed: %+v (err %v)", d, err)
	}
	conns, _ := s.st.ListConnections(ctx, "")
	for _, cn := range conns {
		if cn.ID != other.ID && cn.Organization != "Acme Corp" {
			t.Errorf("the customer created %s in %q", cn.ID, cn.Organization)
		}
	}
	if globex, _ := s.st.ListConnections(ctx, "Globex"); len(globex) != 1 {
		t.Errorf("Globex has %d connections, want its own one", len(globex))
	}

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := sess.CombinedOutput("connections export " + other.ID)
	if strings.Contains(string(out), "globex") || !strings.Contains(string(out), "without a command") {
		t.Errorf("an export over SSH printed %q", out)
	}
}

// The callback listener serves every session at the public URL and routes
// by state: a callback for one session's login never completes another's.
func TestSSHCallbacksRouteByState(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	a := s.srv.sessionEnv(t.Context(), identity{actor: "invite:inv_a", organization: "Acme Corp"}, "127.0.0.1")
	b := s.srv.sessionEnv(t.Context(), identity{actor: "invite:inv_b", organization: "Globex"}, "127.0.0.1")
	uriA, uriB := a.RedirectURIFor("conn_aaaaaa"), b.RedirectURIFor("conn_bbbbbb")
	if !strings.HasPrefix(uriA, s.url+"/callback/") {
		t.Fatalf("Redirect URI %s is not under the public URL %s", uriA, s.url)
	}
	srvA, err := a.Callbacks(uriA)
	if err != nil {
		t.Fatal(err)
	}
	srvB, err := b.Callbacks(uriB)
	if err != nil || srvA != srvB {
		t.Fatalf("sessions do not share the callback server (%v)", err)
	}
	if _, err := a.Callbacks("http://evil.example/callback/x"); err == nil {
		t.Error("a redirect URI off the public URL was accepted")
	}
	chA, cancelA, err := srvA.Register(uriA, "state-a")
	if err != nil {
		t.Fatal(err)
	}
	defer cancelA()
	chB, cancelB, err := srvB.Register(uriB, "state-b")
	if err != nil {
		t.Fatal(err)
	}
	defer cancelB()

	get := func(path string) int {
		code, _ := httpStatus(s.url + path) // 0 when the request failed
		return code
	}
	if code := get("/callback/conn_bbbbbb?code=x&state=forged"); code != http.StatusBadRequest {
		t.Errorf("an unknown state got %d, want 400", code)
	}
	go get("/callback/conn_bbbbbb?code=for-a&state=state-a")
	select {
	case cb := <-chA:
		cb.Reply(flow.ResultPage{OK: true})
		if cb.Code != "for-a" {
			t.Errorf("A got %+v", cb)
		}
	case cb := <-chB:
		t.Fatalf("B's login received A's callback: %+v", cb)
	case <-time.After(sshWait):
		t.Fatal("A's callback never arrived")
	}
	select {
	case cb := <-chB:
		t.Fatalf("B's login completed with %+v", cb)
	default:
	}
}

// Idle sessions are warned, then saved and disconnected with a reason; the
// session limit turns away the one too many.
func TestSSHIdleAndSessionLimit(t *testing.T) {
	t.Parallel()
	s := sshStart(t, func(o *ServerOptions) { o.IdleTimeout = 1500 * time.Millisecond; o.MaxSessions = 1 })
	code, _ := s.invite(t, "Acme Corp")
	_, term := s.connect(t, 80, 24, code)

	c2, err := sshDial(s.addr, code)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if stderr, err := sshRefusal(t, c2); err == nil || !strings.Contains(stderr, "busy") {
		t.Errorf("the session over the limit: err %v, stderr %q", err, stderr)
	}

	term.waitFor(t, "Press any key to stay")
	term.waitEnd(t)
	if !strings.Contains(term.all(), "without a key press") {
		t.Errorf("the idle disconnection was not explained: %q", term.all())
	}
	if e := s.waitAudit(t, "session.end"); !strings.Contains(e.Detail, "without a key press") {
		t.Errorf("session_end = %+v", e)
	}
}

// On shutdown every session is told and its draft saved, with what was
// typed last, and the server stops well within 10 s.
func TestSSHShutdownSavesDrafts(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	term, _ := s.customerAtCredentials(t, "Acme Corp")
	term.answer(t, "client-typed-last", "client-typed-last")

	s.stop(t)
	if s.stopped > 10*time.Second {
		t.Errorf("shutdown took %s", s.stopped)
	}
	term.waitEnd(t)
	if !strings.Contains(term.all(), "shutting down") {
		t.Errorf("the session was not told: %q", term.all())
	}
	var setup steps.Setup
	stepstest.OnlyDraft(t, s.st, "Acme Corp", &setup)
	if setup.Connection.ClientID != "client-typed-last" || setup.Step != steps.StepCredentials {
		t.Errorf("the draft holds step %d, client ID %q", setup.Step, setup.Connection.ClientID)
	}
}

func TestCheckPublicURL(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"https://onboard.example.com":  true,
		"https://onboard.example.com/": true,
		"http://localhost:8976":        true,
		"http://onboard.example.com":   false,
		"onboard.example.com":          false,
		"https://x.example/?a=b":       false,
	} {
		if _, err := CheckPublicURL(in); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v", in, err)
		}
	}
}

// A dropped connection ends what its session started at once: the test
// login waiting for its callback stops waiting, so a callback with its
// state is refused (HTTP 400) within a second of the drop.
func TestSSHDroppedSessionEndsItsTestLogin(t *testing.T) {
	t.Parallel()
	idp, err := demoidp.Start(t.Context(), demoidp.Options{AllowLoopbackRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	s := sshStart(t, func(o *ServerOptions) {
		o.HTTP = flow.NewHTTPClient(flow.ClientOptions{Timeout: 5 * time.Second}) // the IdP is on loopback
	})
	ctx := t.Context()
	conn := &flow.Connection{Organization: "Acme Corp", Name: "Acme SSO", Status: flow.StatusDraft,
		DiscoveryURL: idp.DiscoveryURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Claims: flow.DefaultClaimMapping(), GroupsClaim: flow.DefaultGroupsClaim}
	if err := s.st.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	conn.RedirectURI = s.url + "/callback/" + conn.ID
	form, _ := json.Marshal(steps.Setup{Connection: *conn, Step: steps.StepTestLogin, Reached: steps.StepTestLogin})
	if _, err := s.st.SaveDraft(ctx, store.Draft{Organization: conn.Organization, ConnectionID: conn.ID,
		Step: steps.StepTestLogin, Form: form, Actor: "local:x"}); err != nil {
		t.Fatal(err)
	}

	code, _ := s.invite(t, "Acme Corp")
	c, err := sshDial(s.addr, code)
	if err != nil {
		t.Fatal(err)
	}
	term := sshOpenTerm(t, c, 400, 30) // wide enough for the authorization URL on one line
	term.waitFor(t, "stopped at Test login")
	term.answer(t, "\r", "start the test login") // resume the draft
	term.answer(t, "\r", "Waiting for you to sign in")
	m := regexp.MustCompile(`[?&]state=([A-Za-z0-9_-]+)`).FindStringSubmatch(term.screen())
	if m == nil {
		t.Fatalf("no state in the authorization URL on screen:\n%s", term.screen())
	}
	callback := conn.RedirectURI + "?code=x&state=" + m[1]

	c.Close() // the client drops: no goodbye, no quit
	// A callback with a known state is taken at most once: one try, a
	// second after the drop, tells a forgotten state from a waiting login.
	time.Sleep(time.Second)
	status, err := httpStatus(callback)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest {
		t.Fatalf("a second after the drop, the login still took its callback (HTTP %d, want 400)", status)
	}
}

// Durations in lists and notices read as a person says them: whole
// seconds under a minute, whole minutes above, and no "0s" or "0m" tails —
// nor a cut-off digit (30s once read "3").
func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		1500 * time.Millisecond:            "2s",
		10 * time.Second:                   "10s",
		30 * time.Second:                   "30s",
		59 * time.Second:                   "59s",
		2 * time.Minute:                    "2m",
		10*time.Minute + 20*time.Second:    "10m",
		time.Hour:                          "1h",
		time.Hour + 30*time.Minute:         "1h30m",
		2*time.Hour + 10*time.Minute + 5e9: "2h10m",
	} {
		if got := roundDuration(d); got != want {
			t.Errorf("roundDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
