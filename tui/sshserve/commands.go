package sshserve

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
)

// commandMiddleware runs the support engineers' commands (`sessions`,
// `join`, `events`) before the wizard's middlewares; a customer, or anyone not an
// engineer, giving a command is refused and audited, and a session
// without one goes on to the wizard.
func (s *Server) commandMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		args := sess.Command()
		id, _ := sess.Context().Value(identityKey).(identity)
		if id.peer || len(args) > 0 {
			setupDone(sess.Context()) // a command: set up
		}
		if id.peer { // another instance: a relayed join, nothing else
			if len(args) > 0 && args[0] == peerJoin {
				s.peerJoinCommand(sess, args[1:])
			} else {
				refuse(sess, "Instances of this service may only relay a join.")
			}
			return
		}
		if len(args) == 0 {
			next(sess)
			return
		}
		addr := hostOf(sess.RemoteAddr())
		if !isEngineer(id) {
			s.audit(sess.Context(), id.actor, addr, "command.refused", id.organization, flow.Display(args[0]))
			refuse(sess, "This server runs only the setup wizard; connect without a command.")
			return
		}
		switch args[0] {
		case "sessions":
			s.listSessions(sess, args[1:])
		case "join":
			s.join(sess, id, args[1:])
		case "events":
			s.streamEvents(sess, args[1:])
		default:
			refuse(sess, fmt.Sprintf("Unknown command %q. Support engineers can run: sessions [--json], join SESSION (with ssh -t), events [--json].", flow.Display(args[0])))
		}
	}
}

// isEngineer reports whether id is a support engineer's (an authorized
// key): only they list, join and hear of customers' sessions.
func isEngineer(id identity) bool {
	return id.actor != "" && id.invite == "" && id.organization == ""
}

// SessionInfo is one live customer session in `sessions --json`.
type SessionInfo struct {
	ID           string    `json:"id"`
	Organization string    `json:"organization"`
	Who          string    `json:"who"`
	Step         int       `json:"step"`
	StepTitle    string    `json:"step_title"`
	StepSince    time.Time `json:"step_since"`
	LastKeyAt    time.Time `json:"last_key_at"`
	Validation   string    `json:"validation"`
	TestLogin    string    `json:"test_login"`
	Watchers     []string  `json:"watchers"`
	StartedAt    time.Time `json:"started_at"`
	// Instance is the `serve` instance the session runs on; State is
	// "live", or "lost" when that instance stopped heartbeating (its
	// draft resumes on any instance).
	Instance string `json:"instance"`
	State    string `json:"state"`

	invite string // the invite's ID, for the limits per invite
}

// LiveSessions is every customer session running now, on this instance
// and on the others on the database, oldest first.
func (s *Server) LiveSessions() []SessionInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := append(s.localSessions(), s.cluster.others(ctx)...)
	// A lost session whose customer came back (to any instance, with the
	// same invite) is the new one now. Who alone is a label two customers
	// may share: it counts only for rows written before invites were.
	customer := func(i SessionInfo) string { return cmp.Or(i.invite, "who:"+i.Who) }
	back := map[string]bool{}
	for _, i := range out {
		if i.State == stateLive {
			back[customer(i)] = true
		}
	}
	out = slices.DeleteFunc(out, func(i SessionInfo) bool { return i.State == stateLost && back[customer(i)] })
	slices.SortStableFunc(out, func(a, b SessionInfo) int { return a.StartedAt.Compare(b.StartedAt) })
	return out
}

// localSessions is every customer session of this instance, oldest first.
func (s *Server) localSessions() []SessionInfo {
	var out []SessionInfo
	for _, ls := range s.live() {
		if ls.who.invite == "" {
			continue // an engineer's own wizard
		}
		st := ls.statusNow()
		out = append(out, SessionInfo{ID: ls.id, Organization: ls.who.organization, Who: ls.who.who(),
			Step: st.step, StepTitle: st.stepTitle, StepSince: st.stepSince,
			LastKeyAt: time.Unix(0, ls.lastInput.Load()), Validation: st.validation, TestLogin: st.testLogin,
			Watchers: names(ls.watching(watchOn)), StartedAt: ls.started, Instance: s.cluster.id, State: stateLive,
			invite: ls.who.invite})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return a.StartedAt.Compare(b.StartedAt) })
	return out
}

// liveList is LiveSessions for an engineer's wizard (steps.Env.Live).
func (s *Server) liveList(context.Context) []steps.LiveSession {
	list := s.LiveSessions()
	out := make([]steps.LiveSession, 0, len(list))
	for _, i := range list {
		out = append(out, steps.LiveSession{ID: i.ID, Organization: i.Organization, Who: i.Who, Step: i.Step,
			StepTitle: i.StepTitle, StepSince: i.StepSince, LastKeyAt: i.LastKeyAt, Validation: i.Validation,
			TestLogin: i.TestLogin, Watchers: i.Watchers})
	}
	return out
}

