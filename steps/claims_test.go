package steps

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// claimsSetup is a setup whose validation read claims_supported.
func claimsSetup(supported ...string) *Setup {
	s := NewSetup()
	if supported != nil {
		s.Metadata = &flow.Metadata{ClaimsSupported: supported}
	}
	return s
}

// claimsKeys presses each key in turn and returns the shell messages.
func claimsPress(t *testing.T, st Step, keys ...string) []tea.Msg {
	t.Helper()
	var shell []tea.Msg
	for _, k := range keys {
		shell = append(shell, run(t, st, press(k), time.Second)...)
	}
	return shell
}

func claimsHasNext(shell []tea.Msg) bool {
	for _, m := range shell {
		if m == (NextMsg{}) {
			return true
		}
	}
	return false
}

func TestClaimsDefaultsAndEnterThrough(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "given_name", "family_name", "groups")
	c := NewClaims(nil, NewTheme(true))
	c.Enter(s)
	view := viewFits(t, c, 80, 17)
	for _, want := range []string{"idp_id", "sub", "email", "first_name", "given_name", "last_name", "family_name",
		"some providers require manual configuration", "The IdP lists: sub, email"} {
		if !strings.Contains(flat(view), want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "!") {
		t.Errorf("a flag with the defaults and a complete claims_supported:\n%s", view)
	}
	// enter edits the first row; each enter then confirms and moves on; the
	// last one continues.
	if shell := claimsPress(t, c, "enter", "enter", "enter", "enter"); claimsHasNext(shell) || !c.Capturing() {
		t.Fatalf("continued too early (%v) or not editing (%v)", shell, c.Capturing())
	}
	if shell := claimsPress(t, c, "enter"); !claimsHasNext(shell) {
		t.Fatalf("enter on the last row did not continue: %v", shell)
	}
	if s.Connection.Claims != flow.DefaultClaimMapping() {
		t.Errorf("claims changed: %+v", s.Connection.Claims)
	}
}

func TestClaimsEditWithSuggestions(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "oid", "email", "upn", "given_name", "family_name")
	c := NewClaims(nil, NewTheme(true))
	c.Enter(s)
	claimsPress(t, c, "enter", "backspace", "backspace", "backspace")
	if s.Connection.Claims.IDPID != "" {
		t.Fatalf("the setup does not follow the typing: %q", s.Connection.Claims.IDPID)
	}
	claimsPress(t, c, "o")
	if s.Connection.Claims.IDPID != "o" {
		t.Fatalf("idp_id %q after typing o", s.Connection.Claims.IDPID)
	}
	if h := strings.Join(keysHelp(c.Keys()), ","); !strings.Contains(h, "tab accept suggestion") {
		t.Errorf("keys while a suggestion shows: %s", h)
	}
	view := viewFits(t, c, 80, 17)
	if !strings.Contains(view, "oid") {
		t.Errorf("the suggestion is not shown:\n%s", view)
	}
	claimsPress(t, c, "tab")
	if s.Connection.Claims.IDPID != "oid" {
		t.Fatalf("tab did not accept the suggestion: %q", s.Connection.Claims.IDPID)
	}
	// tab with nothing to complete moves to the next row, still editing.
	claimsPress(t, c, "tab", "backspace", "backspace", "backspace", "backspace", "backspace", "u")
	run(t, c, tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}, time.Second) // only "upn" matches
	claimsPress(t, c, "tab", "esc")
	if s.Connection.Claims.Email != "upn" || c.Capturing() {
		t.Fatalf("email %q, editing %v", s.Connection.Claims.Email, c.Capturing())
	}
	// q typed in a field is text, not quit (the shell asks Capturing).
	claimsPress(t, c, "enter")
	if !c.Capturing() {
		t.Fatal("enter on a row did not start editing")
	}
}

