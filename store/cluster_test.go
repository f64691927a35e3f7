package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/store/pgtest"
)

// Two instances (two stores, two pools) racing one invite code on one
// database: exactly one redeems it.
func TestInviteRedeemedOnceAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.fresh(t)
		opts := Options{Key: keyFor(db)}
		a, other := openAt(t, db, opts), openAt(t, db, opts)
		for round := range 10 {
			code, _, err := a.CreateInvite(ctx, "Acme Corp", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := range 8 {
				st := []*Store{a, other}[i%2]
				wg.Go(func() {
					if _, err := st.RedeemInvite(ctx, code); err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("round %d: %d of 8 racers redeemed one code, want exactly 1", round, wins)
			}
		}
	})
}

// The registry: heartbeats, sessions with their instance's heartbeat, an
// instance removed with its rows, a dead one swept.
func TestInstancesAndTheirSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		db := b.fresh(t)
		a := openAt(t, db, Options{Key: keyFor(db), Now: clock})
		if err := a.Heartbeat(ctx, "ia", "10.0.0.1:2222"); err != nil {
			t.Fatal(err)
		}
		in, err := a.GetInstance(ctx, "ia")
		if err != nil || in.SSHAddr != "10.0.0.1:2222" || !in.HeartbeatAt.Equal(now) {
			t.Fatalf("GetInstance = %+v, %v", in, err)
		}
		row := LiveSession{ID: "s1", Instance: "ia", Organization: "Acme Corp", Who: "Jane at Acme", Invite: "inv_x", Step: 2,
			StepTitle: "Credentials", StepSince: now, LastKeyAt: now, Validation: "not run", TestLogin: "not run",
			Watchers: []string{"ana"}, StartedAt: now}
		if err := a.PutLiveSessions(ctx, row); err != nil {
			t.Fatal(err)
		}
		row.Step = 3
		if err := a.PutLiveSessions(ctx, row); err != nil {
			t.Fatal(err)
		}
		// A session of an instance that never heartbeat (or is gone).
		if err := a.PutLiveSessions(ctx, LiveSession{ID: "s2", Instance: "gone", StartedAt: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		list, err := a.LiveSessions(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("LiveSessions = %+v, %v", list, err)
		}
		if got := list[0]; got.ID != "s1" || got.Step != 3 || got.Invite != "inv_x" || !got.HeartbeatAt.Equal(now) || len(got.Watchers) != 1 || got.Watchers[0] != "ana" {
			t.Errorf("first session = %+v", got)
		}
		if got := list[1]; got.ID != "s2" || !got.HeartbeatAt.IsZero() {
			t.Errorf("the instance-less session = %+v, want no heartbeat", got)
		}
		// By organization, on the other instances: s1 is Acme's on ia.
		if of, err := a.LiveSessionsOf(ctx, "Acme Corp", "ib"); err != nil || len(of) != 1 || of[0].ID != "s1" || of[0].Step != 3 || !of[0].HeartbeatAt.Equal(now) {
			t.Errorf("Acme's sessions seen from ib = %+v, %v; want s1 as LiveSessions has it", of, err)
		}
		if of, _ := a.LiveSessionsOf(ctx, "Acme Corp", "ia"); len(of) != 0 {
			t.Errorf("Acme's sessions seen from ia itself = %+v, want none", of)
		}
		if of, _ := a.LiveSessionsOf(ctx, "Globex", "ib"); len(of) != 0 {
			t.Errorf("Globex's sessions = %+v, want none", of)
		}
		if err := a.AddPendingLogin(ctx, "state-1", "ia"); err != nil {
			t.Fatal(err)
		}
		if owner, err := a.PendingLogin(ctx, "state-1"); err != nil || owner != "ia" {
			t.Fatalf("PendingLogin = %q, %v", owner, err)
		}
		if _, err := a.PendingLogin(ctx, "state-2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown state: %v, want ErrNotFound", err)
		}
		if err := a.RemoveInstance(ctx, "ia"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.PendingLogin(ctx, "state-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the stopped instance's login is still pending: %v", err)
		}
		if _, err := a.GetInstance(ctx, "ia"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the stopped instance is still registered: %v", err)
		}
		list, _ = a.LiveSessions(ctx)
		if len(list) != 1 || list[0].ID != "s2" {
			t.Fatalf("after removing ia: %+v, want only s2", list)
		}
		now = now.Add(2 * time.Hour)
		if err := a.SweepInstances(ctx, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if list, _ = a.LiveSessions(ctx); len(list) != 0 {
			t.Errorf("a dead instance's session was not swept: %+v", list)
		}
	})
}

