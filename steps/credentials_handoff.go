package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// The secret hand-off, the engineer's side. At the credentials step a
// support engineer (over SSH or in the local wizard) presses ctrl+g: the
// store makes a one-time code bound to the setup's draft, shown as the ssh
// command the customer runs. The customer pastes the secret (or all three
// credentials) into a field of their own; the store seals it in the
// hand-off's row, not in the draft, so the engineer's draft saver cannot
// write its empty secret over it. The engineer's session polls the store
// every second and takes what arrived into its setup before its next
// save; resuming a draft that waits for one polls again. A secret that
// came so is never shown in the engineer's session.

// Handoff is a secret hand-off as a setup keeps it: neither the code nor
// the values, which live in the store.
type Handoff struct {
	ID string `json:"id"`
	// Fields is store.HandoffSecret or store.HandoffAll.
	Fields    string    `json:"fields"`
	ExpiresAt time.Time `json:"expires_at"`
	// Received is set once the customer's values were taken into the
	// setup; SecretLength is then the secret's length in characters.
	Received     bool `json:"received,omitempty"`
	SecretLength int  `json:"secret_length,omitempty"`
}

// SecretHandedOff reports whether the setup's client secret came from the
// customer through a hand-off: it is then never shown in this session
// (`connections export --include-secret` reads it).
func (s *Setup) SecretHandedOff() bool { return s.Handoff != nil && s.Handoff.Received }

// handoffPending reports whether s waits for a hand-off.
func (s *Setup) handoffPending() bool { return s.Handoff != nil && !s.Handoff.Received }

// handoffPoll is how often a pending hand-off is asked for.
const handoffPoll = time.Second

// Messages of the hand-off; each names the setup it is for, since every
// step receives them and the setup may have been replaced meanwhile.
type (
	handoffMadeMsg struct {
		setup   *Setup
		h       store.Handoff
		code    string
		command string // "" when the server's address is unknown
		err     error
	}
	handoffTickMsg struct {
		setup *Setup
		id    string
	}
	handoffPolledMsg struct {
		setup  *Setup
		id     string
		values *store.HandoffValues
		err    error
	}
)

// canHandOff reports whether this person may ask a customer for the
// secret: support engineers and the local wizard, who may make invites.
func (c *credentials) canHandOff() bool {
	return c.env.Store != nil && c.env.Invites != nil && !c.env.Customer && c.env.Organization == ""
}

// makeHandoff asks the store for a hand-off code for fields.
func (c *credentials) makeHandoff(fields string) tea.Cmd {
	c.asking = false
	s := c.setup
	if s.DraftID == "" {
		c.message = "The draft is being saved; press ctrl+g again in a moment."
		return nil
	}
	env, org, draft, name := c.env, s.Connection.Organization, s.DraftID, s.Connection.Name
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(10 * time.Second)
		defer cancel()
		msg := createHandoff(ctx, env, org, draft, name, fields)
		msg.setup = s
		return msg
	}
}

// createHandoff makes a hand-off code for the draft of org, with the ssh
// command that uses it when the server's address is known.
func createHandoff(ctx context.Context, env *Env, org, draft, name, fields string) handoffMadeMsg {
	host, _, err := env.Store.InviteAddresses(ctx, env.Invites.SSHHost)
	if err != nil {
		return handoffMadeMsg{err: err}
	}
	code, h, err := env.Store.CreateHandoff(ctx, org, draft, name, fields, store.Event{Actor: env.Actor, Address: env.Address})
	msg := handoffMadeMsg{h: h, code: code, err: err}
	if err == nil && host != "" {
		msg.command = flow.SSHCommand(host, code)
	}
	return msg
}

// watchHandoff polls the store every handoffPoll for the hand-off s waits
// for, until it arrives or can no longer arrive; nil when s waits for none
// or a poll runs already.
func watchHandoff(env *Env, s *Setup) tea.Cmd {
	if env == nil || env.Store == nil || s == nil || !s.handoffPending() || s.polling == s.Handoff.ID {
		return nil
	}
	s.polling = s.Handoff.ID
	return handoffTick(s, s.Handoff.ID)
}

