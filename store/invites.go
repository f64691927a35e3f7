package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Invite is a one-time code that lets an IT admin into the SSH setup of one
// organization. Only a hash of the code is stored.
type Invite = flow.Invite

// codeAlphabet is Crockford's base32 in lower case; the invite page and
// hashCode read codes by the same rules (flow.NormalizeInviteCode).
const codeAlphabet = flow.InviteCodeAlphabet

// codeLength symbols of 5 bits: 80 bits, enough that a plain SHA-256 of the
// code is a safe thing to store.
const codeLength = flow.InviteCodeLength

// newCode returns a fresh code in groups of four: "7k2m-q9xd-4hnc-b3tw".
func newCode() string {
	var b [codeLength]byte
	rand.Read(b[:])
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[c&31])
	}
	return sb.String()
}

func hashCode(code string) []byte {
	sum := sha256.Sum256([]byte(flow.NormalizeInviteCode(code)))
	return sum[:]
}

// CreateInvite creates an invite to org valid for ttl and returns its code,
// which is shown once and never stored. The organization is created when new.
func (s *Store) CreateInvite(ctx context.Context, org string, ttl time.Duration) (string, Invite, error) {
	return s.createInvite(ctx, org, "", ttl, nil)
}

// MakeInvite is CreateInvite, audited as by (Actor, Address) in the same
// transaction: the wizard and `oidc-onboard invite` both make invites so.
func (s *Store) MakeInvite(ctx context.Context, org string, ttl time.Duration, by Event) (string, Invite, error) {
	return s.createInvite(ctx, org, "", ttl, &by)
}

// MakeInviteFor is MakeInvite with a label saying who the invite is for
// ("Jane at Acme IT"), which engineers see in their list of sessions.
func (s *Store) MakeInviteFor(ctx context.Context, org, label string, ttl time.Duration, by Event) (string, Invite, error) {
	return s.createInvite(ctx, org, label, ttl, &by)
}

