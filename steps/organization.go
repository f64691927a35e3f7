package steps

// NewOrganization is under construction.
func NewOrganization(env *Env, theme *Theme) Step { return newStub("Organization") }
