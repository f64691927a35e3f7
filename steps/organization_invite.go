package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// The organization step's invites: a support engineer presses i on the
// list, names the organization (the selected one's, pre-filled) and how
// long the code lasts, and gets the code and the command to give the
// customer. The code exists only in this screen's memory until the person
// leaves it: the store keeps its hash.
//
// Who may: env.Invites says so, and a session walled into an organization
// never may, whatever its Env holds. The local wizard may too: it runs as
// the support engineer on their machine, like `oidc-onboard invite`.

// orgInvitedMsg is the outcome of making an invite.
type orgInvitedMsg struct {
	made flow.InviteCode
	err  error
}

// orgInvite is the invite form and its result.
type orgInvite struct {
	*inviteForm     // nil in a session that may not make invites
	focus       int // 0 organization, 1 TTL, 2 label
	formErr     string
	// made is the new invite, its code and the commands that use it,
	// until the person leaves the result.
	made     flow.InviteCode
	err      error // the store's refusal, shown on the form
	spelling bool  // the code in groups, spelt out, for reading it aloud

	inviteKeys
}

// inviteForm is the invite form's fields: three text inputs, some 24 KiB
// that a customer's session, which makes no invites, goes without.
type inviteForm struct {
	org, ttl textinput.Model
	label    textinput.Model // who the invite is for, optional
}

// newOrgInvite is the invite form of a session that may make invites
// (with), or its keys alone.
func newOrgInvite(theme *Theme, with bool) orgInvite {
	v := orgInvite{inviteKeys: newInviteKeys()}
	if with {
		v.inviteForm = &inviteForm{
			org:   limited(widget.NewInput(theme.InputStyles(), widget.Example("Acme Corp")), widget.LimitName),
			ttl:   widget.NewInput(theme.InputStyles(), widget.Default(inviteTTLText(DefaultInviteTTL))),
			label: limited(widget.NewInput(theme.InputStyles(), widget.Example("Jane at Acme IT")), MaxInviteLabel),
		}
		v.org.ShowSuggestions = true
	}
	return v
}

// canInvite reports whether this session may make invites.
func (o *organization) canInvite() bool {
	return o.env.Invites != nil && o.invite.inviteForm != nil && !o.walled()
}

// openInvite shows the invite form for org (may be empty: typed there).
func (o *organization) openInvite(org string) tea.Cmd {
	v := &o.invite
	o.mode, o.err = orgInviteForm, nil
	v.formErr, v.err, v.focus = "", nil, 0
	v.org.SetSuggestions(o.listing.orgs)
	v.org.SetValue(org)
	v.org.CursorEnd()
	v.ttl.SetValue("")
	v.label.SetValue("")
	return o.inviteFocus()
}

// inviteFields are the form's fields, in focus order.
func (v *orgInvite) inviteFields() [3]*textinput.Model {
	return [3]*textinput.Model{&v.org, &v.ttl, &v.label}
}

func (o *organization) inviteFocus() tea.Cmd {
	fields := o.invite.inviteFields()
	for _, f := range fields {
		f.Blur()
	}
	return fields[o.invite.focus].Focus()
}

func (o *organization) inviteKeys() []key.Binding {
	switch o.mode {
	case orgInviteForm:
		return []key.Binding{o.submit, o.move, o.cancel}
	case orgInviteDone:
		return []key.Binding{o.invite.copy, o.invite.aloud, o.invite.done}
	}
	return nil
}

