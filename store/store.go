// Package store is oidc-onboard's persistence: organizations, connections
// with sealed client secrets, wizard drafts, test-login results, audit
// events and SSH invites, in one SQLite file through the pure-Go
// modernc.org/sqlite driver or in a PostgreSQL database through pgx
// (dialect.go holds the differences). It knows nothing of the terminal UI;
// it speaks the domain types of package flow.
//
// A Store is safe for concurrent use by many goroutines, and several
// processes may use the same database at once: a SQLite file runs in WAL
// mode, every transaction takes the write lock up front (BEGIN IMMEDIATE)
// and waits up to ten seconds for it; PostgreSQL's transactions are its
// own (READ COMMITTED, upserts with ON CONFLICT).
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// busyTimeout is how long a writer waits for another writer, in milliseconds.
const busyTimeout = 10000

// ErrNotFound is returned (wrapped) when a record with the given ID does not
// exist.
var ErrNotFound = errors.New("not found")

// Options configure Open.
type Options struct {
	// Key is the base64 sealing key from the environment (OIDC_ONBOARD_KEY),
	// or empty to use the key file. The caller reads the environment.
	Key string
	// KeyFile is where the key is kept when Key is empty; default: the
	// database path with ".key" appended. It is created, 0600, the first time
	// a secret is sealed.
	KeyFile string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is an open oidc-onboard database.
type Store struct {
	db      *db
	path    string // the SQLite file, or the PostgreSQL URL without its password
	keyFile string
	envKey  []byte // decoded Options.Key, nil when the key file is used
	now     func() time.Time

	mu     sync.Mutex
	sealer *sealer      // nil until first needed
	drafts *draftWriter // nil until first needed
}

// Open opens the database at path, creating it when missing, and brings its
// schema up to date. path is a SQLite file, whose folder must exist, or a
// postgres:// URL (IsPostgres), whose sealing key must come in opts.Key.
// Every failure is a *flow.Error that says what to do; a file that is not
// an oidc-onboard database, or one written by a newer version, is left
// unchanged.
func Open(path string, opts Options) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(path, opts)
	}
	if path == "" {
		return nil, &flow.Error{Code: flow.CodeDBPath, Message: "no database path given",
			Fix: "pass --db PATH or set OIDC_ONBOARD_DB"}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &flow.Error{Code: flow.CodeDBPath, Message: fmt.Sprintf("%s is not a usable path", path), Err: err}
	}
	s := &Store{path: abs, keyFile: opts.KeyFile, now: opts.Now}
	if s.keyFile == "" {
		s.keyFile = abs + ".key"
	}
	if opts.Key != "" {
		if s.envKey, err = decodeKey(opts.Key); err != nil {
			return nil, &flow.Error{Code: flow.CodeBadKey, Message: "OIDC_ONBOARD_KEY is not a base64-encoded 32-byte key",
				Fix: "set it to the key the secrets were sealed with (a new one: openssl rand -base64 32), or unset it to use " + s.keyFile}
		}
	}
	if err := checkFile(abs); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	sqldb, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, s.explain(err)
	}
	s.db = newSQLiteDB(sqldb)
	if err := migrateWhenFree(sqldb, s.path); err != nil {
		s.db.Close()
		return nil, s.explain(err)
	}
	return s, nil
}

// openPostgres opens the PostgreSQL database at url. There is no file to
// keep a key beside, so the key must come from the environment: without
// it nothing is opened (a new key would make the sealed secrets of the
// other instances unreadable).
func openPostgres(url string, opts Options) (*Store, error) {
	s := &Store{path: redactURL(url), now: opts.Now}
	if opts.Key == "" {
		return nil, &flow.Error{Code: flow.CodeKeyRequired, Message: "OIDC_ONBOARD_KEY is not set; a PostgreSQL database keeps no key file",
			Fix: "set OIDC_ONBOARD_KEY to the key the secrets were sealed with (every instance the same; for a new database: openssl rand -base64 32)"}
	}
	var err error
	if s.envKey, err = decodeKey(opts.Key); err != nil {
		return nil, &flow.Error{Code: flow.CodeBadKey, Message: "OIDC_ONBOARD_KEY is not a base64-encoded 32-byte key",
			Fix: "set it to the key the secrets were sealed with (a new one: openssl rand -base64 32)"}
	}
	if s.now == nil {
		s.now = time.Now
	}
	sqldb, err := sql.Open("pgx", url)
	if err != nil {
		return nil, &flow.Error{Code: flow.CodeDBPath, Message: fmt.Sprintf("%s is not a usable PostgreSQL URL", s.path), Err: err,
			Fix: "pass --db postgres://USER:PASSWORD@HOST:PORT/DATABASE"}
	}
	s.db = &db{DB: sqldb, postgres: true}
	if err := migratePostgres(context.Background(), sqldb, s.path); err != nil {
		s.db.Close()
		return nil, s.explain(err)
	}
	return s, nil
}

