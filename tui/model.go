// Package tui is the wizard's shell: it sequences the steps of steps/,
// draws the header, the step indicator and the help line, owns the global
// keys, and saves the setup as a draft after every change, so that a quit,
// a crash or a dropped SSH session resumes where it stopped.
package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/cursor"
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// statusFor is how long a status note stays in the footer.
const statusFor = 3 * time.Second

// Model is the wizard: one root model owning navigation, persistence and
// layout; the steps only know their own part of the setup.
type Model struct {
	env *steps.Env
	// themes are the dark and the light theme; theme is the one drawn
	// with now, which the steps draw with too.
	themes *steps.Themes
	theme  *steps.Theme
	steps  []steps.Step
	setup  *steps.Setup
	cur    int

	width, height int
	// sized is the area the current step was last given.
	sized struct{ step, width, height int }
	keys  steps.ShellKeys
	// showAll is whether the footer shows the full help (?), and
	// helpWidth the width the help line was last given (0 until the
	// terminal's size is known). The help bubble itself is built when the
	// footer is drawn (helpBubble): its styles are 4.6 KiB of every
	// session, and the footer is kept between keys.
	showAll   bool
	helpWidth int

	draft *Draft

	status    string
	statusSeq int

	confirmQuit bool
	finished    bool

	// The header and the footer as last drawn, with what they were drawn
	// from: the program redraws after every message (a cursor blink, a
	// save), and most leave them as they were.
	headerMemo, footerMemo memo
	// titleFor is the header's text as last worked out, and from what.
	titleFor struct {
		org, name, out string
		width          int
	}

	// frame is the screen, drawn in the update that changed it: View
	// only returns it.
	frame *tea.View
}

// memo is a drawn string and the key it was drawn from.
type memo struct{ key, out string }

// get returns the string drawn for key, drawing it when key changed.
func (c *memo) get(key string, draw func() string) string {
	if c.key != key || c.out == "" {
		c.key, c.out = key, draw()
	}
	return c.out
}

// New builds the wizard for env. The theme starts dark and follows the
// terminal's background once it reports it; both themes are env.Themes,
// or the session's own when env has none. Each step is built when the
// wizard first needs it.
func New(env *steps.Env) *Model {
	themes := env.Themes
	if themes == nil {
		themes = steps.NewThemes()
	}
	m := newModel(env, themes, nil)
	m.steps = lazySteps(env, m.theme, steps.Constructors())
	return m
}

// newModel is the wizard with the given steps, drawn with themes (dark
// until the terminal reports its background).
func newModel(env *steps.Env, themes *steps.Themes, list []steps.Step) *Model {
	theme := themes.For(true)
	m := &Model{
		env:    env,
		themes: themes,
		theme:  theme,
		setup:  steps.NewSetup(),
		keys:   steps.NewShellKeys(),
		width:  80,
		height: 24,
		draft:  newDraft(env),
	}
	m.steps = list
	return m
}

// Setup returns the setup as it is now (for tests and the line mode).
func (m *Model) Setup() *steps.Setup { return m.setup }

// Draft is the setup's persistence.
func (m *Model) Draft() *Draft { return m.draft }

// Size is the terminal's size as the wizard last learned it.
func (m *Model) Size() (width, height int) { return m.width, m.height }

// Step is the current step's index and title, for the server's list of
// live sessions.
func (m *Model) Step() (index int, title string) { return m.cur, m.steps[m.cur].Title() }

// Quits reports whether k, pressed now, would leave the wizard (or ask
// to): a host that lets someone else type (a support engineer in control)
// keeps such keys for the person at the keyboard.
func (m *Model) Quits(k tea.KeyPressMsg) bool {
	return key.Matches(k, m.keys.Quit) || (!m.steps[m.cur].Capturing() && key.Matches(k, m.keys.QuitAlias))
}

// Theme is the session's theme.
func (m *Model) Theme() *steps.Theme { return m.theme }

// Close prepares the wizard to end on its host's initiative (the server
// closing an SSH session): a question to quit is dropped and the draft
// saved now. The host quits once Draft().Settled(Setup()).
func (m *Model) Close() tea.Cmd {
	m.confirmQuit = false
	return m.save()
}

type clearStatusMsg struct{ seq int }

