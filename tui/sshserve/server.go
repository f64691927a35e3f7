package sshserve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	"charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/tui"
)

// Defaults of the SSH server's limits.
const (
	DefaultMaxSessions = 100
	// DefaultMaxPerInvite sessions may use one invite code at once, and
	// DefaultMaxPerOrg the invites of one organization together: one code
	// cannot fill the server.
	DefaultMaxPerInvite  = 3
	DefaultMaxPerOrg     = 10
	DefaultIdleTimeout   = 15 * time.Minute
	DefaultMaxSession    = 2 * time.Hour
	DefaultShutdownGrace = 8 * time.Second
	DefaultConsentWait   = time.Minute
	// CodeFailLimit wrong invite codes per address in CodeFailWindow, then
	// the address is refused until the oldest leaves the window.
	CodeFailLimit  = 5
	CodeFailWindow = 10 * time.Minute
)

// idleWarning is how long before an idle disconnection the session is
// warned (at most half the idle timeout).
const idleWarning = time.Minute

// ServerOptions configure the self-serve SSH server.
type ServerOptions struct {
	// Store persists everything; sessions share it.
	Store *store.Store
	// HostKey is the server's SSH host key (see LoadHostKey).
	HostKey gossh.Signer
	// PublicURL is where browsers reach the callback listener, without a
	// path (e.g. https://onboard.example.com): every Redirect URI is
	// PublicURL + "/callback/" + the connection's ID.
	PublicURL string
	// AuthorizedKeys is the OpenSSH authorized_keys file of the support
	// engineers; empty admits customers (invite codes) only.
	AuthorizedKeys string
	// HTTP is the client for every call to an IdP (guarded by NetGuard
	// unless private networks are allowed); Timeout bounds each call.
	HTTP    *http.Client
	Timeout time.Duration
	// Limits; zero means the default. Customers may fill MaxSessions only
	// up to the engineers' reserve (a tenth, at least one of two or more),
	// so that support can always get in.
	MaxSessions   int
	MaxPerInvite  int
	MaxPerOrg     int
	IdleTimeout   time.Duration
	MaxSession    time.Duration
	ShutdownGrace time.Duration
	// ConsentWait is how long a customer's question (may NAME watch, may
	// they type) waits for an answer; then it is a no.
	ConsentWait time.Duration
	// Demo pre-fills every session's credentials with the demo IdP.
	Demo *steps.Demo
	// Log receives one line per session and per server event.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SSHHost is the server as customers reach it, HOST[:PORT], for the
	// command shown with the invites engineers make in the wizard; empty
	// shows the code only.
	SSHHost string
	// Advertise is where the other instances on the database reach this
	// one over SSH, HOST:PORT; empty means the SSH listener's address
	// when it is a concrete one.
	Advertise string

	// setupSlots and setupHold tune the setup gate (tests): how many
	// connections set up at once (0: two per core), and how long one may
	// keep its place (0: a second).
	setupSlots int
	setupHold  time.Duration
}

// Server serves the wizard over SSH, one Bubble Tea program per session,
// and the test-login callbacks of every session over HTTP.
type Server struct {
	opts      ServerOptions
	ssh       *ssh.Server
	callbacks *flow.CallbackServer
	limiter   *failLimiter
	cluster   *cluster      // this instance among the others on the database
	ready     chan struct{} // closed once Serve has started the callback listener
	guides    *steps.Guides // the provider guides, rendered once for every session
	setups    *setupGate    // the connections setting up now
	themes    *steps.Themes // the dark and light themes, built once for every session
	stacks    *stackPool    // the goroutines the sessions' wizards update on
	rechecks  *rechecks     // the customer sessions whose invites are to be read again

	mu       sync.Mutex
	sessions map[*liveSession]struct{}
	streams  map[chan Event]struct{} // the engineers' `events`; s.mu
	perKey   map[string]int          // sessions per "invite:ID" and per "org:NAME"; s.mu
	count    atomic.Int64
	wg       sync.WaitGroup
}

