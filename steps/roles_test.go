package steps

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// rolesType types text into the focused field, one key per character.
func rolesType(t *testing.T, st Step, text string) {
	t.Helper()
	for _, r := range text {
		claimsPress(t, st, string(r))
	}
}

func TestRolesAddEditDeleteUndo(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "groups")
	r := NewRoles(nil, NewTheme(true))
	r.Enter(s)
	if view := viewFits(t, r, 80, 17); !strings.Contains(view, "no mappings yet") || !strings.Contains(flat(view), "Create SSO groups by referencing the IdP Group ID") {
		t.Errorf("empty table:\n%s", view)
	}
	claimsPress(t, r, "a")
	rolesType(t, r, "eng")
	if got := s.Connection.RoleMappings; len(got) != 1 || got[0].Group != "eng" {
		t.Fatalf("the setup does not follow the typing: %+v", got)
	}
	claimsPress(t, r, "tab")
	rolesType(t, r, "admin")
	claimsPress(t, r, "enter")
	if r.Capturing() || !slices.Equal(s.Connection.RoleMappings, []flow.RoleMapping{{Group: "eng", Role: "admin"}}) {
		t.Fatalf("after adding: capturing %v, %+v", r.Capturing(), s.Connection.RoleMappings)
	}

	// A duplicate group is refused inline; esc drops the new row.
	claimsPress(t, r, "a")
	rolesType(t, r, "eng")
	claimsPress(t, r, "enter") // to the role
	rolesType(t, r, "member")
	claimsPress(t, r, "enter")
	if !r.Capturing() || !strings.Contains(viewFits(t, r, 80, 17), "The group eng is already mapped (row 1, to admin)") {
		t.Fatalf("duplicate not refused:\n%s", viewFits(t, r, 80, 17))
	}
	claimsPress(t, r, "esc")
	if len(s.Connection.RoleMappings) != 1 || r.Capturing() {
		t.Fatalf("esc kept the new row: %+v", s.Connection.RoleMappings)
	}

	// Edit the existing row's role: enter twice reaches the role field.
	claimsPress(t, r, "a")
	rolesType(t, r, "ops")
	claimsPress(t, r, "tab")
	rolesType(t, r, "viewer")
	claimsPress(t, r, "enter")
	r.Enter(s) // coming back starts at the top and keeps the rows
	claimsPress(t, r, "down", "down", "enter", "enter", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	rolesType(t, r, "superadmin")
	claimsPress(t, r, "enter")
	want := []flow.RoleMapping{{Group: "eng", Role: "admin"}, {Group: "ops", Role: "superadmin"}}
	if !slices.Equal(s.Connection.RoleMappings, want) {
		t.Fatalf("after editing: %+v", s.Connection.RoleMappings)
	}

	// Delete the selected row, then undo.
	if shell := claimsPress(t, r, "x"); len(shell) != 1 || !strings.Contains(string(shell[0].(StatusMsg)), "press u to undo") {
		t.Fatalf("delete: %v", shell)
	}
	if len(s.Connection.RoleMappings) != 1 {
		t.Fatalf("not deleted: %+v", s.Connection.RoleMappings)
	}
	if h := strings.Join(keysHelp(r.Keys()), ","); !strings.Contains(h, "u undo delete") {
		t.Errorf("keys after a delete: %s", h)
	}
	claimsPress(t, r, "u")
	if !slices.Equal(s.Connection.RoleMappings, want) {
		t.Fatalf("after undo: %+v", s.Connection.RoleMappings)
	}
	if shell := claimsPress(t, r, "c"); !claimsHasNext(shell) || s.SkipRoles {
		t.Errorf("continue: %v, skip %v", shell, s.SkipRoles)
	}
}

