package sshserve

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The customer's keys while their screen is shared (the wizard binds
// neither), and the engineer's while watching.
const (
	keyStopSharing = "ctrl+x"
	keyTakeBack    = "ctrl+t"
	keyAskControl  = "ctrl+o"
	keyLeave       = "ctrl+c"
)

// shareKey handles the customer's keys that concern sharing: the answer
// to a question (which waits for y or n and takes no other key), stop
// sharing and take control back. done is false for every other key.
func (m *sessionModel) shareKey(msg tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	if len(m.asks) > 0 {
		a := m.asks[0]
		switch msg.String() {
		case "y", "Y":
			m.asks = m.asks[1:]
			return m.grant(a), true
		case "n", "N", "esc":
			m.asks = m.asks[1:]
			return m.deny(a, ""), true
		}
		return nil, true
	}
	if !m.sharing {
		return nil, false
	}
	switch msg.String() {
	case keyStopSharing:
		return m.stopSharing(), true
	case keyTakeBack:
		if ws := m.live.watching(watchControl); len(ws) > 0 {
			cmds := make([]tea.Cmd, 0, len(ws))
			for _, w := range ws {
				m.live.setState(w, watchOn)
				cmds = append(cmds, m.auditCmd("share.control_revoked", w))
			}
			return tea.Batch(cmds...), true
		}
	}
	return nil, false
}

// grant lets a watcher in, or lets them type.
func (m *sessionModel) grant(a askMsg) tea.Cmd {
	if a.control {
		if st, ok := m.live.stateOf(a.w); !ok || st != watchOn || !m.live.setState(a.w, watchControl) {
			return nil
		}
		return m.auditCmd("share.control_granted", a.w)
	}
	if !m.live.setState(a.w, watchOn) {
		return nil
	}
	m.published = "" // the joiner gets the whole screen at once
	return tea.Batch(m.resize(), m.auditCmd("share.joined", a.w))
}

// deny says no to a watcher's question, and tells them; late says how
// long the question waited when it timed out unanswered ("" for a no).
func (m *sessionModel) deny(a askMsg, late string) tea.Cmd {
	action, answer := "share.refused", "The customer said no"
	if late != "" {
		action, answer = "share.unanswered", "The customer did not answer within "+late
	}
	if a.control {
		a.w.tell(answer + ": you cannot type in their session.")
		return m.auditCmd(strings.Replace(action, "share.", "share.control_", 1), a.w)
	}
	m.live.drop(a.w, answer+": you did not join their session.")
	return m.auditCmd(action, a.w)
}

// askTimeoutMsg: question seq waited its time for an answer.
type askTimeoutMsg struct{ seq int }

// waitForAnswer times the question on screen, once it shows: unanswered
// within the consent wait, it is a no.
func (m *sessionModel) waitForAnswer() tea.Cmd {
	if len(m.asks) == 0 || m.asks[0].seq == m.timed || m.hooks.consentWait <= 0 {
		return nil
	}
	seq := m.asks[0].seq
	m.timed = seq
	return tea.Tick(m.hooks.consentWait, func(time.Time) tea.Msg { return askTimeoutMsg{seq: seq} })
}

// unanswered takes question seq off the screen as a no, if it is still
// there.
func (m *sessionModel) unanswered(seq int) tea.Cmd {
	if len(m.asks) == 0 || m.asks[0].seq != seq {
		return nil
	}
	a := m.asks[0]
	m.asks = m.asks[1:]
	return m.deny(a, roundDuration(m.hooks.consentWait))
}

// watchNoteMsg tells watcher w the customer's answer to their question.
type watchNoteMsg struct {
	w    *watcher
	text string
}

// tell shows text to the engineer, under the customer's screen.
func (w *watcher) tell(text string) {
	if w.program != nil {
		go w.program.Send(watchNoteMsg{w: w, text: text})
	}
}

// stopSharing ends every watch at once.
func (m *sessionModel) stopSharing() tea.Cmd {
	ws := m.live.watching(watchAsked)
	m.live.endSharing("The customer stopped sharing their screen.")
	m.asks = nil
	cmds := []tea.Cmd{m.resize()}
	for _, w := range ws {
		cmds = append(cmds, m.auditCmd("share.stopped", w))
	}
	return tea.Batch(cmds...)
}

// watchersChanged follows a watcher who left or resized: questions of
// those gone are dropped, and the screen is laid out again.
func (m *sessionModel) watchersChanged() tea.Cmd {
	m.asks = slices.DeleteFunc(m.asks, func(a askMsg) bool {
		_, ok := m.live.stateOf(a.w)
		return !ok
	})
	return m.resize()
}

