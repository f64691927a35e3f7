package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The store writes every query once, with ? placeholders, in the SQL that
// SQLite and PostgreSQL share; a dialect holds the few differences: the
// placeholders, the migrations and how the schema version is kept, and the
// driver's errors.

// IsPostgres reports whether db (a --db value or OIDC_ONBOARD_DB) names a
// PostgreSQL database (a postgres:// or postgresql:// URL) rather than a
// SQLite file.
func IsPostgres(db string) bool {
	lower := strings.ToLower(db)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// redactURL is a PostgreSQL URL without its password, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the PostgreSQL database"
	}
	return u.Redacted()
}

// db is the database with the dialect's placeholders: queries are written
// with ?, and PostgreSQL's are rebound to $1, $2, … on their way. SQLite's
// statements are prepared once and kept (stmts): its driver parses a
// query's SQL on every call otherwise, a fifth of a draft save's CPU with
// hundreds of sessions saving. PostgreSQL's driver (pgx) keeps prepared
// statements per connection itself.
//
// SQLite takes one writer at a time; the others wait in its busy handler,
// which retries on a schedule of sleeps (up to 100 ms each) with no
// order among the waiters: with hundreds of sessions writing at once,
// some waited past the busy timeout. So this process's writers take their
// turn here first (writes), in order and without sleeping: every
// transaction (they begin IMMEDIATE, as writers) and every statement run
// outside one that is not a SELECT. A write that returns rows runs in a
// transaction.
type db struct {
	*sql.DB
	postgres bool
	stmts    *stmtCache    // nil: none kept (PostgreSQL)
	writes   chan struct{} // the write turn (SQLite); nil on PostgreSQL
}

// txn is a transaction of db, rebinding and using the kept statements as
// db does; it gives the write turn back when it ends.
type txn struct {
	*sql.Tx
	postgres bool
	stmts    *stmtCache
	done     func()
}

// newSQLiteDB is d with kept statements and the write turn.
func newSQLiteDB(d *sql.DB) *db {
	return &db{DB: d, stmts: newStmtCache(d), writes: make(chan struct{}, 1)}
}

// write waits for the write turn (or ctx's end) and returns what gives it
// back; on PostgreSQL there is no turn to wait for.
func (d *db) write(ctx context.Context) (func(), error) {
	if d.writes == nil {
		return func() {}, nil
	}
	select {
	case d.writes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-d.writes }) }, nil
}

// isWrite reports whether query, run outside a transaction, writes: all
// but a SELECT.
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) < 6 || !strings.EqualFold(q[:6], "SELECT")
}

func (d *db) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.writes != nil && isWrite(query) {
		done, err := d.write(ctx)
		if err != nil {
			return nil, err
		}
		defer done()
	}
	if st := d.stmts.get(ctx, d.DB, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, rebind(d.postgres, query), args...)
}

func (d *db) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmts.get(ctx, d.DB, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, rebind(d.postgres, query), args...)
}

func (d *db) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmts.get(ctx, d.DB, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, rebind(d.postgres, query), args...)
}

func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	done, err := d.write(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		done()
		return nil, err
	}
	return &txn{Tx: tx, postgres: d.postgres, stmts: d.stmts, done: done}, nil
}

// Commit commits the transaction and gives the write turn back.
func (t *txn) Commit() error {
	defer t.done()
	return t.Tx.Commit()
}

// Rollback rolls the transaction back and gives the write turn back.
func (t *txn) Rollback() error {
	defer t.done()
	return t.Tx.Rollback()
}

// Close closes the kept statements, then the database.
func (d *db) Close() error {
	d.stmts.close()
	return d.DB.Close()
}

// stmt is query's kept statement on this transaction's connection, nil
// when none is kept.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	st := t.stmts.get(ctx, nil, query)
	if st == nil {
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, rebind(t.postgres, query), args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, rebind(t.postgres, query), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, rebind(t.postgres, query), args...)
}

// maxStmts bounds the statements kept: the store's queries are a fixed
// set of texts, far fewer; a query built from its arguments would only
// run unprepared once the cache is full.
const maxStmts = 256

// stmtCache keeps one prepared statement per query text, prepared on the
// database the first time it runs there (database/sql prepares it again
// on each connection that runs it, and keeps those too).
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

