package sshserve

import (
	"context"
	"net"
	"testing"
	"time"
)

// held is how many places of g are taken.
func held(g *setupGate) int { return len(g.slots) }

// The gate: places up to its size at once, the next waits for one to be
// given back; giving back twice frees one place; a place not given back
// is freed after the hold; a connection that waited past the wait bound
// goes on without one.
func TestSetupGate(t *testing.T) {
	g := newSetupGate(2, time.Hour, time.Hour)
	ctx := context.Background()
	a, b := g.enter(ctx), g.enter(ctx)
	got := make(chan func(), 1)
	go func() { got <- g.enter(ctx) }()
	select {
	case <-got:
		t.Fatal("a third connection got in while two were setting up")
	case <-time.After(100 * time.Millisecond):
	}
	a()
	a() // again: nothing more
	var c func()
	select {
	case c = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the third connection still waits after one gave its place back")
	}
	if held(g) != 2 {
		t.Errorf("%d places taken, want 2 (b and c)", held(g))
	}
	b()
	c()
	if held(g) != 0 {
		t.Errorf("%d places taken after every one gave its back", held(g))
	}

	short := newSetupGate(1, 50*time.Millisecond, time.Hour)
	short.enter(ctx) // never given back
	done := make(chan struct{})
	go func() { short.enter(ctx)(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a place never given back was not freed after the hold")
	}

	stuck := newSetupGate(1, time.Hour, 50*time.Millisecond)
	stuck.enter(ctx)
	go func() { stuck.enter(ctx)(); close(got) }()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("a connection waited past the wait bound")
	}
	if held(stuck) != 1 {
		t.Errorf("the connection past the wait bound took a place: %d taken", held(stuck))
	}
}

// A customer's session gives its place back at its first screen, and an
// engineer's command when it starts: with one place held for as long as
// a test runs, the next customer still gets in.
func TestSSHSetupPlaceGivenBackAtTheFirstScreen(t *testing.T) {
	t.Parallel()
	s := sshStart(t, func(o *ServerOptions) { o.setupSlots, o.setupHold = 1, time.Hour })
	for _, org := range []string{"Acme Corp", "Globex", "Initech"} {
		code, _ := s.invite(t, org)
		s.connect(t, 80, 24, code) // each waits for its first screen
	}
	if held(s.srv.setups) != 0 {
		t.Errorf("%d places taken with every session on its first screen", held(s.srv.setups))
	}
}

// Clients that open a TCP connection and never speak keep their places
// for the hold only: a customer behind them still gets in, long before
// their handshakes time out.
func TestSSHStalledConnectionsDoNotKeepOthersOut(t *testing.T) {
	t.Parallel()
	s := sshStart(t, func(o *ServerOptions) { o.setupSlots, o.setupHold = 1, 300*time.Millisecond })
	for range 3 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	code, _ := s.invite(t, "Acme Corp")
	in := make(chan struct{})
	go func() {
		defer close(in)
		s.connect(t, 80, 24, code)
	}()
	select {
	case <-in:
	case <-time.After(20 * time.Second):
		t.Fatal("a customer behind three silent connections was not in within 20 s (their handshakes time out after 30 s)")
	}
}
