package sshserve

import (
	"context"
	"sync"
	"testing"
	"time"
)

// The customers' draft saves re-read their invites together, at most once
// per interval: a burst of saves from many sessions is one reading, and
// the saves that come before the interval is up are one reading when it
// is (none is dropped). A save that finds no reading for an interval is
// read at once. Waits poll with a deadline, so that a busy machine's late
// timers make the test slower, not wrong.
func TestRechecksReadManySessionsTogether(t *testing.T) {
	t.Parallel()
	type reading struct {
		at  time.Time
		due map[*liveSession]identity
	}
	var (
		mu       sync.Mutex
		readings []reading
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(readings) }
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count() < n; time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d readings after 10 s, want %d", count(), n)
			}
		}
	}
	const every = 200 * time.Millisecond
	r := newRechecks(every, func(_ context.Context, due map[*liveSession]identity) {
		mu.Lock()
		defer mu.Unlock()
		readings = append(readings, reading{time.Now(), due})
	})

	// Idle: the first save is read at once.
	lone := &liveSession{}
	r.add(lone, identity{invite: "inv_lone"})
	waitFor(1)

	// Within the interval: a burst of 50 sessions' saves, then 75 more
	// (25 of them again), are one reading when the interval is up.
	sessions := make([]*liveSession, 100)
	for i := range sessions {
		sessions[i] = &liveSession{}
	}
	for _, ls := range sessions[:50] {
		r.add(ls, identity{invite: "inv_a"})
	}
	for _, ls := range sessions[25:] {
		r.add(ls, identity{invite: "inv_b"})
	}
	waitFor(2)
	time.Sleep(2 * every) // nothing more is due: no third reading
	mu.Lock()
	defer mu.Unlock()
	if len(readings) != 2 {
		t.Fatalf("%d readings, want 2: the lone save's and the burst's", len(readings))
	}
	if first := readings[0].due; len(first) != 1 || first[lone].invite != "inv_lone" {
		t.Errorf("the first reading read %d sessions, want the lone one", len(first))
	}
	burst := readings[1]
	if len(burst.due) != len(sessions) {
		t.Errorf("the burst's reading read %d of %d sessions", len(burst.due), len(sessions))
	}
	if gap := burst.at.Sub(readings[0].at); gap < every {
		t.Errorf("the burst was read %s after the lone save, within the %s interval", gap, every)
	}
	if got := burst.due[sessions[30]].invite; got != "inv_b" {
		t.Errorf("a session added twice was read with invite %q, want its last", got)
	}
}