// NewServer builds the server; Serve runs it.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Store == nil || opts.HostKey == nil || opts.HTTP == nil {
		return nil, errors.New("sshserve.NewServer: Store, HostKey and HTTP are required")
	}
	base, err := CheckPublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	opts.PublicURL = base
	opts.MaxSessions = cmp.Or(opts.MaxSessions, DefaultMaxSessions)
	opts.MaxPerInvite = cmp.Or(opts.MaxPerInvite, DefaultMaxPerInvite)
	opts.MaxPerOrg = cmp.Or(opts.MaxPerOrg, DefaultMaxPerOrg)
	opts.IdleTimeout = cmp.Or(opts.IdleTimeout, DefaultIdleTimeout)
	opts.MaxSession = cmp.Or(opts.MaxSession, DefaultMaxSession)
	opts.ShutdownGrace = cmp.Or(opts.ShutdownGrace, DefaultShutdownGrace)
	opts.ConsentWait = cmp.Or(opts.ConsentWait, DefaultConsentWait)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, sessions: map[*liveSession]struct{}{}, perKey: map[string]int{}, ready: make(chan struct{}), stacks: newStackPool(stackIdle),
		streams: map[chan Event]struct{}{}, guides: steps.NewGuides(), themes: steps.NewThemes(),
		limiter: newFailLimiter(CodeFailLimit, CodeFailWindow, opts.Now)}
	s.limiter.shared = opts.Store
	s.rechecks = newRechecks(recheckEvery, s.checkInvites)
	s.cluster = newCluster(opts.Store, opts.Log, opts.Now, func() *flow.CallbackServer { return s.callbacks }, s.localSessions)
	s.cluster.heard = s.deliver
	s.ssh, err = wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(opts.HostKey); return nil }, // before wish generates one
		ssh.PublicKeyAuth(s.publicKey),
		ssh.KeyboardInteractiveAuth(s.keyboardInteractive),
		wish.WithMiddleware(recover.MiddlewareWithLogger(slogPrinter{opts.Log},
			bubbletea.MiddlewareWithProgramHandler(s.program),
			s.sessionMiddleware,
			s.ptyMiddleware,
			s.commandMiddleware,
			s.handoffMiddleware,
			s.authMiddleware,
		)),
	)
	if err != nil {
		return nil, err
	}
	s.ssh.HandshakeTimeout = 30 * time.Second
	// A session ends on its own after MaxSession; the connection's hard
	// limit leaves room for saving the draft and saying goodbye.
	s.ssh.MaxTimeout = opts.MaxSession + time.Minute
	s.ssh.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
		return &gossh.ServerConfig{
			NoClientAuth:         true,
			NoClientAuthCallback: func(meta gossh.ConnMetadata) (*gossh.Permissions, error) { return s.codeAsUser(ctx, meta) },
		}
	}
	s.setups = newSetupGate(cmp.Or(opts.setupSlots, setupSlots()), cmp.Or(opts.setupHold, time.Second), s.ssh.HandshakeTimeout)
	s.ssh.ConnCallback = func(ctx ssh.Context, conn net.Conn) net.Conn {
		leave := s.setups.enter(ctx)
		ctx.SetValue(setupKey, leave)
		state := &connState{}
		ctx.SetValue(connStateKey, state)
		s.closeWithoutSession(ctx, conn, state)
		return &gatedConn{Conn: conn, leave: leave}
	}
	s.ssh.ConnectionFailedCallback = func(conn net.Conn, err error) {
		opts.Log.Info("ssh connection refused", "address", hostOf(conn.RemoteAddr()), "reason", err.Error())
	}
	return s, nil
}

// CheckPublicURL accepts an absolute http(s) URL without a query, and plain
// http only for loopback hosts (a browser far away needs https); it returns
// it without a trailing slash.
func CheckPublicURL(raw string) (string, error) {
	raw = strings.TrimSuffix(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &flow.Error{Code: flow.CodeBadPublicURL, Message: fmt.Sprintf("%q is not a public URL", raw),
			Fix: "give the https address browsers use to reach --http-addr, e.g. https://onboard.example.com"}
	}
	if err := flow.CheckURLScheme(u); err != nil {
		return "", &flow.Error{Code: flow.CodeBadPublicURL, Message: fmt.Sprintf("the public URL %s must use https", raw),
			Fix: "put the callback listener behind a TLS proxy and give its https address (plain http works only for localhost)"}
	}
	return raw, nil
}

