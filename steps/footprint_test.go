package steps

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// allocated is the bytes build allocates, on average over n calls.
func allocated(n int, build func() Step) uint64 {
	return stepstest.Allocated(n, func() { _ = build() })
}

// kept is the heap that build's steps hold, on average over n, once the
// garbage is collected.
func kept(n int, build func() Step) uint64 {
	return stepstest.Kept(n, func() any { return build() })
}

// viewAllocs is the allocations of step's View at 80×17, where its last
// Update left it (kept), and at 60×17 with no Update since, so that what
// it keeps between keys is drawn again (drawn).
//
// AllocsPerRun counts the whole process's allocations, so other
// goroutines (servers and timers of earlier tests) can only add to a
// count: the least of several counts is the View's own.
func viewAllocs(step Step) (kept, drawn float64) {
	least := func() float64 {
		n := testing.AllocsPerRun(20, func() { _ = step.View() })
		for range 9 {
			n = min(n, testing.AllocsPerRun(20, func() { _ = step.View() }))
		}
		return n
	}
	kept = least()
	step.SetSize(60, 17)
	drawn = least()
	step.SetSize(80, 17)
	return kept, drawn
}

// A customer's start step, which makes no invites, goes without the
// invite form's three text inputs (some 24 KiB of each customer's
// session); an engineer's has them.
func TestCustomersStartStepHasNoInviteForm(t *testing.T) {
	theme := NewTheme(true)
	customer := testEnv(t)
	customer.Customer, customer.Organization = true, "Acme"
	engineer := testEnv(t)
	engineer.Invites = &InviteSettings{}
	c := allocated(20, func() Step { return NewOrganization(customer, theme) })
	e := allocated(20, func() Step { return NewOrganization(engineer, theme) })
	if c+20<<10 > e {
		t.Errorf("a customer's start step allocates %d KiB, an engineer's %d KiB: want the invite form's 20+ KiB less", c>>10, e>>10)
	}
}

// Typing into the new-connection form redraws the two fields, not the
// paragraphs around them: those are wrapped and styled once per width,
// theme and listing (kept by Update), as each key redraws the form in
// every session.
func TestOrganizationFormKeepsItsTextBetweenKeys(t *testing.T) {
	env := testEnv(t)
	step, _ := orgEnterNew(t, NewOrganization, env)
	viewFits(t, step, 80, 17)
	orgType(t, step, "Acme") // Update keeps the text for 80 columns
	kept, drawn := viewAllocs(step)
	if kept*3 > drawn*2 {
		t.Errorf("a View between keys allocates %.0f times, one that draws the text %.0f: the text is drawn on each key", kept, drawn)
	}
	wantIn(t, "view", viewFits(t, step, 80, 17), "Organization", "> Acme", "Connection name", "Enter keeps the suggested name.")
}

// The credentials step's opening paragraph is wrapped once per width and
// theme (kept by Update), not on each key typed into its fields.
func TestCredentialsKeepItsParagraphBetweenKeys(t *testing.T) {
	step, setup := credWithoutDemo(t, true)
	orgEnter(t, step, setup)
	viewFits(t, step, 80, 17)
	orgType(t, step, "client") // Update keeps the paragraph for 80 columns
	kept, drawn := viewAllocs(step)
	if kept > drawn*0.92 { // the paragraph is some 12% of the View's allocations
		t.Errorf("a View between keys allocates %.0f times, one that wraps the paragraph %.0f: it is wrapped on each key", kept, drawn)
	}
	wantIn(t, "view", viewFits(t, step, 80, 17), "Client Secret", "> client")
}

// The start step a customer left once it created their connection keeps
// no text fields (some 13 KiB of each session that moved on); the next
// new-connection form starts empty, as before.
func TestStartStepLeftKeepsNoTextFields(t *testing.T) {
	env := testEnv(t)
	env.Customer, env.Organization, env.Demo = true, "Acme", nil
	theme := NewTheme(true)
	left := func() Step {
		step := NewOrganization(env, theme)
		orgEnter(t, step, NewSetup())
		orgType(t, step, "Acme SSO")
		if _, ok := orgHas[NextMsg](run(t, step, press("enter"), orgWait)); !ok {
			t.Fatalf("the form did not create the connection:\n%s", viewFits(t, step, 80, 17))
		}
		return step
	}
	if n := kept(16, left); n > 9<<10 {
		t.Errorf("a start step left after creating the connection keeps %d KiB: want its text fields dropped (< 9 KiB; 17 with them)", n>>10)
	}
	step := left()
	orgEnter(t, step, step.(*organization).setup)
	run(t, step, press("down"), orgWait)
	run(t, step, press("enter"), orgWait) // "New connection"
	wantIn(t, "form again", viewFits(t, step, 80, 17), "Connection name", "default: Acme OIDC")
}

