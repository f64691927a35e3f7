package steps

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/widget"
)

// rolesMode is what the roles step is editing.
type rolesMode int

const (
	rolesBrowse rolesMode = iota
	rolesEditGroups
	rolesEditDefault
	rolesEditRow
	rolesEditLabel
)

// roles is step 5, optional: the groups claim, a table of IdP group ID →
// role, and a default role. s skips it, keeping what was entered.
type roles struct {
	area
	stepBase

	// sel is the selected item: 0 the groups claim, 1..n the mappings,
	// n+1 the default role, n+2 the Continue button.
	sel  int
	mode rolesMode

	groupsIn, defaultIn textinput.Model
	// labelIn is the label of the selected row's group, being typed.
	labelIn textinput.Model
	labels  glLabels
	// The row being edited: its two fields, which has focus, whether it
	// was just added, and what it held before (for esc).
	rowIn    [2]textinput.Model
	rowCol   int
	rowNew   bool
	rowSaved flow.RoleMapping

	deleted []rolesDeleted // for undo, the last deletion last
	notice  string
	keys    rolesKeys
}

type rolesDeleted struct {
	at int
	m  flow.RoleMapping
}

// NewRoles is the role assignment step.
func NewRoles(env *Env, theme *Theme) Step {
	r := &roles{stepBase: stepBase{env: env, theme: theme, setup: NewSetup()}, keys: newRolesKeys()}
	newInput := func(placeholder string) textinput.Model {
		in := limited(widget.New(), widget.LimitName)
		in.Prompt = ""
		in.Placeholder = placeholder
		in.SetStyles(theme.PlainInputStyles())
		return in
	}
	r.groupsIn = newInput(widget.Default(flow.DefaultGroupsClaim))
	r.defaultIn = newInput(widget.Default("none"))
	r.rowIn = [2]textinput.Model{limited(newInput(widget.Hint("IdP group ID")), widget.LimitURL), newInput(widget.Hint("role"))}
	r.labelIn = newInput("e.g. Finance admins; empty removes it")
	return r
}

func (r *roles) Title() string { return Title(StepRoles) }

// Enter loads the groups claim, the mappings and the default role, and
// reads the group labels in a command.
func (r *roles) Enter(s *Setup) tea.Cmd {
	r.setup = s
	r.mode, r.notice, r.deleted = rolesBrowse, "", nil
	r.groupsIn.SetValue(s.Connection.GroupsClaim)
	r.defaultIn.SetValue(s.Connection.DefaultRole)
	for _, in := range r.inputs() {
		in.Blur()
	}
	r.sel = 0
	return glLoad(r.env, s.Connection.ID)
}

func (r *roles) inputs() []*textinput.Model {
	return []*textinput.Model{&r.groupsIn, &r.defaultIn, &r.rowIn[0], &r.rowIn[1], &r.labelIn}
}

// items is the number of selectable items.
func (r *roles) items() int { return len(r.setup.Connection.RoleMappings) + 3 }

func (r *roles) defaultItem() int  { return len(r.setup.Connection.RoleMappings) + 1 }
func (r *roles) continueItem() int { return len(r.setup.Connection.RoleMappings) + 2 }

// selectedRow is the index of the selected mapping, or -1.
func (r *roles) selectedRow() int {
	if r.sel >= 1 && r.sel < r.defaultItem() {
		return r.sel - 1
	}
	return -1
}

func (r *roles) Update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case tea.BackgroundColorMsg:
		widget.Restyle(r.theme.PlainInputStyles(), r.inputs()...)
		return nil, nil
	case glLoadedMsg:
		r.labels.take(msg, r.setup.Connection.ID)
		return nil, nil
	case tea.KeyPressMsg:
		switch r.mode {
		case rolesBrowse:
			return r.browseKey(msg)
		case rolesEditRow:
			return r.rowKey(msg), nil
		case rolesEditLabel:
			return r.labelKey(msg), nil
		}
		if key.Matches(msg, r.keys.Done) {
			r.stopEditing()
			return nil, nil
		}
	case tea.PasteMsg:
	default:
		return nil, nil
	}
	return r.forward(msg), nil
}