// listSessions answers `sessions [--json]`: one line per session, or a
// JSON array.
func (s *Server) listSessions(sess ssh.Session, args []string) {
	list := s.LiveSessions()
	if slices.Contains(args, "--json") {
		if list == nil {
			list = []SessionInfo{}
		}
		_ = json.NewEncoder(sess).Encode(list)
		_ = sess.Exit(0)
		return
	}
	if len(list) == 0 {
		fmt.Fprint(sess, "No customer session is running.\r\n")
		_ = sess.Exit(0)
		return
	}
	now := s.opts.Now()
	tw := tabwriter.NewWriter(sess, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "SESSION\tORGANIZATION\tWHO\tSTEP\tON STEP\tLAST KEY\tVALIDATION\tTEST LOGIN\tWATCHERS\r\n")
	for _, i := range list {
		watchers := "-"
		if len(i.Watchers) > 0 {
			watchers = strings.Join(i.Watchers, ", ")
		}
		id := i.ID
		if i.State == stateLost {
			id += " (lost)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d %s\t%s\t%s ago\t%s\t%s\t%s\r\n", id, flow.Display(i.Organization), flow.Display(i.Who),
			i.Step, i.StepTitle, listDuration(now.Sub(i.StepSince)), listDuration(now.Sub(i.LastKeyAt)),
			ansi.Truncate(flow.Display(i.Validation), 60, "…"), ansi.Truncate(flow.Display(i.TestLogin), 60, "…"), flow.Display(watchers))
	}
	_ = tw.Flush()
	_ = sess.Exit(0)
}

// find is the live customer session with the given ID.
func (s *Server) find(id string) *liveSession {
	for _, ls := range s.live() {
		if ls.who.invite != "" && strings.EqualFold(ls.id, strings.TrimSpace(id)) {
			return ls
		}
	}
	return nil
}

// join answers `join SESSION`: once the customer says yes, the engineer
// sees their screen, live, and may ask for control. The watch is a
// session of its own: it counts toward the server's limits (an engineer's,
// so the engineers' reserve is open to it).
func (s *Server) join(sess ssh.Session, id identity, args []string) {
	s.joinAs(sess, id, args, hostOf(sess.RemoteAddr()), sess)
}

// joinAs is join for the engineer id at address addr, which is not the
// session's when another instance relays it; a session on another
// instance is relayed there. Why the watch ended is written to why.
func (s *Server) joinAs(sess ssh.Session, id identity, args []string, addr string, why io.Writer) {
	ctx := sess.Context()
	if len(args) != 1 {
		refuse(sess, "Usage: ssh -t -p PORT HOST join SESSION (the IDs are in: ssh -p PORT HOST sessions).")
		return
	}
	ls := s.find(args[0])
	if ls == nil && !id.relayed && s.relayJoin(sess, id, args[0]) {
		return
	}
	if ls == nil {
		refuse(sess, fmt.Sprintf("No live customer session %s. List them with: ssh -p PORT HOST sessions", flow.Display(args[0])))
		return
	}
	if full := s.admit(ctx, nil, id); full != "" {
		s.audit(ctx, id.actor, addr, "session.refused", id.organization, full+" (join "+ls.id+")")
		refuse(sess, "The setup server is busy right now. Please try again in a few minutes.")
		return
	}
	defer s.leave(nil, id)
	pty, _, ok := sess.Pty()
	if !ok {
		refuse(sess, "join shows the customer's screen and needs a terminal: ssh -t -p PORT HOST join "+flow.Display(args[0]))
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	w, m := s.newWatch(ctx, id, addr, ls, pty.Window.Width, pty.Window.Height)
	m.exit = tea.Quit
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}, bubbletea.MakeOptions(sess)...)...)
	w.program = p
	m.begin()
	bubbletea.MiddlewareWithProgramHandler(func(ssh.Session) *tea.Program { return p })(func(ssh.Session) {})(sess)
	fmt.Fprintf(why, "\r\n%s\r\n", m.finish())
	_ = sess.Exit(0)
}

// newWatch is engineer id's watch of ls in a width×height terminal; its
// watcher's program is the caller's to set, then begin asks the customer.
func (s *Server) newWatch(ctx context.Context, id identity, addr string, ls *liveSession, width, height int) (*watcher, *watchModel) {
	w := &watcher{name: id.name, actor: id.actor, addr: addr, width: width, height: height}
	audit := func(action, why string) {
		detail := fmt.Sprintf("session %s, engineer %s", ls.id, w.name)
		if why != "" {
			detail += ": " + why
		}
		s.audit(ctx, id.actor, addr, action, ls.who.organization, detail)
	}
	return w, newWatchModel(w, ls, audit)
}

