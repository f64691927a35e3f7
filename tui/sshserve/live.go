package sshserve

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
)

// liveStatus is where a customer session stands, as its program last
// reported it: what the engineers' list shows.
type liveStatus struct {
	step       int
	stepTitle  string
	stepSince  time.Time
	validation string
	testLogin  string
	draft      bool // a draft is saved and not yet activated
}

// watchState is how far a watcher is let in.
type watchState int

const (
	watchAsked   watchState = iota // waiting for the customer's yes
	watchOn                        // sees the screen; keys ignored
	watchControl                   // sees the screen and types too
)

// watcher is a support engineer joined (or asking to join) a customer's
// session: their own program shows the customer's screen.
type watcher struct {
	name, actor, addr string
	program           *tea.Program // the engineer's

	// state and the terminal's size are the session's (liveSession.mu).
	state         watchState
	width, height int

	mu     sync.Mutex
	frame  string // the customer's screen, last published
	fw, fh int    // its size
	why    string // why the watch ended, once it did
	nudged atomic.Bool
}

// setFrame keeps the latest screen and tells the engineer's program, once
// per batch: under load, frames in between are skipped, not queued.
func (w *watcher) setFrame(frame string, width, height int) {
	w.mu.Lock()
	w.frame, w.fw, w.fh = frame, width, height
	w.mu.Unlock()
	if w.nudged.CompareAndSwap(false, true) {
		go w.program.Send(frameReadyMsg{})
	}
}

// latest is the frame to draw now.
func (w *watcher) latest() (frame string, width, height int) {
	w.nudged.Store(false)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frame, w.fw, w.fh
}

// end stops the watch, saying why; the first reason stays.
func (w *watcher) end(why string) {
	w.mu.Lock()
	if w.why == "" {
		w.why = why
	}
	w.mu.Unlock()
	go w.program.Send(watchEndMsg{})
}

func (w *watcher) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// Messages between a customer's program and its watchers'.
type (
	// askMsg asks the customer to let w watch (control false) or type.
	askMsg struct {
		w       *watcher
		control bool
		seq     int // the customer's program numbers its questions
	}
	// watchersMsg: a watcher left or resized.
	watchersMsg struct{}
	// remoteMsg is a key or a paste of a watcher in control.
	remoteMsg struct {
		w   *watcher
		msg tea.Msg
	}
	// frameReadyMsg tells a watcher's program a new frame is there.
	frameReadyMsg struct{}
	// watchEndMsg ends a watcher's program.
	watchEndMsg struct{}
)

// status is the session's last reported status.
func (ls *liveSession) statusNow() liveStatus {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.status
}

// report records the session's step and states; the step's start time
// moves only when the step changes.
func (ls *liveSession) report(step int, title, validation, testLogin string, draft bool, now time.Time) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.status.stepSince.IsZero() || ls.status.step != step {
		ls.status.stepSince = now
	}
	ls.status.step, ls.status.stepTitle = step, title
	ls.status.validation, ls.status.testLogin, ls.status.draft = validation, testLogin, draft
}

// addWatcher lets w ask to join; the customer is asked, unless their
// session is ending.
func (ls *liveSession) addWatcher(w *watcher) {
	ls.mu.Lock()
	over := ls.over
	if !over {
		ls.watchers = append(ls.watchers, w)
	}
	ls.mu.Unlock()
	if over {
		w.end("The customer's session ended.")
		return
	}
	ls.send(askMsg{w: w})
}

// removeWatcher takes w out, telling the customer's program.
func (ls *liveSession) removeWatcher(w *watcher) {
	ls.mu.Lock()
	n := len(ls.watchers)
	ls.watchers = slices.DeleteFunc(ls.watchers, func(o *watcher) bool { return o == w })
	gone := len(ls.watchers) < n
	ls.mu.Unlock()
	if gone {
		ls.send(watchersMsg{})
	}
}

