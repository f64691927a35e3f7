package steps

// NewRedirectURI is under construction.
func NewRedirectURI(env *Env, theme *Theme) Step { return newStub("Redirect URI") }
