package steps

import (
	"slices"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Constructor builds one step for a session.
type Constructor func(env *Env, theme *Theme) Step

// Constructors returns the constructor of each of the wizard's steps in
// the guide's order, indexed by the Step* constants: a shell that builds a
// step only when a session first reaches it (the SSH server, with many
// sessions that never get past the first steps) uses them.
func Constructors() []Constructor {
	return []Constructor{
		StepOrganization: NewOrganization,
		StepRedirectURI:  NewRedirectURI,
		StepCredentials:  NewCredentials,
		StepValidate:     NewValidate,
		StepClaims:       NewClaims,
		StepRoles:        NewRoles,
		StepTestLogin:    NewTestLogin,
		StepReview:       NewReview,
	}
}

// stepOf is the index of the wizard step that flow names s (the step an
// error's cause is changed in, flow.Code.Step), or -1 when s is none of
// them: the fix lies in the IdP or outside the wizard.
func stepOf(s flow.Step) int {
	return slices.Index([]flow.Step{
		StepOrganization: flow.StepOrganization,
		StepRedirectURI:  flow.StepRedirectURI,
		StepCredentials:  flow.StepCredentials,
		StepValidate:     flow.StepValidate,
		StepClaims:       flow.StepClaims,
		StepRoles:        flow.StepRoles,
		StepTestLogin:    flow.StepTestLogin,
		StepReview:       flow.StepReview,
	}, s)
}

// Title is the short name of step i in the step indicator and the draft
// list, in the guide's words ("Redirect URI", "Credentials", ...): one
// table, so that naming a step never needs building it.
func Title(i int) string {
	titles := [NumSteps]string{
		StepOrganization: "Organization",
		StepRedirectURI:  "Redirect URI",
		StepCredentials:  "Credentials",
		StepValidate:     "Validate",
		StepClaims:       "Claims",
		StepRoles:        "Role assignment",
		StepTestLogin:    "Test login",
		StepReview:       "Review",
	}
	if i < 0 || i >= NumSteps {
		return ""
	}
	return titles[i]
}
