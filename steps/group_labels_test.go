package steps

import (
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps/stepstest"
)

// glEntraSetup is an Entra setup after a test login whose groups arrived
// as object IDs, stored as a draft connection, with diagGroupA mapped to
// admin; env has the store and a fixed clock.
func glEntraSetup(t *testing.T) (*Env, *Setup) {
	t.Helper()
	st := stepstest.OpenStore(t, nil)
	now := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	env := &Env{Context: t.Context(), Store: st, Now: func() time.Time { return now }, Actor: "local:test"}
	s := diagTested(diagEntraDiscovery, diagEntraGroupClaims())
	s.Connection.RoleMappings = []flow.RoleMapping{{Group: diagGroupA, Role: "admin"}}
	if err := st.SaveConnection(t.Context(), &s.Connection); err != nil {
		t.Fatal(err)
	}
	return env, s
}

func glLabelsOf(t *testing.T, env *Env, s *Setup) map[string]string {
	t.Helper()
	labels, err := env.Store.GroupLabels(t.Context(), s.Connection.ID)
	if err != nil {
		t.Fatal(err)
	}
	return labels
}

func TestGroupLabelFit(t *testing.T) {
	t.Parallel()
	labels := map[string]string{diagGroupA: "Finance admins"}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{80, diagGroupA + " (Finance admins)"},
		{38, "93ee6f0b-5d6c-4a8e-a… (Finance admins)"},
		{18, "93ee… (Finance a…)"},
	} {
		got := glFit(labels, diagGroupA, tc.width)
		if got != tc.want {
			t.Errorf("width %d: %q, want %q", tc.width, got, tc.want)
		}
		if w := len([]rune(got)); w > tc.width {
			t.Errorf("width %d: %q is %d wide", tc.width, got, w)
		}
	}
	if got := glFit(labels, diagGroupB, 20); got != "f2a4c6e8-1b3d-4f5a-…" {
		t.Errorf("unlabelled: %q", got)
	}
}

// glOpenLabel presses l on st, which must open the label input of the
// first group; the view is drawn at 80×height.
func glOpenLabel(t *testing.T, st Step, height int) {
	t.Helper()
	run(t, st, press("l"), time.Second)
	if !st.Capturing() || !strings.Contains(viewFits(t, st, 80, height), "Label for 93ee6f0b…:") {
		t.Fatalf("no label input:\n%s", viewFits(t, st, 80, height))
	}
}

func TestGroupLabelsInTheRolesTable(t *testing.T) {
	t.Parallel()
	env, s := glEntraSetup(t)
	r := NewRoles(env, NewTheme(true))
	orgEnter(t, r, s)
	run(t, r, press("down"), time.Second) // the mapping's row
	if !strings.Contains(strings.Join(keysHelp(r.Keys()), ","), "l label group") {
		t.Errorf("keys %v", keysHelp(r.Keys()))
	}
	glOpenLabel(t, r, 40)
	orgType(t, r, "Finance admins")
	shell := run(t, r, press("enter"), 5*time.Second)
	if r.Capturing() || len(shell) != 1 {
		t.Errorf("after enter: capturing %v, shell %v", r.Capturing(), shell)
	}
	if got := glLabelsOf(t, env, s); got[diagGroupA] != "Finance admins" {
		t.Fatalf("stored labels %v", got)
	}
	if m := s.Connection.RoleMappings; len(m) != 1 || m[0].Group != diagGroupA {
		t.Errorf("the label changed the mapping: %+v", m)
	}
	for _, w := range []int{80, 60, 40} {
		if v := viewFits(t, r, w, 40); !strings.Contains(v, "(Finance admins)") && !strings.Contains(v, "(Finance a") {
			t.Errorf("width %d: no label:\n%s", w, v)
		}
		viewFits(t, r, w, 17)
	}
	if v := viewFits(t, r, 80, 40); !strings.Contains(v, "93ee6f0b-5d6c") || !strings.Contains(v, "(Finance admins)") {
		t.Errorf("80 columns: the ID or the label is cut:\n%s", v)
	}

	// A fresh step loads the stored labels on Enter; esc leaves a label as
	// it was, an emptied one is removed.
	r2 := NewRoles(env, NewTheme(true))
	orgEnter(t, r2, s)
	if v := viewFits(t, r2, 80, 40); !strings.Contains(v, "(Finance admins)") {
		t.Errorf("labels not loaded on Enter:\n%s", v)
	}
	run(t, r2, press("down"), time.Second)
	run(t, r2, press("l"), time.Second)
	orgType(t, r2, "x")
	run(t, r2, press("esc"), time.Second)
	if got := glLabelsOf(t, env, s); got[diagGroupA] != "Finance admins" {
		t.Errorf("esc changed the label: %v", got)
	}
	run(t, r2, press("l"), time.Second)
	for range len("Finance admins") {
		run(t, r2, press("backspace"), time.Second)
	}
	run(t, r2, press("enter"), 5*time.Second)
	if got := glLabelsOf(t, env, s); len(got) != 0 {
		t.Errorf("an emptied label stays: %v", got)
	}
}

