package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// A secret hand-off lets the customer paste the client secret (or all
// three credentials) over SSH straight into the sealed store, bound to the
// engineer's draft, so that it never passes through the engineer. The
// engineer's session makes a one-time code (CreateHandoff); the customer
// connects with it as the SSH user name and pastes (ReceiveHandoff); the
// engineer's session polls (HandoffResult) and adopts what arrived into
// its setup before its next draft save, so that its saver never writes an
// empty secret over the received one.

// HandoffPrefix starts every hand-off code, so that the SSH server tells
// one from an invite code (which has none): "secret-7k2m-q9xd-4hnc-b3tw".
const HandoffPrefix = "secret-"

// HandoffTTL is how long a hand-off code can be used.
const HandoffTTL = 15 * time.Minute

// What a hand-off asks the customer for.
const (
	// HandoffSecret asks for the client secret only.
	HandoffSecret = "secret"
	// HandoffAll asks for the client ID, the client secret and the
	// discovery endpoint.
	HandoffAll = "all"
)

// Handoff is a one-time code bound to one draft of one organization. Only
// a hash of the code is stored.
type Handoff struct {
	ID           string
	Organization string
	DraftID      string
	// Connection is the connection's name, shown to the customer.
	Connection string
	// Fields is HandoffSecret or HandoffAll.
	Fields    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until the customer's values arrived
}

// HandoffValues are what the customer pasted; only ClientSecret for
// HandoffSecret.
type HandoffValues struct {
	ClientID       string `json:"client_id,omitempty"`
	ClientSecret   string `json:"client_secret"`
	DiscoveryInput string `json:"discovery_input,omitempty"`
}

// IsHandoffCode reports whether text (an SSH user name) has the shape of a
// hand-off code: the prefix, then an invite code's 16 symbols.
func IsHandoffCode(text string) bool {
	if len(text) <= len(HandoffPrefix) || !strings.EqualFold(text[:len(HandoffPrefix)], HandoffPrefix) {
		return false
	}
	n := flow.NormalizeInviteCode(text[len(HandoffPrefix):])
	return len(n) == codeLength && strings.Trim(n, codeAlphabet) == ""
}

