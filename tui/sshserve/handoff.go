package sshserve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// A secret hand-off code as the SSH user name opens, instead of the
// wizard, one masked field (or the three credentials) bound to the draft
// the code was made for: what the customer pastes is sealed into the store
// at once, the code is used up, and the session ends.

// handoffIdentity re-checks a hand-off code's session: the hand-off id of
// org is still waiting.
func (s *Server) handoffIdentity(ctx context.Context, id, org string) (identity, error) {
	h, err := s.opts.Store.GetHandoff(ctx, id, org)
	switch {
	case flow.IsCode(err, flow.CodeInviteUnknown):
		return identity{}, errors.New("this hand-off code is not known")
	case err != nil:
		return identity{}, err
	case !h.UsedAt.IsZero():
		return identity{}, errors.New("this hand-off code was already used")
	case !s.opts.Now().Before(h.ExpiresAt):
		return identity{}, errors.New("this hand-off code expired")
	}
	return identity{actor: "handoff:" + id, organization: org, handoff: id}, nil
}

// handoffMiddleware serves the sessions of hand-off codes, and passes the
// others on.
func (s *Server) handoffMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		id, _ := sess.Context().Value(identityKey).(identity)
		if id.handoff == "" {
			next(sess)
			return
		}
		if _, _, ok := sess.Pty(); !ok || len(sess.Command()) > 0 {
			refuse(sess, "A hand-off code opens a field to paste into, in a terminal. Connect with: ssh -t -p PORT CODE@HOST (without a command).")
			return
		}
		h, err := s.opts.Store.GetHandoff(sess.Context(), id.handoff, id.organization)
		if err != nil {
			refuse(sess, "Not let in: "+err.Error())
			return
		}
		addr := hostOf(sess.RemoteAddr())
		// The field stays open while the code is valid, and a moment more
		// for a paste begun in time.
		ctx, cancel := context.WithDeadline(sess.Context(), h.ExpiresAt.Add(time.Minute))
		defer cancel()
		receive := func(v store.HandoffValues) error {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, err := s.opts.Store.ReceiveHandoff(wctx, h.ID, h.Organization, v, store.Event{Actor: id.actor, Address: addr})
			return err
		}
		m := newHandoffModel(h, receive)
		serve := bubbletea.MiddlewareWithProgramHandler(func(sess ssh.Session) *tea.Program {
			opts := append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}, bubbletea.MakeOptions(sess)...)
			if pty, _, _ := sess.Pty(); pty.Window.Width <= 0 || pty.Window.Height <= 0 {
				// A client that could not tell its size (ssh -tt from a
				// pipe): draw for the commonest terminal rather than none.
				opts = append(opts, tea.WithWindowSize(80, 24))
			}
			return tea.NewProgram(m, opts...)
		})
		serve(func(ssh.Session) {})(sess)
		s.opts.Log.Info("hand-off session end", "actor", id.actor, "address", addr, "received", m.sent)
		_ = sess.Exit(0)
	}
}

// handoffModel is the customer's form: one masked field for the secret,
// or the three credentials, checked as the credentials step checks them.
type handoffModel struct {
	h       store.Handoff
	receive func(store.HandoffValues) error // run in a command

	fields  []steps.CredentialField
	inputs  []textinput.Model
	focus   int
	theme   *steps.Theme
	width   int
	message string
	sending bool
	sent    bool   // the values were sealed into the store
	over    string // the session's last words, once it ends
}

type handoffSentMsg struct{ err error }

func newHandoffModel(h store.Handoff, receive func(store.HandoffValues) error) *handoffModel {
	m := &handoffModel{h: h, receive: receive, theme: steps.NewTheme(true), width: 80,
		fields: []steps.CredentialField{steps.ClientSecretField}}
	if h.Fields == store.HandoffAll {
		m.fields = []steps.CredentialField{steps.ClientIDField, steps.ClientSecretField, steps.DiscoveryField}
	}
	for _, f := range m.fields {
		in := widget.NewInput(m.theme.InputStyles(), widget.Hint("paste the "+f.Label()))
		if f == steps.ClientSecretField {
			in.CharLimit = widget.LimitSecret
			in.EchoMode, in.EchoCharacter = textinput.EchoPassword, '•'
		}
		m.inputs = append(m.inputs, in)
	}
	m.inputs[0].Focus()
	return m
}

func (m *handoffModel) Init() tea.Cmd { return tea.RequestBackgroundColor }

