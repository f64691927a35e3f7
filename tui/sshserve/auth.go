package sshserve

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// Permission extensions that carry a customer's invite from the
// authentication to the session. The code itself is never kept.
const (
	extInviteID  = "oidc-onboard-invite-id"
	extInviteOrg = "oidc-onboard-invite-org"
	// extHandoffID is set instead of extInviteID for a secret hand-off
	// code (with extInviteOrg its organization).
	extHandoffID = "oidc-onboard-handoff-id"
)

// LoadHostKey reads the server's SSH host key from path, generating an
// Ed25519 key there (0600) on first use, and returns it with its SHA256
// fingerprint.
func LoadHostKey(path string) (gossh.Signer, string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = writeHostKey(path)
	}
	if err != nil {
		return nil, "", &flow.Error{Code: flow.CodeHostKey, Message: fmt.Sprintf("cannot read the SSH host key %s", path),
			Fix: "check the file's permissions, or delete it to generate a new key (clients will then warn that the key changed)", Err: err}
	}
	signer, err := gossh.ParsePrivateKey(raw)
	if err != nil {
		return nil, "", &flow.Error{Code: flow.CodeHostKey, Message: fmt.Sprintf("%s is not an SSH private key", path),
			Fix: "delete it to generate a new key (clients will then warn that the key changed)", Err: err}
	}
	return signer, gossh.FingerprintSHA256(signer.PublicKey()), nil
}

// writeHostKey creates a new Ed25519 host key at path; when another
// process created it first, that key is used.
func writeHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "oidc-onboard host key")
	if err != nil {
		return nil, err
	}
	raw := pem.EncodeToMemory(block)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return nil, err
	}
	return raw, f.Close()
}

// authorizedKey reports whether key is listed in the OpenSSH
// authorized_keys file at path, read afresh each time so that removing a
// line takes effect at once.
func authorizedKey(path string, key gossh.PublicKey) bool {
	_, ok := authorizedEntry(path, key)
	return ok
}

// authorizedEntry is authorizedKey that also returns the key's comment
// (by custom the engineer's name or address).
func authorizedEntry(path string, key gossh.PublicKey) (comment string, ok bool) {
	if path == "" || key == nil {
		return "", false
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	want := key.Marshal()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, comment, _, _, err := gossh.ParseAuthorizedKey(line)
		if err == nil && bytes.Equal(k.Marshal(), want) {
			return comment, true
		}
	}
	return "", false
}

// looksLikeCode reports whether a user name has the shape of an invite
// code (16 letters and digits, dashes and case aside), so that "setup" or
// a person's login name is not counted as a wrong code.
func looksLikeCode(user string) bool {
	n := 0
	for _, r := range user {
		switch {
		case r == '-' || r == ' ':
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			n++
		default:
			return false
		}
	}
	return n == 16
}

// failLimiter counts wrong invite codes per source address in a sliding
// window and refuses an address that reached the limit. At most as many
// codes as the address has tries left are checked at once (reserve, then
// settle): a wrong code among them uses a try up, a good one gives its
// place back. So codes answered at the same moment cannot pass the limit
// together, and good codes from one address (many customers behind one
// NAT) wait a moment rather than being refused. With a shared store, the
// failures are recorded there too and counted across every instance on
// the database (the codes being checked at this moment are this
// instance's only).
type failLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time
	shared failureStore // nil: this process's failures only

	mu       sync.Mutex
	failures map[string][]time.Time
	checking map[string]int // codes from the address being checked now
	settled  chan struct{}  // closed, and replaced, whenever a check ends
}

// failureStore keeps the wrong codes of every instance (the store).
type failureStore interface {
	RecordCodeFailure(ctx context.Context, address string, at time.Time) error
	CodeFailures(ctx context.Context, address string, since time.Time) ([]time.Time, error)
	SweepCodeFailures(ctx context.Context, before time.Time) error
}

func newFailLimiter(limit int, window time.Duration, now func() time.Time) *failLimiter {
	return &failLimiter{limit: limit, window: window, now: now, failures: map[string][]time.Time{},
		checking: map[string]int{}, settled: make(chan struct{})}
}

