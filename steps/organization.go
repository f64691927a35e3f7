package steps

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// orgStoreTimeout bounds each store call of this step.
const orgStoreTimeout = 10 * time.Second

type orgMode int

const (
	orgLoading    orgMode = iota // reading the store
	orgList                      // choosing a draft, a connection or "new"
	orgForm                      // typing the new connection's organization and name
	orgBusy                      // a choice is being loaded or created
	orgInviteForm                // naming an invite's organization and life
	orgInviteBusy                // the invite is being made
	orgInviteDone                // showing the new invite's code, once
	orgLiveList                  // the customers' live sessions (live_list.go)
)

type orgItemKind int

const (
	orgContinue orgItemKind = iota // the setup this session is already on
	orgResume                      // a stored draft
	orgEdit                        // an existing connection
	orgNew                         // a new connection
)

// orgItem is one row of the start list.
type orgItem struct {
	kind   orgItemKind
	id     string // draft or connection ID
	org    string // its organization, empty for "new"
	label  string // "Acme / Acme OIDC"
	detail string // "stopped at Credentials · 2 h ago", "active"
}

// orgListing is what the store holds for this session.
type orgListing struct {
	orgs   []string
	items  []orgItem // drafts, then connections, without "new"/"continue"
	drafts int
}

// Messages of this step.
type (
	orgLoadedMsg struct {
		seq     int
		listing orgListing
		err     error
	}
	// orgChosenMsg carries the setup a choice produced: a resumed draft
	// (resume) or an edited or new connection.
	orgChosenMsg struct {
		setup  *Setup
		resume bool
		err    error
	}
)

// organization is step 0: resume a draft, edit a connection, or name a new
// one. The form uses two bubbles textinputs (not huh): the organization
// field needs suggestions and both need errors shown as the person types.
type organization struct {
	area
	stepBase

	mode    orgMode
	from    orgMode // the mode a choice was made in, to return to on error
	seq     int
	listing orgListing
	loads   int // the listings loaded, to tell one from the next
	items   []orgItem
	cursor  int
	err     error

	// fields are the new-connection form's, from when the form is first
	// opened until it created the connection: a session that moved on
	// does not keep two text fields it no longer shows.
	fields  *orgFields
	focus   int // 0 organization, 1 name
	formErr string

	text orgFormText // the form's text, as last drawn

	invite orgInvite // a support engineer's invite form and result
	live   orgLive   // a support engineer's list of live customer sessions

	orgKeys
}

// NewOrganization is step 0: pick, resume or create the connection.
func NewOrganization(env *Env, theme *Theme) Step {
	o := &organization{
		stepBase: stepBase{env: env, theme: theme},
		orgKeys:  newOrgKeys(),
	}
	o.invite = newOrgInvite(theme, env.Invites != nil)
	o.live = newOrgLive()
	return o
}

// orgFields are the new-connection form's text fields.
type orgFields struct{ org, name textinput.Model }

// newOrgFields are empty fields drawn with theme.
func newOrgFields(theme *Theme) *orgFields {
	f := &orgFields{
		org:  limited(widget.NewInput(theme.InputStyles(), widget.Example("Acme Corp")), widget.LimitName),
		name: limited(widget.NewInput(theme.InputStyles(), ""), widget.LimitName),
	}
	f.org.ShowSuggestions = true
	return f
}

func (o *organization) Title() string { return Title(StepOrganization) }

func (o *organization) Enter(s *Setup) tea.Cmd {
	o.setup = s
	o.mode, o.err, o.formErr = orgLoading, nil, ""
	o.invite.made = flow.InviteCode{} // an invite's code is shown once
	o.seq++
	seq, env, draftID, connID := o.seq, o.env, s.DraftID, s.Connection.ID
	return tea.Batch(func() tea.Msg {
		ctx, cancel := env.readCtx(orgStoreTimeout)
		defer cancel()
		l, err := orgLoad(ctx, env, draftID, connID)
		return orgLoadedMsg{seq: seq, listing: l, err: err}
	}, o.liveStart())
}

func (o *organization) Capturing() bool { return o.mode == orgForm || o.mode == orgInviteForm }

