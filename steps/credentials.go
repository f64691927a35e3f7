package steps

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// The credentials form's fields, in order; credAuth, the token auth
// method, is a focus stop after them only when it is shown (authShown).
const (
	credClientID = iota
	credSecret
	credDiscovery
	credFields
	credAuth = credFields
)

// credAuthMethods are the token auth method's choices, in the order ←/→
// goes through them; "" lets the login choose.
var credAuthMethods = [...]string{"", flow.AuthMethodBasic, flow.AuthMethodPost}

// credentials is step 2: the Client ID, Client Secret and Discovery
// Endpoint from the organization's IT team.
//
// NOTE: the fields are three bubbles textinputs rather than an embedded huh
// form. huh validates a field when it is left, not as the person types,
// its echo mode cannot be toggled on a live field (the reveal key), and an
// embedded *huh.Form needs type assertions and State watching to route
// focus; with textinputs every keystroke is checked and written to the
// Setup in one place, and focus is a plain index.
type credentials struct {
	area
	stepBase

	// inputs are the fields' text inputs, each built when it is first
	// focused or given a value: until then (nil) the field is empty and
	// drawn from the theme's blank input. A customer who has typed the
	// Client ID holds one text input, not three.
	inputs   [credFields]*textinput.Model
	focus    int
	visited  [credFields]bool // shown errors only once a field was left or submitted
	revealed bool
	shared   bool   // someone else sees the screen (as of the last update): the secret cannot be shown
	demo     bool   // the fields were pre-filled from the demo IdP
	message  string // what to fix after a refused submit

	// The secret hand-off (credentials_handoff.go): asking is set while
	// the engineer chooses what to ask for; code and command are the
	// pending hand-off's, shown to this session only.
	asking        bool
	code, command string

	intro  credIntro              // the opening paragraph, as last drawn
	blanks [credFields]blankField // the empty fields, as last drawn
	labels drawnLabels            // the fields' labels, as last drawn
	notes  [credFields]drawnNote  // the fields' notes, as last drawn

	credKeys
	method key.Binding // ←/→ on the token auth method
}

// NewCredentials is step 2: enter the client credentials and the
// discovery endpoint.
func NewCredentials(env *Env, theme *Theme) Step {
	c := &credentials{
		stepBase: stepBase{env: env, theme: theme},
		credKeys: newCredKeys(),
		method:   bind("←/→", "auth method", "left", "right", "space"),
	}
	return c
}

// asField is in set up as field i: its placeholder, its limit, for the
// secret its echo, and its width once the step has one.
func (c *credentials) asField(in textinput.Model, i int) textinput.Model {
	switch i {
	case credClientID:
		in.Placeholder = widget.Hint("the application's Client ID")
	case credSecret:
		in = limited(in, widget.LimitSecret)
		in.Placeholder = widget.Hint("the Client Secret")
		in.EchoMode, in.EchoCharacter = textinput.EchoPassword, '•'
		if c.revealed {
			in.EchoMode = textinput.EchoNormal
		}
	case credDiscovery:
		in.Placeholder = widget.Example("https://idp.example.com/.well-known/openid-configuration")
	}
	if c.width > 0 {
		in = widget.Sized(in, c.width)
	}
	return in
}

// field is field i's text input, built now if it was not.
func (c *credentials) field(i int) *textinput.Model {
	if c.inputs[i] == nil {
		in := c.asField(widget.NewInput(c.theme.InputStyles(), ""), i)
		c.inputs[i] = &in
	}
	return c.inputs[i]
}

// value is the text of field i.
func (c *credentials) value(i int) string {
	if c.inputs[i] == nil {
		return ""
	}
	return c.inputs[i].Value()
}

// setValue puts v in field i (building its input unless both are empty).
func (c *credentials) setValue(i int, v string) {
	if v != "" || c.inputs[i] != nil {
		c.field(i).SetValue(v)
	}
}

