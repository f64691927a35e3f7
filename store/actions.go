package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The actions the wizard and the commands share: each writes in one
// transaction, its audit event included, so that a failure half-way
// leaves nothing half-saved.

// ActivateConnection saves c as active (sealing its secret), keeps its last
// stored validation, with the metadata and keys as the IdP served them, as
// the activation snapshot the drift watch (verify) compares with,
// records the test login its mappings were checked against (none when
// testLoginID is 0), closes its organization's open invites (an invite is
// good until its organization's connection is activated) and audits it as
// by (Actor, Address, Detail), all in one transaction: all or nothing.
// c's ID, status and times are set from what was stored.
func (s *Store) ActivateConnection(ctx context.Context, c *flow.Connection, testLoginID int64, by Event) error {
	saved := *c
	saved.Status = flow.StatusActive
	var before *flow.Connection // the mappings stored until now, to audit their change
	if c.ID != "" {
		if stored, err := s.GetConnection(ctx, c.ID); err == nil {
			before = stored
		}
	}
	err := s.saveConnection(ctx, &saved, nil, func(tx *txn, id string) error {
		if before != nil && !flow.SameMappings(before, &saved) {
			changed := by
			changed.Detail = flow.MappingChanges(before, &saved, testLoginNumber(ctx, tx, id, testLoginID))
			if err := s.auditTx(ctx, tx, changed, "connection.mappings", &saved); err != nil {
				return err
			}
		}
		if err := snapshotLastValidation(ctx, tx, id); err != nil {
			return err
		}
		if testLoginID != 0 {
			if err := setCheckedAgainst(ctx, tx, id, testLoginID); err != nil {
				return err
			}
		}
		if _, err := s.closeInvites(ctx, tx, saved.Organization); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, by, "connection.activate", &saved)
	})
	if err != nil {
		return err
	}
	c.ID, c.Status, c.CreatedAt, c.UpdatedAt = saved.ID, saved.Status, saved.CreatedAt, saved.UpdatedAt
	return nil
}

// RecordTestLogin stores a test login's outcome (flow.NewTestLogin) with
// its connection c and audits it as by (Actor, Address), in one
// transaction.
//
// A login whose mapped profile fails (flow.TestLogin.CheckedWith c's
// mappings) is recorded as failed; one that passes ends the connection's
// "changed since its last test login" state.
func (s *Store) RecordTestLogin(ctx context.Context, c *flow.Connection, t TestLogin, by Event) (TestLogin, error) {
	t.ConnectionID = c.ID
	t = t.CheckedWith(c.Claims)
	err := s.tx(ctx, func(tx *txn) error {
		var err error
		if t, err = s.insertTestLogin(ctx, tx, t); err != nil {
			return err
		}
		if t.OK {
			if _, err := tx.ExecContext(ctx, `UPDATE connections SET credentials_changed_at = NULL WHERE id = ?`, t.ConnectionID); err != nil {
				return err
			}
		}
		by.Detail = t.AuditDetail()
		return s.auditTx(ctx, tx, by, "connection.test_login", c)
	})
	return t, err
}

