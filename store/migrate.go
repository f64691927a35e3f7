package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// migrationFiles holds the schema migrations, applied in name order. A file
// is never edited once released; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the SQL of every migration; the schema version after
// migration i is i+1.
func migrations() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for i, name := range names {
		want := fmt.Sprintf("%04d_", i+1)
		if base := path.Base(name); len(base) < len(want) || base[:len(want)] != want {
			return nil, fmt.Errorf("migration %s is out of sequence: expected a name starting %s", base, want)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// migrate brings the schema (PRAGMA user_version) up to date in one
// transaction that holds the write lock from its start, so two processes
// opening a fresh file at once cannot both migrate it. A database newer
// than this binary is refused without being changed.
func migrate(ctx context.Context, db *sql.DB, dbPath string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return runMigrations(ctx, db, dbPath, ms)
}

func runMigrations(ctx context.Context, db *sql.DB, dbPath string, ms []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch {
	case version > len(ms):
		return &flow.Error{Code: flow.CodeDBNewer,
			Message: fmt.Sprintf("%s was written by a newer oidc-onboard (schema %d, this binary knows %d)", dbPath, version, len(ms)),
			Fix:     "upgrade oidc-onboard; the database was not changed"}
	case version == len(ms):
		return nil
	}
	for i := version; i < len(ms); i++ {
		if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
			return fmt.Errorf("schema migration %d: %w", i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(len(ms))); err != nil {
		return err
	}
	return tx.Commit()
}