// noteView is field i's note drawn, kept while the note, the width and
// the theme are the same: the note under the field being typed in is
// drawn again only when it changes, not on each key.
func (c *credentials) noteView(i int) string {
	text, style := c.credNote(i)
	if text == "" {
		return ""
	}
	n := &c.notes[i]
	if n.view == "" || n.text != text || n.width != c.width || n.theme != c.theme {
		*n = drawnNote{text: text, width: c.width, theme: c.theme,
			view: style.PaddingLeft(2).Width(c.width).Render(flow.DisplayText(text))}
	}
	return n.view
}

// drawnNote is a field's note drawn, and what it was drawn from (its
// style follows from its text: ✓, ✗, ! or →).
type drawnNote struct {
	text  string
	width int
	theme *Theme
	view  string
}

// blankField is an empty field's drawing and what it was drawn for.
type blankField struct {
	theme    *Theme
	width    int
	revealed bool
	view     string
}

// fieldView draws field i. An empty field is drawn once for its width,
// theme and echo: drawing one copies and draws a whole text input, on
// every key typed into another field.
func (c *credentials) fieldView(i int) string {
	if c.inputs[i] != nil {
		return c.inputs[i].View()
	}
	b := &c.blanks[i]
	if b.view == "" || b.theme != c.theme || b.width != c.width || b.revealed != c.revealed {
		*b = blankField{theme: c.theme, width: c.width, revealed: c.revealed, view: c.asField(c.theme.blankInput(), i).View()}
	}
	return b.view
}

func (c *credentials) Title() string { return Title(StepCredentials) }

func (c *credentials) Enter(s *Setup) tea.Cmd {
	if c.setup != s || !s.handoffPending() {
		c.code, c.command = "", ""
	}
	c.setup = s
	c.message, c.revealed, c.visited, c.asking = "", false, [credFields]bool{}, false
	c.setEcho()
	conn := s.Connection
	discovery := s.DiscoveryInput
	if discovery == "" {
		discovery = conn.DiscoveryURL
	}
	c.demo = false
	if d := c.env.Demo; d != nil && conn.ClientID == "" && conn.ClientSecret == "" && discovery == "" {
		conn.ClientID, conn.ClientSecret, discovery = d.ClientID, d.ClientSecret, d.DiscoveryURL
		c.demo = true
	}
	c.setValue(credClientID, conn.ClientID)
	c.setValue(credSecret, conn.ClientSecret)
	c.setValue(credDiscovery, discovery)
	c.sync()
	c.focus = credClientID
	for i := range c.inputs {
		if strings.TrimSpace(c.value(i)) == "" {
			c.focus = i
			break
		}
	}
	if s.Focus == FocusDiscovery { // sent here to change it (validate's e)
		c.focus, s.Focus = credDiscovery, ""
	}
	return tea.Batch(c.focusField(), watchHandoff(c.env, s))
}

func (c *credentials) Capturing() bool { return true }

func (c *credentials) Keys() []key.Binding {
	if c.revealed {
		c.reveal.SetHelp("ctrl+r", "hide secret")
	} else {
		c.reveal.SetHelp("ctrl+r", "show secret")
	}
	if c.asking {
		return []key.Binding{c.askSecret, c.askAll, c.askCancel}
	}
	keys := []key.Binding{c.submit, c.move}
	if c.focus == credAuth {
		keys = append(keys, c.method)
	}
	if c.canHandOff() {
		keys = append(keys, c.handoff)
	}
	if !c.setup.SecretHandedOff() && !c.shared { // it cannot be shown
		keys = append(keys, c.reveal)
	}
	return keys
}

// authShown reports whether the step shows the token auth method: when
// the validated metadata offers both client_secret_basic and
// client_secret_post (the app may be registered for one only), or when the
// connection already names one. Before a first validation nothing is
// known; a test login refused for the method points back here, and by
// then the metadata is.
func (c *credentials) authShown() bool { return credAuthShown(c.setup) }

func credAuthShown(s *Setup) bool {
	return flow.OffersBothAuthMethods(s.Metadata) || s.Connection.TokenAuthMethod != ""
}

// stops is the number of focus stops: the fields, and the method if shown.
func (c *credentials) stops() int {
	if c.authShown() {
		return credFields + 1
	}
	return credFields
}

