package steps

import (
	"fmt"
	"sync"
	"testing"
)

// Themes draw a key once for every session; past maxDrawn keys (widths
// chosen by terminals) they keep no more, and still draw each.
func TestThemesDrawEachKeyOnce(t *testing.T) {
	ts := NewThemes()
	draws := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Go(func() {
			got := ts.Drawn("footer 80", func() string {
				mu.Lock()
				draws++
				mu.Unlock()
				return "enter next"
			})
			if got != "enter next" {
				t.Errorf("Drawn = %q", got)
			}
		})
	}
	wg.Wait()
	if again := ts.Drawn("footer 80", func() string { draws++; return "other" }); again != "enter next" || draws > 8 {
		t.Errorf("the drawing kept is %q after %d draws", again, draws)
	}
	for i := range 2 * maxDrawn {
		key := fmt.Sprint("width ", i)
		if got := ts.Drawn(key, func() string { return key }); got != key {
			t.Fatalf("Drawn(%q) = %q", key, got)
		}
	}
	if n := len(ts.drawn); n != maxDrawn {
		t.Errorf("the themes keep %d drawings: want %d at most", n, maxDrawn)
	}
}