// sharedFailures are addr's failures in the window on every instance; nil
// without a shared store or when it does not answer (then this process's
// count holds).
func (l *failLimiter) sharedFailures(ctx context.Context, addr string) []time.Time {
	if l.shared == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	times, err := l.shared.CodeFailures(ctx, addr, l.now().Add(-l.window))
	if err != nil {
		return nil
	}
	return times
}

// counted is addr's failures in the window: the shared ones, which hold
// this process's too, or this process's when it knows more; l.mu is held.
func (l *failLimiter) counted(addr string, shared []time.Time) []time.Time {
	local := l.recent(addr)
	if len(shared) > len(local) {
		return shared
	}
	return local
}

// blocked reports whether addr is refused, and for how long still.
func (l *failLimiter) blocked(ctx context.Context, addr string) (bool, time.Duration) {
	shared := l.sharedFailures(ctx, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.counted(addr, shared)
	if len(recent) < l.limit {
		return false, 0
	}
	return true, recent[len(recent)-l.limit].Add(l.window).Sub(l.now())
}

// reserve takes a try for addr before its code is checked: false (and how
// long to wait) when addr is at the limit. While the codes being checked
// could use up the tries left, it waits for one of them to end, at most
// until ctx ends (then false, to be tried again). Every true is followed
// by exactly one settle.
func (l *failLimiter) reserve(ctx context.Context, addr string) (bool, time.Duration) {
	for {
		shared := l.sharedFailures(ctx, addr)
		l.mu.Lock()
		recent := l.counted(addr, shared)
		if len(recent) >= l.limit {
			wait := recent[len(recent)-l.limit].Add(l.window).Sub(l.now())
			l.mu.Unlock()
			return false, wait
		}
		if len(recent)+l.checking[addr] < l.limit {
			l.checking[addr]++
			l.mu.Unlock()
			return true, 0
		}
		settled := l.settled
		l.mu.Unlock()
		select {
		case <-settled:
		case <-ctx.Done():
			return false, time.Minute
		}
	}
}

// settle ends a try reserved for addr: a wrong code is recorded as a
// failure (in the shared store too, before the waiting codes look), a
// good one gives the try back.
func (l *failLimiter) settle(addr string, good bool) {
	at := l.now()
	if !good && l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = l.shared.RecordCodeFailure(ctx, addr, at) // this process still counts it
		cancel()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.checking[addr]--; l.checking[addr] <= 0 {
		delete(l.checking, addr)
	}
	if !good {
		l.failures[addr] = append(l.recent(addr), at)
	}
	close(l.settled)
	l.settled = make(chan struct{})
}

// fail records a wrong code from addr.
func (l *failLimiter) fail(addr string) {
	if ok, _ := l.reserve(context.Background(), addr); ok {
		l.settle(addr, false)
	}
}

// recent drops addr's failures older than the window; l.mu is held.
func (l *failLimiter) recent(addr string) []time.Time {
	cutoff := l.now().Add(-l.window)
	times := l.failures[addr]
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	times = times[i:]
	if len(times) == 0 {
		delete(l.failures, addr)
		return nil
	}
	l.failures[addr] = times
	return times
}

// sweep forgets addresses whose failures all left the window, here and
// in the shared store.
func (l *failLimiter) sweep() {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = l.shared.SweepCodeFailures(ctx, l.now().Add(-l.window)) // swept again next time
		cancel()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for addr := range l.failures {
		l.recent(addr)
	}
}

// hostOf is the IP of a remote address, the unit of rate limiting.
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// errTooManyCodes refuses an address past the wrong-code limit.
type errTooManyCodes struct {
	addr string
	wait time.Duration
}

func (e errTooManyCodes) Error() string {
	return fmt.Sprintf("Too many wrong invite codes from %s. Try again in %s, or ask for a new code.",
		e.addr, max(e.wait, time.Minute).Round(time.Minute).String())
}

// tryCode checks an invite code, or a secret hand-off code, from addr:
// the permission extensions that carry it to the session when it is good;
// otherwise the failure is counted and audited. An address at the limit
// gets errTooManyCodes without its code being looked at; the limit counts
// the codes being checked at the same moment, of both kinds.
func (s *Server) tryCode(ctx context.Context, addr, code, how string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kind := "invite code"
	if store.IsHandoffCode(strings.TrimSpace(code)) {
		kind = "hand-off code"
	}
	if ok, wait := s.limiter.reserve(ctx, addr); !ok {
		s.audit(ctx, "ssh:anonymous", addr, "auth.refused", "", kind+" given "+how+" while the address is past the wrong-code limit")
		return nil, errTooManyCodes{addr: addr, wait: wait}
	}
	ext, err := s.lookupCode(ctx, code)
	s.limiter.settle(addr, err == nil)
	if err != nil {
		reason, _ := flow.Explain(err)
		s.audit(ctx, "ssh:anonymous", addr, "auth.failure", "", kind+" given "+how+": "+reason)
		return nil, err
	}
	return ext, nil
}

// lookupCode finds what a code opens, without using it: a hand-off's one
// field, or an invite's wizard.
func (s *Server) lookupCode(ctx context.Context, code string) (map[string]string, error) {
	if store.IsHandoffCode(strings.TrimSpace(code)) {
		h, err := s.opts.Store.LookupHandoff(ctx, code)
		return map[string]string{extHandoffID: h.ID, extInviteOrg: h.Organization}, err
	}
	inv, err := s.opts.Store.LookupInvite(ctx, code)
	return map[string]string{extInviteID: inv.ID, extInviteOrg: inv.Organization}, err
}

// codeAsUser is the "none" authentication: a user name that is a valid
// invite code, or hand-off code, lets the customer in without a prompt.
func (s *Server) codeAsUser(ctx ssh.Context, meta gossh.ConnMetadata) (*gossh.Permissions, error) {
	addr := hostOf(meta.RemoteAddr())
	if !looksLikeCode(meta.User()) && !store.IsHandoffCode(meta.User()) {
		return nil, errors.New("no invite code in the user name")
	}
	ext, err := s.tryCode(ctx, addr, meta.User(), "as the user name")
	if err != nil {
		return nil, err
	}
	return &gossh.Permissions{Extensions: ext}, nil
}

// keyboardInteractive asks for the invite code, up to three times.
func (s *Server) keyboardInteractive(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
	addr := hostOf(ctx.RemoteAddr())
	instruction := "Type the invite code you were given (letters and digits in groups of four)."
	for range 3 {
		if limited, wait := s.limiter.blocked(ctx, addr); limited {
			_, _ = challenge("", errTooManyCodes{addr: addr, wait: wait}.Error(), nil, nil)
			return false
		}
		answers, err := challenge("", instruction, []string{"Invite code: "}, []bool{true})
		if err != nil || len(answers) != 1 {
			return false
		}
		ext, err := s.tryCode(ctx, addr, answers[0], "at the prompt")
		var limited errTooManyCodes
		if errors.As(err, &limited) {
			_, _ = challenge("", limited.Error(), nil, nil)
			return false
		}
		if err == nil {
			perms := ctx.Permissions()
			perms.Extensions = ext
			return true
		}
		msg, fix := flow.Explain(err)
		instruction = sentence(msg) + " " + sentence(fix)
	}
	return false
}

// publicKey admits support engineers whose key is in --authorized-keys.
func (s *Server) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.isPeer(key) {
		return true // another instance; it may only relay a join
	}
	ok := authorizedKey(s.opts.AuthorizedKeys, key)
	if !ok && s.opts.AuthorizedKeys != "" {
		s.audit(ctx, "ssh:"+gossh.FingerprintSHA256(key), hostOf(ctx.RemoteAddr()), "auth.failure", "", "public key not in the authorized keys")
	}
	return ok
}