// forward gives a key or paste to the focused field and writes the
// fields into the setup, so that a draft has every keystroke.
func (r *roles) forward(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	c := &r.setup.Connection
	switch r.mode {
	case rolesEditGroups:
		cmd = inputUpdate(&r.groupsIn, msg)
		c.GroupsClaim = strings.TrimSpace(r.groupsIn.Value())
	case rolesEditDefault:
		cmd = inputUpdate(&r.defaultIn, msg)
		c.DefaultRole = strings.TrimSpace(r.defaultIn.Value())
	case rolesEditRow:
		cmd = inputUpdate(&r.rowIn[r.rowCol], msg)
		c.RoleMappings[r.selectedRow()] = flow.RoleMapping{
			Group: strings.TrimSpace(r.rowIn[0].Value()), Role: strings.TrimSpace(r.rowIn[1].Value())}
	case rolesEditLabel:
		cmd = inputUpdate(&r.labelIn, msg)
	}
	r.notice = ""
	return cmd
}

func (r *roles) browseKey(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	c := &r.setup.Connection
	switch {
	case key.Matches(msg, r.keys.Move):
		r.sel = (r.sel + widget.MoveBy(msg) + r.items()) % r.items()
	case key.Matches(msg, r.keys.Continue), key.Matches(msg, r.keys.Edit) && r.sel == r.continueItem():
		return nil, r.next()
	case key.Matches(msg, r.keys.Skip):
		r.setup.SkipRoles = true
		return nil, NextMsg{}
	case key.Matches(msg, r.keys.Edit) && r.sel == 0:
		r.mode = rolesEditGroups
		r.groupsIn.CursorEnd()
		return r.groupsIn.Focus(), nil
	case key.Matches(msg, r.keys.Edit) && r.sel == r.defaultItem():
		r.mode = rolesEditDefault
		r.defaultIn.CursorEnd()
		return r.defaultIn.Focus(), nil
	case key.Matches(msg, r.keys.Edit) && r.selectedRow() >= 0:
		return r.editRow(r.selectedRow(), false), nil
	case key.Matches(msg, r.keys.Label) && r.canLabel():
		group := c.RoleMappings[r.selectedRow()].Group
		r.mode = rolesEditLabel
		return widget.Edit(&r.labelIn, r.labels.of(c.ID)[group]), nil
	case key.Matches(msg, r.keys.Add):
		c.RoleMappings = append(c.RoleMappings, flow.RoleMapping{})
		return r.editRow(len(c.RoleMappings)-1, true), nil
	case key.Matches(msg, r.keys.Delete) && r.selectedRow() >= 0:
		i := r.selectedRow()
		m := c.RoleMappings[i]
		r.deleted = append(r.deleted, rolesDeleted{at: i, m: m})
		c.RoleMappings = slices.Delete(c.RoleMappings, i, i+1)
		r.notice = ""
		return Cmd(StatusMsg(fmt.Sprintf("Deleted %s → %s: press u to undo", m.Group, m.Role))), nil
	case key.Matches(msg, r.keys.Undo) && len(r.deleted) > 0:
		d := r.deleted[len(r.deleted)-1]
		r.deleted = r.deleted[:len(r.deleted)-1]
		at := min(d.at, len(c.RoleMappings))
		c.RoleMappings = slices.Insert(c.RoleMappings, at, d.m)
		r.sel = at + 1
		return Cmd(StatusMsg(fmt.Sprintf("Restored %s → %s", d.m.Group, d.m.Role))), nil
	}
	return nil, nil
}

