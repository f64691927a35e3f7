package steps

// NewReview is under construction.
func NewReview(env *Env, theme *Theme) Step { return newStub("Review") }
