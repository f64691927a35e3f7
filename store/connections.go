package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Validation is a connection's validation: the report and the metadata
// and key set as the IdP served them.
type Validation = flow.Validation

const connectionColumns = `id, organization, name, status, discovery_url, issuer, client_id,
	client_secret_sealed, redirect_uri, claims, groups_claim, role_mappings, default_role, token_auth_method,
	created_at, updated_at`

// NormalizeID makes an ID typed over a call comparable: trimmed, lower case.
func NormalizeID(id string) string { return flow.NormalizeID(id) }

// SaveConnection creates c when c.ID is empty (assigning an ID such as
// conn_7h3kq9) or creates or updates the connection with c.ID. The client
// secret is sealed; an empty status becomes draft; the organization is
// created when new. c's ID and times are set from what was stored.
func (s *Store) SaveConnection(ctx context.Context, c *flow.Connection) error {
	return s.saveConnection(ctx, c, nil, nil)
}

// CreateConnection files the new connection c (its ID empty) with its
// Redirect URI, redirectURI of the ID it is given, and the
// connection.create audit event as by, in one transaction, creating its
// organization when new: a crash leaves no connection without its
// Redirect URI or its event, and the wizard's start writes once, not four
// times. c's ID, Redirect URI, status and times are set from what was
// stored.
func (s *Store) CreateConnection(ctx context.Context, c *flow.Connection, redirectURI func(id string) string, by Event) error {
	if c.ID != "" {
		return fmt.Errorf("connection %q exists: CreateConnection files new ones", c.ID)
	}
	saved := *c
	err := s.saveConnection(ctx, &saved, redirectURI, func(tx *txn, id string) error {
		return s.auditTx(ctx, tx, by, "connection.create", &saved)
	})
	if err != nil {
		return err
	}
	*c = saved
	return nil
}

// saveConnection is SaveConnection, running also (when not nil) in the
// same transaction once the connection row is written: what also writes is
// saved with the connection or not at all. A new connection's Redirect
// URI is redirectURI of its ID when redirectURI is not nil.
func (s *Store) saveConnection(ctx context.Context, c *flow.Connection, redirectURI func(id string) string, also func(tx *txn, id string) error) error {
	if err := checkConnection(c); err != nil {
		return err
	}
	claims, err := json.Marshal(c.Claims)
	if err != nil {
		return err
	}
	roles := c.RoleMappings
	if roles == nil {
		roles = []flow.RoleMapping{}
	}
	roleJSON, err := json.Marshal(roles)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	if c.ID == "" {
		// Seal per candidate ID: the sealed secret is bound to its connection.
		id, err := insertWithID("conn_", func(id string) error {
			sealed, serr := s.sealSecret(ctx, id, c.ClientSecret)
			if serr != nil {
				return serr
			}
			if redirectURI != nil {
				c.RedirectURI = redirectURI(id)
			}
			c.ID = id // for also's audit; cleared below when the insert fails
			return s.tx(ctx, func(tx *txn) error {
				if err := ensureOrg(ctx, tx, c.Organization, now); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					id, c.Organization, c.Name, c.Status, c.DiscoveryURL, c.Issuer, c.ClientID,
					sealed, c.RedirectURI, claims, c.GroupsClaim, roleJSON, c.DefaultRole, c.TokenAuthMethod, unixNano(now), unixNano(now))
				if err != nil || also == nil {
					return err
				}
				return also(tx, id)
			})
		})
		if err != nil {
			c.ID = ""
			return s.duplicate(err, c)
		}
		c.ID, c.CreatedAt, c.UpdatedAt = id, now, now
		return nil
	}
	c.ID = NormalizeID(c.ID)
	sealed, err := s.sealSecret(ctx, c.ID, c.ClientSecret)
	if err != nil {
		return err
	}
	var created int64
	err = s.tx(ctx, func(tx *txn) error {
		if err := ensureOrg(ctx, tx, c.Organization, now); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET organization = excluded.organization, name = excluded.name,
				status = excluded.status, discovery_url = excluded.discovery_url, issuer = excluded.issuer,
				client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
				redirect_uri = excluded.redirect_uri, claims = excluded.claims, groups_claim = excluded.groups_claim,
				role_mappings = excluded.role_mappings, default_role = excluded.default_role,
				token_auth_method = excluded.token_auth_method, updated_at = excluded.updated_at
			RETURNING created_at`,
			c.ID, c.Organization, c.Name, c.Status, c.DiscoveryURL, c.Issuer, c.ClientID,
			sealed, c.RedirectURI, claims, c.GroupsClaim, roleJSON, c.DefaultRole, c.TokenAuthMethod, unixNano(now), unixNano(now)).Scan(&created)
		if err != nil || also == nil {
			return err
		}
		return also(tx, c.ID)
	})
	if err != nil {
		return s.duplicate(err, c)
	}
	c.CreatedAt, c.UpdatedAt = fromUnixNano(created), now
	return nil
}

// checkConnection refuses a connection the store cannot file, naming the
// field; it fills the default status.
func checkConnection(c *flow.Connection) error {
	c.Organization, c.Name = strings.TrimSpace(c.Organization), strings.TrimSpace(c.Name)
	for _, f := range []struct{ name, value string }{{"organization", c.Organization}, {"name", c.Name}} {
		if f.value == "" {
			return &flow.Error{Code: flow.CodeMissingField, Message: fmt.Sprintf("the connection has no %s", f.name),
				Fix: "give the connection's " + f.name}
		}
	}
	if c.Status == "" {
		c.Status = flow.StatusDraft
	}
	return checkStatus(c.Status)
}

func checkStatus(st flow.ConnectionStatus) error {
	switch st {
	case flow.StatusDraft, flow.StatusActive, flow.StatusInactive:
		return nil
	}
	return &flow.Error{Code: flow.CodeBadStatus, Message: fmt.Sprintf("%q is not a connection status", st),
		Fix: "use draft, active or inactive"}
}

// duplicate explains a clash on (organization, name).
func (s *Store) duplicate(err error, c *flow.Connection) error {
	if !violates(err, unique) {
		return err
	}
	return &flow.Error{Code: flow.CodeDuplicateName,
		Message: fmt.Sprintf("%s already has a connection named %q", c.Organization, c.Name),
		Fix:     "choose another name, or update that connection by its ID"}
}

func (s *Store) sealSecret(ctx context.Context, id, secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	return s.sealValue(ctx, []byte(secret), "connection-secret:"+id)
}

func ensureOrg(ctx context.Context, tx *txn, name string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO organizations (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, name, unixNano(now))
	return err
}

// GetConnection returns the connection with the given ID, its client secret
// unsealed. An unknown ID is an error wrapping ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, id string) (*flow.Connection, error) {
	id = NormalizeID(id)
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, id)
	c, err := s.scanConnection(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("connection", id)
	}
	return c, err
}

// ConnectionByName returns the organization's connection with that name, or
// an error wrapping ErrNotFound.
func (s *Store) ConnectionByName(ctx context.Context, org, name string) (*flow.Connection, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE organization = ? AND name = ?`, strings.TrimSpace(org), strings.TrimSpace(name))
	c, err := s.scanConnection(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no connection named %q in %s: %w", name, org, ErrNotFound)
	}
	return c, err
}