// watchFromWizard starts watching the customer session sessionID from
// engineer id's wizard, whose live session is own: a watchStartMsg, or a
// notice saying why not. Run it in a command. The watch ends with the
// engineer's session if that ends first.
func (s *Server) watchFromWizard(id identity, addr string, own *liveSession, sessionID string, width, height int) tea.Msg {
	ls := s.find(sessionID)
	if ls == nil && own.gate != nil {
		msg := s.dialRelay(own.ctx, own.gate, id, addr, sessionID, width, height)
		if r, ok := msg.(relayStartMsg); ok { // closed if the wizard ends first
			own.watchesWith(func() { _ = r.r.client.Close() })
		}
		return msg
	}
	if ls == nil {
		return noticeMsg{text: fmt.Sprintf("The customer's session %s has ended.", flow.Display(sessionID))}
	}
	w, m := s.newWatch(own.ctx, id, addr, ls, width, height)
	own.mu.Lock()
	w.program = own.program
	own.mu.Unlock()
	own.watchesWith(func() { m.finish() })
	m.begin()
	return watchStartMsg{m: m}
}

// watchModel is the engineer's view of a customer's session: their
// screen, as the customer sees it, framed when this terminal is larger.
// The engineer's keys leave, ask for control, and — once the customer
// granted it — reach the customer's wizard.
type watchModel struct {
	w             *watcher
	ls            *liveSession
	audit         func(action, why string)
	width, height int
	frame         string
	fw, fh        int
	note          string // the customer's answer to a question, until the next key

	// exit is what the watch's end runs: tea.Quit when the watch is a
	// program of its own (`join`), nothing in an engineer's wizard, which
	// sees over instead and shows the wizard again.
	exit     tea.Cmd
	over     bool
	finished sync.Once
	why      string
}

func newWatchModel(w *watcher, ls *liveSession, audit func(action, why string)) *watchModel {
	return &watchModel{w: w, ls: ls, audit: audit, width: w.width, height: w.height}
}

// begin audits the request and asks the customer.
func (m *watchModel) begin() {
	m.audit("share.requested", "")
	m.ls.addWatcher(m.w)
}

// finish takes the watcher out once the watch ended, audits why, and
// says why; it runs once however often it is called.
func (m *watchModel) finish() string {
	m.finished.Do(func() {
		m.ls.removeWatcher(m.w)
		m.why = cmp.Or(m.w.reason(), "You left the session.")
		m.audit("share.left", m.why)
	})
	return m.why
}

// end marks the watch over.
func (m *watchModel) end() (tea.Model, tea.Cmd) {
	m.over = true
	return m, m.exit
}

func (m *watchModel) Init() tea.Cmd { return nil }

func (m *watchModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.ls.resizeWatcher(m.w, msg.Width, msg.Height)
	case frameReadyMsg:
		m.frame, m.fw, m.fh = m.w.latest()
	case watchEndMsg:
		if m.w.reason() != "" { // not an earlier watch's
			return m.end()
		}
	case watchNoteMsg:
		if msg.w == m.w {
			m.note = msg.text
		}
	case tea.KeyPressMsg:
		m.note = ""
		st, ok := m.ls.stateOf(m.w)
		switch {
		case msg.String() == keyLeave || !ok:
			return m.end()
		case st == watchOn && msg.String() == keyAskControl:
			m.ls.send(askMsg{w: m.w, control: true})
			audit := m.audit
			return m, func() tea.Msg { audit("share.control_requested", ""); return nil }
		case st == watchControl:
			m.forward(msg)
		}
	case tea.PasteMsg:
		if st, _ := m.ls.stateOf(m.w); st == watchControl {
			m.forward(msg)
		}
	}
	return m, nil
}

// forward hands a key or paste to the customer's program, in order.
func (m *watchModel) forward(msg tea.Msg) {
	m.ls.mu.Lock()
	p := m.ls.program
	m.ls.mu.Unlock()
	if p != nil {
		p.Send(remoteMsg{w: m.w, msg: msg})
	}
}

func (m *watchModel) View() tea.View {
	var content string
	if m.frame == "" {
		content = ansi.Wordwrap(fmt.Sprintf("Waiting for the customer (%s, session %s) to say yes…\n\n"+
			"Then you see their screen, live. %s asks to type too (they say yes or no, and can take it back); %s leaves.",
			flow.Display(m.ls.who.organization), m.ls.id, keyAskControl, keyLeave), max(m.width, 20), " ")
	} else {
		hint := fmt.Sprintf("Watching %s · %s asks for control · %s leaves", m.ls.id, keyAskControl, keyLeave)
		if st, _ := m.ls.stateOf(m.w); st == watchControl {
			hint = fmt.Sprintf("You can type in %s · %s leaves", m.ls.id, keyLeave)
		}
		if m.note != "" {
			hint = m.note + " · " + hint
		}
		content = frameIn(m.frame, m.fw, m.fh, m.width, m.height, hint)
		if m.note != "" && m.height <= m.fh+1 { // no room for the hint: the note goes over the last line
			lines := strings.Split(content, "\n")
			lines[len(lines)-1] = ansi.Truncate(m.note, m.width, "…")
			content = strings.Join(lines, "\n")
		}
	}
	v := tea.NewView(content)
	v.AltScreen = true
	return v
}

// listDuration is a time on a step or since a key in the sessions list:
// whole seconds at least, as a person reads a list.
func listDuration(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	return roundDuration(d)
}
