package steps

// NewTestLogin is under construction.
func NewTestLogin(env *Env, theme *Theme) Step { return newStub("Test login") }