func newStmtCache(d *sql.DB) *stmtCache {
	return &stmtCache{db: d, stmts: make(map[string]*sql.Stmt)}
}

// get returns query's kept statement, preparing it when it is new and
// prep (the database) is given; nil when none is kept: no cache, the
// cache full or closed, or the query did not prepare (run unprepared, it
// reports its error as it always did). A transaction passes no prep: a
// statement prepared inside it is prepared on the database first.
func (c *stmtCache) get(ctx context.Context, prep *sql.DB, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := c.closed || len(c.stmts) >= maxStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	if prep == nil {
		prep = c.db
	}
	st, err := prep.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.stmts[query]; ok || c.closed {
		st.Close() // prepared meanwhile by another caller, or closing
		return kept
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// rebind turns the ? placeholders of query into PostgreSQL's $1, $2, …
// when postgres is set; a ? inside a quoted string or identifier stays.
func rebind(postgres bool, query string) string {
	if !postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// constraint is a kind of constraint a write can violate.
type constraint int

const (
	primaryKey constraint = iota
	unique
	foreignKey
)

// violates reports whether err is the driver's report of a violated
// constraint of kind k, on either backend.
func violates(err error, k constraint) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == map[constraint]int{
			primaryKey: sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
			unique:     sqlite3.SQLITE_CONSTRAINT_UNIQUE,
			foreignKey: sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY,
		}[k]
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch k {
	case primaryKey:
		return pe.Code == "23505" && strings.HasSuffix(pe.ConstraintName, "_pkey")
	case unique:
		return pe.Code == "23505" && !strings.HasSuffix(pe.ConstraintName, "_pkey")
	}
	return pe.Code == "23503"
}

// explainPostgres maps PostgreSQL's failures (and failures to reach it) to
// errors a person can act on; where names the database.
func explainPostgres(err error, where string) error {
	var fe *flow.Error
	if errors.As(err, &fe) { // explained already
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
			return &flow.Error{Code: flow.CodeDBCannotOpen, Message: fmt.Sprintf("PostgreSQL refused the login to %s", where), Err: err,
				Fix: "check the user and password in the --db URL (or OIDC_ONBOARD_DB) and pg_hba.conf"}
		}
		if errors.As(err, &pe) && pe.Code == "3D000" {
			return &flow.Error{Code: flow.CodeDBCannotOpen, Message: fmt.Sprintf("the database of %s does not exist", where), Err: err,
				Fix: "create it (createdb NAME, as a PostgreSQL superuser), or pass another --db URL"}
		}
		return &flow.Error{Code: flow.CodeDBUnreachable, Message: fmt.Sprintf("cannot reach PostgreSQL at %s", where), Err: err,
			Fix: "check that the server is running and that host and port in the --db URL are right; nothing was changed"}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03" || pe.Code == "57014":
			return &flow.Error{Code: flow.CodeDBBusy, Message: fmt.Sprintf("%s is busy with another writer; this change was not saved", where), Err: err,
				Fix: "try again"}
		case pe.Code == "53100":
			return &flow.Error{Code: flow.CodeDBFull, Message: fmt.Sprintf("the disk of the PostgreSQL server of %s is full; this change was not saved", where), Err: err,
				Fix: "free some disk space on the server and try again; what was saved before is intact"}
		case pe.Code == "25006":
			return &flow.Error{Code: flow.CodeDBReadOnly, Message: fmt.Sprintf("%s is read-only (a standby server?)", where), Err: err,
				Fix: "point --db at the primary server; nothing was changed"}
		case strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08"):
			return connectionLost(err, where)
		}
		return err
	}
	if errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err) || isNetError(err) {
		return connectionLost(err, where)
	}
	return err
}

func connectionLost(err error, where string) error {
	return &flow.Error{Code: flow.CodeDBConnectionLost, Message: fmt.Sprintf("the connection to PostgreSQL at %s was lost; this change was not saved", where), Err: err,
		Fix: "check that the server is running and reachable, then try again; what was saved before is intact"}
}

// isNetError reports a failure of the connection itself: a closed or reset
// socket, an unexpected end of the server's stream.
func isNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &ne) || strings.Contains(err.Error(), "conn closed")
}