// migrateWhenFree migrates, retrying while another process holds a lock
// the busy timeout does not cover: switching a new file to WAL mode takes
// an exclusive lock for which SQLite does not wait, so processes opening
// one fresh file at once would otherwise fail at random.
func migrateWhenFree(db *sql.DB, path string) error {
	deadline := time.Now().Add(busyTimeout * time.Millisecond)
	wait := 5 * time.Millisecond
	for {
		err := migrate(context.Background(), db, path)
		var se *sqlite.Error
		busy := errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
		if !busy || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// checkFile turns the bad paths a person can give into clear errors before
// SQLite sees them: a folder, a missing folder, a file this user cannot
// write. Opening for writing changes nothing in the file.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, derr := os.Stat(filepath.Dir(path)); derr != nil {
			return &flow.Error{Code: flow.CodeDBPath, Message: fmt.Sprintf("the folder of %s does not exist", path),
				Fix: "create the folder, or pass another --db PATH"}
		}
		// Create the file 0600 (an empty file is an empty database): it holds
		// people's claims, and SQLite gives its -wal and -shm files the same mode.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return &flow.Error{Code: flow.CodeDBCannotOpen, Message: fmt.Sprintf("cannot create %s", path), Err: err,
				Fix: "make the folder writable by this user, or pass another --db PATH"}
		}
		if err == nil {
			return f.Close()
		}
		return nil
	case err != nil:
		return &flow.Error{Code: flow.CodeDBPath, Message: fmt.Sprintf("cannot read %s", path), Err: err,
			Fix: "check the path and its permissions, or pass another --db PATH"}
	case fi.IsDir():
		return &flow.Error{Code: flow.CodeDBIsFolder, Message: fmt.Sprintf("%s is a folder, not a database file", path),
			Fix: "pass a file path, e.g. --db " + filepath.Join(path, "onboard.db")}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return readOnlyError(path)
	}
	return f.Close()
}

func readOnlyError(path string) error {
	return &flow.Error{Code: flow.CodeDBReadOnly, Message: fmt.Sprintf("the database %s is read-only for this user", path),
		Fix: "make the file and its folder writable (chmod u+w), or pass another --db PATH; nothing was changed"}
}

// dsn is the driver's URI for path: WAL, a busy timeout, foreign keys, and
// transactions that take the write lock at BEGIN, so that concurrent writers
// wait instead of failing on a lock upgrade.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the database, once the draft saves under way are written.
func (s *Store) Close() error {
	s.draftWriter().close()
	err := s.db.Close()
	// database/sql closes a connection still in use only when its query
	// ends, after Close returned; closing a SQLite connection may still
	// write (a checkpoint, the WAL and shared-memory files removed). Wait
	// for them, so that nothing touches the database's folder once Close
	// returned (a bounded wait: a query stuck longer is left to finish).
	for deadline := time.Now().Add(5 * time.Second); s.db.Stats().OpenConnections > 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	return err
}

// draftWriter is the store's one writer of draft replacements.
func (s *Store) draftWriter() *draftWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drafts == nil {
		s.drafts = newDraftWriter(s)
	}
	return s.drafts
}

// Path is the absolute path of the database file, or the PostgreSQL URL
// without its password.
func (s *Store) Path() string { return s.path }

// KeyFile is the path of the key file (used when no key comes from the
// environment).
func (s *Store) KeyFile() string { return s.keyFile }