// Wrong codes recorded by one instance are counted by another, and swept.
func TestCodeFailuresShared(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
		db := b.fresh(t)
		a, other := openAt(t, db, Options{Key: keyFor(db)}), openAt(t, db, Options{Key: keyFor(db)})
		for i := range 3 {
			if err := a.RecordCodeFailure(ctx, "192.0.2.1", now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := other.CodeFailures(ctx, "192.0.2.1", now.Add(30*time.Second))
		if err != nil || len(got) != 2 || !got[0].Equal(now.Add(time.Minute)) {
			t.Fatalf("CodeFailures = %v, %v; want the last two", got, err)
		}
		if err := other.SweepCodeFailures(ctx, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.CodeFailures(ctx, "192.0.2.1", time.Time{}); len(got) != 1 {
			t.Errorf("after the sweep: %v, want one", got)
		}
	})
}

// LISTEN/NOTIFY carries a message from one store to another's listener;
// SQLite says it cannot.
func TestNotifyReachesTheListener(t *testing.T) {
	t.Parallel()
	sq := openAt(t, t.TempDir()+"/onboard.db", Options{})
	if sq.CanNotify() || sq.Notify(context.Background(), "x", "y") == nil {
		t.Error("SQLite claims to carry notifications")
	}
	db := pgtest.Fresh(t)
	a, other := openAt(t, db, Options{Key: testKey(7)}), openAt(t, db, Options{Key: testKey(7)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, got, done := make(chan struct{}), make(chan string, 1), make(chan error, 1)
	go func() { done <- a.Listen(ctx, "oidc_onboard_it", func() { close(ready) }, func(p string) { got <- p }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Listen: %v", err)
	}
	if err := other.Notify(ctx, "oidc_onboard_it", `{"k":"ack"}`); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != `{"k":"ack"}` {
			t.Errorf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5 s")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Listen ended with %v, want context.Canceled", err)
	}
}

// An instance writes the sessions that changed since its last heartbeat
// in one transaction, and removes those that ended in one: all of a
// batch or none of it.
func TestLiveSessionsAreWrittenTogether(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		rows := make([]LiveSession, 300)
		for i := range rows {
			rows[i] = LiveSession{ID: fmt.Sprintf("s%03d", i), Instance: "ia", Organization: "Acme", StepTitle: "Credentials", StartedAt: now}
		}
		if err := s.PutLiveSessions(ctx, rows...); err != nil {
			t.Fatal(err)
		}
		if list, err := s.LiveSessions(ctx); err != nil || len(list) != 300 {
			t.Fatalf("LiveSessions: %d, %v", len(list), err)
		}
		failHalfWay(t, s, `BEFORE UPDATE ON live_sessions`)
		rows[0].Step, rows[1].Step = 3, 3
		more := append(rows[:2:2], LiveSession{ID: "s999", Instance: "ia", Organization: "Acme", StartedAt: now})
		if err := s.PutLiveSessions(ctx, more...); err == nil {
			t.Fatal("a batch with a failing row was written")
		}
		list, _ := s.LiveSessions(ctx)
		if len(list) != 300 || list[0].Step != 0 {
			t.Errorf("after a failed batch: %d sessions, the first at step %d; want the 300 as they were", len(list), list[0].Step)
		}
		ids := make([]string, 0, 299)
		for _, r := range rows[1:] {
			ids = append(ids, r.ID)
		}
		if err := s.DeleteLiveSessions(ctx, ids...); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.LiveSessions(ctx); len(list) != 1 || list[0].ID != "s000" {
			t.Errorf("after the deletes: %+v", list)
		}
		if s.PutLiveSessions(ctx) != nil || s.DeleteLiveSessions(ctx) != nil {
			t.Error("an empty batch failed")
		}
	})
}