// cycleMethod moves the token auth method d choices on.
func (c *credentials) cycleMethod(d int) {
	m := &c.setup.Connection.TokenAuthMethod
	i := 0
	for j, v := range credAuthMethods {
		if v == *m {
			i = j
		}
	}
	*m = credAuthMethods[(i+d+len(credAuthMethods))%len(credAuthMethods)]
}

// credMethodLabel names a method as the step shows it.
func credMethodLabel(m string) string {
	if m == "" {
		return "automatic (" + flow.AuthMethodBasic + " when offered)"
	}
	return m
}

func (c *credentials) Update(msg tea.Msg) (tea.Cmd, Nav) {
	cmd, nav := c.update(msg)
	c.intro = c.introText(c.width) // kept for View, which changes nothing
	return cmd, nav
}

// credIntro is the step's opening paragraph, wrapped and styled once per
// width and theme rather than on each key: Update keeps the last one.
type credIntro struct{ key, text string }

func (c *credentials) introText(width int) credIntro {
	t := c.theme
	key := fmt.Sprint(width, t.IsDark, c.demo)
	if c.intro.key == key {
		return c.intro
	}
	text := t.Text.Width(width).Render(c.env.words().credentials)
	if c.demo {
		text += "\n" + t.Subtle.Width(width).Render("Pre-filled with the demo IdP's client.")
	}
	return credIntro{key: key, text: text}
}

func (c *credentials) update(msg tea.Msg) (tea.Cmd, Nav) {
	c.shared = c.env.watched()
	if c.revealed && c.shared {
		// Someone started watching: the shell redraws after this update,
		// and no frame they see may carry the secret.
		c.revealed = false
		c.setEcho()
	}
	if cmd, ok := c.updateHandoff(msg); ok {
		return cmd, nil
	}
	switch msg := msg.(type) {
	case tea.BackgroundColorMsg:
		for _, in := range c.inputs {
			if in != nil {
				in.SetStyles(c.theme.InputStyles())
			}
		}
	case tea.KeyPressMsg:
		if c.asking {
			switch {
			case key.Matches(msg, c.askSecret):
				return c.makeHandoff(store.HandoffSecret), nil
			case key.Matches(msg, c.askAll):
				return c.makeHandoff(store.HandoffAll), nil
			case key.Matches(msg, c.askCancel):
				c.asking = false
			}
			return nil, nil
		}
		switch {
		case key.Matches(msg, c.handoff) && c.canHandOff():
			c.asking, c.message = true, ""
			return nil, nil
		case key.Matches(msg, c.reveal) && c.setup.SecretHandedOff():
			c.message = "The client secret came from the customer and is never shown here; only 'oidc-onboard connections export --include-secret' reads it."
			return nil, nil
		case key.Matches(msg, c.reveal) && c.env.watched():
			c.message = "The secret stays hidden while someone watches your screen (stop sharing to show it)."
			return nil, nil
		case key.Matches(msg, c.reveal):
			c.revealed = !c.revealed
			c.setEcho()
			return nil, nil
		case key.Matches(msg, c.submit):
			if c.focus < credDiscovery {
				return c.moveFocus(1), nil
			}
			return c.done()
		case key.Matches(msg, c.next):
			return c.moveFocus(1), nil
		case key.Matches(msg, c.prev):
			return c.moveFocus(-1), nil
		case c.focus == credAuth:
			if key.Matches(msg, c.method) {
				d := 1
				if msg.String() == "left" {
					d = -1
				}
				c.cycleMethod(d)
				c.message = ""
			}
			return nil, nil
		}
		return c.updateInput(msg), nil
	case tea.PasteMsg:
		if c.focus == credAuth {
			return nil, nil
		}
		return c.updateInput(msg), nil
	}
	return nil, nil
}

func (c *credentials) setEcho() {
	if c.inputs[credSecret] == nil {
		return // drawn as asField sets it
	}
	if c.revealed {
		c.inputs[credSecret].EchoMode = textinput.EchoNormal
	} else {
		c.inputs[credSecret].EchoMode = textinput.EchoPassword
	}
}

