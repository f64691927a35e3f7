package stepstest

import "runtime"

// Allocated is the bytes f allocates, on average over n calls: the least
// of five measures, since other goroutines (servers and timers of earlier
// tests) can only add to the process's count.
func Allocated(n int, f func()) uint64 {
	return allocated(n, 5, 0, f)
}

// AllocatedAtMost is Allocated for a test that wants f to allocate at
// most limit bytes a call: it measures again, up to fifty times, until a
// measure is within limit. Other goroutines only ever add to a measure,
// so f allocating more than limit can never pass; on a busy machine (a
// CI running every package at once) five measures can all catch someone
// else's garbage.
func AllocatedAtMost(n int, limit uint64, f func()) uint64 {
	return allocated(n, 50, limit, f)
}

func allocated(n, tries int, enough uint64, f func()) uint64 {
	least := ^uint64(0)
	for range tries {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/uint64(n))
		if least <= enough {
			break
		}
	}
	return least
}

// Kept is the heap that build's results hold, on average over n, once the
// garbage is collected: the least of three measures, since what other
// goroutines (servers and timers of earlier tests) keep meanwhile adds to
// it. The garbage is collected twice before each reading, so that what
// sync.Pools held at the first collection goes at the second, not in the
// middle of a measure.
func Kept(n int, build func() any) uint64 {
	least := ^uint64(0)
	for range 3 {
		keep := make([]any, n)
		var before, after runtime.MemStats
		settle()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = build()
		}
		settle()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		least = min(least, max(after.HeapAlloc, before.HeapAlloc)-before.HeapAlloc)
	}
	return least / uint64(n)
}

func settle() {
	runtime.GC()
	runtime.GC()
}