// Serve accepts SSH sessions on sshLn and callbacks on httpLn until ctx
// ends; then every session is told, its draft saved, and Serve returns
// within ShutdownGrace plus a moment.
func (s *Server) Serve(ctx context.Context, sshLn, httpLn net.Listener) error {
	cb, err := flow.StartCallbackServer(s.opts.PublicURL+"/callback", flow.CallbackOptions{
		Page: assets.CallbackPage(), Listeners: []net.Listener{httpLn}, ErrorLog: errorLog(s.opts.Log),
		Pages: s.invitePages(), Registered: s.cluster.registered(), Forward: s.cluster.forwarder()})
	if err != nil {
		return err
	}
	s.callbacks = cb
	// The registry and the hand-over run through the shutdown; then the
	// instance's rows go.
	clusterCtx, stopCluster := context.WithCancel(context.WithoutCancel(ctx))
	s.cluster.start(clusterCtx, advertised(s.opts.Advertise, sshLn.Addr()))
	defer func() { stopCluster(); s.cluster.stop() }()
	close(s.ready)
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.ssh.Serve(sshLn) }()
	reaperDone := make(chan struct{})
	reaperCtx, stopReaper := context.WithCancel(context.WithoutCancel(ctx)) // runs through the shutdown
	go func() { defer close(reaperDone); s.reap(reaperCtx) }()
	defer func() { stopReaper(); <-reaperDone }()

	select {
	case err := <-serveErr:
		_ = cb.Close()
		return err
	case <-ctx.Done():
	}
	return s.shutdown(context.WithoutCancel(ctx), cb)
}

// shutdown stops accepting, tells every session and lets it save its
// draft, then closes whatever is left.
func (s *Server) shutdown(ctx context.Context, cb *flow.CallbackServer) error {
	grace := s.opts.ShutdownGrace
	s.opts.Log.Info("shutting down", "sessions", s.count.Load())
	stopped := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(ctx, grace)
		defer cancel()
		_ = s.ssh.Shutdown(ctx) // closes the listener; waits for connections
		close(stopped)
	}()
	for _, ls := range s.live() {
		ls.close("The server is shutting down. Your draft is saved; connect again later with the same command to resume.")
	}
	sessionsDone := make(chan struct{})
	go func() { s.wg.Wait(); close(sessionsDone) }()
	select {
	case <-sessionsDone:
	case <-time.After(grace):
	}
	err := s.ssh.Close() // connections whose clients linger
	<-stopped
	cbCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = cb.Shutdown(cbCtx)
	if errors.Is(err, ssh.ErrServerClosed) {
		err = nil
	}
	return err
}

// connState is what the server knows of one SSH connection: whether it
// has opened a session yet.
type connState struct{ sessions atomic.Int64 }

// closeWithoutSession closes a connection that opens no session within
// the idle timeout (ssh -N, or a client that authenticated and waits):
// the sessions' own idle timer never sees it. It is audited. A timer, not
// a goroutine per connection: it is stopped when the connection ends.
func (s *Server) closeWithoutSession(ctx ssh.Context, conn net.Conn, state *connState) {
	timer := time.AfterFunc(s.opts.IdleTimeout, func() {
		if state.sessions.Load() > 0 || ctx.Err() != nil {
			return
		}
		s.audit(ctx, actorOf(ctx), hostOf(conn.RemoteAddr()), "connection.closed", inviteOrg(ctx),
			fmt.Sprintf("no session opened within %s", s.opts.IdleTimeout))
		_ = conn.Close()
	})
	context.AfterFunc(ctx, func() { timer.Stop() })
}

// Ready is closed once Serve accepts callbacks and sessions.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Sessions is the number of sessions running now.
func (s *Server) Sessions() int { return int(s.count.Load()) }

func (s *Server) live() []*liveSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*liveSession, 0, len(s.sessions))
	for ls := range s.sessions {
		out = append(out, ls)
	}
	return out
}

// audit records a server event, best effort.
func (s *Server) audit(ctx context.Context, actor, addr, action, org, detail string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.opts.Store.Audit(ctx, store.Event{Actor: actor, Address: addr, Action: action, Organization: org, Detail: detail}); err != nil {
		s.opts.Log.Warn("audit event not recorded", "action", action, "error", err.Error())
	}
}

