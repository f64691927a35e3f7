package steps

// NewCredentials is under construction.
func NewCredentials(env *Env, theme *Theme) Step { return newStub("Credentials") }