// A customer who has typed the Client ID, and not yet been to the other
// two fields, holds one text input (some 8 KiB), not three: an empty
// field is drawn from the theme's blank input until it is focused or
// given a value.
func TestCredentialsBuildAFieldWhenItIsFirstUsed(t *testing.T) {
	env := testEnv(t)
	env.Demo = nil
	theme := NewTheme(true)
	typed := func() Step {
		step := NewCredentials(env, theme)
		step.SetSize(80, 17)
		step.Enter(NewSetup())
		for _, r := range "client-1" {
			step.Update(press(string(r)))
		}
		return step
	}
	if n := kept(64, typed); n > 16<<10 {
		t.Errorf("the credentials step with a Client ID typed keeps %d KiB: want one text input built (< 16 KiB; 26 with three)", n>>10)
	}
	step := typed()
	wantIn(t, "view", viewFits(t, step, 80, 17), "> client-1", "(the Client Secret)", "e.g. https://idp.example.com")
}

// The Redirect URI step, once left, lets go of its guide (the rendering
// with the connection's Redirect URI in it, some 20 KiB of every session
// that moved on); coming back shows it at once, scrolled where it was.
func TestRedirectURILeftKeepsNoGuide(t *testing.T) {
	env := testEnv(t)
	env.Guides = NewGuides() // the server's, which keeps the renderings
	theme := NewTheme(true)
	entered := func() Step {
		step := NewRedirectURI(env, theme)
		step.SetSize(80, 17)
		orgEnter(t, step, redirectSetup(env))
		return step
	}
	entered() // the Guides render the guide once
	if n := kept(32, func() Step { s := entered(); s.(Leaver).Leave(); return s }); n > 12<<10 {
		t.Errorf("a Redirect URI step left keeps %d KiB: want its guide let go (< 12 KiB; 28 with it)", n>>10)
	}
	step := entered()
	run(t, step, press("pgdown"), orgWait)
	before := viewFits(t, step, 80, 17)
	step.(Leaver).Leave()
	if cmd := step.Enter(step.(*redirectURI).setup); cmd != nil {
		t.Error("coming back renders the guide again")
	}
	if after := viewFits(t, step, 80, 17); after != before {
		t.Errorf("coming back shows another screen:\n%s\n---\n%s", before, after)
	}
}

// A Redirect URI step left does no work for the messages that still
// reach it (draft saves, ticks, other steps' replies): it lays itself out
// again when it is entered.
func TestRedirectURILeftDrawsNothing(t *testing.T) {
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	step.SetSize(80, 17)
	orgEnter(t, step, redirectSetup(env))
	step.(Leaver).Leave()
	type other struct{}
	if n := stepstest.AllocatedAtMost(20, 256, func() { step.Update(other{}) }); n > 256 {
		t.Errorf("a message to a step left allocates %d bytes: it is laid out again", n)
	}
}

// The credentials step's empty fields are drawn once per width, theme
// and echo, not on each key typed into another field: each is a whole
// text input drawn again.
func TestCredentialsKeepTheirEmptyFieldsBetweenKeys(t *testing.T) {
	step, setup := credWithoutDemo(t, true)
	orgEnter(t, step, setup)
	viewFits(t, step, 80, 17)
	orgType(t, step, "client")
	c := step.(*credentials)
	if c.inputs[credSecret] != nil || c.inputs[credDiscovery] != nil {
		t.Fatal("the secret and discovery fields were built before anyone went to them")
	}
	kept := testing.AllocsPerRun(20, func() { _ = c.View() })
	for range 9 {
		kept = min(kept, testing.AllocsPerRun(20, func() { _ = c.View() }))
	}
	blank := testing.AllocsPerRun(20, func() { _ = c.asField(c.theme.blankInput(), credSecret).View() })
	for range 9 {
		blank = min(blank, testing.AllocsPerRun(20, func() { _ = c.asField(c.theme.blankInput(), credSecret).View() }))
	}
	forget := func() { c.blanks = [credFields]blankField{}; _ = c.View() }
	drawn := testing.AllocsPerRun(20, forget)
	for range 9 {
		drawn = min(drawn, testing.AllocsPerRun(20, forget))
	}
	if drawn-kept < 1.5*blank {
		t.Errorf("a View between keys allocates %.0f times, one that draws the empty fields %.0f, drawing one empty field %.0f: the two empty fields are drawn on each key", kept, drawn, blank)
	}
	wantIn(t, "view", viewFits(t, step, 80, 17), "> client", "the Client Secret", "https://idp.example.com/.well-known/openid-configuration")
}