func (o *organization) updateInvite(msg tea.KeyPressMsg) tea.Cmd {
	v := &o.invite
	if o.mode == orgInviteDone {
		switch {
		case key.Matches(msg, v.copy):
			return SendToClipboard(o.inviteCopyText(), "the invite")
		case key.Matches(msg, v.aloud):
			v.spelling = !v.spelling
		case key.Matches(msg, v.done):
			v.made, v.spelling = flow.InviteCode{}, false // shown once
			o.mode = orgList
		}
		return nil
	}
	switch {
	case key.Matches(msg, o.cancel):
		o.mode = orgList
		return nil
	case key.Matches(msg, o.submit) && v.focus == 0:
		v.focus = 1
		return o.inviteFocus()
	case key.Matches(msg, o.submit):
		return o.makeInvite()
	case key.Matches(msg, o.next) && v.focus == 0 && widget.CanAccept(v.org):
		return o.updateInviteInput(msg) // tab completes the suggested organization
	case key.Matches(msg, o.next):
		v.focus = (v.focus + 1) % 3
		return o.inviteFocus()
	case key.Matches(msg, o.prev):
		v.focus = (v.focus + 2) % 3
		return o.inviteFocus()
	}
	return o.updateInviteInput(msg)
}

func (o *organization) updateInviteInput(msg tea.Msg) tea.Cmd {
	v := &o.invite
	cmd := inputUpdate(v.inviteFields()[v.focus], msg)
	v.formErr, v.err = "", nil
	return cmd
}

// makeInvite checks the form and makes the invite in a command.
func (o *organization) makeInvite() tea.Cmd {
	v := &o.invite
	org := strings.TrimSpace(v.org.Value())
	if org == "" {
		v.focus, v.formErr = 0, "Type the organization the invite is for."
		return o.inviteFocus()
	}
	if _, msg := orgCheckNames(org, ""); msg != "" {
		v.focus, v.formErr = 0, msg
		return o.inviteFocus()
	}
	ttl, err := ParseInviteTTL(v.ttl.Value())
	if err != nil {
		msg, fix := flow.Explain(err)
		v.focus, v.formErr = 1, msg+": "+fix+"."
		return o.inviteFocus()
	}
	label := strings.TrimSpace(v.label.Value())
	if err := flow.CheckTyped("label", label); err != nil {
		msg, fix := flow.Explain(err)
		v.focus, v.formErr = 2, msg+": "+fix+"."
		return o.inviteFocus()
	}
	o.mode, v.err = orgInviteBusy, nil
	env := o.env
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(orgStoreTimeout)
		defer cancel()
		made, err := orgMakeInvite(ctx, env, org, label, ttl)
		return orgInvitedMsg{made: made, err: err}
	}
}

func (o *organization) invited(msg orgInvitedMsg) tea.Cmd {
	v := &o.invite
	if msg.err != nil {
		o.mode, v.err = orgInviteForm, msg.err
		return o.inviteFocus()
	}
	o.mode, v.made = orgInviteDone, msg.made
	if !orgContains(o.listing.orgs, msg.made.Organization) {
		o.listing.orgs = append(o.listing.orgs, msg.made.Organization) // a new organization exists now
	}
	return nil
}

func orgContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// MaxInviteLabel is the longest label an invite takes, in characters.
const MaxInviteLabel = 120

// orgMakeInvite makes an invite to org, labelled label ("": none), valid
// for ttl and audits it; the code is returned once, with the commands that
// reach the server: at the address the settings give, else where `serve`
// last listened.
func orgMakeInvite(ctx context.Context, env *Env, org, label string, ttl time.Duration) (flow.InviteCode, error) {
	if env.Invites == nil || env.Organization != "" {
		return flow.InviteCode{}, &flow.Error{Code: flow.CodeForbidden, Message: "this session cannot make invites",
			Fix: "ask a support engineer for an invite"}
	}
	if env.Store == nil {
		return flow.InviteCode{}, errors.New("no store to keep the invite in")
	}
	host, page, err := env.Store.InviteAddresses(ctx, env.Invites.SSHHost)
	if err != nil {
		env.Logger().Warn("the server's address for invites could not be read", "error", err.Error())
	}
	code, inv, err := env.Store.MakeInviteFor(ctx, org, label, ttl, store.Event{Actor: env.Actor, Address: env.Address})
	return flow.NewInviteCode(code, inv, host).WithPage(page), err
}

