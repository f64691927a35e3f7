package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
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