// The note under the field being typed in is drawn again only when it
// changes, not on each key (a styled, padded line each time).
func TestCredentialsKeepTheirNotesBetweenKeys(t *testing.T) {
	step, setup := credWithoutDemo(t, true)
	orgEnter(t, step, setup)
	viewFits(t, step, 80, 17)
	orgType(t, step, "client")
	c := step.(*credentials)
	least := func(f func()) float64 {
		n := testing.AllocsPerRun(20, f)
		for range 9 {
			n = min(n, testing.AllocsPerRun(20, f))
		}
		return n
	}
	kept := least(func() { _ = c.View() })
	drawn := least(func() { c.notes = [credFields]drawnNote{}; _ = c.View() })
	text, style := c.credNote(credClientID)
	one := least(func() { _ = style.PaddingLeft(2).Width(c.width).Render(text) })
	if text == "" || drawn-kept < 0.75*one {
		t.Errorf("a View between keys allocates %.0f times, one that draws the notes %.0f, the Client ID's note (%q) %.0f: the note is drawn on each key", kept, drawn, text, one)
	}
}

// The guide in sight is what the viewport would show, without its
// padding: at the top, scrolled and at the bottom, for each width.
func TestRedirectURIShowsTheGuideAsTheViewportWould(t *testing.T) {
	for _, width := range []int{60, 80, 120} {
		env := testEnv(t)
		step := NewRedirectURI(env, NewTheme(true))
		step.SetSize(width, 17)
		orgEnter(t, step, redirectSetup(env))
		r := step.(*redirectURI)
		viewFits(t, step, width, 17)
		if r.shownKey != r.guideKey() {
			t.Fatalf("width %d: the guide is not shown", width)
		}
		trimmed := func(s string) string {
			lines := strings.Split(ansi.Strip(s), "\n")
			for i, l := range lines {
				lines[i] = strings.TrimRight(l, " ")
			}
			return strings.TrimRight(strings.Join(lines, "\n"), "\n")
		}
		for _, scroll := range []func(){func() {}, func() { r.vp.ScrollDown(5) }, r.vp.PageDown, func() { r.vp.GotoBottom() }} {
			scroll()
			if got, want := trimmed(r.visibleGuide()), trimmed(r.vp.View()); got != want {
				t.Errorf("width %d, scrolled to %d: the step shows\n%s\nthe viewport\n%s", width, r.vp.YOffset(), got, want)
			}
		}
	}
}

// The Redirect URI step draws its guide's viewport again only when what
// it shows moved (scrolled, resized, another rendering), and its head only
// when what it says changed: each drawing restyles every line, and the
// step is drawn on each message (twice more for the layout).
func TestRedirectURIKeepsItsGuideViewBetweenMessages(t *testing.T) {
	env := testEnv(t)
	step := NewRedirectURI(env, NewTheme(true))
	step.SetSize(80, 17)
	orgEnter(t, step, redirectSetup(env))
	r := step.(*redirectURI)
	first := viewFits(t, step, 80, 17)
	if r.shownKey != r.guideKey() {
		t.Fatalf("the guide is not shown:\n%s", first)
	}
	least := func(f func()) float64 {
		n := testing.AllocsPerRun(20, f)
		for range 9 {
			n = min(n, testing.AllocsPerRun(20, f))
		}
		return n
	}
	kept := least(func() { _ = step.View() })
	drawn := least(func() { r.drawnGuide.out = ""; _ = step.View() })
	guide := least(func() { _ = r.visibleGuide() })
	if drawn-kept < 0.75*guide {
		t.Errorf("a View between messages allocates %.0f times, one that draws the guide %.0f, the guide alone %.0f: the guide is drawn on each message", kept, drawn, guide)
	}
	redrawn := least(func() { r.drawnHead.out = ""; _ = step.View() })
	head := least(func() { _ = r.drawHead(80) })
	if redrawn-kept < 0.75*head {
		t.Errorf("a View between messages allocates %.0f times, one that draws the head %.0f, the head alone %.0f: the head is drawn on each message", kept, redrawn, head)
	}
	run(t, step, press("pgdown"), orgWait)
	if scrolled := viewFits(t, step, 80, 17); scrolled == first {
		t.Error("the guide did not scroll: its old drawing is shown")
	}
}