func (o *organization) Keys() []key.Binding {
	switch o.mode {
	case orgList:
		keys := []key.Binding{o.up, o.down, o.choose}
		if o.canInvite() {
			keys = append(keys, o.invite.open)
		}
		if o.canLive() {
			keys = append(keys, o.live.open)
		}
		return keys
	case orgLiveList:
		return o.liveKeysNow()
	case orgForm:
		keys := []key.Binding{o.submit}
		if !o.walled() {
			keys = append(keys, o.move)
		}
		if o.formCancels() {
			keys = append(keys, o.cancel)
		}
		return keys
	}
	return o.inviteKeys()
}

func (o *organization) walled() bool { return o.env.Organization != "" }

// formCancels reports whether esc leaves the new-connection form for the
// list: when the list offers more than "new", or invites.
func (o *organization) formCancels() bool { return len(o.items) > 1 || o.canInvite() || o.canLive() }

// Update handles msg; a step change it asks for leaves step 0, which
// stops the live list's refresh until the step is entered again.
func (o *organization) Update(msg tea.Msg) (tea.Cmd, Nav) {
	if cmd, ok := o.liveUpdate(msg); ok {
		return cmd, nil
	}
	cmd, nav := o.update(msg)
	if nav != nil {
		o.live.here = false
	}
	if o.mode == orgForm {
		o.text = o.formText(o.width) // kept for View, which changes nothing
	}
	return cmd, nav
}

func (o *organization) update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case orgLoadedMsg:
		if msg.seq == o.seq && o.mode == orgLoading {
			return o.loaded(msg), nil
		}
	case orgChosenMsg:
		if o.mode == orgBusy {
			return o.chosen(msg)
		}
	case orgInvitedMsg:
		if o.mode == orgInviteBusy {
			return o.invited(msg), nil
		}
	case tea.BackgroundColorMsg:
		if f := o.fields; f != nil {
			widget.Restyle(o.theme.InputStyles(), &f.org, &f.name)
		}
		if f := o.invite.inviteForm; f != nil {
			widget.Restyle(o.theme.InputStyles(), &f.org, &f.ttl, &f.label)
		}
	case tea.KeyPressMsg:
		switch o.mode {
		case orgList:
			return o.updateList(msg)
		case orgForm:
			return o.updateForm(msg), nil
		case orgInviteForm, orgInviteDone:
			return o.updateInvite(msg), nil
		case orgLiveList:
			return o.updateLive(msg), nil
		}
	case tea.PasteMsg:
		switch o.mode {
		case orgForm:
			return o.updateInput(msg), nil
		case orgInviteForm:
			return o.updateInviteInput(msg), nil
		}
	}
	return nil, nil
}

func (o *organization) loaded(msg orgLoadedMsg) tea.Cmd {
	o.listing = msg.listing
	o.loads++
	o.items = nil
	if c := o.setup.Connection; c.ID != "" {
		o.items = append(o.items, orgItem{kind: orgContinue, org: c.Organization, label: c.Organization + " / " + c.Name,
			detail: "the connection you are on"})
	}
	o.items = append(o.items, msg.listing.items...)
	o.items = append(o.items, orgItem{kind: orgNew, label: "New connection"})
	o.cursor = 0
	if msg.err != nil {
		o.err = msg.err
	}
	if len(o.items) == 1 && msg.err == nil {
		return o.openForm() // an empty store: straight to the form
	}
	o.mode = orgList
	return nil
}

func (o *organization) updateList(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	switch {
	case key.Matches(msg, o.up, o.down):
		o.cursor = widget.Cursor(o.cursor, len(o.items), msg, o.up, o.down)
	case key.Matches(msg, o.choose):
		return o.choose1(o.items[o.cursor])
	case key.Matches(msg, o.invite.open) && o.canInvite():
		return o.openInvite(o.items[o.cursor].org), nil
	case key.Matches(msg, o.live.open) && o.canLive():
		o.mode, o.err = orgLiveList, nil
	}
	return nil, nil
}