// ListConnections returns the connections of one organization, or of all
// when org is empty, ordered by organization and name.
func (s *Store) ListConnections(ctx context.Context, org string) ([]*flow.Connection, error) {
	scan := func(r scanner) (*flow.Connection, error) { return s.scanConnection(ctx, r) }
	filter, args := where(column{"organization", org})
	return queryAll(ctx, s, scan, `SELECT `+connectionColumns+` FROM connections`+filter+`
		ORDER BY organization, name`, args...)
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scanConnection(ctx context.Context, r scanner) (*flow.Connection, error) {
	var (
		c                flow.Connection
		sealed           []byte
		claims, roles    string
		created, updated int64
	)
	err := r.Scan(&c.ID, &c.Organization, &c.Name, &c.Status, &c.DiscoveryURL, &c.Issuer, &c.ClientID,
		&sealed, &c.RedirectURI, &claims, &c.GroupsClaim, &roles, &c.DefaultRole, &c.TokenAuthMethod, &created, &updated)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, s.explain(err)
	}
	if err := json.Unmarshal([]byte(claims), &c.Claims); err != nil {
		return nil, fmt.Errorf("connection %s: claims: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(roles), &c.RoleMappings); err != nil {
		return nil, fmt.Errorf("connection %s: role mappings: %w", c.ID, err)
	}
	if sealed != nil {
		plain, err := s.openValue(ctx, sealed, "connection-secret:"+c.ID, "the client secret of "+c.ID)
		if err != nil {
			return nil, err
		}
		c.ClientSecret = string(plain)
	}
	c.CreatedAt, c.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	return &c, nil
}

// SetStatus changes a connection's status.
func (s *Store) SetStatus(ctx context.Context, id string, st flow.ConnectionStatus) error {
	if err := checkStatus(st); err != nil {
		return err
	}
	return s.updateOne(ctx, "connection", id, `UPDATE connections SET status = ?, updated_at = ? WHERE id = ?`,
		st, unixNano(s.now()), NormalizeID(id))
}

// DeleteConnection deletes a connection and its test logins; drafts that
// edited it are kept, detached from it. Audit events are kept.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	return s.updateOne(ctx, "connection", id, `DELETE FROM connections WHERE id = ?`, NormalizeID(id))
}

// SaveValidation stores the report of a validation as the connection's
// last one, with report.RawMetadata and report.RawJWKS as its snapshot.
func (s *Store) SaveValidation(ctx context.Context, id string, report flow.Report) error {
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	return s.updateOne(ctx, "connection", id, `UPDATE connections
		SET report = ?, metadata = ?, jwks = ?, validated_at = ? WHERE id = ?`,
		string(b), report.RawMetadata, report.RawJWKS, unixNano(s.now()), NormalizeID(id))
}

// LastValidation returns the connection's last validation, or nil when it
// was never validated.
func (s *Store) LastValidation(ctx context.Context, id string) (*Validation, error) {
	var (
		report   sql.NullString
		at       sql.NullInt64
		meta, ks []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT report, metadata, jwks, validated_at FROM connections WHERE id = ?`,
		NormalizeID(id)).Scan(&report, &meta, &ks, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("connection", id)
	}
	if err != nil {
		return nil, s.explain(err)
	}
	if !report.Valid {
		return nil, nil
	}
	v := &Validation{At: nullTime(at)}
	if err := json.Unmarshal([]byte(report.String), &v.Report); err != nil {
		return nil, fmt.Errorf("connection %s: validation report: %w", id, err)
	}
	v.Report.RawMetadata, v.Report.RawJWKS = meta, ks
	return v, nil
}

// updateOne runs a statement that must touch exactly one row of kind id.
func (s *Store) updateOne(ctx context.Context, kind, id, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return s.explain(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.explain(err)
	}
	if n == 0 {
		return notFound(kind, NormalizeID(id))
	}
	return nil
}
