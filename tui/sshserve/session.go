package sshserve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/tui"
)

// The smallest terminal the wizard is drawn in; below it the session shows
// a message asking for a larger window.
const (
	MinWidth  = 40
	MinHeight = 12
)

// closeWait bounds how long a session closing on the server's initiative
// may take to save its draft before its program is stopped.
const closeWait = 5 * time.Second

// liveSession is a running session as the server sees it: its program, the
// time of its last key, why it is being closed, and for the engineers'
// list who it is, where it stands and who watches it.
type liveSession struct {
	id        string // what engineers join it by
	who       identity
	started   time.Time
	lastInput atomic.Int64 // unix nanoseconds
	ctx       context.Context
	cancel    context.CancelFunc

	mu       sync.Mutex
	program  *tea.Program
	warned   string // the notice last sent, so it is sent once
	why      string // set when the server closes the session
	status   liveStatus
	watchers []*watcher
	over     bool // the session ended: nobody may join any more
	// unwatch ends the watch this engineer's wizard shows, if any, when
	// the session ends first (see watchFromWizard).
	unwatch func()
	// gate holds an engineer's wizard's input and window changes, for a
	// watch relayed to another instance; nil for a customer.
	gate *gate
}

// newLiveSession is the session of sess starting now. Its program runs
// under a context of its own, which only the server cancels (closeWait
// after asking the session to close); it keeps sess's values.
func newLiveSession(sess context.Context, who identity, now time.Time) *liveSession {
	ctx, cancel := context.WithCancel(context.WithoutCancel(sess))
	ls := &liveSession{id: newSessionID(), who: who, started: now, ctx: ctx, cancel: cancel}
	ls.lastInput.Store(now.UnixNano())
	return ls
}

// watchesWith records how to end the watch this session's wizard shows.
func (ls *liveSession) watchesWith(unwatch func()) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.unwatch = unwatch
}

// stopWatching ends the watch this session's wizard shows, if any: its
// program ended.
func (ls *liveSession) stopWatching() {
	ls.mu.Lock()
	f := ls.unwatch
	ls.unwatch = nil
	ls.mu.Unlock()
	if f != nil {
		f()
	}
}

func (ls *liveSession) setProgram(p *tea.Program) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.program = p
}

// send delivers msg to the session's program without blocking the caller.
func (ls *liveSession) send(msg tea.Msg) {
	ls.mu.Lock()
	p := ls.program
	ls.mu.Unlock()
	if p != nil {
		go p.Send(msg)
	}
}

// notify shows a notice once (until another one replaces it).
func (ls *liveSession) notify(text string) {
	ls.mu.Lock()
	if ls.warned == text {
		ls.mu.Unlock()
		return
	}
	ls.warned = text
	ls.mu.Unlock()
	ls.send(noticeMsg{text: text})
}

// touched records input now and forgets the last warning.
func (ls *liveSession) touched(now time.Time) {
	ls.lastInput.Store(now.UnixNano())
	ls.mu.Lock()
	ls.warned = ""
	ls.mu.Unlock()
}

// close asks the session to save its draft and end, saying why; if it
// has not ended within closeWait, its program is stopped.
func (ls *liveSession) close(why string) {
	ls.mu.Lock()
	if ls.why != "" {
		ls.mu.Unlock()
		return
	}
	ls.why = why
	ls.mu.Unlock()
	ls.send(closeMsg{why: why})
	time.AfterFunc(closeWait, ls.cancel)
}

func (ls *liveSession) reason() string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.why
}