func (o *organization) choose1(it orgItem) (tea.Cmd, Nav) {
	o.err = nil
	env := o.env
	switch it.kind {
	case orgContinue:
		return nil, NextMsg{}
	case orgNew:
		return o.openForm(), nil
	case orgResume:
		o.mode, o.from = orgBusy, orgList
		return orgCmd(env, func(ctx context.Context) (*Setup, error) { return orgResumeDraft(ctx, env, it.id) }, true), nil
	default:
		o.mode, o.from = orgBusy, orgList
		return orgCmd(env, func(ctx context.Context) (*Setup, error) { return orgEditConnection(ctx, env, it.id) }, false), nil
	}
}

// orgCmd runs a store call for a choice in a command; a new connection
// is created even when the session ends meanwhile.
func orgCmd(env *Env, f func(ctx context.Context) (*Setup, error), resume bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(orgStoreTimeout)
		defer cancel()
		s, err := f(ctx)
		return orgChosenMsg{setup: s, resume: resume, err: err}
	}
}

func (o *organization) chosen(msg orgChosenMsg) (tea.Cmd, Nav) {
	if msg.err != nil {
		o.err, o.formErr, o.mode = msg.err, "", o.from
		return nil, nil
	}
	if msg.resume || msg.setup.DraftID != "" {
		o.mode = orgList
		// A draft waiting for a secret hand-off picks it up (or its poll
		// goes on) whichever step it resumes at.
		return watchHandoff(o.env, msg.setup), ResumeMsg{Setup: msg.setup}
	}
	// The shell and every step hold this Setup: replace its content.
	*o.setup = *msg.setup
	o.mode = orgList
	if o.from == orgForm {
		o.fields = nil // made; the next form starts empty
	}
	return nil, NextMsg{}
}

func (o *organization) openForm() tea.Cmd {
	o.mode = orgForm
	if o.fields == nil {
		o.fields = newOrgFields(o.theme)
	}
	o.formErr = ""
	o.fields.org.SetSuggestions(o.listing.orgs)
	if o.walled() {
		o.fields.org.SetValue(o.env.Organization)
		o.focus = 1
	} else {
		o.focus = 0
	}
	o.syncName()
	return o.focusField()
}

func (o *organization) focusField() tea.Cmd {
	o.fields.org.Blur()
	o.fields.name.Blur()
	if o.focus == 0 {
		return o.fields.org.Focus()
	}
	return o.fields.name.Focus()
}

// syncName proposes "<Org> OIDC" as the connection name, marked as the
// default an empty name keeps.
func (o *organization) syncName() {
	o.fields.name.Placeholder = widget.Default(o.suggestedName())
}

// suggestedName is the name an empty name field keeps: "<Org> OIDC".
func (o *organization) suggestedName() string {
	return strings.TrimSpace(cmp.Or(strings.TrimSpace(o.fields.org.Value()), "Acme")) + " OIDC"
}

func (o *organization) updateForm(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, o.cancel) && o.formCancels():
		o.mode, o.err, o.formErr = orgList, nil, ""
		return nil
	case key.Matches(msg, o.submit):
		if o.focus == 0 {
			return o.moveFocus(1)
		}
		return o.create()
	case key.Matches(msg, o.next) && o.focus == 0 && widget.CanAccept(o.fields.org):
		return o.updateInput(msg) // tab completes the suggested organization
	case key.Matches(msg, o.next):
		return o.moveFocus(1)
	case key.Matches(msg, o.prev):
		return o.moveFocus(-1)
	}
	return o.updateInput(msg)
}

func (o *organization) moveFocus(d int) tea.Cmd {
	if o.walled() {
		return nil
	}
	o.focus = (o.focus + d + 2) % 2
	return o.focusField()
}

func (o *organization) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	if o.focus == 0 {
		cmd = inputUpdate(&o.fields.org, msg)
		o.syncName()
	} else {
		cmd = inputUpdate(&o.fields.name, msg)
	}
	o.formErr = ""
	return cmd
}

