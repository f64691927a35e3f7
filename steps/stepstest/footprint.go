package stepstest

import "runtime"

// Allocated is the bytes f allocates, on average over n calls: the least
// of five measures, since other goroutines (servers and timers of earlier
// tests) can only add to the process's count.
func Allocated(n int, f func()) uint64 {
	least := ^uint64(0)
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/uint64(n))
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
