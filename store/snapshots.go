package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// SaveActivationSnapshot keeps report (with its RawMetadata and RawJWKS) as
// the snapshot the connection was activated with; drift watch (verify)
// compares the IdP with it. Call it when a connection becomes active.
func (s *Store) SaveActivationSnapshot(ctx context.Context, id string, report flow.Report) error {
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	id = NormalizeID(id)
	return s.tx(ctx, func(tx *txn) error {
		if err := connectionExists(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO activation_snapshots (connection_id, at, report, metadata, jwks)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection_id) DO UPDATE SET at = excluded.at,
			report = excluded.report, metadata = excluded.metadata, jwks = excluded.jwks`,
			id, unixNano(s.now()), string(b), report.RawMetadata, report.RawJWKS)
		return err
	})
}

// Activate sets the connection active and keeps its last validation as the
// activation snapshot, in one transaction. A connection never validated is
// activated without a snapshot; verify then says so.
func (s *Store) Activate(ctx context.Context, id string) error {
	id = NormalizeID(id)
	return s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE connections SET status = ?, updated_at = ? WHERE id = ?`,
			flow.StatusActive, unixNano(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("connection", id)
		}
		return snapshotLastValidation(ctx, tx, id)
	})
}

// snapshotLastValidation keeps the connection's last validation, if any,
// as its activation snapshot.
func snapshotLastValidation(ctx context.Context, tx *txn, id string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO activation_snapshots (connection_id, at, report, metadata, jwks)
		SELECT id, validated_at, report, metadata, jwks FROM connections WHERE id = ? AND report IS NOT NULL
		ON CONFLICT (connection_id) DO UPDATE SET at = excluded.at, report = excluded.report,
		metadata = excluded.metadata, jwks = excluded.jwks`, id)
	return err
}

// ActivationSnapshot returns the validation the connection was activated
// with, or nil when it has none.
func (s *Store) ActivationSnapshot(ctx context.Context, id string) (*Validation, error) {
	var (
		report   string
		at       int64
		meta, ks []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT report, metadata, jwks, at FROM activation_snapshots WHERE connection_id = ?`,
		NormalizeID(id)).Scan(&report, &meta, &ks, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.explain(err)
	}
	v := &Validation{At: fromUnixNano(at)}
	if err := json.Unmarshal([]byte(report), &v.Report); err != nil {
		return nil, fmt.Errorf("connection %s: activation snapshot: %w", id, err)
	}
	v.Report.RawMetadata, v.Report.RawJWKS = meta, ks
	return v, nil
}

// SetMappingsCheckedAgainst records which test login the connection's
// current mappings were checked (replayed) against.
func (s *Store) SetMappingsCheckedAgainst(ctx context.Context, id string, testLoginID int64) error {
	return s.updateOne(ctx, "connection", id, `UPDATE connections SET mappings_checked_login = ? WHERE id = ?`,
		testLoginID, NormalizeID(id))
}

// MappingsCheckedAgainst returns the ID of the test login the connection's
// mappings were checked against, or 0 when none.
func (s *Store) MappingsCheckedAgainst(ctx context.Context, id string) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT mappings_checked_login FROM connections WHERE id = ?`, NormalizeID(id)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("connection", id)
	}
	if err != nil {
		return 0, s.explain(err)
	}
	return n.Int64, nil
}

// SetGroupLabel names an opaque group ID (such as an Entra object ID) for
// display; an empty label removes the name.
func (s *Store) SetGroupLabel(ctx context.Context, connectionID, groupID, label string) error {
	connectionID, groupID, label = NormalizeID(connectionID), strings.TrimSpace(groupID), strings.TrimSpace(label)
	return s.tx(ctx, func(tx *txn) error {
		if err := connectionExists(ctx, tx, connectionID); err != nil {
			return err
		}
		if label == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM group_labels WHERE connection_id = ? AND group_id = ?`, connectionID, groupID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_labels (connection_id, group_id, label) VALUES (?, ?, ?)
			ON CONFLICT (connection_id, group_id) DO UPDATE SET label = excluded.label`, connectionID, groupID, label)
		return err
	})
}

// GroupLabels returns the connection's group labels by group ID.
func (s *Store) GroupLabels(ctx context.Context, connectionID string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_id, label FROM group_labels WHERE connection_id = ?`, NormalizeID(connectionID))
	if err != nil {
		return nil, s.explain(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var g, l string
		if err := rows.Scan(&g, &l); err != nil {
			return nil, s.explain(err)
		}
		out[g] = l
	}
	return out, s.explain(rows.Err())
}

func connectionExists(ctx context.Context, tx *txn, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM connections WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("connection", id)
	}
	return err
}
