package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Organization is a customer organization that owns connections.
type Organization struct {
	Name      string
	Domain    string
	CreatedAt time.Time
}

// EnsureOrganization creates the organization when it does not exist, and
// sets its domain when domain is not empty.
func (s *Store) EnsureOrganization(ctx context.Context, name, domain string) (Organization, error) {
	name, domain = strings.TrimSpace(name), strings.TrimSpace(domain)
	if name == "" {
		return Organization{}, &flow.Error{Code: flow.CodeMissingField, Message: "the organization has no name",
			Fix: "give the organization's name"}
	}
	o := Organization{Name: name}
	var created int64
	err := s.tx(ctx, func(tx *txn) error { // a write that returns a row: a transaction's, to take the write turn
		return tx.QueryRowContext(ctx, `INSERT INTO organizations (name, domain, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET domain = CASE WHEN excluded.domain = '' THEN organizations.domain ELSE excluded.domain END
		RETURNING domain, created_at`, name, domain, unixNano(s.now())).Scan(&o.Domain, &created)
	})
	if err != nil {
		return Organization{}, err
	}
	o.CreatedAt = fromUnixNano(created)
	return o, nil
}

// ListOrganizations returns every organization by name.
func (s *Store) ListOrganizations(ctx context.Context) ([]Organization, error) {
	return queryAll(ctx, s, s.scanOrganization, `SELECT name, domain, created_at FROM organizations ORDER BY name`)
}

// ListOrganizationsNamed returns the organization called name, if any, as
// ListOrganizations would list it: a session kept to one organization
// needs no other (with hundreds of customers' sessions starting, listing
// every organization for each costs as much as the rest of their start).
func (s *Store) ListOrganizationsNamed(ctx context.Context, name string) ([]Organization, error) {
	return queryAll(ctx, s, s.scanOrganization, `SELECT name, domain, created_at FROM organizations WHERE name = ?`, name)
}

func (s *Store) scanOrganization(r scanner) (Organization, error) {
	var o Organization
	var created int64
	if err := r.Scan(&o.Name, &o.Domain, &created); err != nil {
		return Organization{}, s.explain(err)
	}
	o.CreatedAt = fromUnixNano(created)
	return o, nil
}

// TestLogin is the result of one test login through a connection (see
// flow.NewTestLogin).
type TestLogin = flow.TestLogin

// SaveTestLogin records a test login; a zero At means now.
func (s *Store) SaveTestLogin(ctx context.Context, t TestLogin) (TestLogin, error) {
	err := s.tx(ctx, func(tx *txn) error {
		var err error
		t, err = s.insertTestLogin(ctx, tx, t)
		return err
	})
	return t, err
}

// queryer runs a query: the database, or one transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) insertTestLogin(ctx context.Context, db queryer, t TestLogin) (TestLogin, error) {
	if t.At.IsZero() {
		t.At = s.now()
	}
	t.At = t.At.UTC()
	t.ConnectionID = NormalizeID(t.ConnectionID)
	var cols [3][]byte
	for i, v := range []any{t.Profile, t.Claims, t.UserinfoClaims} {
		b, err := json.Marshal(v)
		if err != nil {
			return TestLogin{}, fmt.Errorf("test login: %w", err)
		}
		cols[i] = b
	}
	err := db.QueryRowContext(ctx, `INSERT INTO test_logins
		(connection_id, at, ok, profile, claims, userinfo_claims, error) VALUES (?, ?, ?, ?, ?, ?, ?)
		RETURNING id`, t.ConnectionID, unixNano(t.At), t.OK, string(cols[0]), string(cols[1]), string(cols[2]), t.Error).Scan(&t.ID)
	if violates(err, foreignKey) {
		return TestLogin{}, notFound("connection", t.ConnectionID)
	}
	if err != nil {
		return TestLogin{}, err
	}
	t.Number = testLoginNumber(ctx, db, t.ConnectionID, t.ID)
	return t, nil
}

// ListTestLogins returns a connection's test logins, the newest first.
func (s *Store) ListTestLogins(ctx context.Context, connectionID string) ([]TestLogin, error) {
	return queryAll(ctx, s, s.scanTestLogin, `SELECT id, connection_id, at, ok, profile, claims, userinfo_claims, error
		FROM test_logins WHERE connection_id = ? ORDER BY at DESC, id DESC`, NormalizeID(connectionID))
}

func (s *Store) scanTestLogin(r scanner) (TestLogin, error) {
	var (
		t                        TestLogin
		at                       int64
		profile, claims, userinf string
	)
	if err := r.Scan(&t.ID, &t.ConnectionID, &at, &t.OK, &profile, &claims, &userinf, &t.Error); err != nil {
		return TestLogin{}, s.explain(err)
	}
	t.At = fromUnixNano(at)
	for _, c := range []struct {
		src string
		dst any
	}{{profile, &t.Profile}, {claims, &t.Claims}, {userinf, &t.UserinfoClaims}} {
		if err := json.Unmarshal([]byte(c.src), c.dst); err != nil {
			return TestLogin{}, fmt.Errorf("test login %d: %w", t.ID, err)
		}
	}
	return t, nil
}

// Event is one audit event: who did what, when, to which connection.
type Event = flow.AuditEvent

// Audit records an event; a zero At means now.
func (s *Store) Audit(ctx context.Context, e Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	return s.explain(insertAudit(ctx, s.db, e))
}

// execer runs a statement: the database, or one transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertAudit writes e, whose At is set.
func insertAudit(ctx context.Context, db execer, e Event) error {
	_, err := db.ExecContext(ctx, `INSERT INTO audit_events
		(at, actor, action, connection_id, organization, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		unixNano(e.At), e.Actor, e.Action, e.ConnectionID, e.Organization, e.Address, e.Detail)
	return err
}

// AuditQuery selects audit events; empty fields match everything and a
// zero Limit means no limit.
type AuditQuery struct {
	Organization string
	ConnectionID string
	Limit        int
}

// ListAudit returns the matching audit events, the newest first.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) ([]Event, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, in words both dialects take
	}
	filter, args := where(column{"organization", q.Organization}, column{"connection_id", q.ConnectionID})
	return queryAll(ctx, s, s.scanEvent, `SELECT id, at, actor, action, connection_id, organization, address, detail
		FROM audit_events`+filter+`
		ORDER BY at DESC, id DESC LIMIT ?`, append(args, limit)...)
}

func (s *Store) scanEvent(r scanner) (Event, error) {
	var e Event
	var at int64
	if err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ConnectionID, &e.Organization, &e.Address, &e.Detail); err != nil {
		return Event{}, s.explain(err)
	}
	e.At = fromUnixNano(at)
	return e, nil
}