func handoffTick(s *Setup, id string) tea.Cmd {
	return tea.Tick(handoffPoll, func(time.Time) tea.Msg { return handoffTickMsg{setup: s, id: id} })
}

// pollHandoff asks the store once whether hand-off id of s arrived.
func pollHandoff(env *Env, s *Setup, id string) tea.Cmd {
	org, draft := s.Connection.Organization, s.DraftID
	return func() tea.Msg {
		ctx, cancel := env.readCtx(5 * time.Second)
		defer cancel()
		_, v, err := env.Store.HandoffResult(ctx, id, org, draft)
		return handoffPolledMsg{setup: s, id: id, values: v, err: err}
	}
}

// updateHandoff handles the hand-off's messages, for whichever setup they
// are for; false when msg is none of them.
func (c *credentials) updateHandoff(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case handoffMadeMsg:
		if msg.err != nil {
			text, fix := flow.Explain(msg.err)
			c.message = "No hand-off code was made: " + text
			if fix != "" {
				c.message += " — " + fix
			}
			return nil, true
		}
		msg.setup.Handoff = &Handoff{ID: msg.h.ID, Fields: msg.h.Fields, ExpiresAt: msg.h.ExpiresAt}
		if msg.setup == c.setup {
			c.code, c.command, c.message = msg.code, msg.command, ""
		}
		return watchHandoff(c.env, msg.setup), true
	case handoffTickMsg:
		s := msg.setup
		if !s.handoffPending() || s.Handoff.ID != msg.id {
			s.stopPolling(msg.id)
			return nil, true
		}
		return pollHandoff(c.env, s, msg.id), true
	case handoffPolledMsg:
		s := msg.setup
		if !s.handoffPending() || s.Handoff.ID != msg.id {
			s.stopPolling(msg.id)
			return nil, true
		}
		switch {
		case msg.values != nil:
			s.stopPolling(msg.id)
			adoptHandoff(s, *msg.values)
			if s == c.setup {
				c.received()
			}
			return nil, true
		case flow.IsCode(msg.err, flow.CodeInviteExpired), flow.IsCode(msg.err, flow.CodeInviteUnknown):
			s.stopPolling(msg.id)
			s.Handoff = nil
			if s == c.setup {
				c.code, c.command = "", ""
				c.message = "The hand-off code expired unused; ctrl+g makes a new one."
			}
			return nil, true
		}
		// Still pending, or a store that cannot answer now: ask again.
		return handoffTick(s, msg.id), true
	}
	return nil, false
}

func (s *Setup) stopPolling(id string) {
	if s.polling == id {
		s.polling = ""
	}
}

// adoptHandoff takes the customer's values into s.
func adoptHandoff(s *Setup, v store.HandoffValues) {
	secret := strings.TrimSpace(v.ClientSecret)
	s.Connection.ClientSecret = secret
	if s.Handoff.Fields == store.HandoffAll {
		s.Connection.ClientID = strings.TrimSpace(v.ClientID)
		s.setDiscovery(v.DiscoveryInput)
	}
	s.Handoff.Received, s.Handoff.SecretLength = true, len([]rune(secret))
}

// received shows what arrived: the fields hold it, the secret hidden for
// good.
func (c *credentials) received() {
	s := c.setup
	c.code, c.command, c.message = "", "", ""
	c.revealed = false
	c.setEcho()
	c.setValue(credClientID, s.Connection.ClientID)
	c.setValue(credSecret, s.Connection.ClientSecret)
	c.setValue(credDiscovery, s.DiscoveryInput)
}

// replaceHandedOff handles an edit of a secret that came from the
// customer: it is replaced as a whole by what is typed (never shortened
// into a part that could then be shown), and is the engineer's own from
// then on. Keys that do not change the text leave it as it is.
func (c *credentials) replaceHandedOff(msg tea.Msg) tea.Cmd {
	secret := c.field(credSecret)
	probe := *secret
	_ = inputUpdate(&probe, msg)
	if probe.Value() == secret.Value() {
		return nil
	}
	fresh := *secret
	fresh.SetValue("")
	cmd := inputUpdate(&fresh, msg)
	*secret = fresh
	c.setup.Handoff = nil
	c.message = ""
	c.sync()
	return cmd
}