func (s *Store) createInvite(ctx context.Context, org, label string, ttl time.Duration, by *Event) (string, Invite, error) {
	org = strings.TrimSpace(org)
	if org == "" {
		return "", Invite{}, &flow.Error{Code: flow.CodeMissingField, Message: "the invite has no organization",
			Fix: "name the organization the invite is for"}
	}
	if ttl <= 0 {
		return "", Invite{}, &flow.Error{Code: flow.CodeBadTTL, Message: fmt.Sprintf("an invite cannot last %s", ttl),
			Fix: "give a positive duration, e.g. 24h"}
	}
	now := s.now().UTC()
	inv := Invite{Organization: org, Label: strings.TrimSpace(label), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	code := newCode()
	id, err := insertWithID("inv_", func(id string) error {
		return s.tx(ctx, func(tx *txn) error {
			if err := ensureOrg(ctx, tx, org, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO invites (id, code_hash, organization, label, created_at, expires_at)
				VALUES (?, ?, ?, ?, ?, ?)`, id, hashCode(code), org, inv.Label, unixNano(now), unixNano(inv.ExpiresAt))
			if err != nil || by == nil {
				return err
			}
			by.Detail = id
			return s.auditTx(ctx, tx, *by, "invite.create", &flow.Connection{Organization: org})
		})
	})
	if err != nil {
		return "", Invite{}, s.explain(err)
	}
	inv.ID = id
	return code, inv, nil
}

// LookupInvite returns the invite a code belongs to if it can still be
// used, without using it; otherwise an error saying why not.
func (s *Store) LookupInvite(ctx context.Context, code string) (Invite, error) {
	inv, err := s.inviteByCode(ctx, code)
	if err != nil {
		return Invite{}, err
	}
	return inv, usable(inv, s.now())
}

// RedeemInvite uses an invite: it succeeds once per code, while the code is
// unexpired and unrevoked, even with many sessions racing for it.
func (s *Store) RedeemInvite(ctx context.Context, code string) (Invite, error) {
	now := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `UPDATE invites SET used_at = ?
		WHERE code_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
		unixNano(now), hashCode(code), unixNano(now))
	if err != nil {
		return Invite{}, s.explain(err)
	}
	inv, err := s.inviteByCode(ctx, code)
	if err != nil {
		return Invite{}, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return inv, nil
	}
	if err := usable(inv, now); err != nil {
		return Invite{}, err
	}
	return Invite{}, errInviteUsed // used between our update and our read
}

var errInviteUsed = &flow.Error{Code: flow.CodeInviteUsed, Message: "this invite code was already used",
	Fix: "ask the person who invited you for a new code"}

// usable says why an invite can no longer be used, or nil.
func usable(inv Invite, now time.Time) error {
	const fix = "ask the person who invited you for a new code"
	if !inv.RevokedAt.IsZero() {
		return &flow.Error{Code: flow.CodeInviteRevoked, Message: "this invite code was withdrawn", Fix: fix}
	}
	return unusedUnexpired("invite code", inv.UsedAt, inv.ExpiresAt, now, errInviteUsed, fix)
}

// unusedUnexpired says why a one-time code (what names it) used at used
// (zero: not yet) and expiring at expires can no longer be used at now:
// errUsed, or its expiry with fix; nil when it can.
func unusedUnexpired(what string, used, expires, now time.Time, errUsed error, fix string) error {
	switch {
	case !used.IsZero():
		return errUsed
	case !now.Before(expires):
		return &flow.Error{Code: flow.CodeInviteExpired,
			Message: fmt.Sprintf("this %s expired at %s", what, expires.Format(time.RFC1123)), Fix: fix}
	}
	return nil
}

func (s *Store) inviteByCode(ctx context.Context, code string) (Invite, error) {
	inv, err := scanInvite(s.db.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE code_hash = ?`, hashCode(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, &flow.Error{Code: flow.CodeInviteUnknown, Message: "this invite code is not known",
			Fix: "check the code (letters and digits in groups of four), or ask for a new one"}
	}
	return inv, s.explain(err)
}

// GetInvite returns the invite with the given ID; a flow.Error with code
// invite_unknown when there is none.
func (s *Store) GetInvite(ctx context.Context, id string) (Invite, error) {
	inv, err := scanInvite(s.db.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, &flow.Error{Code: flow.CodeInviteUnknown, Message: "this invite code is not known",
			Fix: "ask the person who invited you for a new code"}
	}
	return inv, s.explain(err)
}

// invitesPerQuery is how many invites GetInvites reads in one query; a
// shorter list is padded with its last ID, so that every query has the
// same text and its prepared statement is kept.
const invitesPerQuery = 64

// GetInvites reads the invites of ids, as GetInvite does, in a few
// queries: a server re-reads the invites of all its customers' sessions
// together. An ID that is not known is not in the map.
func (s *Store) GetInvites(ctx context.Context, ids []string) (map[string]Invite, error) {
	query := `SELECT ` + inviteColumns + ` FROM invites WHERE id IN (?` + strings.Repeat(", ?", invitesPerQuery-1) + `)`
	scan := func(r scanner) (Invite, error) { return scanInvite(r) }
	out := make(map[string]Invite, len(ids))
	for chunk := range slices.Chunk(ids, invitesPerQuery) {
		args := make([]any, invitesPerQuery)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		invs, err := queryAll(ctx, s, scan, query, args...)
		if err != nil {
			return nil, s.explain(err)
		}
		for _, inv := range invs {
			out[inv.ID] = inv
		}
	}
	return out, nil
}

// RevokeInvite withdraws an unused invite by its ID.
func (s *Store) RevokeInvite(ctx context.Context, id string) error {
	return s.updateOne(ctx, "unused invite", id, `UPDATE invites SET revoked_at = ?
		WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, unixNano(s.now()), NormalizeID(id))
}

// MarkInvitesUsedForOrg marks every open invite of org used, e.g. once its
// connection is set up, and returns how many it closed.
func (s *Store) MarkInvitesUsedForOrg(ctx context.Context, org string) (int64, error) {
	n, err := s.closeInvites(ctx, s.db, org)
	return n, s.explain(err)
}

// closeInvites marks every open invite of org used.
func (s *Store) closeInvites(ctx context.Context, db execer, org string) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE invites SET used_at = ?
		WHERE organization = ? AND used_at IS NULL AND revoked_at IS NULL`, unixNano(s.now()), org)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ListInvites returns the invites of org, or all when org is empty, the
// newest first.
func (s *Store) ListInvites(ctx context.Context, org string) ([]Invite, error) {
	scan := func(r scanner) (Invite, error) {
		inv, err := scanInvite(r)
		return inv, s.explain(err)
	}
	filter, args := where(column{"organization", org})
	return queryAll(ctx, s, scan, `SELECT `+inviteColumns+` FROM invites`+filter+`
		ORDER BY created_at DESC, id`, args...)
}

const inviteColumns = `id, organization, label, created_at, expires_at, used_at, revoked_at`

func scanInvite(r scanner) (Invite, error) {
	var (
		inv              Invite
		created, expires int64
		used, revoked    sql.NullInt64
	)
	if err := r.Scan(&inv.ID, &inv.Organization, &inv.Label, &created, &expires, &used, &revoked); err != nil {
		return Invite{}, err
	}
	inv.CreatedAt, inv.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	inv.UsedAt, inv.RevokedAt = nullTime(used), nullTime(revoked)
	return inv, nil
}

// The settings serve records: its SSH server as customers reach it
// (HOST:PORT), and the public URL of its callbacks and invite pages.
const (
	settingServeSSHHost   = "serve.ssh_host"
	settingServePublicURL = "serve.public_url"
)

// SetServeAddresses records where `serve` listens, as customers reach it:
// its SSH server (HOST:PORT) and its public URL, for the commands and the
// invite page printed with invites; "" forgets one.
func (s *Store) SetServeAddresses(ctx context.Context, sshHost, publicURL string) error {
	return s.tx(ctx, func(tx *txn) error {
		for name, value := range map[string]string{settingServeSSHHost: sshHost, settingServePublicURL: publicURL} {
			var err error
			if value == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, name)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
					ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
					name, value, unixNano(s.now()))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// InviteAddresses is where customers reach the server, for an invite: the
// SSH server given (--ssh-host), else the one `serve` recorded last, and
// serve's public URL; "" for what is not known.
func (s *Store) InviteAddresses(ctx context.Context, givenSSHHost string) (sshHost, publicURL string, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM settings WHERE name IN (?, ?)`,
		settingServeSSHHost, settingServePublicURL)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return "", "", err
		}
		if name == settingServeSSHHost {
			sshHost = value
		} else {
			publicURL = value
		}
	}
	if givenSSHHost != "" {
		sshHost = givenSSHHost
	}
	return sshHost, publicURL, rows.Err()
}