func (o *organization) create() tea.Cmd {
	org, name := strings.TrimSpace(o.fields.org.Value()), strings.TrimSpace(o.fields.name.Value())
	if name == "" {
		name = o.suggestedName()
	}
	if org == "" {
		o.focus, o.formErr = 0, "Type the organization's name (the customer whose IdP this is)."
		return o.focusField()
	}
	if field, msg := orgCheckNames(org, name); msg != "" {
		o.focus, o.formErr = field, msg
		return o.focusField()
	}
	o.mode, o.from, o.err, o.formErr = orgBusy, orgForm, nil, ""
	env := o.env
	return orgCmd(env, func(ctx context.Context) (*Setup, error) { return orgCreate(ctx, env, org, name) }, false)
}

// orgCheckNames refuses control and bidi-override characters in the
// names a person typed, which others see later: the field at fault (0
// the organization, 1 the connection name) and what to do, or "".
func orgCheckNames(org, name string) (field int, msg string) {
	for i, f := range []struct{ what, value string }{{"organization name", org}, {"connection name", name}} {
		if err := flow.CheckTyped(f.what, f.value); err != nil {
			text, fix := flow.Explain(err)
			return i, text + ": " + fix + "."
		}
	}
	return 0, ""
}

func (o *organization) View() string {
	width, height := o.width, o.height
	t := o.theme
	var b strings.Builder
	switch o.mode {
	case orgLoading:
		b.WriteString(t.Subtle.Render("Loading organizations, connections and drafts…"))
	case orgBusy:
		b.WriteString(t.Subtle.Render("One moment…"))
	case orgList:
		b.WriteString(o.listView(width, height-o.errHeight(width)))
	case orgForm:
		b.WriteString(o.formView(width))
	case orgLiveList:
		b.WriteString(o.liveView(width, height-o.errHeight(width)))
	default:
		b.WriteString(o.inviteView(width))
	}
	if e := o.errView(width); e != "" {
		b.WriteString("\n\n" + e)
	}
	return widget.Fit(b.String(), width, height)
}

func (o *organization) errHeight(width int) int {
	if e := o.errView(width); e != "" {
		return lipgloss.Height(e) + 1
	}
	return 0
}

func (o *organization) errView(width int) string {
	if o.err == nil {
		return ""
	}
	msg, fix := flow.Explain(o.err)
	out := widget.Para(o.theme.Error, "✗ "+msg, width)
	if fix != "" {
		out += "\n" + widget.Para(o.theme.Text, "  Fix: "+fix, width)
	}
	return out
}

// listView renders the choices in sections, scrolled so that the
// selected one is visible.
func (o *organization) listView(width, height int) string {
	t := o.theme
	intro := "Resume a draft, edit a connection, or start a new one."
	if o.canInvite() {
		intro += " Press i to invite a customer of the selected organization."
	}
	if o.canLive() {
		intro += o.liveHint()
	}
	lines := strings.Split(t.Text.Width(width).Render(intro), "\n") // one entry per screen line, for the scrolling
	selLine, section := 0, ""
	for i, it := range o.items {
		if s := orgSection(it.kind); s != section {
			section = s
			lines = append(lines, "", t.Title.Render(s))
		}
		marker, style := "  ", t.Text
		if i == o.cursor {
			marker, style, selLine = "▸ ", t.Selected, len(lines)
		}
		// Organization and connection names were typed by people.
		row := marker + flow.Display(it.label)
		if it.detail != "" {
			row += " · " + flow.Display(it.detail)
		}
		lines = append(lines, style.Render(widget.Truncate(row, width)))
	}
	height = max(height, 3)
	start := 0
	if selLine >= height {
		start = selLine - height + 1
	}
	end := min(start+height, len(lines))
	return strings.Join(lines[start:end], "\n")
}

func orgSection(k orgItemKind) string {
	switch k {
	case orgContinue:
		return "Continue"
	case orgResume:
		return "Resume a draft"
	case orgEdit:
		return "Edit a connection"
	}
	return "Start"
}

func (o *organization) formView(width int) string {
	t := o.theme
	text := o.formText(width)
	parts := []string{text.head}
	// The fields are indented 2 cells, and a field draws its prompt and
	// the cursor's cell besides its width.
	inner := max(width-2, 10)
	name := widget.Sized(o.fields.name, inner)
	if o.walled() {
		parts = append(parts, text.orgLabel, text.walledOrg)
	} else {
		org := widget.Sized(o.fields.org, inner)
		parts = append(parts, text.orgLabel, "  "+org.View())
		if text.existing != "" {
			parts = append(parts, text.existing)
		}
	}
	parts = append(parts, text.nameLabel, "  "+name.View(), text.tail)
	if o.formErr != "" {
		parts = append(parts, "", t.Error.Width(width).Render("✗ "+flow.DisplayText(o.formErr)))
	}
	return strings.Join(parts, "\n")
}