// identity is who a session acts as, established again for each session
// from the connection's authentication.
type identity struct {
	actor        string
	organization string // empty for a support engineer: every organization
	invite       string // the customer's invite ID, empty for an engineer
	label        string // the invite's label ("Jane at Acme IT"), if it has one
	handoff      string // the secret hand-off's ID, for a customer who came with one
	name         string // an engineer's name: their key's comment, or "support"
	peer         bool   // another instance of this service (see relay.go)
	relayed      bool   // an engineer's join relayed by another instance
}

// who names the person for the engineers' list and events: the invite's
// label when it has one, else who acts.
func (id identity) who() string { return cmp.Or(id.label, id.actor) }

// identify re-checks a session's authentication now: the engineer's key is
// still authorized, or the customer's invite is still usable.
func (s *Server) identify(sess ssh.Session) (identity, error) {
	if key := sess.PublicKey(); key != nil {
		if s.isPeer(key) {
			return identity{actor: "instance", name: "instance", peer: true}, nil
		}
		comment, ok := authorizedEntry(s.opts.AuthorizedKeys, key)
		if !ok {
			return identity{}, errors.New("this key is no longer authorized on the server")
		}
		return identity{actor: "ssh:" + gossh.FingerprintSHA256(key), name: cmp.Or(strings.TrimSpace(comment), "support")}, nil
	}
	perms := sess.Permissions()
	if perms.Permissions == nil {
		return identity{}, errors.New("not authenticated")
	}
	id, org := perms.Extensions[extInviteID], perms.Extensions[extInviteOrg]
	if h := perms.Extensions[extHandoffID]; h != "" && org != "" {
		return s.handoffIdentity(sess.Context(), h, org)
	}
	if id == "" || org == "" {
		return identity{}, errors.New("not authenticated")
	}
	inv, err := s.inviteCheck(sess.Context(), id, org)
	if err != nil {
		return identity{}, err
	}
	return identity{actor: "invite:" + id, organization: org, invite: id, label: inv.Label}, nil
}

