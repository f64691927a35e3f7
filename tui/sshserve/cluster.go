package sshserve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// Several instances of `serve` behind one load balancer share one
// database, and through it know of each other (store/cluster.go):
//   - each instance heartbeats and keeps its customer sessions in the
//     registry, so the engineers' list shows every instance's sessions,
//     and a dead instance's as lost;
//   - a test login records which instance waits for its state, so that a
//     callback the balancer sends to another instance is handed over
//     (PostgreSQL's LISTEN/NOTIFY, one channel per instance) and the
//     browser gets the owner's result page;
//   - the wrong invite codes are counted in the database (failLimiter).
//
// On SQLite (one instance) the registry works the same; there is no
// other instance to hand callbacks to.

// Timing of the registry.
const (
	// heartbeatEvery is how often an instance says it is alive and
	// writes its sessions' changes.
	heartbeatEvery = 2 * time.Second
	// lostAfter without a heartbeat, an instance's sessions are shown as
	// lost: a dead instance's sessions are lost within lostAfter plus
	// heartbeatEvery (under 15 s).
	lostAfter = 10 * time.Second
	// forgetAfter, a dead instance's rows are swept.
	forgetAfter = time.Hour
	// ackWait bounds the wait for the owner of a forwarded callback to
	// take it (a dead owner's browser waits that long for the 400), and
	// for recording a test login's owner; pageWait for its login's
	// result page. Both are far above the usual milliseconds: a loaded
	// database can take seconds to open a connection.
	ackWait  = 10 * time.Second
	pageWait = 25 * time.Second
	// maxHandoff is the largest notification PostgreSQL carries (8,000
	// bytes), with room for the envelope.
	maxHandoff = 7800
	// lastKeyGrain is how far the registry's "last key" may lag.
	lastKeyGrain = 10 * time.Second
	// keepIdle connections to the database stay open for the next query.
	keepIdle = 16
)

// Session states in the engineers' list.
const (
	stateLive = "live"
	stateLost = "lost" // its instance stopped heartbeating
)

// handoff is a message between instances about a forwarded callback.
type handoff struct {
	Kind  string           `json:"k"` // handoffCallback, handoffAck, handoffNak, handoffPage
	ID    string           `json:"id"`
	From  string           `json:"from,omitempty"`
	Query string           `json:"q,omitempty"`
	Page  *flow.ResultPage `json:"page,omitempty"`
}

const (
	handoffCallback = "callback" // a callback for the receiver's login
	handoffAck      = "ack"      // the login got it
	handoffNak      = "nak"      // no login waits for it (any more)
	handoffPage     = "page"     // the login's result page
)

// cluster is this instance among the others on the database.
type cluster struct {
	id        string
	st        *store.Store
	log       *slog.Logger
	now       func() time.Time
	callbacks func() *flow.CallbackServer
	local     func() []SessionInfo // this instance's customer sessions

	listening chan struct{} // closed once LISTEN holds (PostgreSQL)
	hearing   chan struct{} // closed once LISTEN on eventsChannel holds
	wg        sync.WaitGroup
	// heard delivers an event of another instance's customer here; set
	// before start.
	heard func(Event)

	mu      sync.Mutex
	sshAddr string                       // where the others reach this instance
	waiting map[string]chan handoff      // forwarded callbacks, by handoff ID
	written map[string]store.LiveSession // this instance's rows in the registry
	recent  recentIDs                    // events already delivered here
	stopped bool                         // no more events shared
	shares  sync.WaitGroup               // events being shared; Add under mu
}

func newCluster(st *store.Store, log *slog.Logger, now func() time.Time, callbacks func() *flow.CallbackServer, local func() []SessionInfo) *cluster {
	return &cluster{id: "i" + randomHex(5), st: st, log: log, now: now, callbacks: callbacks, local: local,
		listening: make(chan struct{}), hearing: make(chan struct{}), waiting: map[string]chan handoff{}, written: map[string]store.LiveSession{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// channel is the LISTEN channel of instance id.
func channel(id string) string { return "oidc_onboard_" + id }

// advertised is the SSH address other instances reach ln's at: the given
// one, else the listener's when it is a concrete address (not 0.0.0.0).
func advertised(given string, ln net.Addr) string {
	if given != "" {
		return given
	}
	if a, ok := ln.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return a.String()
	}
	return ""
}

// start registers the instance, then heartbeats (and, on PostgreSQL,
// listens for handed-over callbacks) until ctx ends. It returns once the
// instance is registered and listening, or after ackWait.
func (c *cluster) start(ctx context.Context, sshAddr string) {
	c.mu.Lock()
	c.sshAddr = sshAddr
	c.mu.Unlock()
	c.beat(ctx)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.heartbeats(ctx) }()
	c.st.KeepIdle(keepIdle)
	if !c.st.CanNotify() {
		return
	}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.listen(ctx, channel(c.id), c.listening, c.received) }()
	go func() { defer c.wg.Done(); c.listen(ctx, eventsChannel, c.hearing, c.receivedEvent) }()
	timeout := time.After(3 * time.Second)
	for _, ready := range []chan struct{}{c.listening, c.hearing} {
		select {
		case <-ready:
		case <-timeout:
			c.log.Warn("not listening for other instances' messages yet")
			return
		}
	}
}