// drop ends w's watch, saying why, and takes it out.
func (ls *liveSession) drop(w *watcher, why string) {
	w.end(why)
	ls.removeWatcher(w)
}

// endSharing ends every watch, saying why.
func (ls *liveSession) endSharing(why string) {
	ls.mu.Lock()
	ws := ls.watchers
	ls.watchers = nil
	ls.mu.Unlock()
	for _, w := range ws {
		w.end(why)
	}
}

// end closes the session to watchers: those watching are told it ended,
// and nobody may join any more.
func (ls *liveSession) end() {
	ls.mu.Lock()
	ls.over = true
	ls.mu.Unlock()
	ls.endSharing("The customer's session ended.")
}

// setState moves w to state, reporting whether it is still here.
func (ls *liveSession) setState(w *watcher, state watchState) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if !slices.Contains(ls.watchers, w) {
		return false
	}
	w.state = state
	return true
}

// stateOf is w's state, and whether it is still here.
func (ls *liveSession) stateOf(w *watcher) (watchState, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return w.state, slices.Contains(ls.watchers, w)
}

// resizeWatcher records w's terminal size.
func (ls *liveSession) resizeWatcher(w *watcher, width, height int) {
	ls.mu.Lock()
	w.width, w.height = width, height
	ls.mu.Unlock()
	ls.send(watchersMsg{})
}

// watching is the watchers the customer let in, at least at state.
func (ls *liveSession) watching(state watchState) []*watcher {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var out []*watcher
	for _, w := range ls.watchers {
		if w.state >= state {
			out = append(out, w)
		}
	}
	return out
}

// watched reports whether anyone sees the screen now.
func (ls *liveSession) watched() bool { return len(ls.watching(watchOn)) > 0 }

// sharedSize is the size the shared screen is drawn at: the smallest of
// the customer's terminal and the watchers', as tmux does.
func (ls *liveSession) sharedSize(width, height int) (int, int) {
	for _, w := range ls.watching(watchOn) {
		if w.width > 0 && w.height > 0 {
			width, height = min(width, w.width), min(height, w.height)
		}
	}
	return width, height
}

// names of the watchers let in, for the list.
func names(ws []*watcher) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.name)
	}
	return out
}

// validationState says how the setup's last validation went, e.g. "3
// checks failing: issuer mismatch …".
func validationState(r *flow.Report) string {
	if r == nil {
		return "not run"
	}
	var failing []flow.Check
	warns := 0
	for _, c := range r.Checks {
		switch c.Status {
		case flow.Fail:
			failing = append(failing, c)
		case flow.Warn:
			warns++
		}
	}
	switch {
	case len(failing) == 1:
		return "1 check failing: " + cmpDetail(failing[0])
	case len(failing) > 1:
		return fmt.Sprintf("%d checks failing: %s", len(failing), cmpDetail(failing[0]))
	case warns > 0:
		return fmt.Sprintf("passed, %d warnings", warns)
	}
	return "passed"
}

// cmpDetail is a check's detail, or its ID when it has none.
func cmpDetail(c flow.Check) string {
	if c.Detail != "" {
		return c.Detail
	}
	return c.ID
}

// testLoginState says how the last test login went.
func testLoginState(r *steps.TestLoginResult) string {
	switch {
	case r == nil:
		return "not run"
	case r.OK:
		return "passed"
	case r.Error != "":
		return "failed: " + r.Error
	}
	return "failed"
}

// sessionIDAlphabet has no symbol that reads like another over a call.
const sessionIDAlphabet = "23456789abcdefghjkmnpqrstwxyz"

// newSessionID is a short ID to join a session by, e.g. "s7h3kq9".
func newSessionID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	var sb strings.Builder
	sb.WriteByte('s')
	for _, c := range b {
		sb.WriteByte(sessionIDAlphabet[int(c)%len(sessionIDAlphabet)])
	}
	return sb.String()
}