// Middlewares, in the order a session meets them.

type ctxKey struct{ name string }

var (
	identityKey  = &ctxKey{"identity"}
	sessionKey   = &ctxKey{"session"}
	connStateKey = &ctxKey{"conn"}
)

// authMiddleware re-checks who the session is now: a key removed from the
// authorized keys, or an invite revoked since the handshake, is refused.
func (s *Server) authMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer setupDone(sess.Context()) // a command, a refusal: the wizard's is given back at its first screen
		if state, ok := sess.Context().Value(connStateKey).(*connState); ok {
			state.sessions.Add(1)
		}
		addr := hostOf(sess.RemoteAddr())
		id, err := s.identify(sess)
		if err != nil {
			s.audit(sess.Context(), "ssh:anonymous", addr, "auth.failure", "", err.Error())
			refuse(sess, "Not let in: "+err.Error()+". Ask the person who invited you for a new code.")
			return
		}
		s.audit(sess.Context(), id.actor, addr, "auth.success", id.organization, "")
		sess.Context().SetValue(identityKey, id)
		next(sess)
	}
}

// ptyMiddleware refuses sessions without a terminal with a message that
// says what to type instead.
func (s *Server) ptyMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, ok := sess.Pty(); !ok {
			refuse(sess, "oidc-onboard is an interactive wizard and needs a terminal. Connect with: ssh -t -p PORT USER@HOST (without a command).")
			return
		}
		if len(sess.Command()) > 0 {
			refuse(sess, "This server runs only the setup wizard; connect without a command.")
			return
		}
		next(sess)
	}
}

// sessionMiddleware enforces the session limit, keeps the session in the
// live set for the reaper and the shutdown, and audits its start and end.
func (s *Server) sessionMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		id, _ := sess.Context().Value(identityKey).(identity)
		addr := hostOf(sess.RemoteAddr())
		ls := newLiveSession(sess.Context(), id, s.opts.Now())
		if full := s.admit(sess.Context(), ls, id); full != "" {
			s.audit(sess.Context(), id.actor, addr, "session.refused", id.organization, full)
			refuse(sess, "The setup server is busy right now. Please try again in a few minutes.")
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		defer s.leave(ls, id)
		if isEngineer(id) { // may watch a session of another instance
			g := newGated(sess)
			sess, ls.gate = g, g.g
		}
		sess.Context().SetValue(sessionKey, ls)
		s.audit(sess.Context(), id.actor, addr, "session.start", id.organization, "")
		s.opts.Log.Info("session start", "actor", id.actor, "address", addr, "organization", id.organization)
		started := s.opts.Now()

		next(sess)
		ls.stopWatching()
		ls.end()
		if st := ls.statusNow(); id.invite != "" && st.draft {
			s.emit(ls, EventLeftWithDraft, fmt.Sprintf("at step %d %s", st.step, st.stepTitle))
		}

		reason := ls.reason()
		detail := fmt.Sprintf("after %s", s.opts.Now().Sub(started).Round(time.Second))
		if reason != "" {
			detail += ": " + reason
			fmt.Fprintf(sess, "\r\n%s\r\n", reason)
		} else if note := s.leaveNote(sess.Context(), id); note != "" {
			fmt.Fprintf(sess, "\r\n%s\r\n", note)
		}
		s.audit(sess.Context(), id.actor, addr, "session.end", id.organization, detail)
		s.opts.Log.Info("session end", "actor", id.actor, "address", addr, "detail", detail)
		_ = sess.Exit(0)
	}
}