// Init asks for the terminal's background and enters the first step.
func (m *Model) Init() tea.Cmd {
	cmd := tea.Batch(tea.RequestBackgroundColor, m.enter(m.cur))
	m.redraw()
	return cmd
}

// Update routes a message: global keys first, then the current step for
// keys and pastes, every step for everything else. A step change a step
// asks for takes effect here, before the next message: keys typed right
// after enter reach the next step even when they come faster than
// commands run (a burst over a slow SSH link).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	unseen := m.unseen(msg)
	if touches(msg) {
		m.draft.Touch()
	}
	cmd := m.update(msg)
	if !unseen || m.frame == nil {
		m.redraw()
	}
	return m, tea.Batch(cmd, m.scheduleSave())
}

// unseen reports whether msg changes nothing on screen: the draft saves
// that follow keystrokes. The program draws after every message, and over
// SSH, with hundreds of sessions, drawing is most of the server's work.
func (m *Model) unseen(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case saveTickMsg:
		return true
	case draftSaved:
		return msg.err == nil && m.draft.Err() == nil && !m.confirmQuit
	}
	return false
}

// touches reports whether msg may change the setup: anything a step
// handles, but the animation ticks and the terminal's news.
func touches(msg tea.Msg) bool {
	switch msg.(type) {
	case spinner.TickMsg, cursor.BlinkMsg, tea.WindowSizeMsg, tea.BackgroundColorMsg,
		saveTickMsg, draftSaved, clearStatusMsg, steps.StatusMsg:
		return false
	}
	return true
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.helpWidth = msg.Width
		m.layout()
		return m.broadcast(msg) // steps that lay out by width (the guide) re-render
	case tea.BackgroundColorMsg:
		m.theme = m.themes.For(msg.IsDark())
		for _, s := range m.steps {
			if s, ok := s.(steps.Themed); ok {
				s.SetTheme(m.theme)
			}
		}
		return m.broadcast(msg)
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		if m.confirmQuit {
			return nil
		}
		return m.navigate(m.steps[m.cur].Update(msg))
	case steps.Nav:
		return m.navigate(nil, msg)
	case steps.StatusMsg:
		m.statusSeq++
		m.status = string(msg)
		seq := m.statusSeq
		return tea.Tick(statusFor, func(time.Time) tea.Msg { return clearStatusMsg{seq} })
	case clearStatusMsg:
		if msg.seq == m.statusSeq {
			m.status = ""
		}
		return nil
	case saveTickMsg:
		return m.save()
	case draftSaved:
		return m.saved(msg)
	}
	return m.broadcast(msg)
}

// navigate applies the step change nav, if any, after a step's update
// that also returned cmd.
func (m *Model) navigate(cmd tea.Cmd, nav steps.Nav) tea.Cmd {
	switch nav := nav.(type) {
	case steps.NextMsg:
		if m.cur+1 < len(m.steps) {
			return tea.Batch(cmd, m.goTo(m.cur+1))
		}
	case steps.BackMsg:
		if m.cur > 0 {
			return tea.Batch(cmd, m.goTo(m.cur-1))
		}
	case steps.GotoMsg:
		if nav.Step >= 0 && nav.Step <= m.setup.Reached && nav.Step < len(m.steps) {
			return tea.Batch(cmd, m.goTo(nav.Step))
		}
	case steps.ResumeMsg:
		m.setup = nav.Setup
		m.finished = false // e.g. a fresh setup after the review's "set up another"
		m.draft.resumed(m.setup)
		m.leave()
		m.cur = min(max(m.setup.Step, 0), len(m.steps)-1)
		return tea.Batch(cmd, m.enter(m.cur))
	case steps.FinishedMsg:
		m.finished = true
		return tea.Batch(cmd, m.draft.delete(m.setup))
	}
	return cmd
}

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.steps))
	for _, s := range m.steps {
		cmds = append(cmds, m.navigate(s.Update(msg)))
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.confirmQuit {
		switch {
		case key.Matches(msg, m.keys.Confirm, m.keys.Quit):
			return tea.Quit
		case key.Matches(msg, m.keys.Deny):
			m.confirmQuit = false
		}
		return nil
	}
	step := m.steps[m.cur]
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, step.Keys()...):
		return m.navigate(step.Update(msg))
	case key.Matches(msg, m.keys.Back) && m.cur > 0 && !m.finished:
		return m.goTo(m.cur - 1)
	case !step.Capturing() && key.Matches(msg, m.keys.QuitAlias):
		return m.quit()
	case !step.Capturing() && key.Matches(msg, m.keys.Help):
		m.showAll = !m.showAll
		return nil
	}
	return m.navigate(step.Update(msg))
}