// reap warns and closes idle sessions and those past the maximum length.
func (s *Server) reap(ctx context.Context) {
	tick := min(max(s.opts.IdleTimeout/20, 20*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	sweep := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.opts.Now()
		for _, ls := range s.live() {
			s.check(ls, now)
		}
		if sweep++; sweep%600 == 0 {
			s.limiter.sweep()
		}
	}
}

func (s *Server) check(ls *liveSession, now time.Time) {
	idle := now.Sub(time.Unix(0, ls.lastInput.Load()))
	age := now.Sub(ls.started)
	warnAt := min(idleWarning, s.opts.IdleTimeout/2)
	switch {
	case idle >= s.opts.IdleTimeout:
		ls.close(fmt.Sprintf("Disconnected after %s without a key press. Your draft is saved; connect again with the same command to resume.", roundDuration(s.opts.IdleTimeout)))
	case age >= s.opts.MaxSession:
		ls.close(fmt.Sprintf("This session reached its limit of %s. Your draft is saved; connect again with the same command to resume.", roundDuration(s.opts.MaxSession)))
	case s.opts.MaxSession-age <= warnAt:
		ls.notify(fmt.Sprintf("Session time limit: closing in %s; your draft is kept.", roundDuration(s.opts.MaxSession-age)))
	case s.opts.IdleTimeout-idle <= warnAt:
		ls.notify(fmt.Sprintf("No key pressed lately: closing in %s. Press any key to stay.", roundDuration(s.opts.IdleTimeout-idle)))
	}
}

// roundDuration prints a duration the way a person says it.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Minute)
	case d >= time.Second:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") { // 2m0s: 2m (but 30s stays 30s)
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") { // 1h0m: 1h (but 1h30m stays)
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Messages from the server to a session's program.
type (
	// noticeMsg shows a line in place of the help line until a key is pressed.
	noticeMsg struct{ text string }
	// closeMsg saves the draft and ends the session.
	closeMsg struct{ why string }
)

// sessionModel is the wizard as an SSH session runs it: the same root
// model, plus what only the server knows about — idleness, the session's
// limits, the server's shutdown, the engineers who watch it — and a guard
// against tiny terminals.
type sessionModel struct {
	*tui.Model
	live    *liveSession
	now     func() time.Time
	hooks   sessionHooks
	notice  string
	closing bool

	// width and height are the terminal's; the wizard is drawn at the
	// size shared with the watchers, which may be smaller.
	width, height int
	sw, sh        int      // the shared screen's size
	asks          []askMsg // questions for the customer, oldest first
	askSeq        int      // numbers the questions, for their timeouts
	timed         int      // the question whose answer is being waited for
	sharing       bool     // anyone watching, as last drawn
	published     string   // the frame last sent to the watchers
	reported      seen

	// watch is the customer session this engineer watches from their
	// wizard (chosen in step 0's live list), drawn instead of the wizard.
	watch *watchModel

	// The start and each update run as jobs on hooks.stacks, made once:
	// msg is the update's message, cmd the command it returns.
	initJob, updateJob *stackJob
	msg                tea.Msg
	cmd                tea.Cmd
}

// sessionHooks are the server's, for a session's program: each may be nil.
type sessionHooks struct {
	// audit records a sharing event; call it from a command.
	audit func(action, detail string)
	// event tells the engineers; it does not wait.
	event func(kind, detail string)
	// watch starts watching a customer's session from an engineer's
	// wizard (a watchStartMsg or a noticeMsg); call it from a command.
	watch func(sessionID string, width, height int) tea.Msg
	// consentWait is how long a question waits for the customer's answer;
	// zero waits forever.
	consentWait time.Duration
	// ready is called once, at the first message after the first screen
	// was drawn: the session has set up.
	ready func()
	// stacks runs the wizard's start and updates; nil runs them on the
	// program's goroutine.
	stacks *stackPool
}

func newSessionModel(m *tui.Model, ls *liveSession, now func() time.Time, hooks sessionHooks) *sessionModel {
	w, h := m.Size()
	sm := &sessionModel{Model: m, live: ls, now: now, hooks: hooks, width: w, height: h, sw: w, sh: h}
	sm.reported.step = -1
	sm.initJob = newStackJob(func() { sm.cmd = sm.Model.Init() })
	sm.updateJob = newStackJob(func() { sm.cmd = sm.updateAll(sm.msg) })
	return sm
}

// Init starts the wizard and draws its first screen, on a worker of
// hooks.stacks.
func (m *sessionModel) Init() tea.Cmd {
	m.hooks.stacks.run(m.initJob)
	cmd := m.cmd
	m.cmd = nil
	return cmd
}

// Update records input for the idle timer, handles the server's messages
// and the sharing of the screen; everything else is the wizard's. After
// each, the session's status is reported and watchers get the new frame.
// It runs on a worker of hooks.stacks.
func (m *sessionModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.msg = msg
	m.hooks.stacks.run(m.updateJob)
	cmd := m.cmd
	m.msg, m.cmd = nil, nil
	return m, cmd
}

func (m *sessionModel) updateAll(msg tea.Msg) tea.Cmd {
	if m.hooks.ready != nil {
		m.hooks.ready()
		m.hooks.ready = nil
	}
	step := m.reported.step
	cmd := m.update(msg)
	m.report()
	m.publish()
	if m.reported.step != step && step >= 0 {
		// A new step: the screen is painted whole. The renderer keeps
		// each cell as a piece of the frame that drew it, so every frame
		// a typed character came from stays in memory until its cell is
		// drawn again; painting it all lets them go (some 4 KiB per key
		// typed, for the rest of the session).
		cmd = tea.Batch(cmd, tea.ClearScreen)
	}
	return tea.Batch(cmd, m.waitForAnswer())
}

func (m *sessionModel) update(msg tea.Msg) tea.Cmd {
	if cmd, done := m.watchUpdate(msg); done {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.closing {
			return nil
		}
		m.live.touched(m.now())
		m.notice = ""
		if cmd, done := m.shareKey(msg); done {
			return cmd
		}
	case tea.PasteMsg, tea.MouseClickMsg:
		if m.closing {
			return nil
		}
		m.live.touched(m.now())
		m.notice = ""
		if len(m.asks) > 0 {
			return nil
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m.resize()
	case noticeMsg:
		m.notice = msg.text
		return nil
	case closeMsg:
		m.closing, m.notice = true, msg.why
		return tea.Batch(m.unwatch(false), m.Close(), m.quitWhenSaved())
	case askMsg:
		m.askSeq++
		msg.seq = m.askSeq
		m.asks = append(m.asks, msg)
		return nil
	case askTimeoutMsg:
		return m.unanswered(msg.seq)
	case steps.JoinMsg:
		if m.watch != nil || m.hooks.watch == nil || m.closing {
			return nil
		}
		watch, id, w, h := m.hooks.watch, msg.Session, m.width, m.height
		return func() tea.Msg { return watch(id, w, h) }
	case watchStartMsg:
		return m.startWatch(msg.m)
	case relayStartMsg:
		if m.watch != nil || m.closing {
			return func() tea.Msg { msg.r.abort(); return nil }
		}
		r := msg.r
		return tea.Exec(r, func(err error) tea.Msg { return relayEndMsg{r: r, err: err} })
	case relayEndMsg:
		m.notice = msg.r.reason()
		if msg.err != nil && !errors.As(msg.err, new(*gossh.ExitError)) {
			m.notice = "The watch ended: " + msg.err.Error()
		}
		r := msg.r
		return tea.Batch(tea.ClearScreen, func() tea.Msg { r.abort(); return nil })
	case watchersMsg:
		return m.watchersChanged()
	case remoteMsg:
		return m.remote(msg)
	}
	_, cmd := m.Model.Update(msg)
	if m.closing {
		return tea.Batch(cmd, m.quitWhenSaved())
	}
	return cmd
}

// report tells the server where the session stands, when that changed,
// and the engineers what they care about.
func (m *sessionModel) report() {
	step, title := m.Step()
	s := m.Setup()
	now := seenOf(step, s)
	if now == m.reported {
		return
	}
	if m.reported.step >= 0 && m.hooks.event != nil {
		kinds, details := changes(m.reported, now)
		for i, k := range kinds {
			m.hooks.event(k, details[i])
		}
	}
	m.reported = now
	m.live.report(step, title, validationState(s.Report), testLoginState(s.TestLogin), now.draft && !now.active, m.now())
}

// quitWhenSaved ends the program once no draft save is pending.
func (m *sessionModel) quitWhenSaved() tea.Cmd {
	if !m.Draft().Settled(m.Setup()) {
		return nil
	}
	return tea.Quit
}

// View is the shared screen (the wizard, with the server's notice over
// the help line, a question for the customer, and the banner while
// anyone watches), framed in the terminal when that is larger.
func (m *sessionModel) View() tea.View {
	if m.watch != nil {
		return m.watch.View()
	}
	v := m.Model.View()
	v.SetContent(frameIn(m.sharedOf(v.Content, m.sw, m.sh), m.sw, m.sh, m.width, m.height, ""))
	return v
}

// shared is the screen as the customer and every watcher see it, w×h.
func (m *sessionModel) shared(width, height int) string {
	return m.sharedOf(m.Model.View().Content, width, height)
}

// sharedOf is the shared screen of the wizard's screen: the wizard's
// screen itself when nothing is laid over it (no copy of it per key).
func (m *sessionModel) sharedOf(screen string, width, height int) string {
	if width < MinWidth || height < MinHeight {
		return tooSmall(width, height)
	}
	last := ""
	switch {
	case len(m.asks) > 0:
		last = m.question(m.asks[0])
	case m.notice != "":
		last = m.notice
	}
	if last == "" && !m.sharing {
		return screen
	}
	lines := strings.Split(screen, "\n")
	if last != "" {
		lines[len(lines)-1] = m.Theme().Warn.Render(ansi.Truncate(last, width, "…"))
	}
	if m.sharing {
		lines = append([]string{m.Theme().Warn.Render(ansi.Truncate(m.banner(), width, "…"))}, lines...)
	}
	return strings.Join(lines, "\n")
}

func tooSmall(w, h int) string {
	msg := fmt.Sprintf("This window is %d×%d. The setup wizard needs at least %d×%d: please make it larger. (ctrl+c leaves; your draft is kept.)",
		w, h, MinWidth, MinHeight)
	return lipgloss.NewStyle().Width(max(w, 1)).Render(msg)
}

// relayEndMsg: a watch relayed to another instance ended, and the
// wizard has the terminal again.
type relayEndMsg struct {
	r   *wizardRelay
	err error
}

// watchStartMsg: the watch an engineer chose in their wizard began (the
// customer is being asked).
type watchStartMsg struct{ m *watchModel }

// startWatch shows watch instead of the wizard, with what already came
// for it: the customer may have answered, or left, meanwhile.
func (m *sessionModel) startWatch(watch *watchModel) tea.Cmd {
	if m.watch != nil || m.closing {
		return func() tea.Msg { watch.finish(); return nil }
	}
	m.watch = watch
	watch.Update(tea.WindowSizeMsg{Width: m.width, Height: m.height})
	watch.Update(frameReadyMsg{})
	if watch.w.reason() != "" {
		watch.Update(watchEndMsg{})
	}
	if watch.over {
		return m.unwatch(true)
	}
	return nil
}

// watchUpdate gives the watch this engineer's wizard shows what concerns
// it: their keys and pastes, the frames, its end; done reports that msg
// was the watch's alone. A frame counts as activity for the idle timer:
// watching is not idling.
func (m *sessionModel) watchUpdate(msg tea.Msg) (cmd tea.Cmd, done bool) {
	switch msg.(type) {
	case frameReadyMsg, watchEndMsg, watchNoteMsg:
		if m.watch == nil {
			return nil, true // an ended watch's late news
		}
	case tea.KeyPressMsg, tea.PasteMsg, tea.WindowSizeMsg:
		if m.watch == nil {
			return nil, false
		}
	default:
		return nil, false
	}
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg, frameReadyMsg:
		m.live.touched(m.now())
		m.notice = ""
	}
	m.watch.Update(msg)
	if m.watch.over {
		return m.unwatch(true), true
	}
	_, resize := msg.(tea.WindowSizeMsg)
	return nil, !resize // the wizard is resized too
}

// unwatch goes back to the wizard from a watch, if any: the watch is
// finished in a command, which tells why it ended when tell is set.
func (m *sessionModel) unwatch(tell bool) tea.Cmd {
	watch := m.watch
	if watch == nil {
		return nil
	}
	m.watch = nil
	return func() tea.Msg {
		why := watch.finish()
		if !tell {
			return nil
		}
		return noticeMsg{text: why}
	}
}