// inviteCopyText is what c copies: the command with the code in it, or
// the code alone when the server's address is unknown.
func (o *organization) inviteCopyText() string {
	return cmp.Or(o.invite.made.OneGo, o.invite.made.Code)
}

func (o *organization) inviteView(width int) string {
	switch o.mode {
	case orgInviteBusy:
		return o.theme.Subtle.Render("Making the invite…")
	case orgInviteDone:
		return o.inviteDoneView(width)
	}
	return o.inviteFormView(width)
}

func (o *organization) inviteFormView(width int) string {
	t, v := o.theme, &o.invite
	inner := max(width-2, 10)
	org, ttl, label := widget.Sized(v.org, inner), widget.Sized(v.ttl, inner), widget.Sized(v.label, inner)
	parts := []string{t.Title.Render("Invite a customer"),
		t.Subtle.Width(width).Render("The customer's IT admin gets a code to set up their organization's connection over SSH."),
		t.Text.Render("Organization"), "  " + org.View()}
	if len(o.listing.orgs) > 0 {
		parts = append(parts, t.Subtle.Width(width).Render("  Existing: "+strings.Join(o.listing.orgs, ", ")+" (tab completes)"))
	}
	parts = append(parts, t.Text.Render("Valid for"), "  "+ttl.View(),
		t.Subtle.Width(width).Render("  Hours or days, e.g. 24h or 7d. Enter keeps "+inviteTTLText(DefaultInviteTTL)+"."),
		t.Text.Render("For whom (optional; engineers see it in the live list)"), "  "+label.View())
	if v.formErr != "" {
		parts = append(parts, "", t.Error.Width(width).Render("✗ "+v.formErr))
	}
	if v.err != nil {
		msg, fix := flow.Explain(v.err)
		parts = append(parts, "", t.Error.Width(width).Render("✗ "+msg))
		if fix != "" {
			parts = append(parts, t.Text.Width(width).Render("  Fix: "+fix))
		}
	}
	return strings.Join(parts, "\n")
}

func (o *organization) inviteDoneView(width int) string {
	t, v := o.theme, &o.invite
	inner := max(width-2, 10)
	indent := func(s string) string { return lipgloss.NewStyle().PaddingLeft(2).Render(s) }
	title := "Invite for " + v.made.Organization
	if v.made.Label != "" {
		title += " (" + v.made.Label + ")"
	}
	parts := []string{
		t.Title.Width(width).Render(title),
		t.Subtle.Width(width).Render("Valid until " + v.made.Expires.UTC().Format("Mon 2 Jan 2006 15:04 MST") + "."),
		"",
		t.Text.Render("Code"),
		indent(t.Accent.Bold(true).Width(inner).Render(v.made.Code)),
	}
	if v.spelling {
		for _, l := range flow.AloudLines(flow.CodeAloud(v.made.Code)) {
			parts = append(parts, indent(t.Text.Render(l)))
		}
	}
	parts = append(parts,
		t.Warn.Width(width).Render("Shown once: only its hash is stored. Copy it now (a: read it aloud)."),
		"")
	if setup := v.made.Command; setup != "" {
		parts = append(parts,
			t.Text.Width(width).Render("Give the customer the code and this command; ssh asks for the code:"),
			indent(t.Accent.Width(inner).Render(setup)),
			t.Text.Render("or, in one go:"),
			indent(t.Accent.Width(inner).Render(v.made.OneGo)))
		if v.made.PageURL != "" {
			parts = append(parts, t.Text.Render("or send this link, whose page says how to connect:"),
				indent(widget.Para(t.Accent, v.made.PageURL, inner)))
		}
	} else {
		parts = append(parts, t.Text.Width(width).Render(flow.UnknownSSHHost))
	}
	return strings.Join(parts, "\n")
}

// inviteHint tells an engineer on the new-connection form where invites are.
func (o *organization) inviteHint(width int) string {
	return o.theme.Subtle.Width(width).Render(fmt.Sprintf("To invite a customer instead: %s, then %s.",
		o.cancel.Help().Key, o.invite.open.Help().Key))
}