// stop waits for the loops (ctx of start ended) and removes the
// instance's rows: its sessions leave the other instances' lists.
func (c *cluster) stop() {
	c.wg.Wait()
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.shares.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.st.RemoveInstance(ctx, c.id); err != nil {
		c.log.Warn("this instance's rows were not removed from the database", "error", err.Error())
	}
}

func (c *cluster) heartbeats(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.beat(ctx)
		if n%30 == 0 {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := c.st.SweepInstances(sctx, c.now().Add(-forgetAfter)); err != nil {
				c.log.Warn("dead instances' rows not swept", "error", err.Error())
			}
			cancel()
		}
	}
}

// beat records the heartbeat and writes the sessions that changed.
func (c *cluster) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
	defer cancel()
	c.mu.Lock()
	addr := c.sshAddr
	c.mu.Unlock()
	if err := c.st.Heartbeat(ctx, c.id, addr); err != nil {
		c.log.Warn("heartbeat not recorded", "error", err.Error())
		return
	}
	c.syncSessions(ctx)
}

// syncSessions writes this instance's sessions that changed since the
// last time, and removes those that ended: each in one transaction (on a
// busy server, hundreds of rows every heartbeat). A batch that fails is
// tried again whole at the next heartbeat.
func (c *cluster) syncSessions(ctx context.Context) {
	seen := map[string]bool{}
	var changed []store.LiveSession
	local := c.local() // the server's lock, not while holding c.mu
	c.mu.Lock()
	for _, i := range local {
		seen[i.ID] = true
		row := store.LiveSession{ID: i.ID, Instance: c.id, Organization: i.Organization, Who: i.Who, Invite: i.invite, Step: i.Step,
			StepTitle: i.StepTitle, StepSince: i.StepSince, LastKeyAt: i.LastKeyAt, Validation: i.Validation,
			TestLogin: i.TestLogin, Watchers: i.Watchers, StartedAt: i.StartedAt}
		if old, ok := c.written[i.ID]; !ok || !sameRow(old, row) {
			changed = append(changed, row)
		}
	}
	var gone []string
	for id := range c.written {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	c.mu.Unlock()
	if err := c.st.PutLiveSessions(ctx, changed...); err != nil {
		c.log.Warn("sessions not recorded in the registry", "sessions", len(changed), "error", err.Error())
	} else {
		c.mu.Lock()
		for _, row := range changed {
			c.written[row.ID] = row
		}
		c.mu.Unlock()
	}
	if err := c.st.DeleteLiveSessions(ctx, gone...); err != nil {
		c.log.Warn("ended sessions not removed from the registry", "sessions", len(gone), "error", err.Error())
		return
	}
	c.mu.Lock()
	for _, id := range gone {
		delete(c.written, id)
	}
	c.mu.Unlock()
}

// sameRow reports whether the registry's row a still says what b does: a
// last key less than lastKeyGrain later does not count, or every typing
// session would be written at every heartbeat.
func sameRow(a, b store.LiveSession) bool {
	return slices.Equal(a.Watchers, b.Watchers) && a.Step == b.Step && a.StepTitle == b.StepTitle &&
		a.StepSince.Equal(b.StepSince) && b.LastKeyAt.Sub(a.LastKeyAt).Abs() < lastKeyGrain &&
		a.Validation == b.Validation && a.TestLogin == b.TestLogin && a.Organization == b.Organization && a.Who == b.Who
}

// others are the other instances' sessions in the registry, each live or
// lost by its instance's heartbeat.
func (c *cluster) others(ctx context.Context) []SessionInfo {
	rows, err := c.st.LiveSessions(ctx)
	return c.infos(rows, err)
}

// othersOf is organization's sessions on the other instances.
func (c *cluster) othersOf(ctx context.Context, organization string) []SessionInfo {
	rows, err := c.st.LiveSessionsOf(ctx, organization, c.id)
	return c.infos(rows, err)
}

// infos is the registry's rows of the other instances, each live or lost
// by its instance's last heartbeat.
func (c *cluster) infos(rows []store.LiveSession, err error) []SessionInfo {
	if err != nil {
		c.log.Warn("the other instances' sessions could not be read", "error", err.Error())
		return nil
	}
	now := c.now()
	var out []SessionInfo
	for _, r := range rows {
		if r.Instance == c.id {
			continue
		}
		if r.Watchers == nil {
			r.Watchers = []string{}
		}
		state := stateLive
		if r.HeartbeatAt.IsZero() || now.Sub(r.HeartbeatAt) > lostAfter {
			state = stateLost
		}
		out = append(out, SessionInfo{ID: r.ID, Organization: r.Organization, Who: r.Who, Step: r.Step,
			StepTitle: r.StepTitle, StepSince: r.StepSince, LastKeyAt: r.LastKeyAt, Validation: r.Validation,
			TestLogin: r.TestLogin, Watchers: r.Watchers, StartedAt: r.StartedAt,
			Instance: r.Instance, State: state, invite: r.Invite})
	}
	return out
}

// fitQuery encodes a callback's parameters for a notification: an IdP's
// error description too long for one is cut (the login shows it cut
// anyway); the rest is never that long.
func fitQuery(q url.Values) string {
	enc := q.Encode()
	if len(enc) <= maxHandoff/2 {
		return enc
	}
	q = maps.Clone(q)
	for d := q.Get("error_description"); d != "" && len(enc) > maxHandoff/2; enc = q.Encode() {
		d = strings.ToValidUTF8(d[:len(d)*(maxHandoff/2)/len(enc)*9/10], "")
		q.Set("error_description", d)
	}
	return enc
}

// listen receives the messages of the other instances on ch until ctx
// ends, listening again after a lost connection; ready is closed once it
// listens.
func (c *cluster) listen(ctx context.Context, ch string, ready chan struct{}, got func(string)) {
	var once sync.Once
	for {
		err := c.st.Listen(ctx, ch, func() { once.Do(func() { close(ready) }) }, got)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("listening for other instances failed; again in a second", "error", errString(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// received handles one message; it must not block the listener.
func (c *cluster) received(payload string) {
	var m handoff
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.log.Warn("a message from another instance could not be read", "error", err.Error())
		return
	}
	if m.Kind == handoffCallback {
		go c.take(m)
		return
	}
	c.mu.Lock()
	ch := c.waiting[m.ID]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m:
		default:
		}
	}
}

// take delivers a callback another instance received to the login here
// that waits for it, and answers: ack at once, then the result page.
func (c *cluster) take(m handoff) {
	ctx, cancel := context.WithTimeout(context.Background(), pageWait+ackWait)
	defer cancel()
	q, err := url.ParseQuery(m.Query)
	var reply <-chan flow.ResultPage
	ok := err == nil && c.callbacks() != nil
	if ok {
		reply, ok = c.callbacks().Accept(q)
	}
	if !ok {
		c.send(ctx, m.From, handoff{Kind: handoffNak, ID: m.ID})
		return
	}
	c.send(ctx, m.From, handoff{Kind: handoffAck, ID: m.ID})
	select {
	case page := <-reply:
		c.send(ctx, m.From, handoff{Kind: handoffPage, ID: m.ID, Page: &page})
	case <-ctx.Done():
	}
}

func (c *cluster) send(ctx context.Context, to string, m handoff) bool {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a query's & as is, not \u0026
	err := enc.Encode(m)
	b := bytes.TrimSpace(buf.Bytes())
	if err == nil && len(b) > maxHandoff {
		err = errors.New("too long for a notification")
	}
	if err == nil {
		err = c.st.Notify(ctx, channel(to), string(b))
	}
	if err != nil {
		c.log.Warn("message to another instance not sent", "kind", m.Kind, "to", to, "error", err.Error())
		return false
	}
	return true
}

// eventsChannel carries every instance's customer events to the others:
// each instance's engineers hear of every customer.
const eventsChannel = "oidc_onboard_events"

// sharedEvent is an event on eventsChannel.
type sharedEvent struct {
	ID    string `json:"id"`
	From  string `json:"from"`
	Event Event  `json:"e"`
}

// share tells the other instances of e, a customer's here, without
// waiting; it was delivered here already.
func (c *cluster) share(e Event) {
	if !c.st.CanNotify() {
		return
	}
	m := sharedEvent{ID: randomHex(8), From: c.id, Event: e}
	c.recent.add(m.ID) // this instance hears its own notification too
	payload, err := fitEvent(m)
	if err != nil {
		c.log.Warn("event not shared with the other instances", "kind", e.Kind, "error", err.Error())
		return
	}
	c.mu.Lock()
	if c.stopped { // a session that outlived the shutdown's grace
		c.mu.Unlock()
		return
	}
	c.shares.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.shares.Done()
		ctx, cancel := context.WithTimeout(context.Background(), ackWait)
		defer cancel()
		if err := c.st.Notify(ctx, eventsChannel, payload); err != nil {
			c.log.Warn("event not shared with the other instances", "kind", e.Kind, "error", err.Error())
		}
	}()
}

// fitEvent encodes m for a notification, its detail cut to fit.
func fitEvent(m sharedEvent) (string, error) {
	for {
		b, err := json.Marshal(m)
		if err != nil || len(b) <= maxHandoff {
			return string(b), err
		}
		d := m.Event.Detail
		if d == "" {
			return "", errors.New("too long for a notification")
		}
		m.Event.Detail = strings.ToValidUTF8(d[:len(d)*maxHandoff/len(b)*9/10], "") + "…"
	}
}

// receivedEvent delivers an event another instance shared, once.
func (c *cluster) receivedEvent(payload string) {
	var m sharedEvent
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.log.Warn("an event from another instance could not be read", "error", err.Error())
		return
	}
	if m.From == c.id || !c.recent.add(m.ID) || c.heard == nil {
		return
	}
	c.heard(m.Event)
}