// quit leaves at once when everything is saved, and asks otherwise.
func (m *Model) quit() tea.Cmd {
	if m.finished || !m.unsaved() {
		return tea.Quit
	}
	m.confirmQuit = true
	return m.save()
}

// unsaved reports whether the setup holds input the store does not have.
func (m *Model) unsaved() bool { return m.draft.Unsaved(m.setup) }

// enter makes step i the current one: sized first, so that what it
// starts on entering (the guide's rendering) is for its area.
func (m *Model) enter(i int) tea.Cmd {
	m.cur = i
	m.resize(m.sized.height)
	return m.steps[i].Enter(m.setup)
}

func (m *Model) goTo(i int) tea.Cmd {
	if i != m.cur {
		m.leave()
	}
	m.setup.Step = i
	m.setup.Reached = max(m.setup.Reached, i)
	m.showAll = false
	m.draft.Touch()
	return tea.Batch(m.save(), m.enter(i))
}

// leave tells the current step that the person leaves it (steps.Leaver).
func (m *Model) leave() {
	if s, ok := m.steps[m.cur].(steps.Leaver); ok {
		s.Leave()
	}
}

// scheduleSave arranges a save shortly after the setup changed.
func (m *Model) scheduleSave() tea.Cmd {
	if m.finished {
		return nil
	}
	return m.draft.schedule(m.setup)
}

// save stores the setup as a draft now, unless a save is in flight (its
// completion saves again when needed) or there is nothing to keep yet.
func (m *Model) save() tea.Cmd {
	if m.finished {
		return nil
	}
	return m.draft.Save(m.setup)
}

func (m *Model) saved(msg draftSaved) tea.Cmd {
	m.draft.saved(msg, m.setup)
	if m.finished {
		// The connection was activated while this save was in flight: the
		// draft it wrote again must go too.
		return m.draft.delete(m.setup)
	}
	if msg.err == nil && m.confirmQuit && !m.unsaved() {
		return tea.Quit
	}
	return nil
}

// layout gives the current step the area between the header and the
// footer. The footer's help line shows the step's keys, which may change
// with its area (a list that overflows offers scrolling): a second pass
// settles it.
func (m *Model) layout() {
	for range 2 {
		if !m.resize(m.bodyHeight()) {
			return
		}
	}
}

// bodyHeight is the step's height under the header and above the footer.
func (m *Model) bodyHeight() int {
	return max(m.height-lipgloss.Height(m.header())-lipgloss.Height(m.footer())-1, 3)
}

// resize gives the current step width×height, reporting whether that
// changed its area.
func (m *Model) resize(height int) bool {
	if m.sized.step == m.cur && m.sized.width == m.width && m.sized.height == height {
		return false
	}
	m.sized.step, m.sized.width, m.sized.height = m.cur, m.width, height
	m.steps[m.cur].SetSize(m.width, height)
	return true
}

// redraw lays the screen out and draws it, once per update that may have
// changed it.
func (m *Model) redraw() {
	m.layout()
	v := m.render()
	m.frame = &v
}

// View is the screen as last drawn: the header, the step indicator, the
// step's body and the footer (status and help) in the terminal's size.
func (m *Model) View() tea.View {
	if m.frame == nil {
		return m.render()
	}
	return *m.frame
}

func (m *Model) render() tea.View {
	body, pad := fitBody(m.steps[m.cur].View(), m.width, m.sized.height)
	v := tea.NewView(m.headerMemo.out + "\n" + body + pad + "\n" + m.footerMemo.out)
	v.AltScreen = true
	v.WindowTitle = "oidc-onboard"
	return v
}

