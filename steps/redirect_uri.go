package steps

import (
	"cmp"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// redirectGuideKey names one rendering of a guide.
type redirectGuideKey struct {
	provider, redirectURI, connection, style string
	width                                    int
}

// redirectRenderedMsg brings back a rendered guide.
type redirectRenderedMsg struct {
	key redirectGuideKey
	out string
	err error
}

// redirectURI is step 1: the Redirect URI to copy into the IdP, and the
// provider's guide.
//
// NOTE: rendering the guide is slow, so it is rendered in a command, the
// first time the step is entered and again only when the width, the theme
// or the provider changes; each rendering is kept, so Update and View never
// touch glamour. The renderings come from the Env's Guides, which an SSH
// server shares between its sessions.
type redirectURI struct {
	stepBase

	laidOut
	entered  bool
	guides   []assets.Guide
	render   *Guides
	rendered map[redirectGuideKey]string
	inFlight bool
	guideErr error
	shownKey redirectGuideKey
	// drawnHead is the head as last drawn (head).
	drawnHead struct {
		key headKey
		out string
	}
	// drawnGuide is the viewport's view as last drawn (guideView).
	drawnGuide struct {
		key guideViewKey
		out string
	}
	// vp scrolls the guide while the step is entered; nil while it is
	// left (its content is the guide, which a step left lets go of).
	vp *viewport.Model
	// guideLines are the lines of the guide shown (pieces of its
	// rendering), to draw those in sight without the viewport.
	guideLines []string
	// left is the guide shown when the step was last left and where it
	// was scrolled to, to show it there again on coming back.
	left struct {
		key    redirectGuideKey
		offset int
	}

	picking bool
	pick    int
	// reading is the guide picked to read, when it is not the recorded
	// provider's: reading changes nothing in the setup; s chooses it.
	reading string
	// spelling shows the Redirect URI in chunks, its random part spelt, in
	// place of the guide: for reading it to someone over a call.
	spelling bool

	redirectKeys
}

// NewRedirectURI is step 1: show and copy the Redirect URI.
func NewRedirectURI(env *Env, theme *Theme) Step {
	r := &redirectURI{
		stepBase:     stepBase{env: env, theme: theme},
		guides:       assets.Guides(),
		render:       cmp.Or(env.Guides, NewGuides()),
		rendered:     map[redirectGuideKey]string{},
		redirectKeys: newRedirectKeys(),
	}
	r.laidOut = laidOut{area: area{width: 80}, update: r.update, layout: r.layout}
	return r
}

func (r *redirectURI) Title() string { return Title(StepRedirectURI) }

func (r *redirectURI) Enter(s *Setup) tea.Cmd {
	r.setup = s
	r.entered = true
	if r.vp == nil {
		vp := viewport.New()
		vp.KeyMap = viewport.KeyMap{} // scrolling is driven by the step's own keys
		r.vp = &vp
	}
	r.picking, r.reading, r.spelling = false, "", false
	if s.Connection.RedirectURI == "" && s.Connection.ID != "" {
		s.Connection.RedirectURI = r.env.RedirectURIFor(s.Connection.ID)
	}
	cmd := r.ensureGuide()
	r.layout()
	return cmd
}

func (r *redirectURI) Capturing() bool { return false }

func (r *redirectURI) Keys() []key.Binding {
	if r.picking {
		return []key.Binding{r.pickUp, r.pickDown, r.pickChoose, r.pickCancel}
	}
	// NOTE: a (read aloud) is named on the head's guide line, not here:
	// the help line has no room for it beside the shell's keys at 80.
	keys := []key.Binding{r.done, r.copyKey}
	if r.otherURI() != "" {
		keys = append(keys, r.switchURI)
	}
	if r.reading != "" {
		keys = append(keys, r.choose)
	}
	return append(keys, r.provider, r.scroll)
}

// otherURI is the Redirect URI this wizard would receive callbacks at, when
// the connection has another one (made by another wizard, a different
// --redirect-base, or imported): its test login could not come back here.
func (r *redirectURI) otherURI() string {
	if r.setup == nil || r.setup.Connection.ID == "" || r.env.RedirectBase == "" {
		return ""
	}
	if here := r.env.RedirectURIFor(r.setup.Connection.ID); here != r.setup.Connection.RedirectURI {
		return here
	}
	return ""
}

// guideKey is the rendering the screen needs now.
func (r *redirectURI) guideKey() redirectGuideKey {
	provider, uri, conn := assets.GenericGuide, "", ""
	if r.setup != nil {
		provider = cmp.Or(r.reading, redirectGuideID(r.setup))
		uri, conn = r.setup.Connection.RedirectURI, r.setup.Connection.ID
	}
	return redirectGuideKey{provider: provider, redirectURI: uri, connection: conn, style: r.theme.GlamourStyle,
		width: r.guideWidth()}
}

// redirectGuideID is the guide to show: the one chosen, else the detected
// provider's, else the generic one.
func redirectGuideID(s *Setup) string {
	return cmp.Or(s.Provider, cmp.Or(diagGuide(s), assets.GenericGuide))
}

// guideWidth is the wrap width of the guide: the screen less a margin.
func (r *redirectURI) guideWidth() int { return max(r.width-2, 20) }

// ensureGuide starts rendering the guide the screen needs, unless it is
// cached or a rendering is already running (its reply checks again).
func (r *redirectURI) ensureGuide() tea.Cmd {
	k := r.guideKey()
	if out, ok := r.rendered[k]; ok {
		r.show(k, out)
		return nil
	}
	if out, ok := r.render.Rendered(k.provider, k.redirectURI, k.connection, k.style, k.width); ok {
		r.rendered[k] = out
		r.show(k, out)
		return nil
	}
	if r.inFlight {
		return nil
	}
	r.inFlight = true
	guides := r.render
	return func() tea.Msg {
		out, err := guides.Render(k.provider, k.redirectURI, k.connection, k.style, k.width)
		return redirectRenderedMsg{key: k, out: out, err: err}
	}
}

func (r *redirectURI) show(k redirectGuideKey, out string) {
	if r.shownKey != k && r.vp != nil {
		r.shownKey = k
		r.vp.SetContent(out)
		r.guideLines = strings.Split(out, "\n")
		r.vp.GotoTop()
		if k == r.left.key {
			r.vp.SetYOffset(r.left.offset)
		}
		r.left.key = redirectGuideKey{}
	}
}

// Leave lets go of the guide, its renderings and its viewport (some 25
// KiB of every session that moved on, as the connection's Redirect URI
// is in the renderings): Enter shows the guide again, from the Guides'
// rendering, scrolled where it was.
func (r *redirectURI) Leave() {
	if r.vp != nil {
		r.left.key, r.left.offset = r.shownKey, r.vp.YOffset()
	}
	r.entered, r.vp, r.guideLines = false, nil, nil
	r.shownKey, r.drawnGuide.out, r.drawnHead.out = redirectGuideKey{}, "", ""
	r.rendered = map[redirectGuideKey]string{}
}

func (r *redirectURI) update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case redirectRenderedMsg:
		r.inFlight = false
		if !r.entered {
			return nil, nil // left meanwhile: Enter asks again
		}
		r.guideErr = msg.err
		if msg.err == nil {
			r.rendered[msg.key] = msg.out
		}
		if msg.err == nil || msg.key != r.guideKey() {
			return r.ensureGuide(), nil // shows it, or renders what is needed now
		}
	case tea.WindowSizeMsg: // the shell set the new size first
		if r.entered {
			return r.ensureGuide(), nil
		}
	case tea.BackgroundColorMsg:
		if r.entered {
			return r.ensureGuide(), nil
		}
	case tea.KeyPressMsg:
		if r.picking {
			return r.updatePicker(msg), nil
		}
		return r.updateKeys(msg)
	}
	return nil, nil
}