// admit counts a new session in, or says which limit it would pass: the
// server's (customers leave the engineers' reserve free), the invite's or
// the organization's, which count the sessions of every instance.
func (s *Server) admit(ctx context.Context, ls *liveSession, id identity) string {
	invite, org := s.elsewhere(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int(s.count.Load())
	switch {
	case n >= s.opts.MaxSessions:
		return "server full"
	case id.invite != "" && n >= s.opts.MaxSessions-engineersReserve(s.opts.MaxSessions):
		return "server full for customers (the rest is kept for support engineers)"
	case id.invite != "" && s.perKey["invite:"+id.invite]+invite >= s.opts.MaxPerInvite:
		return fmt.Sprintf("this invite code already has %d sessions", s.opts.MaxPerInvite)
	case id.organization != "" && s.perKey["org:"+id.organization]+org >= s.opts.MaxPerOrg:
		return fmt.Sprintf("the organization already has %d sessions", s.opts.MaxPerOrg)
	}
	s.count.Add(1)
	if ls != nil { // nil: an engineer's join, not a wizard
		s.sessions[ls] = struct{}{}
	}
	if id.invite != "" {
		s.perKey["invite:"+id.invite]++
		s.perKey["org:"+id.organization]++
	}
	return ""
}

// elsewhere counts customer id's invite's and organization's live
// sessions on the other instances, as the registry has them (a session
// is in it from its instance's next heartbeat).
func (s *Server) elsewhere(ctx context.Context, id identity) (invite, org int) {
	if id.invite == "" {
		return 0, 0
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, i := range s.cluster.othersOf(ctx, id.organization) {
		if i.State != stateLive || i.Organization != id.organization {
			continue
		}
		org++
		if i.invite == id.invite {
			invite++
		}
	}
	return invite, org
}

// engineersReserve is how many of max sessions only support engineers may
// take: a tenth, at least one when there are two or more.
func engineersReserve(max int) int {
	if max < 2 {
		return 0
	}
	return cmp.Or(max/10, 1)
}

// leave counts a session out (ls nil: a join).
func (s *Server) leave(ls *liveSession, id identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count.Add(-1)
	delete(s.sessions, ls)
	for _, k := range []string{"invite:" + id.invite, "org:" + id.organization} {
		if id.invite != "" {
			if s.perKey[k]--; s.perKey[k] <= 0 {
				delete(s.perKey, k)
			}
		}
	}
}

// refuse tells the client why and ends the session.
func refuse(sess ssh.Session, msg string) {
	fmt.Fprintf(sess.Stderr(), "%s\r\n", msg)
	_ = sess.Exit(1)
}

// program builds the session's wizard: its own Env walled into the
// invite's organization for a customer, its own program and renderer with
// the client's colour profile.
func (s *Server) program(sess ssh.Session) *tea.Program {
	id, _ := sess.Context().Value(identityKey).(identity)
	ls, _ := sess.Context().Value(sessionKey).(*liveSession)
	if ls == nil {
		return nil
	}
	env := s.sessionEnv(sess.Context(), id, hostOf(sess.RemoteAddr()))
	env.Recheck = s.recheck(id, ls)
	env.Watched = ls.watched
	addr := hostOf(sess.RemoteAddr())
	hooks := sessionHooks{audit: func(action, detail string) {
		s.audit(ls.ctx, id.actor, addr, action, id.organization, detail)
	}, consentWait: s.opts.ConsentWait}
	if id.invite != "" {
		hooks.event = func(kind, detail string) { s.emit(ls, kind, detail) }
	}
	if isEngineer(id) {
		env.Live = s.liveList
		hooks.watch = func(sessionID string, width, height int) tea.Msg {
			return s.watchFromWizard(id, addr, ls, sessionID, width, height)
		}
	}
	hooks.ready = func() { setupDone(sess.Context()) }
	hooks.stacks = s.stacks
	m := newSessionModel(tui.New(env), ls, s.opts.Now, hooks)
	// The server owns the signals: a program of its own would die on the
	// operator's ctrl+c before its draft is saved.
	opts := append([]tea.ProgramOption{tea.WithContext(ls.ctx), tea.WithoutSignalHandler()}, bubbletea.MakeOptions(sess)...)
	p := tea.NewProgram(m, opts...)
	ls.setProgram(p)
	return p
}

// sessionEnv is one session's view of the world; what it starts ends with
// ctx, the SSH session's context (a dropped connection cancels it).
func (s *Server) sessionEnv(ctx context.Context, id identity, addr string) *steps.Env {
	return &steps.Env{
		Context:      ctx,
		Log:          s.opts.Log.With("actor", id.actor, "address", addr),
		Store:        s.opts.Store,
		HTTP:         s.opts.HTTP,
		Timeout:      s.opts.Timeout,
		Callbacks:    s.callbackServer,
		RedirectBase: s.opts.PublicURL,
		Now:          s.opts.Now,
		Actor:        id.actor,
		Address:      addr,
		Organization: id.organization,
		Customer:     id.invite != "",
		Demo:         s.opts.Demo,
		Invites:      s.invites(id),
		Guides:       s.guides,
		Themes:       s.themes,
	}
}

// recheckEvery is how often at most the server re-reads its customers'
// invites: the saves of a customer typing come a few times a second.
const recheckEvery = 3 * time.Second

// recheck is a customer session's check after its draft saves: an invite
// revoked or expired since the session began ends it within recheckEvery
// of the next save, with the draft saved, instead of at the session's
// time limit.
func (s *Server) recheck(id identity, ls *liveSession) func(context.Context) {
	if id.invite == "" {
		return nil // engineers' keys are checked at each connection
	}
	return func(context.Context) { s.rechecks.add(ls, id) }
}

// rechecks gathers the customer sessions whose invites are due to be read
// again, and reads them all in one query, at most once every every: a
// session added within that time of the last reading is not dropped, but
// read with the others when the time is up. At 500 sessions typing, one
// reading per session came to 2% of the server's CPU.
type rechecks struct {
	every time.Duration
	check func(ctx context.Context, due map[*liveSession]identity)

	mu    sync.Mutex
	due   map[*liveSession]identity
	last  time.Time // the last reading's start
	armed bool      // a reading is due
}

func newRechecks(every time.Duration, check func(context.Context, map[*liveSession]identity)) *rechecks {
	return &rechecks{every: every, check: check, due: map[*liveSession]identity{}}
}

func (r *rechecks) add(ls *liveSession, id identity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.due[ls] = id
	if r.armed {
		return
	}
	r.armed = true
	time.AfterFunc(max(r.every-time.Since(r.last), 0), r.run)
}

// run reads the invites of the sessions due now.
func (r *rechecks) run() {
	r.mu.Lock()
	due := r.due
	r.due, r.armed, r.last = map[*liveSession]identity{}, false, time.Now()
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), r.every)
	defer cancel()
	r.check(ctx, due)
}