// resize gives the wizard the shared size: the smallest terminal among
// the customer's and the watchers', less the banner's line while anyone
// watches. A step that shows the secret hides it here when watching
// begins (steps.Env.Watched), before the first frame a watcher gets.
func (m *sessionModel) resize() tea.Cmd {
	m.sharing = m.live.watched()
	m.sw, m.sh = m.width, m.height
	h := m.sh
	if m.sharing {
		m.sw, m.sh = m.live.sharedSize(m.width, m.height)
		h = m.sh - 1
	}
	_, cmd := m.Model.Update(tea.WindowSizeMsg{Width: m.sw, Height: h})
	return cmd
}

// remote is a key or paste of a watcher: the wizard's only while they have
// control and no question waits for the customer; the customer's own keys
// (sharing, leaving) stay theirs.
func (m *sessionModel) remote(msg remoteMsg) tea.Cmd {
	if st, ok := m.live.stateOf(msg.w); !ok || st != watchControl || len(m.asks) > 0 || m.closing {
		return nil
	}
	if k, ok := msg.msg.(tea.KeyPressMsg); ok {
		if s := k.String(); s == keyStopSharing || s == keyTakeBack || m.Quits(k) {
			return nil
		}
	}
	m.live.touched(m.now())
	_, cmd := m.Model.Update(msg.msg)
	return cmd
}

// publish sends the shared screen to the watchers when it changed. A
// frame that would show the client secret is never sent (the steps hide
// it while watched; this is the last guard).
func (m *sessionModel) publish() {
	if !m.sharing {
		return
	}
	ws := m.live.watching(watchOn)
	if len(ws) == 0 {
		return
	}
	frame := m.shared(m.sw, m.sh)
	if frame == m.published {
		return
	}
	if secret := m.Setup().Connection.ClientSecret; len(secret) >= 4 && strings.Contains(ansi.Strip(frame), secret) {
		return
	}
	m.published = frame
	for _, w := range ws {
		w.setFrame(frame, m.sw, m.sh)
	}
}

// auditCmd records a sharing event of watcher w.
func (m *sessionModel) auditCmd(action string, w *watcher) tea.Cmd {
	detail := fmt.Sprintf("session %s, engineer %s (%s)", m.live.id, w.name, w.actor)
	audit := m.hooks.audit
	return func() tea.Msg {
		if audit != nil {
			audit(action, detail)
		}
		return nil
	}
}

// banner is the shared screen's first line while anyone watches.
func (m *sessionModel) banner() string {
	if ctl := m.live.watching(watchControl); len(ctl) > 0 {
		return fmt.Sprintf("● %s can type too · %s takes control back · %s stops sharing",
			supportNames(ctl), keyTakeBack, keyStopSharing)
	}
	return fmt.Sprintf("● Your screen is shared with %s · %s stops sharing",
		supportNames(m.live.watching(watchOn)), keyStopSharing)
}

// supportNames are the watchers as the customer reads them: "alice
// (support), bob (support)", without saying support twice for a name
// (an authorized key's comment) that already does.
func supportNames(ws []*watcher) string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		n := flow.Display(w.name)
		if !saysSupport(n) {
			n += " (support)"
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

// saysSupport reports whether an engineer's name already says they are
// from support ("support", "Acme Support", "bob (support)").
func saysSupport(name string) bool { return strings.Contains(strings.ToLower(name), "support") }

// question is what the customer is asked for a.
func (m *sessionModel) question(a askMsg) string {
	who := flow.Display(a.w.name)
	if !saysSupport(who) {
		who += " from support"
	}
	if a.control {
		return fmt.Sprintf("%s asks to type in your session too: y/n", who)
	}
	return fmt.Sprintf("%s wants to see your screen: y/n", who)
}

// frameIn draws content, a cw×ch screen, in a w×h terminal: as it is when
// the sizes match; in the top left corner, with a line to its right and
// below it and hint under that (when there is room), when the terminal is
// larger; cut when it is smaller (for the moment a resize takes).
func frameIn(content string, cw, ch, w, h int, hint string) string {
	if cw == w && ch == h {
		return content
	}
	lines := strings.Split(content, "\n")
	iw := min(cw, w)
	out := make([]string, 0, h)
	for i := 0; i < min(ch, h); i++ {
		l := ""
		if i < len(lines) {
			l = ansi.Truncate(lines[i], iw, "")
		}
		if pad := iw - ansi.StringWidth(l); pad > 0 {
			l += strings.Repeat(" ", pad)
		}
		if w > cw {
			l += "│"
		}
		out = append(out, l)
	}
	if h > ch {
		bottom := strings.Repeat("─", iw)
		if w > cw {
			bottom += "┘"
		}
		out = append(out, bottom)
		if hint != "" && h > ch+1 {
			out = append(out, ansi.Truncate(hint, w, "…"))
		}
	}
	return strings.Join(out, "\n")
}