func (r *redirectURI) updateKeys(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	switch {
	case key.Matches(msg, r.done):
		return nil, NextMsg{}
	case key.Matches(msg, r.copyKey):
		uri := r.setup.Connection.RedirectURI
		if uri == "" {
			return Cmd(StatusMsg("There is no Redirect URI yet: go back and create the connection")), nil
		}
		return SendToClipboard(uri, "the Redirect URI"), nil
	case key.Matches(msg, r.aloud):
		r.spelling = !r.spelling
	case key.Matches(msg, r.switchURI) && r.otherURI() != "":
		r.setup.Connection.RedirectURI = r.otherURI()
		return tea.Batch(r.ensureGuide(), Cmd(StatusMsg("Redirect URI changed: paste the new one into the IdP's app too"))), nil
	case key.Matches(msg, r.choose) && r.reading != "":
		r.setup.Provider = redirectChosen(r.setup, r.reading)
		name := r.providerName()
		r.reading = ""
		return tea.Batch(r.ensureGuide(), Cmd(StatusMsg("The provider is now "+name))), nil
	case key.Matches(msg, r.provider):
		r.picking = true
		r.pick = r.providerIndex()
	case key.Matches(msg, r.scrollUp):
		r.vp.ScrollUp(1)
	case key.Matches(msg, r.scrollDown):
		r.vp.ScrollDown(1)
	case key.Matches(msg, r.pageUp):
		r.vp.PageUp()
	case key.Matches(msg, r.pageDown):
		r.vp.PageDown()
	}
	return nil, nil
}