// orgFormText is the new-connection form's text around its fields, drawn
// once per width, theme and listing rather than on each key: Update keeps
// the last one drawn.
type orgFormText struct {
	key                      orgFormKey
	head, orgLabel, existing string
	nameLabel, tail          string
	walledOrg                string // the organization a customer's session is walled in
}

// orgFormKey is what the form's text is drawn from.
type orgFormKey struct {
	width                int
	theme                *Theme
	first, invite, drawn bool
	loads                int // the listing's (its organizations)
}

func (o *organization) formText(width int) orgFormText {
	t, first := o.theme, len(o.items) <= 1
	key := orgFormKey{width: width, theme: t, first: first, invite: o.canInvite(), drawn: true, loads: o.loads}
	if o.text.key == key {
		return o.text
	}
	text := orgFormText{key: key}
	var head []string
	if first {
		head = append(head, t.Text.Width(width).Render(o.env.words().welcome), "")
	}
	head = append(head, t.Title.Render("New connection"), t.Subtle.Width(width).Render(o.env.words().nameForm))
	tail := t.Subtle.Width(width).Render("  Enter keeps the suggested name.")
	if o.canInvite() && first {
		tail += "\n" + o.inviteHint(width)
	}
	text.head, text.tail = strings.Join(head, "\n"), tail
	text.orgLabel, text.nameLabel = t.Text.Render("Organization"), t.Text.Render("Connection name")
	if o.walled() {
		text.walledOrg = "  " + t.Accent.Render(widget.Truncate(flow.Display(o.env.Organization), max(width-2, 10)))
	}
	if len(o.listing.orgs) > 0 {
		hint := "Existing: " + flow.Display(strings.Join(o.listing.orgs, ", ")) + " (tab completes)"
		text.existing = t.Subtle.Width(width).Render("  " + hint)
	}
	return text
}

// orgLoad reads what the session may see: every organization, connection
// and draft, or only env.Organization's. skipDraft and skipConn are what
// this session is already on (offered as "continue" instead).
func orgLoad(ctx context.Context, env *Env, skipDraft, skipConn string) (orgListing, error) {
	var l orgListing
	if env.Store == nil {
		return l, nil
	}
	list := env.Store.ListOrganizations
	if env.Organization != "" {
		list = func(ctx context.Context) ([]store.Organization, error) {
			return env.Store.ListOrganizationsNamed(ctx, env.Organization)
		}
	}
	orgs, err := list(ctx)
	if err != nil {
		return l, err
	}
	for _, org := range orgs {
		if env.sees(org.Name) {
			l.orgs = append(l.orgs, org.Name)
		}
	}
	drafts, err := env.Store.ListDrafts(ctx, env.Organization)
	if err != nil {
		return l, err
	}
	now := env.Now()
	// One entry per connection: a connection with drafts is its latest
	// draft (drafts come newest first); its older drafts and the
	// connection's own entry are left out.
	drafted := map[string]bool{}
	if skipConn != "" {
		drafted[skipConn] = true
	}
	for _, d := range drafts {
		if d.ID == skipDraft || !env.sees(d.Organization) || drafted[d.ConnectionID] {
			continue
		}
		if d.ConnectionID != "" {
			drafted[d.ConnectionID] = true
		}
		var form struct {
			Connection struct{ Name string } `json:"connection"`
		}
		_ = json.Unmarshal(d.Form, &form) // a draft without a name still lists
		label := d.Organization
		if form.Connection.Name != "" {
			label += " / " + form.Connection.Name
		}
		stopped := "stopped at step " + strconv.Itoa(d.Step)
		if title := Title(d.Step); title != "" {
			stopped = "stopped at " + title
		}
		l.items = append(l.items, orgItem{kind: orgResume, id: d.ID, org: d.Organization, label: label,
			detail: stopped + " · " + orgAge(now.Sub(d.UpdatedAt))})
		l.drafts++
	}
	conns, err := env.Store.ListConnections(ctx, env.Organization)
	if err != nil {
		return l, err
	}
	for _, c := range conns {
		if drafted[c.ID] {
			continue
		}
		l.items = append(l.items, orgItem{kind: orgEdit, id: c.ID, org: c.Organization, label: c.Organization + " / " + c.Name,
			detail: string(c.Status)})
	}
	return l, nil
}