func TestGroupLabelsFromTheTestLoginShowEverywhere(t *testing.T) {
	t.Parallel()
	env, s := glEntraSetup(t)
	step := NewTestLogin(env, NewTheme(true))
	orgEnter(t, step, s)
	v := flat(viewFits(t, step, 80, 80))
	wantIn(t, "result", v, "Groups in this login", diagGroupA, diagGroupB, "l labels them")
	glOpenLabel(t, step, 80)
	orgType(t, step, "Finance admins")
	run(t, step, press("enter"), 5*time.Second)
	if !strings.Contains(viewFits(t, step, 80, 80), "Label for f2a4c6e8…:") {
		t.Fatalf("not on the second group:\n%s", viewFits(t, step, 80, 80))
	}
	run(t, step, press("enter"), 5*time.Second) // skip it
	if step.Capturing() {
		t.Error("still labelling after the last group")
	}
	if got := glLabelsOf(t, env, s); len(got) != 1 || got[diagGroupA] != "Finance admins" {
		t.Fatalf("stored labels %v", got)
	}
	for _, w := range []int{120, 80, 60, 40} {
		v := viewFits(t, step, w, 80)
		if !strings.Contains(v, "(Finance admins)") {
			t.Errorf("width %d: no label:\n%s", w, v)
		}
		viewFits(t, step, w, 17)
	}
	// The profile lists the groups one per row once one has a label.
	if v := viewFits(t, step, 80, 80); !strings.Contains(v, "groups       "+diagGroupA+" (Finance admins)") {
		t.Errorf("profile groups:\n%s", v)
	}

	// Step 5 and the review show the label given in step 6.
	r := NewRoles(env, NewTheme(true))
	orgEnter(t, r, s)
	if v := viewFits(t, r, 80, 40); !strings.Contains(v, "(Finance admins)") {
		t.Errorf("roles table:\n%s", v)
	}
	rv := NewReview(env, NewTheme(true))
	orgEnter(t, rv, s)
	for _, w := range []int{80, 60, 40} {
		if v := flat(viewFits(t, rv, w, 60)); !strings.Contains(v, "(Finance admins) → admin") {
			t.Errorf("width %d: review lacks the label: %s", w, v)
		}
	}
	// Labels of another connection are not taken.
	rv.Update(glLoadedMsg{connID: "conn_other1", labels: map[string]string{diagGroupA: "Wrong"}})
	if v := viewFits(t, rv, 80, 60); strings.Contains(v, "Wrong") {
		t.Errorf("took another connection's labels:\n%s", v)
	}
}

func TestGroupLabelsLineMode(t *testing.T) {
	t.Parallel()
	env, s := glEntraSetup(t)
	step := NewTestLogin(env, NewTheme(true)).(*testLogin)
	var out strings.Builder
	if err := step.lineLabels(t.Context(), s, NewPrompter(strings.NewReader("Finance admins\n\n"), &out)); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, out.String(), "Label group "+diagGroupA+" (Enter to skip): ", "Label group "+diagGroupB+" (Enter to skip): ",
		"Labelled "+diagGroupA+" (Finance admins).")
	if got := glLabelsOf(t, env, s); len(got) != 1 || got[diagGroupA] != "Finance admins" {
		t.Errorf("stored labels %v", got)
	}
	var res strings.Builder
	tlPrintResult(&res, s, glLabelsOf(t, env, s), env.words())
	if !strings.Contains(res.String(), diagGroupA+" (Finance admins)") {
		t.Errorf("line-mode profile lacks the label:\n%s", res.String())
	}
	// The roles step's line mode lists the mapping with its label.
	rolesOut, err := runLines(t, NewRoles(env, NewTheme(true)), s, "\n\n\n")
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, rolesOut, diagGroupA+" (Finance admins) = admin")
}