func TestRolesFieldsAndSkip(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email", "groups")
	r := NewRoles(nil, NewTheme(true))
	r.Enter(s)
	claimsPress(t, r, "enter")
	if !r.Capturing() {
		t.Fatal("enter on the groups claim did not edit it")
	}
	for range len("groups") {
		claimsPress(t, r, "backspace")
	}
	rolesType(t, r, "roles")
	claimsPress(t, r, "enter")
	if s.Connection.GroupsClaim != "roles" {
		t.Fatalf("groups claim %q", s.Connection.GroupsClaim)
	}
	if view := flat(viewFits(t, r, 80, 17)); !strings.Contains(view, `The IdP does not list "roles" in claims_supported`) {
		t.Errorf("no warning for an unlisted groups claim:\n%s", view)
	}
	claimsPress(t, r, "down", "enter") // the default role
	rolesType(t, r, "viewer")
	claimsPress(t, r, "esc")
	if s.Connection.DefaultRole != "viewer" || r.Capturing() {
		t.Fatalf("default role %q, editing %v", s.Connection.DefaultRole, r.Capturing())
	}
	if shell := claimsPress(t, r, "s"); !claimsHasNext(shell) || !s.SkipRoles || s.Connection.DefaultRole != "viewer" {
		t.Errorf("skip: %v, SkipRoles %v, default %q", shell, s.SkipRoles, s.Connection.DefaultRole)
	}
}

func TestRolesIncompleteRowBlocksContinue(t *testing.T) {
	t.Parallel()
	s := claimsSetup() // a resumed draft, killed while a row was typed
	s.Connection.RoleMappings = []flow.RoleMapping{{Group: "eng", Role: "admin"}, {Group: "ops"}}
	r := NewRoles(nil, NewTheme(true))
	r.Enter(s)
	if shell := claimsPress(t, r, "c"); claimsHasNext(shell) {
		t.Fatal("continued with a mapping without a role")
	}
	if view := flat(viewFits(t, r, 80, 17)); !strings.Contains(view, "Row 2: Enter the role members of ops receive") {
		t.Errorf("no reason:\n%s", view)
	}
	if shell := claimsPress(t, r, "s"); !claimsHasNext(shell) || len(s.Connection.RoleMappings) != 2 {
		t.Errorf("skip must keep what was entered: %v %+v", shell, s.Connection.RoleMappings)
	}
}

func TestRolesProviderNotesAndWidths(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "email")
	s.Provider = "google"
	for i := range 12 {
		s.Connection.RoleMappings = append(s.Connection.RoleMappings,
			flow.RoleMapping{Group: strings.Repeat("g", i+1) + "-00000000-0000-0000-0000-000000000000", Role: "role" + string(rune('a'+i))})
	}
	r := NewRoles(nil, NewTheme(false))
	r.Enter(s)
	view := flat(viewFits(t, r, 80, 40))
	if !strings.Contains(view, "Google ID tokens never carry group memberships") || !strings.Contains(view, `The IdP does not list "groups"`) {
		t.Errorf("no notes:\n%s", view)
	}
	viewsFit(t, r, 17)
	claimsPress(t, r, "up") // the Continue button, at the bottom
	if view := viewFits(t, r, 40, 12); !strings.Contains(view, "Continue") {
		t.Errorf("the selection is scrolled away:\n%s", view)
	}
}

func TestRolesRunLines(t *testing.T) {
	t.Parallel()
	s := claimsSetup("sub", "groups")
	r := NewRoles(nil, NewTheme(true))
	text, err := runLines(t, r, s, "\neng=admin\neng=member\nbad\nops=viewer\n-ops\n\nviewer\nnext\n")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Connection
	if c.GroupsClaim != "groups" || !slices.Equal(c.RoleMappings, []flow.RoleMapping{{Group: "eng", Role: "admin"}}) || c.DefaultRole != "viewer" || s.SkipRoles {
		t.Errorf("connection %+v skip %v", c, s.SkipRoles)
	}
	wantOutput(t, text, "Add a mapping GROUP=ROLE", "already mapped", "Write a mapping as GROUP=ROLE")
	s2 := claimsSetup()
	if _, err := runLines(t, r, s2, "\nskip\n"); err != nil || !s2.SkipRoles {
		t.Errorf("skip: %v %v", err, s2.SkipRoles)
	}
	if _, err := runLines(t, r, s2, "back\n"); !errors.Is(err, ErrBack) {
		t.Errorf("back: %v", err)
	}
}
