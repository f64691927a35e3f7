package steps

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// The organization step's live list: a support engineer in their own
// wizard over SSH presses l on the start list and sees every customer
// session running now — organization, who, step and time on it, last key,
// validation and test-login state, watchers — refreshed every second
// while step 0 is on screen; enter on one asks that customer to let them
// watch (JoinMsg: the SSH server shows the customer's screen, and the
// wizard again when the watch ends). Customers never see it: Env.Live is
// theirs never, and a session walled into an organization ignores it.
// The line mode has no live list (it would redraw every second).

// LiveSession is one customer session running now, as the live list shows
// it. The organization, who and the states come from outside: they are
// sanitized when drawn.
type LiveSession struct {
	ID           string
	Organization string
	Who          string // the invite the customer came with, e.g. "invite:inv_1"
	Step         int
	StepTitle    string
	StepSince    time.Time // when the customer reached the step
	LastKeyAt    time.Time
	Validation   string // e.g. "3 checks failing: issuer mismatch …"
	TestLogin    string
	Watchers     []string // the engineers who see the screen now
}

// JoinMsg asks to watch the customer session with the given ID in this
// terminal: the SSH server takes it (the customer is asked first); the
// local wizard has no live list and never sends it.
type JoinMsg struct{ Session string }

// liveEvery is how often the live list is read again while on screen;
// liveTimeout bounds one read.
const (
	liveEvery   = time.Second
	liveTimeout = 5 * time.Second
)

// Messages of the live list: seq is the refresh's, so that only the
// latest one goes on.
type (
	liveTickMsg   struct{ seq int }
	liveLoadedMsg struct {
		seq  int
		list []LiveSession
		at   time.Time
	}
)

// orgLive is the live list's state.
type orgLive struct {
	seq    int
	every  time.Duration
	here   bool // step 0 is the current step: refreshing
	loaded bool
	list   []LiveSession
	at     time.Time // when the list was read, for its durations
	cursor int

	liveKeys
}

// liveKeys are the live list's: l opens it from the start list.
type liveKeys struct{ open, join, back key.Binding }

func newOrgLive() orgLive {
	return orgLive{every: liveEvery, liveKeys: liveKeys{
		open: bind("l", "customers' live sessions", "l"),
		join: bind("enter", "watch (the customer is asked)", "enter"),
		back: bind("esc", "list", "esc"),
	}}
}

// canLive reports whether this session sees the customers' live sessions:
// a support engineer's, never a customer's.
func (o *organization) canLive() bool {
	return o.env.Live != nil && !o.walled() && !o.env.Customer
}

// liveStart begins refreshing the live list, now and then every second
// until step 0 is left; a refresh started before stops.
func (o *organization) liveStart() tea.Cmd {
	o.live.seq++
	o.live.here = true
	if !o.canLive() {
		return nil
	}
	return o.liveRead(o.live.seq)
}

// liveRead reads the live sessions in a command.
func (o *organization) liveRead(seq int) tea.Cmd {
	env := o.env
	return func() tea.Msg {
		ctx, cancel := env.readCtx(liveTimeout)
		defer cancel()
		return liveLoadedMsg{seq: seq, list: env.Live(ctx), at: env.Now()}
	}
}

// liveUpdate handles the live list's refreshes; ok is false for any
// other message.
func (o *organization) liveUpdate(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case liveTickMsg:
		if msg.seq == o.live.seq && o.live.here && o.canLive() {
			return o.liveRead(msg.seq), true
		}
		return nil, true
	case liveLoadedMsg:
		if msg.seq != o.live.seq || !o.live.here {
			return nil, true
		}
		o.liveLoaded(msg.list, msg.at)
		seq := msg.seq
		return tea.Tick(o.live.every, func(time.Time) tea.Msg { return liveTickMsg{seq: seq} }), true
	}
	return nil, false
}

// liveLoaded shows a new reading, the cursor staying on the session it was
// on while that one runs.
func (o *organization) liveLoaded(list []LiveSession, at time.Time) {
	v := &o.live
	on := ""
	if v.cursor < len(v.list) {
		on = v.list[v.cursor].ID
	}
	v.list, v.at, v.loaded = list, at, true
	if i := slices.IndexFunc(list, func(s LiveSession) bool { return s.ID == on }); i >= 0 {
		v.cursor = i
	}
	v.cursor = min(v.cursor, max(len(list)-1, 0))
}