func (r *redirectURI) updatePicker(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, r.pickUp, r.pickDown):
		r.pick = widget.Cursor(r.pick, len(r.guides), msg, r.pickUp, r.pickDown)
	case key.Matches(msg, r.pickCancel):
		r.picking = false
	case key.Matches(msg, r.pickChoose):
		// Reading a guide records nothing: s chooses its provider.
		r.picking, r.reading = false, r.guides[r.pick].ID
		if r.reading == redirectGuideID(r.setup) {
			r.reading = ""
		}
		return r.ensureGuide()
	}
	return nil
}

// redirectChosen is what Setup.Provider keeps for a chosen guide: "" for
// the generic one, unless a provider was detected, which "" would show
// instead.
func redirectChosen(s *Setup, id string) string {
	if id == assets.GenericGuide && diagDetectedGuide(s) == "" {
		return ""
	}
	return id
}

// providerIndex is the position of the chosen provider in the list.
func (r *redirectURI) providerIndex() int {
	for i, g := range r.guides {
		if g.ID == r.guideKey().provider {
			return i
		}
	}
	return len(r.guides) - 1
}

func (r *redirectURI) providerName() string { return r.guides[r.providerIndex()].Name }

// head is the step's top: the sentence, the URI to copy, the guide's line
// and, when the connection has another Redirect URI, the offer to switch.
func (r *redirectURI) head(width int) string {
	k := headKey{theme: r.theme, width: width, uri: r.setup.Connection.RedirectURI, provider: r.providerName(),
		detected: r.detectedNote(), reading: r.reading, other: r.otherURI()}
	if r.reading != "" {
		k.recorded = r.recordedName()
	}
	if r.drawnHead.out == "" || r.drawnHead.key != k {
		r.drawnHead.key, r.drawnHead.out = k, r.drawHead(width)
	}
	return r.drawnHead.out
}

// headKey is what the step's head is drawn from: it is drawn for the
// layout and for each View, on each message that reaches the step.
type headKey struct {
	theme                                             *Theme
	width                                             int
	uri, provider, detected, reading, recorded, other string
}

func (r *redirectURI) drawHead(width int) string {
	t := r.theme
	uri := r.setup.Connection.RedirectURI
	if uri == "" {
		uri = "(no connection yet: go back to create it)"
	}
	box := t.Box
	inner := max(width-box.GetHorizontalFrameSize(), 1)
	top := []string{
		t.Text.Width(width).Render(r.env.words().redirect),
		box.Width(min(lipgloss.Width(uri), inner) + box.GetHorizontalFrameSize()).
			Render(t.Accent.Render(uri)),
		t.Subtle.Render(widget.Truncate("c: copy the URI · a: read it aloud, spelt out", width)),
		widget.Truncate(t.Subtle.Render("Guide for ")+t.Text.Render(r.providerName())+r.detectedNote()+
			t.Subtle.Render(" · p: other provider"), width),
	}
	if r.reading != "" {
		top = append(top, t.Warn.Width(width).Render("Reading only: the provider stays "+r.recordedName()+
			"; press s if the organization uses "+r.providerName()+"."))
	}
	if other := r.otherURI(); other != "" {
		top = append(top, widget.Para(t.Warn, "This wizard receives test-login callbacks at "+other+
			" — press u to use it as the Redirect URI (then update the IdP's app too).", width))
	}
	return strings.Join(top, "\n")
}

// layout sizes the guide's viewport to the area under the head; not
// while the step is left (the shell passes it every message that is not
// a key), as Enter lays it out again.
func (r *redirectURI) layout() {
	if r.setup == nil || !r.entered {
		return
	}
	r.vp.SetWidth(r.width)
	r.vp.SetHeight(max(r.height-lipgloss.Height(r.head(r.width))-1, 1))
}

