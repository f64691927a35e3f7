package steps

// All returns the wizard's steps in the guide's order, indexed by the
// Step* constants.
func All(env *Env, theme *Theme) []Step {
	return []Step{
		StepOrganization: NewOrganization(env, theme),
		StepRedirectURI:  NewRedirectURI(env, theme),
		StepCredentials:  NewCredentials(env, theme),
		StepValidate:     NewValidate(env, theme),
		StepClaims:       NewClaims(env, theme),
		StepRoles:        NewRoles(env, theme),
		StepTestLogin:    NewTestLogin(env, theme),
		StepReview:       NewReview(env, theme),
	}
}