func (o *organization) liveKeysNow() []key.Binding {
	if len(o.live.list) == 0 {
		return []key.Binding{o.live.back}
	}
	return []key.Binding{o.up, o.down, o.live.join, o.live.back}
}

// updateLive handles the live list's keys: move, join, back to the list.
func (o *organization) updateLive(msg tea.KeyPressMsg) tea.Cmd {
	v := &o.live
	switch {
	case key.Matches(msg, o.up, o.down):
		v.cursor = widget.Cursor(v.cursor, len(v.list), msg, o.up, o.down)
	case key.Matches(msg, v.join) && v.cursor < len(v.list):
		return Cmd(JoinMsg{Session: v.list[v.cursor].ID})
	case key.Matches(msg, v.back):
		o.mode = orgList
	}
	return nil
}

// liveHint is the start list's line about the live list.
func (o *organization) liveHint() string {
	switch n := len(o.live.list); {
	case !o.live.loaded:
		return " Press l for the customers' live sessions."
	case n == 1:
		return " 1 customer is in the wizard now: press l to see and join."
	case n > 1:
		return fmt.Sprintf(" %d customers are in the wizard now: press l to see and join.", n)
	}
	return " Press l for the customers' live sessions (none now)."
}

// liveView draws the live list, three lines a session and a blank one
// between, scrolled so that the selected one shows.
func (o *organization) liveView(width, height int) string {
	t, v := o.theme, &o.live
	head := []string{t.Title.Render("Customers' live sessions"),
		widget.Para(t.Subtle, "Updated every second. Enter asks the customer to let you see their screen; ctrl+c there brings you back.", width), ""}
	switch {
	case !v.loaded:
		return strings.Join(append(head, t.Subtle.Render("Looking for live sessions…")), "\n")
	case len(v.list) == 0:
		return strings.Join(append(head, widget.Para(t.Text, "No customer is in the wizard right now. Esc goes back to the list, where i makes an invite.", width)), "\n")
	}
	var rows []string
	selFirst := 0
	for i, s := range v.list {
		if i > 0 {
			rows = append(rows, "") // a session is three lines: a blank one between them
		}
		marker, style := "  ", t.Text
		if i == v.cursor {
			marker, style, selFirst = "▸ ", t.Selected, len(rows)
		}
		rows = append(rows, style.Render(widget.Truncate(marker+liveTitle(s), width)))
		for _, l := range liveDetails(s, v.at) {
			rows = append(rows, t.Subtle.Render(widget.Truncate("    "+l, width)))
		}
	}
	room := max(height-len(head), 3)
	start := 0
	if selFirst+3 > room {
		start = selFirst + 3 - room
	}
	end := min(start+room, len(rows))
	return strings.Join(append(head, rows[start:end]...), "\n")
}

// liveTitle is a session's first line: organization · who · its ID.
func liveTitle(s LiveSession) string {
	return flow.Display(s.Organization) + " · " + flow.Display(s.Who) + " · " + flow.Display(s.ID)
}

// liveDetails are a session's other lines, durations as of at: where the
// customer is and since when, their last key and who watches; the
// validation's and the test login's state.
func liveDetails(s LiveSession, at time.Time) []string {
	watch := "nobody watching"
	if len(s.Watchers) > 0 {
		watch = "watched by " + flow.Display(strings.Join(s.Watchers, ", "))
	}
	where := fmt.Sprintf("Step %d %s for %s · last key %s ago · %s", s.Step, flow.Display(s.StepTitle),
		liveDuration(at.Sub(s.StepSince)), liveDuration(at.Sub(s.LastKeyAt)), watch)
	states := "Validation: " + flow.Display(cmp.Or(s.Validation, "not run")) + " · Test login: " + flow.Display(cmp.Or(s.TestLogin, "not run"))
	return []string{where, states}
}

// liveDuration is a time in the live list, in whole seconds or minutes.
func liveDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute)/time.Minute))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
