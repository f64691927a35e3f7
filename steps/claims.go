package steps

// NewClaims is under construction.
func NewClaims(env *Env, theme *Theme) Step { return newStub("Claims") }
