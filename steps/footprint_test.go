package steps

import (
	"runtime"
	"testing"
)

// allocated is the bytes build allocates, on average over n calls.
func allocated(n int, build func() Step) uint64 {
	keep := make([]Step, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = build()
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// A customer's start step, which makes no invites, goes without the
// invite form's three text inputs (some 24 KiB of each customer's
// session); an engineer's has them.
func TestCustomersStartStepHasNoInviteForm(t *testing.T) {
	theme := NewTheme(true)
	customer := testEnv(t)
	customer.Customer, customer.Organization = true, "Acme"
	engineer := testEnv(t)
	engineer.Invites = &InviteSettings{}
	c := allocated(20, func() Step { return NewOrganization(customer, theme) })
	e := allocated(20, func() Step { return NewOrganization(engineer, theme) })
	if c+20<<10 > e {
		t.Errorf("a customer's start step allocates %d KiB, an engineer's %d KiB: want the invite form's 20+ KiB less", c>>10, e>>10)
	}
}
