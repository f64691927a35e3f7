package steps

// NewRoles is under construction.
func NewRoles(env *Env, theme *Theme) Step { return newStub("Role assignment") }
