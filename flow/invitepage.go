package flow

import (
	"html/template"
	"net/http"
	"strings"
)

// InviteCodeAlphabet is Crockford's base32 in lower case: the symbols of
// an invite code.
const InviteCodeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// InviteCodeLength is the symbols in a code: 16 of 5 bits, 80 bits.
const InviteCodeLength = 16

// NormalizeInviteCode undoes what a person may do to a code: case, dashes,
// spaces, and look-alike letters (o for 0, i and l for 1).
func NormalizeInviteCode(code string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		switch r {
		case '-', ' ', '\t':
			return -1
		case 'o':
			return '0'
		case 'i', 'l':
			return '1'
		}
		return r
	}, strings.TrimSpace(code))
}

// inviteCodeShape is code as it is written ("7k2m-q9xd-4hnc-b3tw") when
// it has a code's shape, else "": whether such a code exists is not
// asked.
func inviteCodeShape(code string) string {
	n := NormalizeInviteCode(code)
	if len(n) != InviteCodeLength || strings.Trim(n, InviteCodeAlphabet) != "" {
		return ""
	}
	return n[0:4] + "-" + n[4:8] + "-" + n[8:12] + "-" + n[12:16]
}

// InvitePage is what the invite page at PUBLIC_URL/i/CODE shows: how to
// connect, and nothing of the organization. It is built from the URL and
// the server alone: the code is not looked up, so the page neither uses
// it up nor tells whether it exists.
type InvitePage struct {
	// Code is the code from the URL, written in groups, or "" when the
	// URL holds no code's shape (then only Command is shown).
	Code string
	// Command asks for the code at ssh's prompt; OneGo carries it as the
	// user name ("" without a code). Both are "" when the server's
	// address is unknown.
	Command, OneGo string
	// Fingerprint is the server's host key, for comparing with what ssh
	// shows on the first connection.
	Fingerprint string
}

// NewInvitePage is the invite page for the code in a URL, as reached at
// sshHost (HOST[:PORT]) with the host key fingerprint.
func NewInvitePage(code, sshHost, fingerprint string) InvitePage {
	p := InvitePage{Code: inviteCodeShape(code), Fingerprint: fingerprint}
	if sshHost == "" {
		return p // the page asks for the command
	}
	p.Command = SSHCommand(sshHost, "setup")
	if p.Code != "" {
		p.OneGo = SSHCommand(sshHost, p.Code)
	}
	return p
}

// InvitePageHandler serves the invite page under prefix ("/i/"): a GET
// of prefix + CODE renders page with NewInvitePage. Every code, known or
// not, gets the same status and headers; the page is never cached and
// never sends the code on as a referrer.
func InvitePageHandler(page *template.Template, prefix, sshHost, fingerprint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		private(w.Header())
		writeHTML(w, http.StatusOK, page, NewInvitePage(strings.TrimPrefix(r.URL.Path, prefix), sshHost, fingerprint))
	})
}

// private marks a page that carries a code or a login's outcome: never
// cached, never sent on as a referrer, never sniffed as another type.
func private(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeHTML sends page executed with data, with status; the page may
// load nothing but its own inline styles.
func writeHTML(w http.ResponseWriter, status int, page *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = page.Execute(w, data) // the status is sent; a broken connection is the browser's business
}
