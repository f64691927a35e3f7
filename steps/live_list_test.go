package steps

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// liveFeed plays the server's list of live customer sessions: what Live
// returns now, and how often it was asked.
type liveFeed struct {
	mu    sync.Mutex
	list  []LiveSession
	calls int
}

func (f *liveFeed) live(context.Context) []LiveSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return slices.Clone(f.list)
}

func (f *liveFeed) set(list ...LiveSession) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = list
}

func (f *liveFeed) asked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// liveAt is a clock stopped at a known time.
var liveAt = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// liveTwo is two customers: Acme at the credentials step for 2 minutes,
// watched by alice, and Globex failing validation.
func liveTwo() []LiveSession {
	return []LiveSession{
		{ID: "s2acme", Organization: "Acme Corp", Who: "invite:inv_a", Step: 2, StepTitle: "Credentials",
			StepSince: liveAt.Add(-2 * time.Minute), LastKeyAt: liveAt.Add(-3 * time.Second), Validation: "not run",
			TestLogin: "not run", Watchers: []string{"alice"}},
		{ID: "s3glob", Organization: "Globex", Who: "invite:inv_g", Step: 3, StepTitle: "Validate",
			StepSince: liveAt.Add(-40 * time.Second), LastKeyAt: liveAt.Add(-40 * time.Second),
			Validation: "1 check failing: issuer mismatch", TestLogin: "not run"},
	}
}

// liveEngineer is step 0 of a support engineer's wizard over SSH, whose
// live list reads the feed returned, which holds liveTwo; it refreshes at
// once in tests (a test sends the refresh ticks itself).
func liveEngineer(t *testing.T) (*organization, *Env, *liveFeed) {
	t.Helper()
	feed := &liveFeed{}
	feed.set(liveTwo()...)
	env := invEngineerEnv(t, "onboard.example.com:2222")
	env.Now = func() time.Time { return liveAt }
	env.Live = feed.live
	o := NewOrganization(env, NewTheme(true)).(*organization)
	o.live.every = time.Millisecond
	return o, env, feed
}

// An engineer's start list says how many customers are live; l opens the
// live list with each one's organization, who, step and time on it, last
// key, watchers, validation and test login; enter on one asks to join it;
// esc goes back.
func TestLiveListShowsCustomersAndJoinsOne(t *testing.T) {
	t.Parallel()
	step, _, _ := liveEngineer(t)
	orgEnter(t, step, NewSetup())
	if v := flat(viewFits(t, step, 80, 17)); !strings.Contains(v, "2 customers are in the wizard now: press l") {
		t.Errorf("the start list does not mention the live sessions:\n%s", v)
	}
	if !slices.Contains(keysHelp(step.Keys()), "l customers' live sessions") {
		t.Errorf("keys %v lack l", keysHelp(step.Keys()))
	}
	run(t, step, press("l"), orgWait)
	v := viewFits(t, step, 80, 17)
	wantIn(t, "the live list", v, "Customers' live sessions",
		"▸ Acme Corp · invite:inv_a · s2acme",
		"Step 2 Credentials for 2m · last key 3s ago · watched by alice",
		"Validation: not run · Test login: not run",
		"Globex · invite:inv_g · s3glob",
		"Step 3 Validate for 40s · last key 40s ago · nobody watching",
		"Validation: 1 check failing: issuer mismatch")
	viewsFit(t, step, 17, 8)
	if got := keysHelp(step.Keys()); !slices.Contains(got, "enter watch (the customer is asked)") || !slices.Contains(got, "esc list") {
		t.Errorf("keys in the live list: %v", got)
	}
	run(t, step, press("down"), orgWait)
	msgs := run(t, step, press("enter"), orgWait)
	if j, ok := orgHas[JoinMsg](msgs); !ok || j.Session != "s3glob" {
		t.Errorf("enter on Globex sent %v, want JoinMsg{s3glob}", msgs)
	}
	run(t, step, press("esc"), orgWait)
	if v := viewFits(t, step, 80, 17); strings.Contains(v, "Customers' live sessions") || !strings.Contains(v, "Globex / Globex OIDC") {
		t.Errorf("esc did not go back to the start list:\n%s", v)
	}
}

