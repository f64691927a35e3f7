package flow

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Invite is a one-time code that lets an IT admin into the SSH setup of one
// organization. Only a hash of the code is stored.
type Invite struct {
	ID           string
	Organization string
	// Label says who the invite is for ("Jane at Acme IT"), optional.
	Label     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
	RevokedAt time.Time // zero unless revoked
}

// Status says whether the invite still lets someone in at now: "open",
// "expired", "revoked", or "closed" once the organization's connection
// was activated.
func (inv Invite) Status(now time.Time) string {
	switch {
	case !inv.RevokedAt.IsZero():
		return "revoked"
	case !inv.UsedAt.IsZero():
		return "closed"
	case !now.Before(inv.ExpiresAt):
		return "expired"
	}
	return "open"
}

// SSHCommand is the command that reaches host (HOST[:PORT], port 22 when
// none is given) as user.
func SSHCommand(host, user string) string {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = host, "22"
	}
	if port == "22" {
		return fmt.Sprintf("ssh %s@%s", user, h)
	}
	return fmt.Sprintf("ssh -p %s %s@%s", port, user, h)
}

// SSHHost is the SSH server as customers reach it: given, else the host
// browsers reach (publicURL) on the port SSH listens on (sshAddr); "" when
// neither tells.
func SSHHost(given, publicURL, sshAddr string) string {
	if given != "" {
		return given
	}
	u, err := url.Parse(publicURL)
	_, port, perr := net.SplitHostPort(sshAddr)
	if err != nil || perr != nil || u.Hostname() == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// InviteCode is a new invite as `invite` prints it: the code, shown once,
// and the ssh commands that use it.
type InviteCode struct {
	Code         string `json:"code"`
	Organization string `json:"organization"`
	// Label says who the invite is for, "" when it has none.
	Label     string `json:"label"`
	ExpiresAt string `json:"expires_at"`
	// Command asks for the code at ssh's prompt; OneGo carries it as the
	// user name. Both are "" when the server's address is unknown.
	Command string `json:"command"`
	OneGo   string `json:"-"`
	// ID names the invite for `invite revoke`.
	ID string `json:"id"`
	// PageURL is the invite page that says how to connect with the code
	// (PUBLIC_URL/i/CODE), when serve's public URL is known.
	PageURL string    `json:"page_url,omitempty"`
	Expires time.Time `json:"-"`
}

// NewInviteCode is inv, made with code, as reached at sshHost ("" when
// unknown: no command then).
func NewInviteCode(code string, inv Invite, sshHost string) InviteCode {
	c := InviteCode{Code: code, Organization: inv.Organization, Label: inv.Label, ExpiresAt: inv.ExpiresAt.UTC().Format(time.RFC3339),
		ID: inv.ID, Expires: inv.ExpiresAt}
	if sshHost != "" {
		c.Command, c.OneGo = SSHCommand(sshHost, "setup"), SSHCommand(sshHost, code)
	}
	return c
}

// WithPage is c with the link to its invite page under publicURL, serve's
// public URL ("" leaves it without).
func (c InviteCode) WithPage(publicURL string) InviteCode {
	if publicURL != "" {
		c.PageURL = strings.TrimSuffix(publicURL, "/") + "/i/" + c.Code
	}
	return c
}

// UnknownSSHHost says what to do when the SSH server's address is not
// known to `invite` or the wizard.
const UnknownSSHHost = "The server's address is not known: start 'oidc-onboard serve' with this database " +
	"(it records where it listens), or give --ssh-host HOST[:PORT]. The customer types ssh -p PORT setup@HOST, " +
	"and the code when ssh asks."

// WriteText writes the invite for the support engineer to pass on.
func (c InviteCode) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Invite %s for %s, valid until %s.\n\n", c.ID, inviteFor(c.Organization, c.Label), c.Expires.Local().Format("Mon 2 Jan 2006 15:04 MST"))
	fmt.Fprintf(w, "Code:  %s   (shown once; only its hash is stored)\n\n", c.Code)
	if c.Command == "" {
		_, err := fmt.Fprintln(w, UnknownSSHHost)
		return err
	}
	fmt.Fprintf(w, "Give the customer the code and this command; ssh asks for the code:\n  %s\n", c.Command)
	_, err := fmt.Fprintf(w, "or, in one go:\n  %s\n", c.OneGo)
	if c.PageURL != "" && err == nil {
		_, err = fmt.Fprintf(w, "or send this link, whose page says how to connect (opening it does not use the code):\n  %s\n", c.PageURL)
	}
	return err
}

// InviteListing is an invite in `invite list`.
type InviteListing struct {
	ID           string `json:"id"`
	Organization string `json:"organization"`
	Label        string `json:"label"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
	ExpiresAt    string `json:"expires_at"`
}

// InviteList is `invite list`: the invites as they stand at now.
type InviteList []InviteListing

// NewInviteList lists invites as they stand at now.
func NewInviteList(invites []Invite, now time.Time) InviteList {
	out := make(InviteList, 0, len(invites))
	for _, inv := range invites {
		out = append(out, InviteListing{ID: inv.ID, Organization: inv.Organization, Label: inv.Label, Status: inv.Status(now),
			CreatedAt: inv.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: inv.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	return out
}

// WriteText writes a table of the invites, organizations through Display.
func (l InviteList) WriteText(w io.Writer) error {
	if len(l) == 0 {
		_, err := fmt.Fprintln(w, "No invites yet. Make one with 'oidc-onboard invite --org NAME'.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORGANIZATION\tLABEL\tSTATUS\tEXPIRES")
	for _, inv := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", inv.ID, Display(inv.Organization), cmp.Or(Display(inv.Label), "-"), inv.Status, inv.ExpiresAt)
	}
	return tw.Flush()
}

// inviteFor names whom an invite is for: the organization, and its label
// when it has one ("Acme Corp (Jane at Acme IT)").
func inviteFor(org, label string) string {
	if label == "" {
		return Display(org)
	}
	return Display(org) + " (" + Display(label) + ")"
}