// recentIDs remembers the last IDs it was given, to drop repeats.
type recentIDs struct {
	mu   sync.Mutex
	seen map[string]bool
	ring [256]string
	next int
}

// add records id; false when it was recorded already.
func (r *recentIDs) add(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[id] {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	delete(r.seen, r.ring[r.next])
	r.ring[r.next], r.seen[id] = id, true
	r.next = (r.next + 1) % len(r.ring)
	return true
}

// registered records which instance waits for a test login's state
// (the callback server's Registered hook); nil without other instances
// to tell.
func (c *cluster) registered() func(state string) func() {
	if !c.st.CanNotify() {
		return nil
	}
	return func(state string) func() {
		ctx, cancel := context.WithTimeout(context.Background(), ackWait)
		defer cancel()
		if err := c.st.AddPendingLogin(ctx, state, c.id); err != nil {
			c.log.Warn("test login not recorded for other instances: its callback must reach this one", "error", err.Error())
		}
		return func() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), ackWait)
				defer cancel()
				if err := c.st.RemovePendingLogin(ctx, state); err != nil {
					c.log.Warn("ended test login not removed", "error", err.Error())
				}
			}()
		}
	}
}

// forwarder hands a callback whose login is on another instance to that
// instance (the callback server's Forward hook); nil without others.
func (c *cluster) forwarder() func(context.Context, url.Values) (flow.ResultPage, bool) {
	if !c.st.CanNotify() {
		return nil
	}
	return c.forward
}