func TestClaimsFlagsBeforeTheTestLogin(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "given_name") // no family_name
	s.Connection.Claims.Email = "mail"
	c := NewClaims(nil, NewTheme(true))
	c.Enter(s)
	view := viewFits(t, c, 80, 17)
	for _, want := range []string{
		"! mail, family_name are not in the IdP's claims_supported: the test login will show whether they arrive; the IdP admin may need to add them",
		"email mail ! not listed",
	} {
		if !strings.Contains(flat(view), want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	// No claims_supported: nothing can be flagged, and the view says why.
	s2 := claimsSetup()
	c.Enter(s2)
	view = viewFits(t, c, 80, 17)
	if strings.Contains(view, "is not in") || !strings.Contains(view, "does not list claims_supported") {
		t.Errorf("without claims_supported:\n%s", view)
	}
}

func TestClaimsEmptyMappings(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "given_name", "family_name")
	c := NewClaims(nil, NewTheme(true))
	c.Enter(s)
	// Empty idp_id: refused.
	claimsPress(t, c, "enter", "backspace", "backspace", "backspace", "esc")
	if shell := claimsPress(t, c, "c"); claimsHasNext(shell) {
		t.Fatal("continued without an idp_id claim")
	}
	if view := viewFits(t, c, 80, 17); !strings.Contains(view, "idp_id needs a claim") || !strings.Contains(view, "required") {
		t.Errorf("no reason given:\n%s", view)
	}
	// d restores the defaults.
	if shell := claimsPress(t, c, "d"); len(shell) != 1 {
		t.Errorf("d: %v", shell)
	}
	if s.Connection.Claims != flow.DefaultClaimMapping() {
		t.Fatalf("after d: %+v", s.Connection.Claims)
	}
	// An empty first_name is allowed, with a warning.
	claimsPress(t, c, "down", "down", "enter")
	for range len("given_name") {
		claimsPress(t, c, "backspace")
	}
	claimsPress(t, c, "esc")
	view := viewFits(t, c, 80, 17)
	if !strings.Contains(view, `first_name has no claim: the guide's default "given_name" will be used`) {
		t.Errorf("no warning for an empty first_name:\n%s", view)
	}
	if shell := claimsPress(t, c, "c"); !claimsHasNext(shell) {
		t.Errorf("an empty first_name blocked: %v", shell)
	}
}

func TestClaimsResumeAndWidths(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "oid", "upn", "email", "given_name", "family_name", "name", "preferred_username",
		"email_verified", "groups", "roles", "tid", "ver", "aud", "iss", "iat", "exp", "nbf", "nonce", "at_hash")
	s.Connection.Claims = flow.ClaimMapping{IDPID: "oid", Email: "upn", FirstName: "given_name", LastName: "a-very-long-claim-name-from-a-custom-attribute"}
	c := NewClaims(nil, NewTheme(false))
	c.Enter(s)
	for _, w := range []int{80, 60, 40} {
		for _, h := range []int{17, 10} {
			view := viewFits(t, c, w, h)
			if !strings.Contains(view, "idp_id") || !strings.Contains(view, "oid") {
				t.Errorf("at %dx%d the loaded mapping is not shown:\n%s", w, h, view)
			}
		}
	}
	claimsPress(t, c, "up") // to the Continue button
	if view := viewFits(t, c, 40, 8); !strings.Contains(view, "Continue") {
		t.Errorf("the selected button is scrolled away:\n%s", view)
	}
}

func TestClaimsRunLines(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "given_name", "family_name")
	c := NewClaims(nil, NewTheme(true))
	text, err := runLines(t, c, s, "\nmail\n\n\nnext\n")
	if err != nil {
		t.Fatal(err)
	}
	want := flow.ClaimMapping{IDPID: "sub", Email: "mail", FirstName: "given_name", LastName: "family_name"}
	if s.Connection.Claims != want {
		t.Errorf("claims %+v", s.Connection.Claims)
	}
	wantOutput(t, text, "Claim for idp_id, the user's unique ID at the IdP [sub]:", "The IdP lists these claims: sub, email",
		"! mail is not in the IdP's claims_supported")
	if _, err := runLines(t, c, s, "back\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back: %v", err)
	}
}
