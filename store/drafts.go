package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Draft is a wizard session in progress: where it stopped and the partly
// filled form, so a quit, a crash or a dropped SSH session resumes there.
type Draft struct {
	ID           string
	Organization string
	// ConnectionID is the connection the draft edits, empty for a new one.
	ConnectionID string
	Step         int
	// Form is the wizard's form, opaque to the store. It may hold the client
	// secret, so the store seals all of it.
	Form      json.RawMessage
	Actor     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SaveDraft creates the draft (assigning an ID such as draft_4mx8pq when
// d.ID is empty) or replaces the stored one, and returns it as stored.
func (s *Store) SaveDraft(ctx context.Context, d Draft) (Draft, error) {
	now := s.now().UTC()
	d.Organization = strings.TrimSpace(d.Organization)
	d.ConnectionID = NormalizeID(d.ConnectionID)
	var err error
	if d.ID == "" {
		// A plain INSERT: a colliding new ID fails and is retried, never
		// overwriting another draft.
		d.CreatedAt = now
		d.ID, err = insertWithID("draft_", func(id string) error {
			sealed, err := s.sealValue(ctx, d.Form, "draft-form:"+id)
			if err != nil {
				return err
			}
			_, err = s.db.ExecContext(ctx, draftInsert, id, d.Organization, nullString(d.ConnectionID),
				d.Step, sealed, d.Actor, unixNano(now), unixNano(now))
			return err
		})
	} else {
		// A replacement, the wizard's hot path, goes through the store's
		// one draft writer, which commits many sessions' saves at once.
		d.ID = NormalizeID(d.ID)
		ds := &draftSave{d: d, now: unixNano(now), digest: draftDigest(d), done: make(chan draftSaved, 1)}
		if ds.sealed, err = s.sealValue(ctx, d.Form, "draft-form:"+d.ID); err == nil {
			var created int64
			created, err = s.draftWriter().save(ctx, ds)
			d.CreatedAt, now = fromUnixNano(created), fromUnixNano(ds.now)
		}
	}
	if violates(err, foreignKey) {
		return Draft{}, &flow.Error{Code: flow.CodeUnknownConnection,
			Message: fmt.Sprintf("the draft edits connection %s, which does not exist", d.ConnectionID),
			Fix:     "start the draft again from the connection list"}
	}
	if err != nil {
		return Draft{}, s.explain(err)
	}
	d.UpdatedAt = now
	return d, nil
}

// draftDigest identifies what a save of d stores, its times aside.
func draftDigest(d Draft) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range []string{d.ID, d.Organization, d.ConnectionID, strconv.Itoa(d.Step), d.Actor} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	h.Write(d.Form)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// GetDraft returns the draft with the given ID, its form unsealed.
func (s *Store) GetDraft(ctx context.Context, id string) (Draft, error) {
	id = NormalizeID(id)
	d, err := s.scanDraft(ctx, s.db.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, notFound("draft", id)
	}
	return d, err
}

// ListDrafts returns the drafts of one organization, or all when org is
// empty, the most recently changed first.
func (s *Store) ListDrafts(ctx context.Context, org string) ([]Draft, error) {
	scan := func(r scanner) (Draft, error) { return s.scanDraft(ctx, r) }
	filter, args := where(column{"organization", org})
	return queryAll(ctx, s, scan, `SELECT `+draftColumns+` FROM drafts`+filter+`
		ORDER BY updated_at DESC, id`, args...)
}

// DeleteDraft deletes a draft, typically once its connection is saved.
func (s *Store) DeleteDraft(ctx context.Context, id string) error {
	return s.updateOne(ctx, "draft", id, `DELETE FROM drafts WHERE id = ?`, NormalizeID(id))
}

const (
	draftInsert = `INSERT INTO drafts (id, organization, connection_id, step, form_sealed, actor, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	draftUpsert = ` ON CONFLICT (id) DO UPDATE SET organization = excluded.organization,
		connection_id = excluded.connection_id, step = excluded.step, form_sealed = excluded.form_sealed,
		actor = excluded.actor, updated_at = excluded.updated_at
		RETURNING created_at`
)

const draftColumns = `id, organization, connection_id, step, form_sealed, actor, created_at, updated_at`

func (s *Store) scanDraft(ctx context.Context, r scanner) (Draft, error) {
	var (
		d                Draft
		conn             sql.NullString
		sealed           []byte
		created, updated int64
	)
	if err := r.Scan(&d.ID, &d.Organization, &conn, &d.Step, &sealed, &d.Actor, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Draft{}, err
		}
		return Draft{}, s.explain(err)
	}
	form, err := s.openValue(ctx, sealed, "draft-form:"+d.ID, "the form of draft "+d.ID)
	if err != nil {
		return Draft{}, err
	}
	d.ConnectionID, d.Form = conn.String, form
	d.CreatedAt, d.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	return d, nil
}
