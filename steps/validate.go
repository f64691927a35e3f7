package steps

// NewValidate is under construction.
func NewValidate(env *Env, theme *Theme) Step { return newStub("Validate") }
