package flow

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TranscriptEntry is one timestamped event of a connection's setup.
type TranscriptEntry struct {
	At time.Time `json:"at"`
	// Kind is e.g. "validation", "test_login", "audit".
	Kind    string   `json:"kind"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
}

// Transcript is a redacted record of a connection's setup for a support
// ticket: what it is, and what happened to it, oldest first.
type Transcript struct {
	SupportCode  string            `json:"support_code"`
	GeneratedAt  time.Time         `json:"generated_at"`
	ConnectionID string            `json:"connection_id"`
	Organization string            `json:"organization"`
	Name         string            `json:"name"`
	Status       ConnectionStatus  `json:"status"`
	Provider     IdP               `json:"provider"`
	Settings     map[string]string `json:"settings"`
	Entries      []TranscriptEntry `json:"entries"`
}

// supportAlphabet reads unambiguously over a call (no 0/O, 1/I/L, U/V).
const supportAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// SupportCode is a short code for a transcript, derived from the
// connection ID and the time it was made, e.g. "K7QM-4XT2": support staff
// quote it to find the ticket's transcript again.
func SupportCode(connectionID string, at time.Time) string {
	sum := sha256.Sum256([]byte(connectionID + "|" + at.UTC().Format(time.RFC3339)))
	n := binary.BigEndian.Uint64(sum[:8])
	var b strings.Builder
	for i := range 8 {
		if i == 4 {
			b.WriteByte('-')
		}
		b.WriteByte(supportAlphabet[n%uint64(len(supportAlphabet))])
		n /= uint64(len(supportAlphabet))
	}
	return b.String()
}

// Redactor removes secrets and tokens from text meant for a ticket.
type Redactor struct {
	secrets []string
}

// NewRedactor removes the given secrets (e.g. the client secret) wherever
// they appear, besides anything shaped like a JWT or a long random token.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

var (
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	// tokenLike is a long run of token characters with letters and digits
	// mixed; URLs, GUIDs and words do not match (see looksRandom).
	tokenLike = regexp.MustCompile(`[A-Za-z0-9_~+/=.-]{32,}`)
)

// Redact returns s with secrets, JWTs and token-like strings masked.
func (r *Redactor) Redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[secret removed]")
	}
	s = jwtLike.ReplaceAllString(s, "[JWT removed]")
	return tokenLike.ReplaceAllStringFunc(s, func(m string) string {
		if looksRandom(m) {
			return "[token removed]"
		}
		return m
	})
}

// looksRandom tells a token from a long word, path or GUID: it mixes upper
// and lower case letters and digits and has no more than a few dots or
// slashes.
func looksRandom(s string) bool {
	if IsGUID(s) || strings.Count(s, "/")+strings.Count(s, ".") > 3 {
		return false
	}
	var upper, lower, digit bool
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// sensitiveClaim names claims whose values are never shown: hashes of
// tokens, nonces, session IDs and anything called a token, code or secret.
func sensitiveClaim(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "secret", "code", "password", "nonce", "hash", "sid", "uti", "rh"} {
		if n == w || strings.Contains(n, w) && len(w) > 3 {
			return true
		}
	}
	return false
}

// RedactClaims formats claims one per line as name: value, with sensitive
// claims' values removed and the rest redacted.
func (r *Redactor) RedactClaims(claims map[string]any) []string {
	var out []string
	for _, name := range SortedClaimNames(claims) {
		// JSON, as the IdP sent it: numbers such as exp stay 1795680681, not 1.795680681e+09.
		b, _ := json.Marshal(claims[name])
		v := string(b)
		if s, ok := claims[name].(string); ok {
			v = s
		}
		if sensitiveClaim(name) {
			v = "[removed]"
		}
		out = append(out, r.Redact(name+": "+oneLine(v, 200)))
	}
	return out
}

// Sort orders the entries oldest first, keeping the order of equal times.
func (t *Transcript) Sort() {
	slices.SortStableFunc(t.Entries, func(a, b TranscriptEntry) int { return a.At.Compare(b.At) })
}

// Redact runs every text of the transcript through r, as a last guard.
func (t *Transcript) Redact(r *Redactor) {
	for k, v := range t.Settings {
		t.Settings[k] = r.Redact(v)
	}
	for i := range t.Entries {
		e := &t.Entries[i]
		e.Summary = r.Redact(e.Summary)
		for j := range e.Details {
			e.Details[j] = r.Redact(e.Details[j])
		}
	}
}

// WriteText writes the transcript as plain text, support code first.
// Every value, most of them from the IdP or typed by a customer, is shown
// through Display (DisplayText for the entries, whose lines are indented).
func (t *Transcript) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Support code: %s\n", t.SupportCode)
	fmt.Fprintf(&b, "oidc-onboard transcript of %s (%s / %s), made %s\n", Display(t.ConnectionID), Display(t.Organization), Display(t.Name), t.GeneratedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Secrets, codes and tokens are removed.\n\n")
	fmt.Fprintf(&b, "%-17s %s\n%-17s %s (%s)\n", "status:", t.Status, "provider:", Display(t.Provider.DisplayName()), Display(t.Provider.Evidence))
	keys := make([]string, 0, len(t.Settings))
	for k := range t.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%-17s %s\n", k+":", Display(t.Settings[k]))
	}
	b.WriteString("\nHistory (UTC)\n")
	if len(t.Entries) == 0 {
		b.WriteString("  (nothing recorded yet)\n")
	}
	for _, e := range t.Entries {
		fmt.Fprintf(&b, "  %s  %-11s %s\n", e.At.UTC().Format("2006-01-02 15:04:05"), e.Kind, indentText(e.Summary, 34))
		for _, d := range e.Details {
			fmt.Fprintf(&b, "      %s\n", indentText(d, 6))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// indentText is s through DisplayText, its lines after the first indented
// by n spaces.
func indentText(s string, n int) string {
	return strings.ReplaceAll(DisplayText(s), "\n", "\n"+strings.Repeat(" ", n))
}