// ImportConnection files an imported connection (flow.ParseImport): it
// updates the stored connection with c's ID, else the organization's one
// with c's name, keeping the stored value of every optional field the file
// left out (present names the fields it has) and the stored secret when
// secret is empty; otherwise it creates c. The save and its audit event are
// one transaction. It returns "created" or "updated".
//
// An update that changes the credentials (flow.CredentialChanges) is first
// put to confirm with the stored connection and the changes: an error from
// it imports nothing. The connection then stays "changed since its last
// test login" until a test login passes.
func (s *Store) ImportConnection(ctx context.Context, c *flow.Connection, present map[string]bool, secret string, by Event,
	confirm func(stored *flow.Connection, changes []string) error) (string, error) {
	var existing *flow.Connection
	if c.ID != "" {
		e, err := s.GetConnection(ctx, c.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		existing = e
	}
	if existing == nil {
		e, err := s.ConnectionByName(ctx, c.Organization, c.Name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if e != nil {
			existing, c.ID = e, e.ID
		}
	}
	if c.ID != "" && existing == nil && !flow.ValidConnectionID(c.ID) {
		c.ID = "" // not one of ours: assign a fresh ID
	}
	c.ClientSecret = secret
	action := "created"
	var changes []string
	if existing != nil {
		action = "updated"
		if secret == "" {
			c.ClientSecret = existing.ClientSecret
		}
		flow.KeepStored(c, existing, present)
		if changes = flow.CredentialChanges(existing, c); len(changes) > 0 && confirm != nil {
			if err := confirm(existing, changes); err != nil {
				return "", err
			}
		}
	}
	by.Detail = action
	if len(changes) > 0 {
		by.Detail += "; changed " + strings.Join(changes, ", ") + " — changed since its last test login"
	}
	return action, s.saveConnection(ctx, c, nil, func(tx *txn, id string) error {
		c.ID = id
		if len(changes) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE connections SET credentials_changed_at = ? WHERE id = ?`, unixNano(s.now()), id); err != nil {
				return err
			}
		}
		return s.auditTx(ctx, tx, by, "connection.import", c)
	})
}

// Remap replays the latest test login with captured claims of c under
// next's mappings (flow.Remap). Unless dryRun it saves next, records the
// test login its mappings were checked against and audits the change as
// by (Actor), in one transaction.
func (s *Store) Remap(ctx context.Context, c, next *flow.Connection, dryRun bool, by Event) (flow.RemapResult, error) {
	r, err := s.Record(ctx, c)
	if err != nil {
		return flow.RemapResult{}, err
	}
	tl, err := r.LatestCapturedLogin()
	if err != nil {
		return flow.RemapResult{}, err
	}
	out := flow.Remap(r.LastValidation.Provider(c.DiscoveryURL), tl, c, next, !dryRun)
	if dryRun {
		return out, nil
	}
	by.Detail = flow.MappingChanges(c, next, r.TestLoginNumber(tl.ID))
	if len(out.Problems) > 0 {
		by.Detail += " — saved with an override: " + flow.ProfileFailure(out.Problems)
	}
	return out, s.saveConnection(ctx, next, nil, func(tx *txn, id string) error {
		if err := setCheckedAgainst(ctx, tx, id, tl.ID); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, by, "connection.remap", next)
	})
}

// DeleteConnectionAudited deletes c (see DeleteConnection) and audits it as
// by (Actor), in one transaction.
func (s *Store) DeleteConnectionAudited(ctx context.Context, c *flow.Connection, by Event) error {
	return s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?`, NormalizeID(c.ID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("connection", NormalizeID(c.ID))
		}
		by.Detail = c.Name
		return s.auditTx(ctx, tx, by, "connection.delete", c)
	})
}

// auditTx writes by as the event action on c, now, inside tx.
func (s *Store) auditTx(ctx context.Context, tx *txn, by Event, action string, c *flow.Connection) error {
	by.Action, by.ConnectionID, by.Organization = action, c.ID, c.Organization
	if by.At.IsZero() {
		by.At = s.now()
	}
	return insertAudit(ctx, tx, by)
}

// testLoginNumber is the number of the test login testLoginID among
// connection id's (1 for its first), 0 for none.
func testLoginNumber(ctx context.Context, db queryer, id string, testLoginID int64) int {
	if testLoginID == 0 {
		return 0
	}
	var n int
	if db.QueryRowContext(ctx, `SELECT COUNT(*) FROM test_logins WHERE connection_id = ? AND id <= ?`, id, testLoginID).Scan(&n) != nil {
		return 0
	}
	return n
}

func setCheckedAgainst(ctx context.Context, tx *txn, id string, testLoginID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE connections SET mappings_checked_login = ? WHERE id = ?`, testLoginID, id)
	return err
}

// DriftBaseline is what the drift watch compares the connection with, and
// its name: the snapshot it was activated with ("activation"), else its
// last validation ("last_validation"; nil when it was never validated).
func (s *Store) DriftBaseline(ctx context.Context, id string) (*Validation, string, error) {
	snap, err := s.ActivationSnapshot(ctx, id)
	if err != nil || snap != nil {
		return snap, "activation", err
	}
	snap, err = s.LastValidation(ctx, id)
	return snap, "last_validation", err
}

// Record is all the store keeps about the connection c, for
// flow.BuildTranscript and `connections show`.
func (s *Store) Record(ctx context.Context, c *flow.Connection) (flow.ConnectionRecord, error) {
	r := flow.ConnectionRecord{Connection: c}
	var err error
	if r.LastValidation, err = s.LastValidation(ctx, c.ID); err != nil {
		return r, err
	}
	if r.Activation, err = s.ActivationSnapshot(ctx, c.ID); err != nil {
		return r, err
	}
	if r.TestLogins, err = s.ListTestLogins(ctx, c.ID); err != nil {
		return r, err
	}
	if r.Events, err = s.ListAudit(ctx, AuditQuery{ConnectionID: c.ID}); err != nil {
		return r, err
	}
	if r.MappingsCheckedAgainst, err = s.MappingsCheckedAgainst(ctx, c.ID); err != nil {
		return r, err
	}
	var changed sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT credentials_changed_at FROM connections WHERE id = ?`, NormalizeID(c.ID)).Scan(&changed); err != nil {
		return r, s.explain(err)
	}
	r.CredentialsChangedAt = nullTime(changed)
	r.GroupLabels, err = s.GroupLabels(ctx, c.ID)
	return r, err
}

// TestStates are the test states (flow.TestStateOf) of the connections of
// one organization, or of all when org is empty, by connection ID.
func (s *Store) TestStates(ctx context.Context, org string) (map[string]flow.TestState, error) {
	filter, args := where(column{"c.organization", org})
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.credentials_changed_at,
		(SELECT t.ok FROM test_logins t WHERE t.connection_id = c.id ORDER BY t.at DESC, t.id DESC LIMIT 1)
		FROM connections c`+filter, args...)
	if err != nil {
		return nil, s.explain(err)
	}
	defer rows.Close()
	out := map[string]flow.TestState{}
	for rows.Next() {
		var id string
		var changed sql.NullInt64
		var ok sql.NullBool
		if err := rows.Scan(&id, &changed, &ok); err != nil {
			return nil, s.explain(err)
		}
		out[id] = flow.TestStateOf(ok.Valid, ok.Bool, nullTime(changed))
	}
	return out, s.explain(rows.Err())
}

// Connection is GetConnection, an unknown ID explained: the error says
// where the IDs are listed.
func (s *Store) Connection(ctx context.Context, id string) (*flow.Connection, error) {
	c, err := s.GetConnection(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, &flow.Error{Code: flow.CodeUnknownConnection, Message: fmt.Sprintf("there is no connection with ID %q in %s", id, s.Path()),
			Fix: "run 'oidc-onboard connections list' to see the IDs (and check --db / OIDC_ONBOARD_DB)"}
	}
	return c, err
}

// ConnectionsToVerify are the connections the drift watch checks: the one
// with ID id, or every active one when id is empty.
func (s *Store) ConnectionsToVerify(ctx context.Context, id string) ([]*flow.Connection, error) {
	if id != "" {
		c, err := s.Connection(ctx, id)
		if err != nil {
			return nil, err
		}
		return []*flow.Connection{c}, nil
	}
	all, err := s.ListConnections(ctx, "")
	var active []*flow.Connection
	for _, c := range all {
		if c.Status == flow.StatusActive {
			active = append(active, c)
		}
	}
	return active, err
}

// OpenFromEnv opens the database at path, else the one OIDC_ONBOARD_DB
// names, else $XDG_DATA_HOME/oidc-onboard/onboard.db (~/.local/share/...
// when unset), creating its folder 0700 when missing; a postgres:// URL
// opens that PostgreSQL database instead. The sealing key comes from
// OIDC_ONBOARD_KEY when set (for PostgreSQL it must be). getenv reads the
// environment.
func OpenFromEnv(path string, getenv func(string) string) (*Store, error) {
	if path == "" {
		path = getenv("OIDC_ONBOARD_DB")
	}
	if IsPostgres(path) {
		return Open(path, Options{Key: getenv("OIDC_ONBOARD_KEY")})
	}
	if path == "" {
		var err error
		if path, err = DefaultPath(getenv, "onboard.db"); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &flow.Error{Code: flow.CodeDBPath, Message: fmt.Sprintf("cannot create the folder of %s", path), Err: err,
			Fix: "create it yourself, or pass another --db PATH"}
	}
	return Open(path, Options{Key: getenv("OIDC_ONBOARD_KEY")})
}

// DefaultPath is the database file name in the default folder,
// $XDG_DATA_HOME/oidc-onboard (~/.local/share/oidc-onboard when unset):
// onboard.db, or onboard-demo.db for the demo's connections.
func DefaultPath(getenv func(string) string, file string) (string, error) {
	data := getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) { // the XDG spec says to ignore a relative value
		home := getenv("HOME")
		if home == "" {
			return "", &flow.Error{Code: flow.CodeDBPath, Message: "cannot find a place for the database: HOME is not set",
				Fix: "pass --db PATH or set OIDC_ONBOARD_DB"}
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "oidc-onboard", file), nil
}
