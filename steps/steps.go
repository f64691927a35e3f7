package steps

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