func (c *credentials) updateInput(msg tea.Msg) tea.Cmd {
	if c.focus == credSecret && c.setup.SecretHandedOff() {
		return c.replaceHandedOff(msg)
	}
	cmd := inputUpdate(c.field(c.focus), msg)
	c.message = ""
	c.sync()
	return cmd
}

func (c *credentials) moveFocus(d int) tea.Cmd {
	if c.focus < credFields {
		c.visited[c.focus] = true
	}
	n := c.stops()
	c.focus = (c.focus + d + n) % n
	return c.focusField()
}

func (c *credentials) focusField() tea.Cmd {
	for _, in := range c.inputs {
		if in != nil {
			in.Blur()
		}
	}
	if c.focus >= credFields {
		return nil
	}
	return c.field(c.focus).Focus()
}

// sync writes the fields into the setup, as typed, so that a draft saved
// at any moment resumes with them.
func (c *credentials) sync() {
	s := c.setup
	s.Connection.ClientID = strings.TrimSpace(c.value(credClientID))
	s.Connection.ClientSecret = strings.TrimSpace(c.value(credSecret))
	s.setDiscovery(c.value(credDiscovery))
}

// setDiscovery sets the Discovery Endpoint as typed, and the URL it means
// when it is one.
func (s *Setup) setDiscovery(input string) {
	s.DiscoveryInput = input
	s.Connection.DiscoveryURL = ""
	if u, _, err := flow.DiscoveryURLFor(input); err == nil {
		s.Connection.DiscoveryURL = u
	}
}

// done moves on when every field is valid, and otherwise focuses the first
// field to fix and says what to fix.
func (c *credentials) done() (tea.Cmd, Nav) {
	c.visited = [credFields]bool{true, true, true}
	for i := range c.inputs {
		if err := credCheck(i, c.value(i)); err != nil {
			msg, fix := flow.Explain(err)
			c.message = "Fix the " + credLabel(i) + ": " + msg
			if fix != "" {
				c.message += " — " + fix
			}
			c.focus = i
			return c.focusField(), nil
		}
	}
	c.sync()
	return nil, NextMsg{}
}

// CredentialField is one of the credentials step's fields, for the secret
// hand-off's form, which checks and names them as the step does.
type CredentialField int

// The credentials step's fields.
const (
	ClientIDField     CredentialField = credClientID
	ClientSecretField CredentialField = credSecret
	DiscoveryField    CredentialField = credDiscovery
)

// Check checks value as the credentials step checks the field.
func (f CredentialField) Check(value string) error { return credCheck(int(f), value) }

// Label is the field's name ("Client Secret").
func (f CredentialField) Label() string { return credLabel(int(f)) }

// drawnLabels are the fields' labels, blurred and focused, in a theme.
type drawnLabels struct {
	theme   *Theme
	blurred [credFields]string
	focused [credFields]string
}

// label is field i's label, drawn once per theme: the step is drawn on
// every key.
func (c *credentials) label(i int) string {
	l := &c.labels
	if l.theme != c.theme {
		l.theme = c.theme
		for f := range credFields {
			l.blurred[f], l.focused[f] = c.theme.Text.Render(credLabel(f)), c.theme.Title.Render(credLabel(f))
		}
	}
	if i == c.focus {
		return l.focused[i]
	}
	return l.blurred[i]
}

func credLabel(field int) string {
	return [...]string{"Client ID", "Client Secret", "Discovery Endpoint"}[field]
}

// credCheck is the validation of one field's text.
func credCheck(field int, value string) error {
	switch field {
	case credDiscovery:
		_, _, err := flow.DiscoveryURLFor(value)
		return err
	default:
		if strings.TrimSpace(value) == "" {
			return &flow.Error{Code: flow.CodeMissingField, Message: "it is empty",
				Fix: "paste the " + credLabel(field) + " from the IdP's application"}
		}
	}
	return nil
}