// CreateHandoff makes a hand-off code for draft draftID of org, asking for
// fields (HandoffSecret or HandoffAll), valid HandoffTTL, audited as by
// (handoff.created). The code is returned once and never stored.
func (s *Store) CreateHandoff(ctx context.Context, org, draftID, connection, fields string, by Event) (string, Handoff, error) {
	org, draftID = strings.TrimSpace(org), NormalizeID(draftID)
	if fields != HandoffSecret && fields != HandoffAll {
		return "", Handoff{}, fmt.Errorf("store.CreateHandoff: fields %q is neither %q nor %q", fields, HandoffSecret, HandoffAll)
	}
	if org == "" || draftID == "" {
		return "", Handoff{}, &flow.Error{Code: flow.CodeMissingField, Message: "the setup is not saved as a draft yet",
			Fix: "wait a moment for the draft to be saved, then ask again"}
	}
	now := s.now().UTC()
	h := Handoff{Organization: org, DraftID: draftID, Connection: connection, Fields: fields, CreatedBy: by.Actor,
		CreatedAt: now, ExpiresAt: now.Add(HandoffTTL)}
	code := HandoffPrefix + newCode()
	id, err := insertWithID("ho_", func(id string) error {
		return s.tx(ctx, func(tx *txn) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM drafts WHERE id = ? AND organization = ?`,
				draftID, org).Scan(&n); err != nil || n == 0 {
				return cmp.Or(err, notFound("draft", draftID))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO handoffs (id, code_hash, organization, draft_id, connection_name,
				fields, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, hashCode(code), org, draftID, connection, fields, by.Actor, unixNano(now), unixNano(h.ExpiresAt)); err != nil {
				return err
			}
			by.Detail = fmt.Sprintf("hand-off %s for draft %s (%s)", id, draftID, fields)
			return s.auditTx(ctx, tx, by, "handoff.created", &flow.Connection{Organization: org})
		})
	})
	if err != nil {
		return "", Handoff{}, s.explain(err)
	}
	h.ID = id
	return code, h, nil
}

// LookupHandoff returns the hand-off a code belongs to if it can still be
// used, without using it; otherwise an error saying why not, with the
// codes of invites (unknown, used, expired).
func (s *Store) LookupHandoff(ctx context.Context, code string) (Handoff, error) {
	if !IsHandoffCode(strings.TrimSpace(code)) {
		return Handoff{}, errHandoffUnknown
	}
	h, _, err := s.handoffWhere(ctx, `code_hash = ?`, hashCode(code))
	if err != nil {
		return Handoff{}, err
	}
	return h, handoffUsable(h, s.now())
}

// GetHandoff returns the hand-off id of org; a flow.Error with code
// invite_unknown when there is none.
func (s *Store) GetHandoff(ctx context.Context, id, org string) (Handoff, error) {
	h, _, err := s.handoffWhere(ctx, `id = ? AND organization = ?`, NormalizeID(id), org)
	return h, err
}

// ReceiveHandoff seals what the customer pasted into hand-off id of org
// and uses the code up, audited as by (handoff.received, with the number
// of characters, never the value): it succeeds once, while the code is
// unexpired and its draft exists, even with many sessions racing for it.
func (s *Store) ReceiveHandoff(ctx context.Context, id, org string, v HandoffValues, by Event) (Handoff, error) {
	id = NormalizeID(id)
	plain, err := json.Marshal(v)
	if err != nil {
		return Handoff{}, err
	}
	sealed, err := s.sealValue(ctx, plain, "handoff:"+id)
	if err != nil {
		return Handoff{}, err
	}
	now := s.now().UTC()
	var won bool
	err = s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE handoffs SET used_at = ?, values_sealed = ?
			WHERE id = ? AND organization = ? AND used_at IS NULL AND expires_at > ?`,
			unixNano(now), sealed, id, org, unixNano(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		won = true
		by.Detail = fmt.Sprintf("hand-off %s: client secret of %d characters", id, len([]rune(v.ClientSecret)))
		if v.ClientID != "" || v.DiscoveryInput != "" {
			by.Detail += ", client ID and discovery endpoint"
		}
		return s.auditTx(ctx, tx, by, "handoff.received", &flow.Connection{Organization: org})
	})
	if err != nil {
		return Handoff{}, err
	}
	h, _, err := s.handoffWhere(ctx, `id = ? AND organization = ?`, id, org)
	if err != nil || won {
		return h, err
	}
	if err := handoffUsable(h, now); err != nil {
		return Handoff{}, err
	}
	return Handoff{}, errHandoffUsed
}

// HandoffResult is the engineer's poll of hand-off id, which must belong
// to draft draftID of org: the values once received (nil while pending),
// or an error (the code expired unused, or no such hand-off).
func (s *Store) HandoffResult(ctx context.Context, id, org, draftID string) (Handoff, *HandoffValues, error) {
	h, sealed, err := s.handoffWhere(ctx, `id = ? AND organization = ? AND draft_id = ?`,
		NormalizeID(id), org, NormalizeID(draftID))
	if err != nil {
		return Handoff{}, nil, err
	}
	if h.UsedAt.IsZero() {
		return h, nil, handoffUsable(h, s.now())
	}
	plain, err := s.openValue(ctx, sealed, "handoff:"+h.ID, "the values of hand-off "+h.ID)
	if err != nil {
		return Handoff{}, nil, err
	}
	var v HandoffValues
	if err := json.Unmarshal(plain, &v); err != nil {
		return Handoff{}, nil, fmt.Errorf("the values of hand-off %s: %w", h.ID, err)
	}
	return h, &v, nil
}

var (
	errHandoffUnknown = &flow.Error{Code: flow.CodeInviteUnknown, Message: "this hand-off code is not known",
		Fix: "check the code, or ask the support engineer for a new one"}
	errHandoffUsed = &flow.Error{Code: flow.CodeInviteUsed, Message: "this hand-off code was already used",
		Fix: "ask the support engineer for a new code if they still need the secret"}
)

// handoffUsable says why a hand-off can no longer be used, or nil.
func handoffUsable(h Handoff, now time.Time) error {
	return unusedUnexpired("hand-off code", h.UsedAt, h.ExpiresAt, now, errHandoffUsed, "ask the support engineer for a new code")
}

// sealedHandoff is a hand-off with its sealed values (nil until received).
type sealedHandoff struct {
	Handoff
	sealed []byte
}

// handoffWhere reads the one hand-off that where (with args) selects, and
// its sealed values.
func (s *Store) handoffWhere(ctx context.Context, where string, args ...any) (Handoff, []byte, error) {
	scan := func(r scanner) (sealedHandoff, error) {
		var (
			h                sealedHandoff
			created, expires int64
			used             *int64
		)
		err := r.Scan(&h.ID, &h.Organization, &h.DraftID, &h.Connection, &h.Fields, &h.CreatedBy, &created, &expires, &used, &h.sealed)
		h.CreatedAt, h.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
		if used != nil {
			h.UsedAt = fromUnixNano(*used)
		}
		return h, s.explain(err)
	}
	found, err := queryAll(ctx, s, scan, `SELECT id, organization, draft_id, connection_name, fields, created_by,
		created_at, expires_at, used_at, values_sealed FROM handoffs WHERE `+where, args...)
	if err != nil || len(found) == 0 {
		return Handoff{}, nil, cmp.Or(err, error(errHandoffUnknown))
	}
	return found[0].Handoff, found[0].sealed, nil
}
