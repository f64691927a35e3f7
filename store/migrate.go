package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// migrationFiles holds the schema migrations of each dialect, in
// migrations/sqlite and migrations/postgres, applied in name order; both
// have the same versions (file i+1 of one does what file i+1 of the other
// does, in its SQL). A file is never edited once released; a change is a
// new file in each folder.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrations returns the SQL of every migration of dialect ("sqlite" or
// "postgres"); the schema version after migration i is i+1.
func migrations(dialect string) ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/"+dialect+"/*.sql")
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
	ms, err := migrations("sqlite")
	if err != nil {
		return err
	}
	return runMigrations(ctx, db, dbPath, ms)
}

// newerSchema refuses a database whose schema is newer than this binary's.
func newerSchema(dbPath string, version, known int) error {
	return &flow.Error{Code: flow.CodeDBNewer,
		Message: fmt.Sprintf("%s was written by a newer oidc-onboard (schema %d, this binary knows %d)", dbPath, version, known),
		Fix:     "upgrade oidc-onboard; the database was not changed"}
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
	// PRAGMA takes no bound parameters; the value is our own integer.
	return upgrade(ctx, tx, dbPath, version, ms, "PRAGMA user_version = ")
}

// upgrade applies the migrations of ms after version in tx, then sets the
// version (setVersion followed by the new number) and commits. A current
// schema is left as it is; a newer one is refused unchanged.
func upgrade(ctx context.Context, tx *sql.Tx, where string, version int, ms []string, setVersion string) error {
	switch {
	case version > len(ms):
		return newerSchema(where, version, len(ms))
	case version == len(ms):
		return nil
	}
	for i := version; i < len(ms); i++ {
		if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
			return fmt.Errorf("schema migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, setVersion+strconv.Itoa(len(ms))); err != nil {
		return err
	}
	return tx.Commit()
}

// migrationLock is the pg_advisory_lock key under which PostgreSQL
// databases are migrated (the first bytes of "oidc-onboard" as a number).
const migrationLock = 0x6f6964632d6f6e62

// migratePostgres brings a PostgreSQL schema up to date. The version is
// kept in the table schema_version; the migration runs in one transaction
// under pg_advisory_lock, so that of several instances starting at once
// one migrates and the others wait and find the schema current. A database
// newer than this binary is refused without being changed.
func migratePostgres(ctx context.Context, db *sql.DB, where string) error {
	ms, err := migrations("postgres")
	if err != nil {
		return err
	}
	return runPostgresMigrations(ctx, db, where, ms)
}

func runPostgresMigrations(ctx context.Context, db *sql.DB, where string, ms []string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	err = tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&version)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "42P01": // undefined_table: a new database
		// The failed statement ended the transaction; start another.
		tx.Rollback()
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "CREATE TABLE schema_version (version INTEGER NOT NULL)"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	return upgrade(ctx, tx, where, version, ms, "UPDATE schema_version SET version = ")
}