func (m *Model) header() string {
	title := m.title()
	var key strings.Builder
	key.Grow(len(title) + 48)
	key.WriteString(title)
	for _, n := range []int{m.cur, m.setup.Reached, m.width} {
		key.WriteByte(0)
		key.WriteString(strconv.Itoa(n))
	}
	key.WriteString(strconv.FormatBool(m.theme.IsDark))
	key.WriteString(m.steps[m.cur].Title())
	return m.headerMemo.get(key.String(), func() string {
		return m.theme.Header.Render(title) + "\n" + m.indicator() + "\n"
	})
}

// title is the header's text: the organization and connection set up,
// worked out again only when they or the width changed (the header's key
// is built on every redraw).
func (m *Model) title() string {
	c, k := m.setup.Connection, &m.titleFor
	if k.out == "" || k.org != c.Organization || k.name != c.Name || k.width != m.width {
		k.org, k.name, k.width, k.out = c.Organization, c.Name, m.width, m.drawTitle()
	}
	return k.out
}

func (m *Model) drawTitle() string {
	title := "oidc-onboard"
	if c := m.setup.Connection; c.Organization != "" { // names people typed: through flow.Display
		title += " · " + flow.Display(c.Organization)
		if c.Name != "" {
			title += " / " + flow.Display(c.Name)
		}
	}
	if m.env.Demo != nil {
		title += " · demo"
	}
	return truncate(title, m.width)
}

// indicator shows every step: done ✓, current ●, not yet reached ○, with
// the current step's name; it shortens itself to fit narrow terminals.
func (m *Model) indicator() string {
	t := m.theme
	var marks []string
	for i := range m.steps {
		switch {
		case i == m.cur:
			marks = append(marks, t.StepNow.Render("●"))
		case i < m.cur || i <= m.setup.Reached:
			marks = append(marks, t.StepDone.Render("✓"))
		default:
			marks = append(marks, t.StepLater.Render("○"))
		}
	}
	label := fmt.Sprintf("Step %d of %d: %s", m.cur, len(m.steps)-1, m.steps[m.cur].Title())
	if m.cur == 0 {
		label = "Start: " + m.steps[0].Title()
	}
	line := strings.Join(marks, " ") + "  " + t.StepNow.Render(label)
	if lipgloss.Width(line) > m.width {
		line = t.StepNow.Render(truncate(label, m.width))
	}
	return line
}

func (m *Model) footer() string {
	stepKeys := m.steps[m.cur].Keys()
	// The key is built by hand: it is built on every redraw, which is on
	// every key typed in hundreds of sessions.
	var key strings.Builder
	flag := func(b bool) {
		if b {
			key.WriteByte('1')
		} else {
			key.WriteByte('0')
		}
	}
	for _, b := range []bool{m.confirmQuit, m.theme.IsDark, m.showAll, m.finished, m.cur == 0, m.steps[m.cur].Capturing()} {
		flag(b)
	}
	if err := m.draft.Err(); err != nil {
		key.WriteString(err.Error())
	}
	key.WriteByte(0)
	key.WriteString(m.status)
	key.WriteByte(0)
	key.WriteString(strconv.Itoa(m.width))
	key.WriteByte(0)
	key.WriteString(strconv.Itoa(m.helpWidth))
	for _, b := range stepKeys {
		h := b.Help()
		key.WriteByte(0)
		flag(b.Enabled())
		key.WriteString(h.Key)
		key.WriteByte(1)
		key.WriteString(h.Desc)
		for _, k := range b.Keys() {
			key.WriteByte(1)
			key.WriteString(k)
		}
	}
	draw := func() string { return m.drawFooter(stepKeys) }
	if !m.confirmQuit && m.draft.Err() == nil && m.status == "" {
		// Nothing of this session's own: the same footer as every
		// other session's at this step and width.
		k := key.String()
		return m.footerMemo.get(k, func() string { return m.themes.Drawn("footer\x00"+k, draw) })
	}
	return m.footerMemo.get(key.String(), draw)
}