// orgAge says how long ago something happened, roughly: "2 h ago".
func orgAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// orgOutside is the error for a record of another organization than the
// session's own.
func orgOutside(kind string) error {
	return &flow.Error{Code: flow.CodeNotFound, Message: "that " + kind + " does not exist in this organization",
		Fix: "choose one from the list"}
}

// orgGone is the error for a record deleted since the list was read.
func orgGone(kind string) error {
	return &flow.Error{Code: flow.CodeNotFound, Message: "that " + kind + " is gone: finished or deleted in another session",
		Fix: "choose another, or start a new connection"}
}

// orgOwn is the record of kind that get reads for id, when this session
// may see it: one deleted meanwhile is gone, another organization's is
// outside; org names a record's organization.
func orgOwn[T any](ctx context.Context, env *Env, kind, id string, get func(context.Context, string) (T, error), org func(T) string) (T, error) {
	var none T
	v, err := get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return none, orgGone(kind)
	case err != nil:
		return none, err
	case !env.sees(org(v)):
		return none, orgOutside(kind)
	}
	return v, nil
}

// orgResumeDraft loads a stored draft as the setup to continue.
func orgResumeDraft(ctx context.Context, env *Env, id string) (*Setup, error) {
	d, err := orgOwn(ctx, env, "draft", id, env.Store.GetDraft, func(d store.Draft) string { return d.Organization })
	if err != nil {
		return nil, err
	}
	s := NewSetup()
	if err := json.Unmarshal(d.Form, s); err != nil {
		return nil, &flow.Error{Code: flow.CodeBadDraft, Message: "the draft could not be read", Err: err,
			Fix: "start a new connection; the draft stays in the store"}
	}
	s.DraftID, s.Step = d.ID, min(max(d.Step, 0), NumSteps-1)
	s.Reached = max(s.Reached, s.Step)
	return s, nil
}

// orgEditConnection loads a stored connection into a fresh setup, or its
// latest draft when one was saved since the list was read (its DraftID
// set: the shell resumes it), so that editing never starts a second draft.
func orgEditConnection(ctx context.Context, env *Env, id string) (*Setup, error) {
	c, err := orgOwn(ctx, env, "connection", id, env.Store.GetConnection, func(c *flow.Connection) string { return c.Organization })
	if err != nil {
		return nil, err
	}
	drafts, err := env.Store.ListDrafts(ctx, c.Organization)
	if err != nil {
		return nil, err
	}
	for _, d := range drafts {
		if d.ConnectionID == c.ID {
			return orgResumeDraft(ctx, env, d.ID)
		}
	}
	s := NewSetup()
	s.Connection = *c
	if s.Connection.RedirectURI == "" {
		s.Connection.RedirectURI = env.RedirectURIFor(c.ID)
	}
	s.DiscoveryInput = c.DiscoveryURL
	if c.Status != flow.StatusDraft {
		s.Reached = StepReview // a saved connection went through every step
	}
	return s, nil
}

// orgCreate stores a new connection (status draft) so that it has its ID
// and Redirect URI from the start.
func orgCreate(ctx context.Context, env *Env, org, name string) (*Setup, error) {
	if !env.sees(org) {
		return nil, orgOutside("organization")
	}
	if env.Store == nil {
		return nil, errors.New("no store to save the connection in")
	}
	s := NewSetup()
	s.Connection.Organization, s.Connection.Name = org, name
	by := store.Event{Actor: env.Actor, Address: env.Address}
	if err := env.Store.CreateConnection(ctx, &s.Connection, env.RedirectURIFor, by); err != nil {
		return nil, err
	}
	return s, nil
}