// credNote is the line under a field: its error, or what will be used.
func (c *credentials) credNote(field int) (text string, style lipgloss.Style) {
	t := c.theme
	value := c.value(field)
	err := credCheck(field, value)
	if err != nil {
		if !c.visited[field] && (value == "" || field != credDiscovery) {
			return "", t.Subtle
		}
		msg, fix := flow.Explain(err)
		if fix != "" {
			msg += ": " + fix
		}
		return "✗ " + msg, t.Error
	}
	switch field {
	case credSecret:
		n := len([]rune(strings.TrimSpace(value)))
		if c.setup.SecretHandedOff() {
			return fmt.Sprintf("✓ secret received (%d characters)", n), t.Pass
		}
		if strings.TrimSpace(value) != value {
			return fmt.Sprintf("! leading or trailing spaces will be trimmed (%d characters kept)", n), t.Warn
		}
		if f := credSecretFinding(c.setup); f != nil {
			return "! " + tlSentence(f.Message) + " Fix: " + f.Fix, t.Warn
		}
		if c.revealed {
			return fmt.Sprintf("✓ %d characters, shown (ctrl+r hides it)", n), t.Pass
		}
		if c.shared {
			return fmt.Sprintf("✓ %d characters, hidden while your screen is shared", n), t.Pass
		}
		return fmt.Sprintf("✓ %d characters, hidden (ctrl+r shows it)", n), t.Pass
	case credDiscovery:
		u, appended, _ := flow.DiscoveryURLFor(value)
		if appended {
			return "→ will use " + u, t.Pass
		}
		return "✓ a discovery endpoint", t.Pass
	}
	return "✓", t.Pass
}

// credSecretFinding is the warning a pasted secret deserves (a GUID: an
// Entra Secret ID rather than the secret's value), or nil.
func credSecretFinding(s *Setup) *flow.Finding {
	p, _ := diagProvider(s)
	if fs := flow.DiagnoseSecret(p, s.Connection.ClientSecret); len(fs) > 0 {
		return &fs[0]
	}
	return nil
}

// credAuthNote says why the token auth method is shown and how to change it.
func credAuthNote(s *Setup) string {
	if flow.OffersBothAuthMethods(s.Metadata) {
		return "The IdP offers client_secret_basic and client_secret_post; an app registered for one only (Hydra, Okta) needs that one. ←/→ changes it."
	}
	return "How the client secret is sent to the token endpoint. ←/→ changes it."
}

// SetSize fits the fields to the step's new width.
func (c *credentials) SetSize(width, height int) {
	c.area.SetSize(width, height)
	for _, in := range c.inputs {
		if in != nil {
			*in = widget.Sized(*in, width)
		}
	}
}

func (c *credentials) View() string {
	width, height := c.width, c.height
	t := c.theme
	focus := 0 // the line of the focused field
	parts := []string{c.introText(width).text}
	for i := range c.inputs {
		parts = append(parts, "", c.label(i))
		if i == c.focus {
			focus = len(strings.Split(strings.Join(parts, "\n"), "\n"))
		}
		parts = append(parts, c.fieldView(i))
		if note := c.noteView(i); note != "" {
			parts = append(parts, note)
		}
		if i == credSecret {
			for _, line := range c.handoffLines() {
				parts = append(parts, widget.Para(t.Warn, line, width))
			}
		}
	}
	if c.authShown() {
		label := t.Text.Render("Token auth method")
		value := "  " + credMethodLabel(c.setup.Connection.TokenAuthMethod)
		if c.focus == credAuth {
			label = t.Title.Render("Token auth method")
			value = t.Selected.Render("> ‹ " + credMethodLabel(c.setup.Connection.TokenAuthMethod) + " ›")
		}
		parts = append(parts, "", label)
		if c.focus == credAuth {
			focus = len(strings.Split(strings.Join(parts, "\n"), "\n"))
		}
		parts = append(parts, value, t.Subtle.PaddingLeft(2).Width(width).Render(credAuthNote(c.setup)))
	}
	if c.message != "" {
		parts = append(parts, "", widget.Para(t.Error, c.message, width))
	}
	// A long note (the secret's) can push the fields past the height: the
	// view then scrolls to keep the focused field in sight.
	lines := strings.Split(strings.Join(parts, "\n"), "\n")
	return widget.Fit(strings.Join(widget.Window(lines, focus, height), "\n"), width, height)
}
