package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Several `serve` instances share one database (PostgreSQL in practice;
// a SQLite file serves one instance the same way): these are the tables
// through which they know of each other. Each instance writes only its own
// rows: its heartbeat, its live sessions, the test logins it holds; the
// wrong invite codes are everyone's. LISTEN/NOTIFY (PostgreSQL only)
// carries the messages between instances.

// Instance is a running `serve` instance as the others see it.
type Instance struct {
	ID          string
	SSHAddr     string // where the other instances reach it over SSH
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// LiveSession is a customer session in the registry of all instances.
type LiveSession struct {
	ID           string
	Instance     string
	Organization string
	Who          string
	Invite       string // the invite's ID a customer came in with
	Step         int
	StepTitle    string
	StepSince    time.Time
	LastKeyAt    time.Time
	Validation   string
	TestLogin    string
	Watchers     []string
	StartedAt    time.Time
	// HeartbeatAt is its instance's last heartbeat (zero when the
	// instance is gone): the reader decides when that is too old.
	HeartbeatAt time.Time
}

// Heartbeat records that instance id runs and is reached at sshAddr, now.
func (s *Store) Heartbeat(ctx context.Context, id, sshAddr string) error {
	now := unixNano(s.now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO instances (id, ssh_addr, started_at, heartbeat_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ssh_addr = excluded.ssh_addr, heartbeat_at = excluded.heartbeat_at`,
		id, sshAddr, now, now)
	return s.explain(err)
}

// GetInstance returns the running instance id; ErrNotFound (wrapped) when
// it is not registered.
func (s *Store) GetInstance(ctx context.Context, id string) (Instance, error) {
	var in Instance
	var started, beat int64
	err := s.db.QueryRowContext(ctx, `SELECT id, ssh_addr, started_at, heartbeat_at FROM instances WHERE id = ?`, id).
		Scan(&in.ID, &in.SSHAddr, &started, &beat)
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, notFound("instance", id)
	}
	in.StartedAt, in.HeartbeatAt = fromUnixNano(started), fromUnixNano(beat)
	return in, s.explain(err)
}

// RemoveInstance deletes instance id's rows, its sessions and test logins
// included, in one transaction: an instance stopping says it is gone.
func (s *Store) RemoveInstance(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *txn) error {
		for _, q := range []string{`DELETE FROM live_sessions WHERE instance = ?`,
			`DELETE FROM pending_logins WHERE instance = ?`, `DELETE FROM instances WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// SweepInstances deletes the rows of instances silent since before: dead
// ones, whose sessions were shown as lost long enough.
func (s *Store) SweepInstances(ctx context.Context, before time.Time) error {
	cut := unixNano(before)
	return s.tx(ctx, func(tx *txn) error {
		for _, q := range []string{
			`DELETE FROM live_sessions WHERE updated_at < ? AND instance NOT IN (SELECT id FROM instances WHERE heartbeat_at >= ?)`,
			`DELETE FROM pending_logins WHERE created_at < ? AND instance NOT IN (SELECT id FROM instances WHERE heartbeat_at >= ?)`,
		} {
			if _, err := tx.ExecContext(ctx, q, cut, cut); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE heartbeat_at < ?`, cut)
		return err
	})
}

// PutLiveSessions records (or updates) sessions, each of its Instance,
// all in one transaction: an instance writes the sessions that changed
// since its last heartbeat together, which for hundreds of sessions
// typing is hundreds of rows every two seconds. All are written or none.
func (s *Store) PutLiveSessions(ctx context.Context, rows ...LiveSession) error {
	if len(rows) == 0 {
		return nil
	}
	now := unixNano(s.now())
	return s.tx(ctx, func(tx *txn) error {
		for _, ls := range rows {
			watchers := []byte("[]")
			if ls.Watchers != nil {
				var err error
				if watchers, err = json.Marshal(ls.Watchers); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO live_sessions (id, instance, organization, who, invite, step, step_title,
				step_since, last_key_at, validation, test_login, watchers, started_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, organization = excluded.organization,
				who = excluded.who, invite = excluded.invite, step = excluded.step, step_title = excluded.step_title, step_since = excluded.step_since,
				last_key_at = excluded.last_key_at, validation = excluded.validation, test_login = excluded.test_login,
				watchers = excluded.watchers, updated_at = excluded.updated_at`,
				ls.ID, ls.Instance, ls.Organization, ls.Who, ls.Invite, ls.Step, ls.StepTitle, unixNano(ls.StepSince), unixNano(ls.LastKeyAt),
				ls.Validation, ls.TestLogin, string(watchers), unixNano(ls.StartedAt), now)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteLiveSessions removes ended sessions from the registry, in one
// transaction.
func (s *Store) DeleteLiveSessions(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *txn) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM live_sessions WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// LiveSessions lists the registry's sessions of every instance, oldest
// first, each with its instance's last heartbeat.
func (s *Store) LiveSessions(ctx context.Context) ([]LiveSession, error) {
	return s.liveSessions(ctx, "")
}

// LiveSessionsOf returns organization's live sessions on instances other
// than instance, as LiveSessions does: what a customer's new session
// counts toward the limits, read by the organization's index.
func (s *Store) LiveSessionsOf(ctx context.Context, organization, instance string) ([]LiveSession, error) {
	return s.liveSessions(ctx, `WHERE l.organization = ? AND l.instance <> ?`, organization, instance)
}

func (s *Store) liveSessions(ctx context.Context, where string, args ...any) ([]LiveSession, error) {
	return queryAll(ctx, s, func(r scanner) (LiveSession, error) {
		var ls LiveSession
		var since, key, started int64
		var beat sql.NullInt64
		var watchers string
		err := r.Scan(&ls.ID, &ls.Instance, &ls.Organization, &ls.Who, &ls.Invite, &ls.Step, &ls.StepTitle, &since, &key,
			&ls.Validation, &ls.TestLogin, &watchers, &started, &beat)
		if err != nil {
			return ls, s.explain(err)
		}
		ls.StepSince, ls.LastKeyAt, ls.StartedAt, ls.HeartbeatAt = fromUnixNano(since), fromUnixNano(key), fromUnixNano(started), nullTime(beat)
		if err := json.Unmarshal([]byte(watchers), &ls.Watchers); err != nil {
			return ls, fmt.Errorf("session %s: watchers: %w", ls.ID, err)
		}
		return ls, nil
	}, `SELECT l.id, l.instance, l.organization, l.who, l.invite, l.step, l.step_title, l.step_since, l.last_key_at,
		l.validation, l.test_login, l.watchers, l.started_at, i.heartbeat_at
		FROM live_sessions l LEFT JOIN instances i ON i.id = l.instance `+where+` ORDER BY l.started_at, l.id`, args...)
}

// stateHash is how a test login's state is kept: never the state itself.
func stateHash(state string) []byte {
	h := sha256.Sum256([]byte(state))
	return h[:]
}

// AddPendingLogin records that instance holds the test login waiting for
// state.
func (s *Store) AddPendingLogin(ctx context.Context, state, instance string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pending_logins (state_hash, instance, created_at) VALUES (?, ?, ?)
		ON CONFLICT (state_hash) DO UPDATE SET instance = excluded.instance`, stateHash(state), instance, unixNano(s.now()))
	return s.explain(err)
}

// RemovePendingLogin forgets the test login waiting for state.
func (s *Store) RemovePendingLogin(ctx context.Context, state string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pending_logins WHERE state_hash = ?`, stateHash(state))
	return s.explain(err)
}

// PendingLogin is the instance holding the test login waiting for state;
// ErrNotFound (wrapped) when no instance does.
func (s *Store) PendingLogin(ctx context.Context, state string) (string, error) {
	var instance string
	err := s.db.QueryRowContext(ctx, `SELECT instance FROM pending_logins WHERE state_hash = ?`, stateHash(state)).Scan(&instance)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("pending login", "…")
	}
	return instance, s.explain(err)
}

// RecordCodeFailure counts a wrong invite code from address at at.
func (s *Store) RecordCodeFailure(ctx context.Context, address string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO code_failures (address, at) VALUES (?, ?)`, address, unixNano(at))
	return s.explain(err)
}

// CodeFailures are the times of address's wrong invite codes after since,
// oldest first, from every instance.
func (s *Store) CodeFailures(ctx context.Context, address string, since time.Time) ([]time.Time, error) {
	return queryAll(ctx, s, func(r scanner) (time.Time, error) {
		var at int64
		err := r.Scan(&at)
		return fromUnixNano(at), s.explain(err)
	}, `SELECT at FROM code_failures WHERE address = ? AND at > ? ORDER BY at`, address, unixNano(since))
}

// SweepCodeFailures forgets wrong codes from before before.
func (s *Store) SweepCodeFailures(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM code_failures WHERE at <= ?`, unixNano(before))
	return s.explain(err)
}

// KeepIdle keeps up to n idle connections open (database/sql keeps two):
// a busy server then seldom waits for a new connection, which on
// PostgreSQL costs a server process and milliseconds to seconds under
// load, on its heartbeats and callback hand-offs, and on SQLite its
// pragmas, the schema read again and the kept statements prepared again
// (with hundreds of sessions starting, a sixth of the server's CPU).
func (s *Store) KeepIdle(n int) { s.db.SetMaxIdleConns(n) }

// CanNotify reports whether the database carries messages between
// instances (Notify, Listen): PostgreSQL does, SQLite does not.
func (s *Store) CanNotify() bool { return s.db.postgres }

// errNoNotify: LISTEN/NOTIFY needs PostgreSQL.
var errNoNotify = errors.New("messages between instances need PostgreSQL")

// Notify sends payload (at most 7,900 bytes) to whoever listens on channel.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if !s.db.postgres {
		return errNoNotify
	}
	_, err := s.db.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload)
	return s.explain(err)
}

// Listen holds one connection of its own that listens on channel, calls
// ready once it does, and then got with each message's payload, in order,
// until ctx ends or the connection fails (the error; the caller listens
// again). got runs on the listening goroutine: it must not block.
func (s *Store) Listen(ctx context.Context, channel string, ready func(), got func(payload string)) error {
	if !s.db.postgres {
		return errNoNotify
	}
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return s.explain(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: a %T is not a pgx connection", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return err
		}
		ready()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection still listens, or is broken: never back
				// into the pool with it.
				return errors.Join(err, driver.ErrBadConn)
			}
			got(n.Payload)
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return s.explain(err)
}