// errInviteUsed: the organization's connection was activated, which closes
// its invites.
var errInviteUsed = errors.New("the organization's connection is set up, so this invite code is closed")

// inviteCheck reads the invite id of org, and why it can no longer be
// used (nil while it can).
func (s *Server) inviteCheck(ctx context.Context, id, org string) (store.Invite, error) {
	inv, err := s.opts.Store.GetInvite(ctx, id)
	return inv, s.judgeInvite(inv, err, org)
}

// errInviteUnknown is an invite the store does not have.
var errInviteUnknown = errors.New("this invite code is not known")

// judgeInvite says whether inv, as the store read it (with err), still
// lets a customer of org in.
func (s *Server) judgeInvite(inv store.Invite, err error, org string) error {
	switch {
	case errors.Is(err, errInviteUnknown) || flow.IsCode(err, flow.CodeInviteUnknown) || err == nil && inv.Organization != org:
		return errInviteUnknown
	case err != nil:
		return err
	case !inv.RevokedAt.IsZero():
		return errors.New("this invite code was withdrawn")
	case !inv.UsedAt.IsZero():
		return errInviteUsed
	case !s.opts.Now().Before(inv.ExpiresAt):
		return errors.New("this invite code expired")
	}
	return nil
}

// sentence capitalizes s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// actorOf names who authenticated a connection, for the audit log before
// a session has re-checked it: the engineer's key, the customer's invite,
// or anonymous.
func actorOf(ctx ssh.Context) string {
	if key, ok := ctx.Value(ssh.ContextKeyPublicKey).(ssh.PublicKey); ok && key != nil {
		return "ssh:" + gossh.FingerprintSHA256(key)
	}
	if perms := ctx.Permissions(); perms != nil && perms.Permissions != nil {
		if id := perms.Extensions[extInviteID]; id != "" {
			return "invite:" + id
		}
		if id := perms.Extensions[extHandoffID]; id != "" {
			return "handoff:" + id
		}
	}
	return "ssh:anonymous"
}

// inviteOrg is the organization of a customer's invite, or "".
func inviteOrg(ctx ssh.Context) string {
	if perms := ctx.Permissions(); perms != nil && perms.Permissions != nil {
		return perms.Extensions[extInviteOrg]
	}
	return ""
}