func (r *roles) editRow(i int, isNew bool) tea.Cmd {
	m := r.setup.Connection.RoleMappings[i]
	r.mode, r.sel, r.rowNew, r.rowSaved, r.rowCol = rolesEditRow, i+1, isNew, m, 0
	r.rowIn[0].SetValue(m.Group)
	r.rowIn[1].SetValue(m.Role)
	r.rowIn[1].Blur()
	r.rowIn[0].CursorEnd()
	return r.rowIn[0].Focus()
}

func (r *roles) rowKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, r.keys.Cancel):
		c := &r.setup.Connection
		i := r.selectedRow()
		if r.rowNew {
			c.RoleMappings = slices.Delete(c.RoleMappings, i, i+1)
		} else {
			c.RoleMappings[i] = r.rowSaved
		}
		r.stopEditing()
		r.notice = ""
		return nil
	case key.Matches(msg, r.keys.Switch), key.Matches(msg, r.keys.Next) && r.rowCol == 0:
		return r.focusCol(1 - r.rowCol)
	case key.Matches(msg, r.keys.Next):
		if err := r.rowError(r.selectedRow()); err != "" {
			r.notice = err
			if m := r.setup.Connection.RoleMappings[r.selectedRow()]; m.Group != "" && m.Role == "" {
				return r.focusCol(1)
			}
			return r.focusCol(0)
		}
		r.stopEditing()
		return nil
	}
	return r.forward(msg)
}

// canLabel is whether the selected row's group can be labelled: it has a
// group, and the connection is stored.
func (r *roles) canLabel() bool {
	i := r.selectedRow()
	return i >= 0 && r.setup.Connection.RoleMappings[i].Group != "" && r.env != nil && r.env.Store != nil && r.setup.Connection.ID != ""
}

// labelKey handles the label input: enter stores the label (empty removes
// it), esc leaves it as it was.
func (r *roles) labelKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, r.keys.Cancel):
		r.stopEditing()
		return nil
	case key.Matches(msg, r.keys.SaveLabel):
		group := r.setup.Connection.RoleMappings[r.selectedRow()].Group
		label := strings.TrimSpace(r.labelIn.Value())
		r.stopEditing()
		status := "Labelled " + group + " " + label
		if label == "" {
			status = "Removed the label of " + group
		}
		return tea.Batch(glSave(r.env, r.setup.Connection.ID, group, label), Cmd(StatusMsg(status)))
	}
	return r.forward(msg)
}

func (r *roles) focusCol(col int) tea.Cmd {
	r.rowIn[r.rowCol].Blur()
	r.rowCol = col
	r.rowIn[col].CursorEnd()
	return r.rowIn[col].Focus()
}

func (r *roles) stopEditing() {
	for _, in := range r.inputs() {
		in.Blur()
	}
	r.mode = rolesBrowse
	r.sel = min(r.sel, r.items()-1)
}

// rowError says what is wrong with mapping i, or "".
func (r *roles) rowError(i int) string { return rolesRowError(r.setup.Connection.RoleMappings, i) }

// rolesRowError says what is wrong with mapping i of ms, or "".
func rolesRowError(ms []flow.RoleMapping, i int) string {
	m := ms[i]
	switch {
	case m.Group == "":
		return "Enter the IdP group ID of this mapping."
	case m.Role == "":
		return "Enter the role members of " + m.Group + " receive."
	}
	for j, o := range ms[:i] {
		if o.Group == m.Group {
			return fmt.Sprintf("The group %s is already mapped (row %d, to %s): edit that row instead.", m.Group, j+1, o.Role)
		}
	}
	return ""
}

// next continues when every mapping is complete and unique.
func (r *roles) next() Nav {
	for i := range r.setup.Connection.RoleMappings {
		if err := r.rowError(i); err != "" {
			r.notice, r.sel = fmt.Sprintf("Row %d: %s", i+1, err), i+1
			return nil
		}
	}
	r.setup.SkipRoles = false
	return NextMsg{}
}