func (m *handoffModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
		for i := range m.inputs {
			m.inputs[i] = widget.Sized(m.inputs[i], msg.Width)
		}
	case tea.BackgroundColorMsg:
		m.theme = steps.NewTheme(msg.IsDark())
		for i := range m.inputs {
			m.inputs[i].SetStyles(m.theme.InputStyles())
		}
	case handoffSentMsg:
		m.sending = false
		if msg.err == nil {
			m.sent = true
			m.over = fmt.Sprintf("Thank you: the %s reached %s's setup, sealed. The support engineer sees that it arrived, never its value. You can close this window.",
				m.what(), flow.Display(m.h.Organization))
			return m, tea.Quit
		}
		text, fix := flow.Explain(msg.err)
		if flow.IsCode(msg.err, flow.CodeInviteUsed) || flow.IsCode(msg.err, flow.CodeInviteExpired) || flow.IsCode(msg.err, flow.CodeInviteUnknown) {
			m.over = sentence(text) + " " + sentence(fix) + " Nothing was sent."
			return m, tea.Quit
		}
		m.message = sentence(text) + " " + sentence(fix)
	case tea.KeyPressMsg:
		if m.sending {
			return m, nil
		}
		switch msg.String() {
		case "ctrl+c", "esc":
			m.over = "Nothing was sent; the code still works until " + m.h.ExpiresAt.Local().Format("15:04") + "."
			return m, tea.Quit
		case "enter":
			if m.focus < len(m.inputs)-1 {
				return m, m.move(1)
			}
			return m, m.send()
		case "tab", "down":
			return m, m.move(1)
		case "shift+tab", "up":
			return m, m.move(-1)
		}
		m.message = ""
		cmd, _ := widget.Update(&m.inputs[m.focus], msg)
		return m, cmd
	case tea.PasteMsg:
		m.message = ""
		cmd, note := widget.Update(&m.inputs[m.focus], msg)
		if note != "" {
			m.message = note
		}
		return m, cmd
	default:
		var cmd tea.Cmd
		m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg) // the cursor's blink
		return m, cmd
	}
	return m, nil
}

// what names what is asked for.
func (m *handoffModel) what() string {
	if len(m.fields) == 1 {
		return "client secret"
	}
	return "client ID, secret and discovery endpoint"
}

func (m *handoffModel) move(d int) tea.Cmd {
	m.inputs[m.focus].Blur()
	m.focus = (m.focus + d + len(m.inputs)) % len(m.inputs)
	return m.inputs[m.focus].Focus()
}

// send checks every field and, when all are good, seals them.
func (m *handoffModel) send() tea.Cmd {
	var v store.HandoffValues
	for i, f := range m.fields {
		value := m.inputs[i].Value()
		if err := f.Check(value); err != nil {
			text, fix := flow.Explain(err)
			m.message = "Fix the " + f.Label() + ": " + text
			if fix != "" {
				m.message += " — " + fix
			}
			m.inputs[m.focus].Blur()
			m.focus = i
			return m.inputs[i].Focus()
		}
		switch f {
		case steps.ClientIDField:
			v.ClientID = strings.TrimSpace(value)
		case steps.ClientSecretField:
			v.ClientSecret = strings.TrimSpace(value)
		case steps.DiscoveryField:
			v.DiscoveryInput = strings.TrimSpace(value)
		}
	}
	m.sending, m.message = true, ""
	receive := m.receive
	return func() tea.Msg { return handoffSentMsg{err: receive(v)} }
}

func (m *handoffModel) View() tea.View {
	t, width := m.theme, max(m.width, 20)
	if m.over != "" {
		return tea.NewView(widget.Para(t.Text, m.over, width) + "\n")
	}
	parts := []string{
		t.Title.Render("Secret hand-off: " + flow.Display(m.h.Organization) + ", connection " + flow.Display(m.h.Connection)),
		"",
		widget.Para(t.Text, fmt.Sprintf("Your support engineer asked for the %s of your OIDC application. Paste it here: it goes straight into the sealed store, and the engineer never sees it.", m.what()), width),
	}
	for i, f := range m.fields {
		label := t.Text.Render(f.Label())
		if i == m.focus {
			label = t.Title.Render(f.Label())
		}
		parts = append(parts, "", label, m.inputs[i].View())
	}
	if m.message != "" {
		parts = append(parts, "", widget.Para(t.Error, m.message, width))
	}
	help := "enter send · ctrl+c leave without sending"
	if len(m.fields) > 1 {
		help = "tab next field · " + help
	}
	if m.sending {
		help = "sealing…"
	}
	parts = append(parts, "", t.Subtle.Render(help))
	return tea.NewView(strings.Join(parts, "\n") + "\n")
}
