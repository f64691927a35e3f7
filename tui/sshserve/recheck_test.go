package sshserve

import (
	"context"
	"sync"
	"testing"
	"time"
)

// The customers' draft saves re-read their invites together, at most once
// per interval: a burst of saves from many sessions is one reading at
// once, and the saves that come before the interval is up are one reading
// when it is (none is dropped).
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
	r := newRechecks(200*time.Millisecond, func(_ context.Context, due map[*liveSession]identity) {
		mu.Lock()
		defer mu.Unlock()
		readings = append(readings, reading{time.Now(), due})
	})
	sessions := make([]*liveSession, 100)
	for i := range sessions {
		sessions[i] = &liveSession{}
	}
	start := time.Now()
	for _, ls := range sessions[:50] {
		r.add(ls, identity{invite: "inv_a"})
	}
	time.Sleep(100 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("a burst of 50 sessions' saves read the invites %d times at once, want 1", n)
	}
	for _, ls := range sessions[25:] { // half of them again, and 50 more
		r.add(ls, identity{invite: "inv_b"})
	}
	time.Sleep(300 * time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("after the interval: %d readings, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	read := map[*liveSession]bool{}
	for _, rd := range readings {
		for ls := range rd.due {
			read[ls] = true
		}
	}
	if len(read) != len(sessions) {
		t.Errorf("%d of %d sessions had their invite read again", len(read), len(sessions))
	}
	if second := readings[1].at.Sub(start); second < 200*time.Millisecond || second > 350*time.Millisecond {
		t.Errorf("the second reading came after %s, want when the 200 ms were up", second)
	}
	if got := readings[1].due[sessions[30]].invite; got != "inv_b" {
		t.Errorf("a session added twice was read with invite %q, want its last", got)
	}
}
