package sshserve

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// commandMiddleware runs the support engineers' commands (`sessions`,
// `join`, `events`) before the wizard's middlewares; a customer, or anyone not an
// engineer, giving a command is refused and audited, and a session
// without one goes on to the wizard.
func (s *Server) commandMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		args := sess.Command()
		id, _ := sess.Context().Value(identityKey).(identity)
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
		if id.actor == "" || id.invite != "" || id.organization != "" {
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
}

// LiveSessions is every customer session running now, on this instance
// and on the others on the database, oldest first.
func (s *Server) LiveSessions() []SessionInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := append(s.localSessions(), s.cluster.others(ctx)...)
	// A lost session whose customer came back (to any instance) is the
	// new one now.
	back := map[string]bool{}
	for _, i := range out {
		if i.State == stateLive {
			back[i.Who] = true
		}
	}
	out = slices.DeleteFunc(out, func(i SessionInfo) bool { return i.State == stateLost && back[i.Who] })
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
		out = append(out, SessionInfo{ID: ls.id, Organization: ls.who.organization, Who: ls.who.actor,
			Step: st.step, StepTitle: st.stepTitle, StepSince: st.stepSince,
			LastKeyAt: time.Unix(0, ls.lastInput.Load()), Validation: st.validation, TestLogin: st.testLogin,
			Watchers: names(ls.watching(watchOn)), StartedAt: ls.started, Instance: s.cluster.id, State: stateLive})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return a.StartedAt.Compare(b.StartedAt) })
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
// sees their screen, live, and may ask for control.
func (s *Server) join(sess ssh.Session, id identity, args []string) {
	s.joinAs(sess, id, args, hostOf(sess.RemoteAddr()))
}

// joinAs is join for the engineer id at address addr, which is not the
// session's when another instance relays it; a session on another
// instance is relayed there.
func (s *Server) joinAs(sess ssh.Session, id identity, args []string, addr string) {
	ctx := sess.Context()
	if len(args) != 1 {
		refuse(sess, "Usage: ssh -t -p PORT HOST join SESSION (the IDs are in: ssh -p PORT HOST sessions).")
		return
	}
	pty, _, ok := sess.Pty()
	if !ok {
		refuse(sess, "join shows the customer's screen and needs a terminal: ssh -t -p PORT HOST join "+flow.Display(args[0]))
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
	s.wg.Add(1)
	defer s.wg.Done()
	w := &watcher{name: id.name, actor: id.actor, addr: addr, width: pty.Window.Width, height: pty.Window.Height}
	p := tea.NewProgram(newWatchModel(w, ls, func(action string) {
		s.audit(ctx, id.actor, addr, action, ls.who.organization, fmt.Sprintf("session %s, engineer %s", ls.id, w.name))
	}), append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}, bubbletea.MakeOptions(sess)...)...)
	w.program = p
	s.audit(ctx, id.actor, addr, "share.requested", ls.who.organization, fmt.Sprintf("session %s, engineer %s", ls.id, w.name))
	ls.addWatcher(w)
	bubbletea.MiddlewareWithProgramHandler(func(ssh.Session) *tea.Program { return p })(func(ssh.Session) {})(sess)
	ls.removeWatcher(w)
	why := cmp.Or(w.reason(), "You left the session.")
	s.audit(ctx, id.actor, addr, "share.left", ls.who.organization, fmt.Sprintf("session %s, engineer %s: %s", ls.id, w.name, why))
	fmt.Fprintf(sess, "\r\n%s\r\n", why)
	_ = sess.Exit(0)
}

// watchModel is the engineer's view of a customer's session: their
// screen, as the customer sees it, framed when this terminal is larger.
// The engineer's keys leave, ask for control, and — once the customer
// granted it — reach the customer's wizard.
type watchModel struct {
	w             *watcher
	ls            *liveSession
	audit         func(action string)
	width, height int
	frame         string
	fw, fh        int
}

func newWatchModel(w *watcher, ls *liveSession, audit func(action string)) *watchModel {
	return &watchModel{w: w, ls: ls, audit: audit, width: w.width, height: w.height}
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
		return m, tea.Quit
	case tea.KeyPressMsg:
		st, ok := m.ls.stateOf(m.w)
		switch {
		case msg.String() == keyLeave || !ok:
			return m, tea.Quit
		case st == watchOn && msg.String() == keyAskControl:
			m.ls.send(askMsg{w: m.w, control: true})
			audit := m.audit
			return m, func() tea.Msg { audit("share.control_requested"); return nil }
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
		content = frameIn(m.frame, m.fw, m.fh, m.width, m.height, hint)
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
