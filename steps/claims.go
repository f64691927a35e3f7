package steps

import (
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

// claimsAttrs are the profile attributes of the guide's step 2, each
// filled from one ID token claim, in the guide's order.
var claimsAttrs = []struct{ name, what string }{
	{"idp_id", "the user's unique ID at the IdP"},
	{"email", "the email address"},
	{"first_name", "the first name"},
	{"last_name", "the last name"},
}

// claimsCommon are suggested when the IdP does not list claims_supported.
var claimsCommon = []string{"sub", "email", "given_name", "family_name", "name", "preferred_username", "upn", "oid"}

const (
	claimsRows     = 4
	claimsContinue = claimsRows // the row of the Continue button
	claimsAttrCol  = 12
)

// claims is step 4: the claim mapping, with the IdP's claims_supported as
// suggestions, and a flag before the test login for each mapped claim the
// IdP does not list.
type claims struct {
	area
	stepBase

	inputs  [claimsRows]textinput.Model
	sel     int // 0..claimsRows-1: a mapping; claimsContinue: the button
	editing bool
	notice  string
	keys    claimsKeys
}

// NewClaims is the claims step.
func NewClaims(env *Env, theme *Theme) Step {
	c := &claims{stepBase: stepBase{env: env, theme: theme, setup: NewSetup()}, keys: newClaimsKeys()}
	for i := range c.inputs {
		in := limited(widget.New(), widget.LimitName)
		in.Prompt = ""
		in.ShowSuggestions = true
		in.KeyMap.AcceptSuggestion = key.NewBinding(key.WithKeys("tab"))
		in.KeyMap.NextSuggestion = key.NewBinding(key.WithKeys("ctrl+n"))
		in.KeyMap.PrevSuggestion = key.NewBinding(key.WithKeys("ctrl+p"))
		in.SetStyles(theme.PlainInputStyles())
		c.inputs[i] = in
	}
	return c
}

func (c *claims) Title() string { return Title(StepClaims) }

// Enter loads the mapping and the IdP's claims as suggestions.
func (c *claims) Enter(s *Setup) tea.Cmd {
	c.setup = s
	c.editing, c.notice = false, ""
	defaults := flow.DefaultClaimMapping()
	suggestions := claimsCommon
	if supported := claimsSupported(s); len(supported) > 0 {
		suggestions = supported
	}
	for i := range c.inputs {
		c.inputs[i].Blur()
		c.inputs[i].SetValue(claimsGet(s.Connection.Claims, i))
		c.inputs[i].Placeholder = widget.Default(claimsGet(defaults, i))
		c.inputs[i].SetSuggestions(suggestions)
	}
	return nil
}

// claimsSupported is the IdP's claims_supported, when validation read it.
func claimsSupported(s *Setup) []string {
	if s.Metadata == nil {
		return nil
	}
	return s.Metadata.ClaimsSupported
}

func claimsGet(m flow.ClaimMapping, i int) string {
	return [claimsRows]string{m.IDPID, m.Email, m.FirstName, m.LastName}[i]
}

func claimsSet(m *flow.ClaimMapping, i int, v string) {
	switch i {
	case 0:
		m.IDPID = v
	case 1:
		m.Email = v
	case 2:
		m.FirstName = v
	case 3:
		m.LastName = v
	}
}

func (c *claims) Update(msg tea.Msg) (tea.Cmd, Nav) {
	switch msg := msg.(type) {
	case tea.BackgroundColorMsg:
		for i := range c.inputs {
			c.inputs[i].SetStyles(c.theme.PlainInputStyles())
		}
		return nil, nil
	case tea.KeyPressMsg:
		if c.editing {
			return c.editKey(msg)
		}
		return c.browseKey(msg)
	case tea.PasteMsg:
		if !c.editing {
			return nil, nil
		}
	}
	if !c.editing {
		return nil, nil
	}
	return c.forward(msg), nil
}

// forward gives a message to the field being edited and writes its value
// into the setup, so that a draft has every keystroke.
func (c *claims) forward(msg tea.Msg) tea.Cmd {
	cmd := inputUpdate(&c.inputs[c.sel], msg)
	claimsSet(&c.setup.Connection.Claims, c.sel, strings.TrimSpace(c.inputs[c.sel].Value()))
	c.notice = ""
	return cmd
}

func (c *claims) browseKey(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	switch {
	case key.Matches(msg, c.keys.Move):
		c.sel = (c.sel + widget.MoveBy(msg) + claimsRows + 1) % (claimsRows + 1)
	case key.Matches(msg, c.keys.Edit) && c.sel == claimsContinue, key.Matches(msg, c.keys.Continue):
		return nil, c.next()
	case key.Matches(msg, c.keys.Edit):
		return c.edit(c.sel), nil
	case key.Matches(msg, c.keys.Defaults):
		c.setup.Connection.Claims = flow.DefaultClaimMapping()
		for i := range c.inputs {
			c.inputs[i].SetValue(claimsGet(c.setup.Connection.Claims, i))
		}
		c.notice = ""
		return Cmd(StatusMsg("The guide's default claims are back")), nil
	}
	return nil, nil
}

func (c *claims) editKey(msg tea.KeyPressMsg) (tea.Cmd, Nav) {
	switch {
	case key.Matches(msg, c.keys.Done):
		c.stopEditing()
	case key.Matches(msg, c.keys.Next):
		c.stopEditing()
		if c.sel == claimsRows-1 {
			c.sel = claimsContinue
			return nil, c.next()
		}
		return c.edit(c.sel + 1), nil
	case key.Matches(msg, c.keys.Accept) && claimsCanAccept(&c.inputs[c.sel]):
		return c.forward(msg), nil
	case key.Matches(msg, c.keys.Move):
		c.stopEditing()
		to := c.sel + widget.MoveBy(msg)
		if to < 0 || to >= claimsRows {
			c.sel = min(max(to, 0), claimsContinue)
			return nil, nil
		}
		return c.edit(to), nil
	default:
		return c.forward(msg), nil
	}
	return nil, nil
}

// claimsCanAccept reports whether tab would complete the field.
func claimsCanAccept(in *textinput.Model) bool {
	s := in.CurrentSuggestion()
	return s != "" && s != in.Value() && len(in.MatchedSuggestions()) > 0
}

func (c *claims) edit(i int) tea.Cmd {
	c.sel, c.editing = i, true
	c.inputs[i].CursorEnd()
	return c.inputs[i].Focus()
}

func (c *claims) stopEditing() {
	c.inputs[c.sel].Blur()
	c.editing = false
}

// next continues unless the mapping has no claim for idp_id.
func (c *claims) next() Nav {
	if strings.TrimSpace(c.setup.Connection.Claims.IDPID) == "" {
		c.notice = "idp_id needs a claim: sub is the standard one (press d to restore the guide's defaults)."
		c.sel = 0
		return nil
	}
	return NextMsg{}
}

func (c *claims) Keys() []key.Binding {
	if c.editing {
		ks := []key.Binding{c.keys.Next, c.keys.Done}
		if len(c.inputs[c.sel].MatchedSuggestions()) > 0 {
			ks = append(ks, c.keys.Accept, c.keys.Cycle)
		}
		return ks
	}
	edit := c.keys.Edit
	if c.sel == claimsContinue {
		edit = c.keys.EditContinue
	}
	return []key.Binding{edit, c.keys.Move, c.keys.Continue, c.keys.Defaults}
}

func (c *claims) Capturing() bool { return c.editing }

// View shows the four mappings as a table, then what to look at before
// the test login; it drops the introduction and the IdP's claim list
// first when the height is short.
func (c *claims) View() string {
	width, height := c.width, c.height
	t := c.theme
	width = max(width, 20)
	intro := widget.WrapStyled(t.Text, "Each attribute of the user's profile comes from one claim of the ID token. "+
		"For many providers, these claims are included by default, but some providers require manual configuration.", width)
	table, focus := c.table(width)
	notes := c.notes(width)
	supported := c.supportedLines(width)

	title := []string{t.Title.Render("Configure ID token claims")}
	provider := diagProviderLine(t, c.setup, width)
	preview := replayLines(t, c.setup, width)
	// Each layout is what goes above the table and what goes below it.
	layouts := [][2][][]string{
		{{title, provider, intro, {""}}, {{""}, notes, preview, supported}},
		{{title, provider, intro, {""}}, {notes, preview, supported}},
		{{title, provider}, {notes, preview, supported}},
		{{title, provider}, {notes, preview}},
		{{title}, {notes, preview}},
	}
	var lines []string
	offset := 0 // where the table starts
	for _, l := range layouts {
		above := slices.Concat(l[0]...)
		lines, offset = slices.Concat(above, table, slices.Concat(l[1]...)), len(above)
		if len(lines) <= height {
			break
		}
	}
	return strings.Join(widget.Window(lines, offset+focus, height), "\n")
}

// table renders the header, the four rows and the Continue button; focus
// is the selected line's index within it.
func (c *claims) table(width int) ([]string, int) {
	t := c.theme
	m := c.setup.Connection.Claims
	attrCol := min(claimsAttrCol, width/3)
	valueWidth := max(width-2-attrCol-14, 6)
	lines := []string{t.Subtle.Render(ansi.Truncate("  "+fmt.Sprintf("%-*s", attrCol, "Attribute")+"Claim in the ID token", width, "…"))}
	for i, a := range claimsAttrs {
		marker, attrStyle := "  ", t.Text
		if i == c.sel {
			marker, attrStyle = t.Selected.Render("› "), t.Selected
		}
		var value string
		if c.editing && i == c.sel {
			in := c.inputs[i]           // a copy sized to draw: View changes nothing
			in.SetWidth(valueWidth - 1) // and one cell for the cursor
			value = in.View()
		} else {
			v := claimsGet(m, i)
			value = t.Text.Render(ansi.Truncate(flow.Display(v), valueWidth, "…"))
			if v == "" {
				value = t.Subtle.Render("(empty)")
			}
		}
		tag := c.rowTag(i)
		line := marker + attrStyle.Render(fmt.Sprintf("%-*s", attrCol, a.name)) + value
		if tag != "" {
			line += "  " + tag
		}
		lines = append(lines, ansi.Truncate(line, width, "…"))
	}
	button := t.Subtle.Render("  [ Continue ]")
	if c.sel == claimsContinue {
		button = t.Selected.Render("› [ Continue ]")
	}
	lines = append(lines, button)
	return lines, 1 + c.sel
}

// rowTag flags a row: an empty idp_id, or a claim the IdP does not list.
func (c *claims) rowTag(i int) string {
	t := c.theme
	v := claimsGet(c.setup.Connection.Claims, i)
	switch {
	case v == "" && i == 0:
		return t.Error.Render("required")
	case v == "":
		return t.Warn.Render("! default " + claimsGet(flow.DefaultClaimMapping(), i))
	case c.editing && i == c.sel:
		return ""
	case len(claimsSupported(c.setup)) > 0 && !slices.Contains(claimsSupported(c.setup), v):
		return t.Warn.Render("! not listed")
	}
	return ""
}

// notes are the refusal and the flags to look at before the test login.
func (c *claims) notes(width int) []string {
	t := c.theme
	var lines []string
	if c.notice != "" {
		lines = append(lines, widget.WrapStyled(t.Error, c.notice, width)...)
	}
	editing := -1
	if c.editing {
		editing = c.sel
	}
	for _, w := range claimsWarnings(c.setup, editing, c.env.words()) {
		lines = append(lines, widget.WrapStyled(t.Warn, w, width)...)
	}
	return lines
}

// claimsWarnings are the flags raised before the test login: empty
// mappings, and mapped claims the IdP's claims_supported does not list
// (except on the row being edited, whose value is still being typed).
func claimsWarnings(s *Setup, editing int, w words) []string {
	var out, unlisted []string
	m, defaults, supported := s.Connection.Claims, flow.DefaultClaimMapping(), claimsSupported(s)
	for i, a := range claimsAttrs {
		v := claimsGet(m, i)
		switch {
		case v == "" && i == 0:
			out = append(out, "✗ idp_id needs a claim: sub is the standard one.")
		case v == "":
			out = append(out, fmt.Sprintf("! %s has no claim: the guide's default %q will be used.", a.name, claimsGet(defaults, i)))
		case i != editing && len(supported) > 0 && !slices.Contains(supported, v) && !slices.Contains(unlisted, v):
			unlisted = append(unlisted, v)
		}
	}
	switch len(unlisted) {
	case 0:
	case 1:
		out = append(out, fmt.Sprintf("! %s is not in the IdP's claims_supported: the test login will show whether it arrives; "+w.mayAdd+".", unlisted[0], "it"))
	default:
		out = append(out, fmt.Sprintf("! %s are not in the IdP's claims_supported: the test login will show whether they arrive; "+w.mayAdd+".", strings.Join(unlisted, ", "), "them"))
	}
	return out
}

// supportedLines lists the IdP's claims compactly, in two lines at most.
func (c *claims) supportedLines(width int) []string {
	t := c.theme
	supported := claimsSupported(c.setup)
	if len(supported) == 0 {
		return widget.WrapStyled(t.Subtle, "The IdP does not list claims_supported: the test login will show which claims arrive.", width)
	}
	lines := widget.WrapStyled(t.Subtle, "The IdP lists: "+strings.Join(supported, ", "), width)
	if len(lines) > 2 {
		lines = lines[:2]
		lines[1] = t.Subtle.Render(ansi.Truncate(ansi.Strip(lines[1]), width-1, "") + "…")
	}
	return lines
}