// forward looks up the instance holding the callback's state, hands the
// callback over and waits for that instance to take it (ackWait) and for
// the login's result page (pageWait; then a neutral page). An unknown
// state, or an owner that does not answer, is false: the uniform 400.
func (c *cluster) forward(ctx context.Context, q url.Values) (flow.ResultPage, bool) {
	owner, err := c.st.PendingLogin(ctx, q.Get("state"))
	if err != nil || owner == c.id {
		return flow.ResultPage{}, false
	}
	m := handoff{Kind: handoffCallback, ID: randomHex(8), From: c.id, Query: fitQuery(q)}
	ch := make(chan handoff, 2)
	c.mu.Lock()
	c.waiting[m.ID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, m.ID)
		c.mu.Unlock()
	}()
	if !c.send(ctx, owner, m) {
		return flow.ResultPage{}, false
	}
	timer := time.NewTimer(ackWait)
	defer timer.Stop()
	acked := false
	for {
		select {
		case a := <-ch:
			switch a.Kind {
			case handoffNak:
				return flow.ResultPage{}, false
			case handoffPage:
				if a.Page != nil {
					return *a.Page, true
				}
			case handoffAck:
				acked = true
				timer.Reset(pageWait)
				continue
			}
			return flow.ResultPage{}, false
		case <-timer.C:
			// The login has the callback but said nothing yet: the same
			// neutral page as when it is on this instance.
			return flow.ResultPage{Title: "Sign-in received", Message: "Return to the terminal to see the result."}, acked
		case <-ctx.Done():
			return flow.ResultPage{}, false
		}
	}
}