// explain maps the driver's failures to errors a person can act on.
func (s *Store) explain(err error) error {
	if err != nil && s.db != nil && s.db.postgres {
		return explainPostgres(err, s.path)
	}
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return &flow.Error{Code: flow.CodeDBCorrupt, Message: fmt.Sprintf("%s is not an oidc-onboard database (not SQLite, or damaged)", s.path),
			Fix: "pass the right --db PATH, or restore the file from a backup; the file was not changed"}
	case sqlite3.SQLITE_READONLY:
		return readOnlyError(s.path)
	case sqlite3.SQLITE_CANTOPEN:
		return &flow.Error{Code: flow.CodeDBCannotOpen, Message: fmt.Sprintf("cannot open %s", s.path),
			Fix: "check that this user may read and write the file and its folder (SQLite writes -wal and -shm files beside it)"}
	case sqlite3.SQLITE_FULL:
		return &flow.Error{Code: flow.CodeDBFull, Message: fmt.Sprintf("the disk holding %s is full; this change was not saved", s.path),
			Fix: "free some disk space and try again; what was saved before is intact"}
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &flow.Error{Code: flow.CodeDBBusy, Message: fmt.Sprintf("%s is locked by another process (waited up to %ds)", s.path, busyTimeout/1000),
			Fix: "wait for the other oidc-onboard process to finish, then try again"}
	case sqlite3.SQLITE_IOERR:
		return &flow.Error{Code: flow.CodeDBIO, Message: fmt.Sprintf("reading or writing %s failed", s.path), Err: err,
			Fix: "check the disk and the file system, then try again"}
	}
	return err
}

// tx runs fn in one transaction (BEGIN IMMEDIATE), committing when it
// returns nil.
func (s *Store) tx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.explain(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.explain(err)
	}
	return s.explain(tx.Commit())
}

// queryAll runs query and returns its rows as scan reads them, in order;
// nil when there is none. scan explains its own errors.
func queryAll[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.explain(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, s.explain(rows.Err())
}

// idAlphabet has no symbol that reads like another over a call: no 0/o,
// no 1/l/i, no u/v pair.
const idAlphabet = "23456789abcdefghjkmnpqrstwxyz"

// idLength gives 29^6 ≈ 595 million IDs per kind; inserts retry on the
// rare collision.
const idLength = 6

// newID returns prefix followed by idLength random symbols of idAlphabet.
func newID(prefix string) string {
	const limit = 256 - 256%len(idAlphabet) // reject the biased tail
	out := make([]byte, 0, len(prefix)+idLength)
	out = append(out, prefix...)
	var b [16]byte
	for len(out) < cap(out) {
		rand.Read(b[:])
		for _, c := range b {
			if int(c) < limit && len(out) < cap(out) {
				out = append(out, idAlphabet[int(c)%len(idAlphabet)])
			}
		}
	}
	return string(out)
}

// column is a filter of a listing: the rows whose column holds value, or
// every row when value is empty.
type column struct{ name, value string }

// where is the WHERE clause of the filters whose value is set, with their
// arguments; "" when none is. A filter left empty is left out of the SQL
// text rather than compared with the empty string in SQL: SQLite plans a
// statement before it sees its arguments, so that form scans the whole table (every
// customer's drafts, on each customer session's start) instead of using
// the column's index.
func where(cols ...column) (string, []any) {
	var clause strings.Builder
	var args []any
	for _, c := range cols {
		if c.value == "" {
			continue
		}
		if len(args) == 0 {
			clause.WriteString(" WHERE ")
		} else {
			clause.WriteString(" AND ")
		}
		clause.WriteString(c.name + " = ?")
		args = append(args, c.value)
	}
	return clause.String(), args
}

// insertWithID runs insert with fresh IDs until one does not collide with
// an existing primary key.
func insertWithID(prefix string, insert func(id string) error) (string, error) {
	for range 8 {
		id := newID(prefix)
		err := insert(id)
		if violates(err, primaryKey) {
			continue
		}
		return id, err
	}
	return "", errors.New("could not find a free ID after 8 tries")
}

// Time columns hold Unix nanoseconds.
func unixNano(t time.Time) int64 { return t.UnixNano() }

func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }

// nullTime reads a nullable time column.
func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromUnixNano(n.Int64)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func notFound(kind, id string) error {
	return fmt.Errorf("no %s with ID %q: %w", kind, id, ErrNotFound)
}
