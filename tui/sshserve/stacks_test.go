package sshserve

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// stackBytes is the memory of every goroutine's stack.
func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// deep uses some 150 KiB of stack, as drawing a text field does.
//
//go:noinline
func deep(n int) byte {
	var b [512]byte
	b[n%len(b)] = byte(n)
	if n == 0 {
		return b[0]
	}
	return deep(n-1) + b[n%len(b)]
}

// Sessions whose updates go deep, one after another, leave their own
// goroutines' stacks small: the depth is a worker's, grown once. Run on
// their own goroutines, each session's stack grows to 256 KiB.
func TestSessionUpdatesGrowOneStackNotEach(t *testing.T) {
	const sessions = 32
	grown := func(p *stackPool) uint64 {
		runtime.GC()
		defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no stack shrinks meanwhile
		before := stackBytes()
		park := make(chan struct{})
		defer close(park)
		for range sessions {
			done := make(chan struct{})
			go func() {
				p.run(newStackJob(func() { deep(300) }))
				close(done)
				<-park // the session goes on, its goroutine kept
			}()
			<-done
		}
		return stackBytes() - before
	}
	own, pooled := grown(nil), grown(newStackPool(time.Minute))
	t.Logf("stacks grown by %d sessions: %d KiB on their own goroutines, %d KiB with the pool", sessions, own>>10, pooled>>10)
	if own < sessions*128<<10 {
		t.Fatalf("on their own goroutines, %d deep sessions grew the stacks by %d KiB only: the test no longer measures what it should", sessions, own>>10)
	}
	if pooled > own/4 {
		t.Errorf("with the pool, %d deep sessions grew the stacks by %d KiB (%d KiB on their own): want a worker's stack, not one per session", sessions, pooled>>10, own>>10)
	}
}

// An update that takes long holds up no other session's: the other's
// runs on another worker meanwhile.
func TestASlowUpdateHoldsUpNoOtherSession(t *testing.T) {
	p := newStackPool(time.Minute)
	p.run(newStackJob(func() {})) // one idle worker now
	started, release := make(chan struct{}), make(chan struct{})
	go p.run(newStackJob(func() { close(started); <-release }))
	<-started
	done := make(chan struct{})
	go func() {
		p.run(newStackJob(func() {}))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("an update waited for another session's slow one")
	}
	close(release)
}

// A panic in an update is raised again on the session's goroutine, where
// the program's recovery catches it, with the worker's stack; the worker
// goes on serving.
func TestAnUpdatesPanicReachesItsSession(t *testing.T) {
	p := newStackPool(time.Minute)
	got := func() (r any) {
		defer func() { r = recover() }()
		p.run(newStackJob(func() { panic("step exploded") }))
		return nil
	}()
	s := fmt.Sprint(got)
	if !strings.HasPrefix(s, "step exploded") || !strings.Contains(s, "TestAnUpdatesPanicReachesItsSession") {
		t.Errorf("the session got %q, want the panic's value and where it happened", s)
	}
	ran := false
	p.run(newStackJob(func() { ran = true }))
	if !ran {
		t.Error("the pool stopped running updates after a panic")
	}
}

// Workers end once idle: a server that has no more sessions keeps none.
func TestIdleWorkersEnd(t *testing.T) {
	p := newStackPool(20 * time.Millisecond)
	for range 3 {
		p.run(newStackJob(func() {}))
	}
	if p.workers.Load() == 0 {
		t.Fatal("no worker ran the updates")
	}
	for deadline := time.Now().Add(10 * time.Second); p.workers.Load() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still running, idle for 10 s", p.workers.Load())
		}
	}
}
