package steps

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// DefaultInviteTTL is how long an invite lasts unless the person says
// otherwise.
const DefaultInviteTTL = 72 * time.Hour

// InviteSettings lets a session make invites for customers.
type InviteSettings struct {
	// SSHHost is the SSH server as customers reach it, HOST[:PORT], for the
	// command shown with a code; empty for where `serve` last listened
	// (recorded in the store), and when that is unknown too only the code
	// is shown.
	SSHHost string
}

// inviteTTLText writes an invite's life as a person would: "72h", "1h30m".
func inviteTTLText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseInviteTTL reads how long an invite lasts: a Go duration ("72h",
// "90m") or whole days ("3d"); empty means DefaultInviteTTL.
func ParseInviteTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultInviteTTL, nil
	}
	bad := &flow.Error{Code: flow.CodeBadTTL, Message: fmt.Sprintf("%q is not a duration", s),
		Fix: "give hours or days, e.g. 72h or 3d"}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < time.Minute {
		return 0, &flow.Error{Code: flow.CodeBadTTL, Message: fmt.Sprintf("an invite cannot last only %s", s),
			Fix: "give a positive duration of a minute or more, e.g. 72h"}
	}
	return d, nil
}