// handoffLines are the lines the step shows under the secret about a
// hand-off: the choice being asked, or the code waited for.
func (c *credentials) handoffLines() []string {
	s := c.setup
	switch {
	case c.asking:
		return []string{"Ask the customer to paste, over SSH: s the client secret only · a all three (client ID, secret, discovery endpoint) · esc cancel"}
	case s.handoffPending():
		until := s.Handoff.ExpiresAt.Local().Format("15:04")
		what := "the client secret"
		if s.Handoff.Fields == store.HandoffAll {
			what = "the client ID, secret and discovery endpoint"
		}
		if c.code == "" {
			return []string{fmt.Sprintf("Waiting for the customer to paste %s (code made earlier, valid until %s); ctrl+g makes a new one.", what, until)}
		}
		return handoffWaiting(what, until, c.code, c.command)
	}
	return nil
}

// handoffWaiting says what the customer runs to paste what.
func handoffWaiting(what, until, code, command string) []string {
	if command == "" {
		// The command on a line of its own: never broken by wrapping.
		return []string{fmt.Sprintf("Waiting for the customer to paste %s. The server's address is not known (start 'oidc-onboard serve' with this database, or give --ssh-host); they run, with the server's port and host (valid until %s, once):", what, until),
			"  ssh -p PORT " + code + "@HOST"}
	}
	return []string{fmt.Sprintf("Waiting for the customer to paste %s. Have them run (valid until %s, once):", what, until), "  " + command}
}

// lineHandoff is the hand-off in line mode: it asks what to ask for, makes
// the code, prints the command and waits for the customer, polling the
// store, until the values arrive (taken into s), the code expires, or ctx
// ends.
func (c *credentials) lineHandoff(ctx context.Context, s *Setup, p *Prompter) error {
	if s.DraftID == "" {
		fmt.Fprintln(p, "The setup is not saved as a draft yet, so no hand-off can be bound to it; type the secret instead.")
		return nil
	}
	fields := store.HandoffSecret
	for {
		answer, err := p.Ask(ctx, "Ask the customer for s (the client secret only) or a (all three: client ID, secret, discovery endpoint) [s]: ")
		if err != nil {
			return err
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a == "a" || a == "all" {
			fields = store.HandoffAll
		} else if a != "" && a != "s" && a != "secret" {
			fmt.Fprintln(p, "Type s or a.")
			continue
		}
		break
	}
	wctx, cancel := c.env.writeCtx(10 * time.Second)
	made := createHandoff(wctx, c.env, s.Connection.Organization, s.DraftID, s.Connection.Name, fields)
	cancel()
	if made.err != nil {
		lineExplain(p, made.err)
		return nil
	}
	s.Handoff = &Handoff{ID: made.h.ID, Fields: fields, ExpiresAt: made.h.ExpiresAt}
	what := "the client secret"
	if fields == store.HandoffAll {
		what = "the client ID, secret and discovery endpoint"
	}
	for _, line := range handoffWaiting(what, made.h.ExpiresAt.Local().Format("15:04"), made.code, made.command) {
		fmt.Fprintln(p, line)
	}
	fmt.Fprintln(p, "Waiting… (ctrl+c stops waiting; the draft goes on waiting for it)")
	return c.lineWait(ctx, s, p)
}

// lineWait polls the store for the hand-off s waits for until it arrives
// or can no longer arrive.
func (c *credentials) lineWait(ctx context.Context, s *Setup, p *Prompter) error {
	for {
		rctx, cancel := c.env.readCtx(5 * time.Second)
		_, v, err := c.env.Store.HandoffResult(rctx, s.Handoff.ID, s.Connection.Organization, s.DraftID)
		cancel()
		switch {
		case v != nil:
			adoptHandoff(s, *v)
			fmt.Fprintf(p, "✓ secret received (%d characters)\n", s.Handoff.SecretLength)
			return nil
		case flow.IsCode(err, flow.CodeInviteExpired), flow.IsCode(err, flow.CodeInviteUnknown):
			s.Handoff = nil
			fmt.Fprintln(p, "The hand-off code expired unused.")
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(handoffPoll):
		}
	}
}
