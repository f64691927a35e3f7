package widget

import (
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestFitCutsLinesAndHeight(t *testing.T) {
	got := Fit("a long first line\nsecond\nthird", 6, 2)
	if got != "a lon…\nsecond" {
		t.Errorf("Fit = %q", got)
	}
	if got := Fit("x\ny\nz", 5, 0); got != "x\ny\nz" {
		t.Errorf("Fit with no height limit = %q", got)
	}
}

// Fits tells a view that fits from one that does not: for wide
// characters, styles, padded lines, sequences cut short and an IdP's stray
// escapes; and narrow spares measuring the styled lines of a view.
func TestFitsTellsAViewThatFits(t *testing.T) {
	red := lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")).Bold(true)
	cases := []string{
		"plain", "exactly10!", "eleven char", "日本語日本", "日本語日本語", "🙂🙂🙂🙂🙂", "🙂🙂🙂🙂🙂🙂",
		red.Render("exactly10!"), red.Render("eleven char"), red.Render("日本語日本語"), "  " + red.Render("✓") + "       ",
		"\x1b[31mcut short", "\x1b[", "\x1b[999", "abc\x1b[1;2;3", "\x1b]8;;https://e.example\x07link\x1b]8;;\x07",
		"\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", "a\tb", "\u200b\u200b", "❤\ufe0f❤\ufe0f❤\ufe0f❤\ufe0f❤\ufe0f❤\ufe0f",
		"✓✓✓✓✓✓✓✓✓✓", "✓✓✓✓✓✓✓✓✓✓✓", "✅✅✅✅✅", "✅✅✅✅✅✅", "⌚⌚⌚⌚⌚⌚", "1\u20e31\u20e31\u20e31\u20e31\u20e3", "1\ufe0f\u20e31\ufe0f\u20e31\ufe0f\u20e3",
		"──────────", "───────────", "a • b … c ↑↓", "\u2764\u2764\u2764\u2764\u2764\u2764", "\u2764\ufe0f\u2764\ufe0f\u2764\ufe0f\u2764\ufe0f\u2764\ufe0f",
		"\u1100\u1161\u1100\u1161\u1100\u1161", "ก\u0e31ก\u0e31ก\u0e31ก\u0e31ก\u0e31ก\u0e31", "\xff\xfe\xfd\xfc\xfb\xfa", "\u00a0\u00ad\u2028\u200d\u200d",
		"two\nlines", "1\n2\n3", "end\n", red.Render("a") + "\n" + red.Render("0123456789x"),
	}
	for _, c := range cases {
		for _, width := range []int{1, 5, 10, 12} {
			for _, height := range []int{0, 1, 2, 3} {
				lines := strings.Split(c, "\n")
				fits := height <= 0 || len(lines) <= height
				for _, l := range lines {
					fits = fits && lipgloss.Width(l) <= width
				}
				if got := Fits(c, width, height); got != fits {
					t.Errorf("Fits(%q, %d, %d) = %v, want %v", c, width, height, got, fits)
				}
				for _, l := range lines {
					if narrow(l, width) && lipgloss.Width(l) > width {
						t.Errorf("narrow(%q, %d) = true; it is %d cells wide", l, width, lipgloss.Width(l))
					}
				}
			}
		}
	}
	view := red.Render("Client ID") + "\n" + red.Render("> ") + "abc" + "\n" + lipgloss.NewStyle().Faint(true).Render("enter: next") +
		"\n  " + red.Render("✓") + strings.Repeat(" ", 17) + "\n" + red.Render("tab/↑↓ • esc …") + "\n" + strings.Repeat("─", 20)
	for _, l := range strings.Split(view, "\n") {
		if !narrow(l, 20) {
			t.Errorf("narrow says the styled line %q may be wider than 20 cells: it is measured on every key", l)
		}
	}
	if got := Fit(view, 20, 6); got != view {
		t.Errorf("Fit changed a view that fits: %q", got)
	}
}

func TestWrapIndentedKeepsTheIndent(t *testing.T) {
	got := WrapIndented("  expected  http://127.0.0.1:9000/realms/acme", 20)
	for _, l := range got {
		if !strings.HasPrefix(l, "  ") || ansi.StringWidth(l) > 20 {
			t.Errorf("line %q lost its indent or is too wide: %q", l, got)
		}
	}
}

func TestWindowKeepsTheFocusInSight(t *testing.T) {
	lines := []string{"0", "1", "2", "3", "4", "5", "6", "7"}
	for focus := range lines {
		if w := Window(lines, focus, 3); len(w) != 3 || !slices.Contains(w, lines[focus]) {
			t.Errorf("focus %d: window %v", focus, w)
		}
	}
	if w := Window(lines, 2, 10); len(w) != len(lines) {
		t.Errorf("a list that fits was cut: %v", w)
	}
}

func TestCursorStaysInTheList(t *testing.T) {
	up := key.NewBinding(key.WithKeys("up"))
	down := key.NewBinding(key.WithKeys("down"))
	upKey, downKey := tea.KeyPressMsg{Code: tea.KeyUp}, tea.KeyPressMsg{Code: tea.KeyDown}
	if i := Cursor(0, 3, upKey, up, down); i != 0 {
		t.Errorf("up from the top went to %d", i)
	}
	if i := Cursor(2, 3, downKey, up, down); i != 2 {
		t.Errorf("down from the bottom went to %d", i)
	}
	if i := Cursor(1, 3, downKey, up, down); i != 2 {
		t.Errorf("down from 1 went to %d", i)
	}
	if MoveBy(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) != -1 || MoveBy(downKey) != 1 {
		t.Error("shift+tab and down do not move up and down")
	}
}

func TestLabelLineFitsAndLeavesTheFieldAsItWas(t *testing.T) {
	in := NewInput(PlainInputStyles(true), "a label")
	in.Prompt = ""
	in.SetWidth(50)
	_ = Edit(&in, "Finance admins")
	for _, width := range []int{12, 30, 80} {
		line := LabelLine(in, "› ", lipgloss.NewStyle(), "3f2c1e8a-77d0-4b54-9bd1-5b1f0c2a9e01", width)
		if w := ansi.StringWidth(line); w > width {
			t.Errorf("width %d: the line is %d wide: %q", width, w, ansi.Strip(line))
		}
		if width >= 30 && !strings.Contains(ansi.Strip(line), "Label for 3f2c1e8a…") {
			t.Errorf("width %d: no shortened group in %q", width, ansi.Strip(line))
		}
	}
	if in.Width() != 50 || in.Value() != "Finance admins" || !in.Focused() {
		t.Errorf("drawing changed the field: width %d, value %q, focused %v", in.Width(), in.Value(), in.Focused())
	}
}

func TestShownDrawsControlCharactersAsStandIns(t *testing.T) {
	in := NewInput(PlainInputStyles(true), "Acme\u202eproC OIDC")
	in.ShowSuggestions = true
	in.SetSuggestions([]string{"Acme \x1b]52;c;SGk=\x07", "Globex"})
	for _, typed := range []string{"A\u202e", "Ac"} {
		_ = Edit(&in, typed)
		view := Sized(in, 60).View()
		for _, bad := range []string{"\u202e", "\x1b]"} {
			if strings.Contains(view, bad) {
				t.Errorf("typed %q: the field draws %q: %q", typed, bad, view)
			}
		}
		if in.Value() != typed || !strings.Contains(ansi.Strip(view), flow.Display(typed)) {
			t.Errorf("value %q, view %q: want the value kept and drawn with stand-ins", in.Value(), view)
		}
	}
	if view := Sized(in, 60).View(); !strings.Contains(ansi.Strip(view), "Acme ␛]52;c;") {
		t.Errorf("the suggestion is not drawn with stand-ins: %q", view)
	}
	in.SetValue("")
	if view := Sized(in, 60).View(); strings.Contains(view, "\u202e") || !strings.Contains(view, "⟨U+202E⟩") {
		t.Errorf("the placeholder is not drawn with stand-ins: %q", view)
	}
}

func TestUpdateSaysWhenAPasteIsCut(t *testing.T) {
	in := NewInput(PlainInputStyles(true), "")
	in.CharLimit = 10
	_ = in.Focus()
	if _, note := Update(&in, tea.PasteMsg{Content: "0123456789abc"}); in.Value() != "0123456789" || !strings.Contains(note, "cut to 10 characters") {
		t.Errorf("value %q, note %q", in.Value(), note)
	}
	in.SetValue("")
	if _, note := Update(&in, tea.PasteMsg{Content: "0123456789"}); in.Value() != "0123456789" || note != "" {
		t.Errorf("a paste that fits: value %q, note %q", in.Value(), note)

	}
}

// TestPlaceholdersAndFocusAreMarkedWithoutColour: with colours and
// attributes stripped (NO_COLOR, monochrome), a placeholder reads as an
// example, never as a value, and only the focused field shows its prompt.
func TestPlaceholdersAndFocusAreMarkedWithoutColour(t *testing.T) {
	t.Parallel()
	styles := FocusMarked(PlainInputStyles(true))
	focused, blurred := NewInput(styles, Example("Acme Corp")), NewInput(styles, Hint("the Client ID"))
	focused.Focus()
	f, b := ansi.Strip(Sized(focused, 40).View()), ansi.Strip(Sized(blurred, 40).View())
	if !strings.HasPrefix(f, "> e.g. Acme Corp") {
		t.Errorf("focused field %q: want the prompt and a marked example", f)
	}
	if !strings.HasPrefix(b, "  (the Client ID)") {
		t.Errorf("blurred field %q: want no prompt and a marked description", b)
	}
	if got := Default("email"); got != "default: email" {
		t.Errorf("Default = %q", got)
	}
}

// TestWrapKeepsURLsWhole: a URL is never split over two lines (a
// selection would copy a line break); one wider than the screen is cut
// with "…" on its own line; other words wrap as before.
func TestWrapKeepsURLsWhole(t *testing.T) {
	const uri = "https://login.acme-corp.example/callback/conn_7h3kq9"
	text := "Paste this Redirect URI into your OIDC application: " + uri + " then press enter."
	for _, width := range []int{80, 60, 40} {
		for name, lines := range map[string][]string{
			"Wrap":         strings.Split(ansi.Strip(Wrap(lipgloss.NewStyle().Bold(true).Render(text), width)), "\n"),
			"WrapStyled":   WrapStyled(lipgloss.NewStyle(), text, width),
			"WrapIndented": WrapIndented("  "+text, width),
		} {
			var whole bool
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("%s at %d: line %q is %d cells", name, width, l, w)
				}
				for _, f := range strings.Fields(l) {
					cut, isCut := strings.CutSuffix(f, "…")
					// Too wide for the line: alone on it, cut at its end.
					isCut = isCut && width < len(uri) && strings.TrimSpace(l) == f && strings.HasPrefix(uri, cut)
					whole = whole || f == uri || isCut
				}
			}
			if !whole {
				t.Errorf("%s at %d split the URL: %q", name, width, lines)
			}
		}
	}
	got := WrapStyled(lipgloss.NewStyle(), "see "+uri+" now", 30)
	want := []string{"see", "https://login.acme-corp.examp…", "now"}
	if !slices.Equal(got, want) {
		t.Errorf("a URL wider than the screen: %q; want %q", got, want)
	}
	if got := Wrap("no address here, just words that wrap", 10); got != lipgloss.Wrap("no address here, just words that wrap", 10, "") {
		t.Errorf("text without a URL wraps differently: %q", got)
	}
}

// Text fields share one key map rather than each keeping its own (two
// dozen allocations a field, in every field of every session), and a
// field that changes a binding changes it for itself alone.
func TestFieldsShareTheirKeyMap(t *testing.T) {
	a, b := NewInput(PlainInputStyles(true), ""), NewInput(PlainInputStyles(true), "")
	if &a.KeyMap.CharacterForward.Keys()[0] != &b.KeyMap.CharacterForward.Keys()[0] {
		t.Error("two fields keep a key map each")
	}
	a.KeyMap.AcceptSuggestion.SetKeys("ctrl+y")
	a.KeyMap.DeleteWordBackward.SetEnabled(false)
	if !slices.Equal(b.KeyMap.AcceptSuggestion.Keys(), []string{"tab"}) || !b.KeyMap.DeleteWordBackward.Enabled() {
		t.Error("changing one field's key map changed another's")
	}
	if b.KeyMap.Paste.Enabled() {
		t.Error("ctrl+v pastes the server's clipboard")
	}
}
