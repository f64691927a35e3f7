package sshserve

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A customer's draft saves re-read the invite at most once per interval:
// a burst of saves is one read at once and one when the interval is up
// (what the skipped saves would have found is found then), even though
// the saves' own contexts ended meanwhile.
func TestRecheckIsThrottledButNotDropped(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		runs []time.Time
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(runs) }
	th := &throttled{every: 200 * time.Millisecond, check: func(context.Context) {
		mu.Lock()
		defer mu.Unlock()
		runs = append(runs, time.Now())
	}}
	start := time.Now()
	for range 50 {
		ctx, cancel := context.WithCancel(t.Context())
		th.run(ctx)
		cancel() // as each save's does when it returns
	}
	if n := count(); n != 1 {
		t.Fatalf("a burst of 50 saves read the invite %d times at once, want 1", n)
	}
	time.Sleep(400 * time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("after the interval: %d reads, want 2 (the burst's last saves answered)", n)
	}
	mu.Lock()
	second := runs[1].Sub(start)
	mu.Unlock()
	if second < 200*time.Millisecond || second > 350*time.Millisecond {
		t.Errorf("the deferred read came after %s, want when the 200 ms were up", second)
	}
}