// While open the live list follows the sessions: a refresh shows what
// changed, the cursor stays on the session it was on, and a session
// that ended goes.
func TestLiveListUpdatesWhileOpen(t *testing.T) {
	t.Parallel()
	step, _, feed := liveEngineer(t)
	orgEnter(t, step, NewSetup())
	run(t, step, press("l"), orgWait)
	run(t, step, press("down"), orgWait) // Globex

	moved := liveTwo()
	moved[1].Step, moved[1].StepTitle, moved[1].Validation = 4, "Claims", "passed"
	feed.set(LiveSession{ID: "s9new", Organization: "Initech", Who: "invite:inv_i", StepSince: liveAt, LastKeyAt: liveAt}, moved[1])
	run(t, step, liveTickMsg{seq: step.live.seq}, orgWait)
	v := viewFits(t, step, 80, 17)
	wantIn(t, "the refreshed list", v, "▸ Globex", "Step 4 Claims", "Validation: passed", "Initech")
	if strings.Contains(v, "Acme Corp ·") {
		t.Errorf("the ended session is still listed:\n%s", v)
	}

	feed.set()
	run(t, step, liveTickMsg{seq: step.live.seq}, orgWait)
	if v := flat(viewFits(t, step, 80, 17)); !strings.Contains(v, "No customer is in the wizard right now") {
		t.Errorf("an empty list:\n%s", v)
	}
	if msgs := run(t, step, press("enter"), orgWait); len(msgs) != 0 {
		t.Errorf("enter on an empty list sent %v", msgs)
	}
}

// The refresh runs only while step 0 is the current step: once the
// engineer moves on, a tick reads nothing; entering step 0 again starts a
// new refresh, and the old one's ticks are ignored.
func TestLiveListStopsRefreshingWhenStepZeroIsLeft(t *testing.T) {
	t.Parallel()
	step, _, feed := liveEngineer(t)
	setup := NewSetup()
	orgEnter(t, step, setup)
	old := step.live.seq
	for step.items[step.cursor].kind != orgEdit { // the Acme connection
		run(t, step, press("down"), orgWait)
	}
	if msgs := run(t, step, press("enter"), orgWait); len(msgs) == 0 {
		t.Fatal("choosing a connection did not leave step 0")
	}
	before := feed.asked()
	if cmd, _ := step.Update(liveTickMsg{seq: old}); cmd != nil {
		t.Error("a tick after leaving step 0 still reads the live sessions")
	}
	orgEnter(t, step, setup)
	if step.live.seq == old || feed.asked() != before+1 {
		t.Errorf("entering again: seq %d (was %d), reads %d (was %d)", step.live.seq, old, feed.asked(), before)
	}
	if cmd, _ := step.Update(liveTickMsg{seq: old}); cmd != nil {
		t.Error("the old refresh's tick still reads")
	}
	if cmd, _ := step.Update(liveTickMsg{seq: step.live.seq}); cmd == nil {
		t.Error("the new refresh's tick reads nothing")
	}
}

// A customer never sees the live list, even in a session miswired with
// one: no l, no hint, and nothing is read.
func TestLiveListNeverShownToCustomers(t *testing.T) {
	t.Parallel()
	t.Run("walled into an organization", func(t *testing.T) { liveHidden(t, "Globex", false) })
	t.Run("a customer", func(t *testing.T) { liveHidden(t, "", true) })
}

// liveHidden checks that a session walled into org, or a customer's,
// shows no live list.
func liveHidden(t *testing.T, org string, customer bool) {
	t.Parallel()
	step, env, feed := liveEngineer(t)
	env.Organization, env.Customer = org, customer
	orgEnter(t, step, NewSetup())
	if slices.Contains(keysHelp(step.Keys()), "l customers' live sessions") {
		t.Errorf("keys %v offer the live list", keysHelp(step.Keys()))
	}
	before := viewFits(t, step, 80, 17)
	run(t, step, press("l"), orgWait)
	after := viewFits(t, step, 80, 17)
	if after != before || strings.Contains(after, "live") || strings.Contains(after, "Acme Corp ·") {
		t.Errorf("l changed the screen or it shows live sessions:\n%s", after)
	}
	if n := feed.asked(); n != 0 {
		t.Errorf("the live sessions were read %d times", n)
	}
}

// The line mode has no live list (it would print it again every second):
// an engineer's prompts are the start list's, and nothing live is read.
func TestLiveListNotInTheLineMode(t *testing.T) {
	t.Parallel()
	step, _, feed := liveEngineer(t)
	text, err := runLines(t, step, NewSetup(), "2\n")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "live") || strings.Contains(text, "s2acme") || feed.asked() != 0 {
		t.Errorf("the line mode shows live sessions (%d reads):\n%s", feed.asked(), text)
	}
}