func (m *Model) drawFooter(stepKeys []key.Binding) string {
	t := m.theme
	var status string
	switch {
	case m.confirmQuit:
		status = t.Warn.Render(truncate("Your last changes are not saved yet. Quit anyway? y/n", m.width))
	case m.draft.Err() != nil:
		status = t.Fail.Render(truncate("Draft not saved: "+m.draft.Err().Error(), m.width))
	case m.status != "":
		status = t.StatusLine.Render(truncate(m.status, m.width))
	}
	global := []key.Binding{m.keys.Back, m.keys.Quit}
	if !m.steps[m.cur].Capturing() {
		global = []key.Binding{m.keys.Back, m.keys.QuitAlias, m.keys.Help}
	}
	if m.cur == 0 || m.finished {
		global = global[1:]
	}
	global = slices.DeleteFunc(global, func(g key.Binding) bool { return sharesKey(g, stepKeys) })
	keys := helpKeys{step: stepKeys, global: global}
	line := m.helpBubble().View(keys)
	if !m.showAll {
		line = m.fitShortHelp(keys)
	}
	// The full help (?) is several lines: cut each, not the whole.
	lines := strings.Split(line, "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return status + "\n" + strings.Join(lines, "\n")
}

// fitShortHelp drops keys from the one-line help until it fits the width.
// With "? more keys" on the line, which lists every key, it stays: the
// shell's q goes first, then the step's keys from the last, then esc back.
// Without it (a field is being typed in), the shell's keys go from the
// last, as the step's say what typing does. (The bubble itself would end
// the line with "…" at the first key that does not fit, whichever it is.)
// What still does not fit is cut by the caller.
func (m *Model) fitShortHelp(keys helpKeys) string {
	bubble := m.helpBubble()
	whole := bubble
	whole.SetWidth(0) // the line with every key, to measure
	sameKeys := func(k key.Binding) func(key.Binding) bool {
		return func(g key.Binding) bool { return slices.Equal(g.Keys(), k.Keys()) }
	}
	withHelp := slices.ContainsFunc(keys.global, sameKeys(m.keys.Help))
	for lipgloss.Width(whole.View(keys)) > m.width {
		q := slices.IndexFunc(keys.global, sameKeys(m.keys.QuitAlias))
		switch {
		case !withHelp && len(keys.global) > 0:
			keys.global = keys.global[:len(keys.global)-1]
		case q >= 0:
			keys.global = slices.Delete(slices.Clone(keys.global), q, q+1)
		case len(keys.step) > 1:
			keys.step = keys.step[:len(keys.step)-1]
		case len(keys.global) > 1:
			keys.global = keys.global[1:] // esc back; "? more keys" is last
		default:
			return bubble.View(keys)
		}
	}
	return bubble.View(keys)
}

// helpBubble is the help bubble as the footer draws it: in the theme's
// styles, the help line's width, full or short.
func (m *Model) helpBubble() help.Model {
	h := help.New()
	h.Styles, h.ShowAll = m.theme.Help, m.showAll
	h.SetWidth(m.helpWidth)
	return h
}

// fitBody makes a step's view exactly height lines, clipping a step that
// overflows (rather than letting it break the layout) and padding one that
// is shorter. It does by hand what a lipgloss style with Height, MaxHeight
// and MaxWidth does, without restyling every line of every frame.
//
// It returns the body and the newlines that pad it: a body whose lines fit,
// which every step's is, is not copied, cut up or joined again, and most of
// its lines are not measured, on every key.
func fitBody(body string, width, height int) (string, string) {
	if n := strings.Count(body, "\n"); height > 0 && n < height && n+len(newlines) >= height-1 &&
		!strings.ContainsAny(body, "\r\t") && widget.Fits(body, width, height) {
		return body, newlines[:height-1-n]
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if strings.Contains(body, "\t") {
		body = strings.ReplaceAll(body, "\t", "    ")
	}
	lines := strings.Split(body, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		// A line has at least as many bytes as it is wide.
		if len(l) > width && ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, "")
		}
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n"), ""
}

// newlines pad a short body.
var newlines = strings.Repeat("\n", 256)

// sharesKey reports whether b is bound to a key one of bs already uses:
// the step's meaning wins (e.g. esc closing a list rather than going back).
func sharesKey(b key.Binding, bs []key.Binding) bool {
	for _, k := range b.Keys() {
		for _, o := range bs {
			if o.Enabled() && slices.Contains(o.Keys(), k) {
				return true
			}
		}
	}
	return false
}

// truncate cuts s to width cells, with an ellipsis.
func truncate(s string, width int) string {
	if lipgloss.Width(s) <= width || width < 2 {
		return s
	}
	r := []rune(s)
	for lipgloss.Width(string(r))+1 > width && len(r) > 0 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