func (r *redirectURI) View() string {
	if r.setup == nil {
		return ""
	}
	t, width, height := r.theme, r.width, r.height
	head := r.head(width)
	rest := max(height-lipgloss.Height(head)-1, 1)
	var body string
	// A rendering for another width (a resize whose message is still on
	// its way) is shown until the right one arrives: the viewport clips it.
	want, shown := r.guideKey(), r.shownKey
	shown.width = want.width
	switch {
	case r.picking:
		body = r.pickerView(width, rest)
	case r.spelling:
		body = r.aloudView(width)
	case r.guideErr != nil && shown != want:
		body = widget.Para(t.Error, "The guide could not be shown: "+r.guideErr.Error(), width)
	case shown != want:
		body = t.Subtle.Render("Loading the guide…")
	default:
		body = r.guideView()
	}
	return widget.Fit(head+"\n\n"+body, width, height)
}

// guideView is the viewport's view, drawn again only when what it shows
// moved: each drawing restyles every visible line of the guide, and the
// step is drawn on each message that reaches it.
func (r *redirectURI) guideView() string {
	k := guideViewKey{guide: r.shownKey, theme: r.theme, offset: r.vp.YOffset(), column: r.vp.XOffset(), width: r.vp.Width(), height: r.vp.Height()}
	if r.drawnGuide.out == "" || r.drawnGuide.key != k {
		r.drawnGuide.key, r.drawnGuide.out = k, r.visibleGuide()
	}
	return r.drawnGuide.out
}

// visibleGuide is the lines of the guide in sight. The guide is wrapped
// to the step's width already, so they are shown as they are: the
// viewport's View pads each line to the width and the view to the height
// with lipgloss, which wraps them again (1.4 ms of each session's first
// screen of the guide, its cost at 500 sessions); the shell pads the
// step's view. Scrolled sideways, it is the viewport's own view.
func (r *redirectURI) visibleGuide() string {
	if r.vp.XOffset() != 0 {
		return r.vp.View()
	}
	top := min(r.vp.YOffset(), len(r.guideLines))
	return strings.Join(r.guideLines[top:min(top+r.vp.Height(), len(r.guideLines))], "\n")
}

// guideViewKey is what the viewport's view is drawn from: the guide's
// rendering shown, the theme, where it is scrolled to and its size.
type guideViewKey struct {
	guide                         redirectGuideKey
	theme                         *Theme
	offset, column, width, height int
}

// recordedName is the name of the provider the setup records (chosen or
// detected), whose guide shows when none is picked to read.
func (r *redirectURI) recordedName() string {
	id := redirectGuideID(r.setup)
	for _, g := range r.guides {
		if g.ID == id {
			return g.Name
		}
	}
	return id
}

// detectedNote marks a guide shown because its provider was detected.
func (r *redirectURI) detectedNote() string {
	if r.reading != "" || r.setup.Provider != "" || diagGuide(r.setup) == "" {
		return ""
	}
	return r.theme.Subtle.Render(" (detected)")
}

// aloudView is the Redirect URI as read aloud: a chunk a line, the random
// part spelt out; a press of a goes back to the guide.
func (r *redirectURI) aloudView(width int) string {
	t := r.theme
	lines := []string{t.Title.Render(widget.Truncate("Reading the Redirect URI aloud", width))}
	for _, l := range flow.AloudLines(flow.URIAloud(r.setup.Connection.RedirectURI)) {
		lines = append(lines, t.Text.Render("  "+l))
	}
	return strings.Join(append(lines, t.Subtle.Render(widget.Truncate("a: back to the guide", width))), "\n")
}

func (r *redirectURI) pickerView(width, height int) string {
	t := r.theme
	title := t.Title.Render(widget.Truncate("Read which identity provider's guide?", width))
	var rows []string
	for i, g := range r.guides {
		if i == r.pick {
			rows = append(rows, t.Selected.Render(widget.Truncate("▸ "+g.Name, width)))
		} else {
			rows = append(rows, t.Text.Render(widget.Truncate("  "+g.Name, width)))
		}
	}
	// The title stays; the list scrolls to keep the selected row in view.
	height = max(height-1, 1)
	start := max(r.pick-height+1, 0)
	return title + "\n" + strings.Join(rows[start:min(start+height, len(rows))], "\n")
}
