package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// kept is how many prepared statements s keeps.
func (s *Store) kept() int {
	s.db.stmts.mu.Lock()
	defer s.db.stmts.mu.Unlock()
	return len(s.db.stmts.stmts)
}

// SQLite's statements are prepared once and kept, in and out of
// transactions: the driver would parse each query's SQL on every call.
// A query that does not prepare runs as before and reports the driver's
// error; past the bound, queries still run, unprepared; Close lets them
// go.
func TestSQLiteKeepsPreparedStatements(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.ListOrganizations(ctx); err != nil {
		t.Fatal(err)
	}
	once := s.kept()
	if once == 0 {
		t.Fatal("no statement kept after a query")
	}
	for range 3 {
		if _, err := s.ListOrganizations(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.kept() != once {
		t.Errorf("the same query run again kept %d statements, first %d", s.kept(), once)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM organizations WHERE name <> ?`, "x").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if s.kept() != once+1 {
		t.Errorf("a query in a transaction: %d statements kept, want %d", s.kept(), once+1)
	}

	if _, err := s.db.ExecContext(ctx, `SELEC 1`); err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Errorf("a query that does not prepare: %v, want the driver's syntax error", err)
	}
	for i := range maxStmts + 5 {
		var got int
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&got); err != nil || got != i {
			t.Fatalf("query %d past the bound: %d, %v", i, got, err)
		}
	}
	if s.kept() != maxStmts {
		t.Errorf("%d statements kept, want the bound %d", s.kept(), maxStmts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.kept() != 0 {
		t.Errorf("%d statements kept after Close", s.kept())
	}
}

// SQLite's writers in this process take turns before SQLite sees them: a
// write waits while another holds the turn (instead of polling SQLite's
// lock with sleeps), a read does not wait, a write whose context ends
// while it waits gives up with that context's error, and many writers at
// once all get through.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.EnsureOrganization(ctx, "Acme Corp", ""); err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.BeginTx(ctx, nil) // holds the turn
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := s.EnsureOrganization(ctx, "Globex", "")
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("a write went through while a transaction held the turn: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if orgs, err := s.ListOrganizations(ctx); err != nil || len(orgs) != 1 {
		t.Fatalf("a read while a write waits: %+v, %v", orgs, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Audit(short, Event{Actor: "test", Action: "test.waited"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a write whose context ended while it waited: %v, want the deadline", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the waiting write, once the turn was free: %v", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64*10)
	for i := range 64 {
		wg.Go(func() {
			for j := range 10 {
				if _, err := s.EnsureOrganization(ctx, fmt.Sprintf("Org %d-%d", i, j), ""); err != nil {
					errs <- err
				}
				if err := s.Audit(ctx, Event{Actor: "test", Action: "test.many"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("one of many writers: %v", err)
	}
	if orgs, _ := s.ListOrganizations(ctx); len(orgs) != 2+640 {
		t.Errorf("%d organizations after 640 written, want %d", len(orgs), 642)
	}
}