func (r *roles) Keys() []key.Binding {
	switch r.mode {
	case rolesEditGroups, rolesEditDefault:
		return []key.Binding{r.keys.Done}
	case rolesEditLabel:
		return []key.Binding{r.keys.SaveLabel, r.keys.Cancel}
	case rolesEditRow:
		next := r.keys.Next
		if r.rowCol == 1 {
			next = r.keys.SaveMapping
		}
		return []key.Binding{next, r.keys.Switch, r.keys.Cancel}
	}
	edit := r.keys.Edit
	if r.sel == r.continueItem() {
		edit = r.keys.EditContinue
	}
	ks := []key.Binding{edit, r.keys.Move, r.keys.Add}
	if r.selectedRow() >= 0 {
		ks = append(ks, r.keys.Delete)
	}
	if r.canLabel() {
		ks = append(ks, r.keys.Label)
	}
	if len(r.deleted) > 0 {
		ks = append(ks, r.keys.Undo)
	}
	return append(ks, r.keys.Continue, r.keys.Skip)
}

func (r *roles) Capturing() bool { return r.mode != rolesBrowse }

// View shows the groups claim, the mappings table and the default role;
// the introduction goes first when the height is short, and the selected
// line always stays visible.
func (r *roles) View() string {
	width, height := r.width, r.height
	t := r.theme
	width = max(width, 20)
	title := []string{t.Title.Render("Role assignment (optional)")}
	intro := widget.WrapStyled(t.Text, "Users can receive roles within your application based on their group memberships. "+
		"Create SSO groups by referencing the IdP Group ID, then assign roles to these SSO groups.", width)
	body, focus := r.body(width)
	var notes []string
	if r.notice != "" {
		notes = append(notes, widget.WrapStyled(t.Error, r.notice, width)...)
	}
	if err := r.labels.err; err != nil && r.labels.connID == r.setup.Connection.ID {
		msg, _ := flow.Explain(err)
		notes = append(notes, widget.WrapStyled(t.Warn, "! The group labels could not be read or saved: "+msg, width)...)
	}
	for _, w := range rolesWarnings(r.setup, r.env.words()) {
		notes = append(notes, widget.WrapStyled(t.Warn, w, width)...)
	}
	notes = append(notes, diagFindingLines(t, rolesFindings(r.setup), width, r.env.words())...)
	provider := diagProviderLine(t, r.setup, width)
	preview := replayLines(t, r.setup, width)
	lines := slices.Concat(title, provider, intro, []string{""}, body, notes, preview)
	offset := len(title) + len(provider) + len(intro) + 1
	if len(lines) > height {
		lines, offset = slices.Concat(title, body, notes, preview), len(title)
	}
	return strings.Join(widget.Window(lines, offset+focus, height), "\n")
}