// checkInvites ends each of the sessions due whose invite is no longer
// good (and that have not ended meanwhile).
func (s *Server) checkInvites(ctx context.Context, due map[*liveSession]identity) {
	s.mu.Lock()
	ids := make([]string, 0, len(due))
	for ls, id := range due {
		if _, live := s.sessions[ls]; live {
			ids = append(ids, id.invite)
		} else {
			delete(due, ls)
		}
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	invs, err := s.opts.Store.GetInvites(ctx, slices.Compact(ids))
	if err != nil {
		// A store that cannot answer now is asked again at the next save.
		return
	}
	for ls, id := range due {
		inv, ok := invs[id.invite]
		var err error
		if !ok {
			err = errInviteUnknown
		}
		err = s.judgeInvite(inv, err, id.organization)
		if err == nil || errors.Is(err, errInviteUsed) {
			// An invite closed by this very setup's activation lets the
			// customer read their last screen.
			continue
		}
		s.audit(ctx, id.actor, "", "session.ended", id.organization, err.Error())
		ls.close("Your session ended: " + err.Error() + ". Your draft is saved; ask the person who invited you for a new code to go on.")
	}
}

// callbackServer is every session's callback server: the one behind the
// public URL, routing each callback by its state to the login waiting for it.
func (s *Server) callbackServer(redirectURI string) (*flow.CallbackServer, error) {
	if !strings.HasPrefix(redirectURI, s.opts.PublicURL+"/") {
		return nil, &flow.Error{Code: flow.CodeRedirectURIServer,
			Message: fmt.Sprintf("the redirect URI %s is not served by this server (%s)", redirectURI, s.opts.PublicURL),
			Fix:     "go back to step 1 and register the Redirect URI shown there"}
	}
	return s.callbacks, nil
}

// slogPrinter adapts the log to the recover middleware.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i] // the panic, without the stack trace
	}
	p.l.Error(msg)
}
