package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Saves of many sessions made while the database is busy wait together
// and commit together, in one transaction; each is stored as its caller
// saved it, and a save that fails (its connection is gone) fails alone.
func TestDraftSavesCommitTogether(t *testing.T) {
	const n = 40
	eachBackend(t, func(t *testing.T, b backend) {
		s, drafts := b.open(t), make([]Draft, n)
		for i := range drafts {
			d, err := s.SaveDraft(ctx, Draft{Organization: fmt.Sprintf("Org %d", i), Form: json.RawMessage(`{"v":0}`)})
			if err != nil {
				t.Fatal(err)
			}
			drafts[i] = d
		}
		before := s.draftWriter().batches
		taken := int(s.draftWriter().taken.Load())

		// Another writer holds the drafts while the sessions save.
		lock, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.db.postgres {
			if _, err := lock.ExecContext(ctx, `LOCK TABLE drafts IN EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range drafts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := drafts[i]
				d.Step, d.Form = 3, json.RawMessage(fmt.Sprintf(`{"v":%d}`, i+1))
				if i == n-1 {
					d.ConnectionID = "conn_gone22"
				}
				_, errs[i] = s.SaveDraft(ctx, d)
			}()
		}
		// Every save handed over: the writer is stuck with the first ones.
		w := s.draftWriter()
		for deadline := time.Now().Add(30 * time.Second); w.taken.Load()+int64(len(w.saves)) < int64(taken+n); {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d saves reached the writer", w.taken.Load()+int64(len(w.saves))-int64(taken), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := lock.Rollback(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()

		for i, d := range drafts {
			got, err := s.GetDraft(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if i == n-1 {
				wantCode(t, errs[i], flow.CodeUnknownConnection)
				if string(got.Form) != `{"v":0}` || got.Step != 0 {
					t.Errorf("a failed save changed the draft: %+v", got)
				}
				continue
			}
			if errs[i] != nil {
				t.Errorf("save %d: %v", i, errs[i])
			}
			if want := fmt.Sprintf(`{"v":%d}`, i+1); string(got.Form) != want || got.Step != 3 {
				t.Errorf("draft %d holds step %d %s, want step 3 %s", i, got.Step, got.Form, want)
			}
		}
		// One save took the writer into the lock; the others waited behind
		// it and went in one transaction (tried again one by one when the
		// failing save took the batch down).
		if got := s.draftWriter().batches - before; got > 3 {
			t.Errorf("%d saves made while the database was busy took %d transactions, want at most 3", n, got)
		}
	})
}

// Saves that reach the writer one after another, as sessions' saves do
// while people type, wait for each other a moment and commit together; a
// save that finds the writer idle is written at once.
func TestDraftSavesArrivingApartCommitTogether(t *testing.T) {
	const n = 12
	eachBackend(t, func(t *testing.T, b backend) {
		s, saved := b.open(t), make([]Draft, n)
		for i := range saved {
			d, err := s.SaveDraft(ctx, Draft{Organization: fmt.Sprintf("Org %d", i), Form: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			saved[i] = d
		}
		w := s.draftWriter()
		w.gather = 2 * time.Second // the whole test, on any machine
		before, taken := w.batches, w.taken.Load()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := saved[i]
				d.Step, d.Form = 1, json.RawMessage(fmt.Sprintf(`{"v":%d}`, i))
				_, errs[i] = s.SaveDraft(ctx, d)
			}()
			// The next save comes once the writer has taken this one.
			for deadline := time.Now().Add(2 * time.Second); w.taken.Load() < taken+int64(i+1); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("save %d did not reach the writer", i)
				}
			}
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("save %d: %v", i, errs[i])
			}
			got, err := s.GetDraft(ctx, saved[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"v":%d}`, i); string(got.Form) != want || got.Step != 1 {
				t.Errorf("draft %d holds step %d %s, want step 1 %s", i, got.Step, got.Form, want)
			}
		}
		// The first found the writer idle and went alone, at once; the
		// others came while saves were frequent, and went together.
		if got := w.batches - before; got != 2 {
			t.Errorf("%d saves that came one after another took %d transactions, want 2", n, got)
		}
	})
}

// One draft saved again and again, as a script may, is written at once
// each time: the writer does not wait for other saves, none being on
// their way.
func TestOneDraftSavedAgainAndAgainWaitsForNoOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.open(t)
		d, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Form: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		w := s.draftWriter()
		w.gather = 5 * time.Second // a save that waited for others would take this long
		start := time.Now()
		for i := range 10 {
			d.Step, d.Form = i, json.RawMessage(fmt.Sprintf(`{"v":%d}`, i))
			if d, err = s.SaveDraft(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took >= w.gather {
			t.Errorf("10 saves of one draft, one after another, took %s: they waited for saves of other drafts", took)
		}
	})
}

// A save that stores nothing new writes nothing: the draft keeps its
// update time. A change made meanwhile by another store (another
// process) is not taken for unchanged.
func TestDraftSaveOfNothingNewWritesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		}
		db := b.fresh(t)
		s := openAt(t, db, Options{Key: keyFor(db), Now: now})
		d, err := s.SaveDraft(ctx, Draft{Organization: "Acme Corp", Step: 1, Form: json.RawMessage(`{"a":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		d.Step = 2
		first, err := s.SaveDraft(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.SaveDraft(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := s.GetDraft(ctx, d.ID)
		if !again.UpdatedAt.Equal(first.UpdatedAt) || !stored.UpdatedAt.Equal(first.UpdatedAt) || !again.CreatedAt.Equal(d.CreatedAt) {
			t.Errorf("saving the same draft again wrote it: first %v, again %v, stored %v (created %v, again %v)",
				first.UpdatedAt, again.UpdatedAt, stored.UpdatedAt, d.CreatedAt, again.CreatedAt)
		}

		other := openAt(t, db, Options{Key: keyFor(db), Now: now})
		changed := first
		changed.Form = json.RawMessage(`{"a":2}`)
		if _, err := other.SaveDraft(ctx, changed); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveDraft(ctx, first); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetDraft(ctx, d.ID); string(got.Form) != `{"a":1}` {
			t.Errorf("a save equal to this store's last one was skipped over another store's change: %s", got.Form)
		}
	})
}