// body renders the items; focus is the selected item's line.
func (r *roles) body(width int) ([]string, int) {
	t := r.theme
	c := r.setup.Connection
	labels := r.labels.of(c.ID)
	labelCol := min(15, width/3)
	fieldWidth := max(width-2-labelCol-1, 6)
	colWidth := max((width-4)/2, 6)
	var lines []string
	focus := 0
	marker := func(i int) string {
		if i == r.sel {
			focus = len(lines)
			return t.Selected.Render("› ")
		}
		return "  "
	}
	field := func(i int, label string, in *textinput.Model, editing bool, value, empty string) {
		m := marker(i)
		v := t.Text.Render(ansi.Truncate(flow.Display(value), fieldWidth, "…"))
		if editing {
			sized := *in // a copy sized to draw: View changes nothing
			sized.SetWidth(fieldWidth - 1)
			v = sized.View()
		} else if value == "" {
			v = t.Subtle.Render(empty)
		}
		lines = append(lines, ansi.Truncate(m+t.Text.Render(fmt.Sprintf("%-*s", labelCol, label))+v, width, "…"))
	}
	field(0, "Groups claim", &r.groupsIn, r.mode == rolesEditGroups, c.GroupsClaim, flow.DefaultGroupsClaim+" (the default)")
	lines = append(lines, t.Subtle.Render(ansi.Truncate(fmt.Sprintf("  %-*s  %s", colWidth, "IdP group ID", "Role"), width, "…")))
	if len(c.RoleMappings) == 0 {
		lines = append(lines, t.Subtle.Render(ansi.Truncate("  (no mappings yet: press a to add one)", width, "…")))
	}
	for i, m := range c.RoleMappings {
		mk := marker(i + 1)
		if r.mode == rolesEditRow && r.selectedRow() == i {
			group, role := r.rowIn[0], r.rowIn[1] // copies sized to draw
			group.SetWidth(colWidth - 1)
			role.SetWidth(max(width-4-colWidth-1, 4))
			lines = append(lines, ansi.Truncate(mk+group.View()+"  "+role.View(), width, "…"))
			continue
		}
		if r.mode == rolesEditLabel && r.selectedRow() == i {
			lines = append(lines, widget.LabelLine(r.labelIn, mk, t.Text, m.Group, width))
			continue
		}
		style := t.Text
		if r.rowError(i) != "" {
			style = t.Error
		}
		name := "(no group)"
		if m.Group != "" {
			name = glFit(labels, m.Group, colWidth)
		}
		group := fmt.Sprintf("%-*s", colWidth, ansi.Truncate(name, colWidth, "…"))
		lines = append(lines, ansi.Truncate(mk+style.Render(group)+"  "+style.Render(flow.Display(cmp.Or(m.Role, "(no role)"))), width, "…"))
	}
	field(r.defaultItem(), "Default role", &r.defaultIn, r.mode == rolesEditDefault, c.DefaultRole, "none: given when no group matches")
	button := "  [ Continue ]"
	if r.sel == r.continueItem() {
		focus = len(lines)
		button = t.Selected.Render("› [ Continue ]")
	} else {
		button = t.Subtle.Render(button)
	}
	lines = append(lines, button+t.Subtle.Render(ansi.Truncate("   s skips this step", max(width-14, 0), "")))
	return lines, focus
}

// rolesWarnings are the notes on the groups claim: the IdP does not list
// it, or the provider is known to need set-up for it.
func rolesWarnings(s *Setup, w words) []string {
	var out []string
	claim := cmp.Or(s.Connection.GroupsClaim, flow.DefaultGroupsClaim)
	supported := claimsSupported(s)
	listed := slices.Contains(supported, claim)
	if len(supported) > 0 && !listed {
		out = append(out, fmt.Sprintf("! The IdP does not list %q in claims_supported: the test login will show whether it arrives; "+w.mayAdd+".", claim, "a groups claim to the ID token"))
	}
	// Google's and Okta's groups are explained by rolesFindings; Entra's
	// too once a test login showed them.
	if p, _ := diagProvider(s); p.Kind == flow.IdPEntra && len(diagOnly(diagClaims(s), flow.FindingEntraGroupOverage, flow.FindingGroupGUIDs)) == 0 {
		out = append(out, "! Entra sends group Object IDs (GUIDs): use them as IdP group IDs. Past 200 groups it sends none (group overage).")
	}
	return out
}

// rolesFindings are the known pitfalls that concern groups: what the
// provider's metadata tells (Google sends none, where Okta sets its groups
// claim) and what the last test login's claims showed (Entra's overage,
// group IDs instead of names, Okta's missing claim).
func rolesFindings(s *Setup) []flow.Finding {
	return slices.Concat(
		diagOnly(diagMetadata(s), flow.FindingGoogleNoGroups, flow.FindingOktaAuthServer),
		diagOnly(diagClaims(s), flow.FindingEntraGroupOverage, flow.FindingGroupGUIDs, flow.FindingOktaNoGroups))
}
