package tui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// Confirm asks question, y/N, on out when in is a terminal; elsewhere it
// refuses with refusal (a usage error), since a script must say --yes.
// An answer other than yes prints declined and ends the command with
// status 1 (flow.ErrReported).
func Confirm(in io.Reader, out io.Writer, question, refusal, declined string) error {
	if !IsTerminal(in) {
		return flow.Usagef("%s", refusal)
	}
	fmt.Fprint(out, question)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	fmt.Fprintln(out, declined)
	return flow.ErrReported
}

// ConfirmDelete asks before `connections delete` deletes c.
func ConfirmDelete(in io.Reader, out io.Writer, c *flow.Connection) error {
	return Confirm(in, out, fmt.Sprintf("Delete connection %s (%s / %s) and its test logins? [y/N] ", c.ID, c.Organization, c.Name),
		fmt.Sprintf("not deleting %s without confirmation: standard input is not a terminal; pass --yes", c.ID), "Not deleted.")
}

// ConfirmImport lists, on out, the changes an import makes to the stored
// connection when it is active, and asks before making them unless yes.
func ConfirmImport(in io.Reader, out io.Writer, stored *flow.Connection, changes []string, yes bool) error {
	if stored.Status != flow.StatusActive {
		return nil
	}
	fmt.Fprintf(out, "This import changes the active connection %s (%s / %s):\n", stored.ID, stored.Organization, stored.Name)
	for _, ch := range changes {
		fmt.Fprintf(out, "  %s\n", ch)
	}
	if yes {
		return nil
	}
	return Confirm(in, out, "Logins through it use the new values at once. Import? [y/N] ",
		fmt.Sprintf("not changing the active connection %s without confirmation: add --yes to import it", stored.ID), "Not imported.")
}

// ConfirmRemap shows, on out, the profile an active connection's users
// get with next's mappings, and asks before saving them; a profile that
// then fails is saved only as a recorded override.
func ConfirmRemap(ctx context.Context, st *store.Store, in io.Reader, out io.Writer, c, next *flow.Connection, by store.Event) error {
	preview, err := st.Remap(ctx, c, next, true, by)
	if err != nil {
		return err
	}
	if IsTerminal(in) {
		if err := preview.WriteText(out); err != nil {
			return err
		}
	}
	question := fmt.Sprintf("Save these mappings on the active connection %s? Its users sign in with them at once. [y/N] ", c.ID)
	refusal := fmt.Sprintf("not changing the mappings of the active connection %s without confirmation: add --yes to save them (or --dry-run to see them)", c.ID)
	if len(preview.Problems) > 0 {
		question = fmt.Sprintf("With these mappings the profile fails (%s). Save them anyway? The override is recorded. [y/N] ", flow.ProfileFailure(preview.Problems))
		refusal = fmt.Sprintf("not saving mappings under which the profile of the active connection %s fails (%s) without confirmation: add --yes to override (the override is recorded)",
			c.ID, flow.ProfileFailure(preview.Problems))
	}
	return Confirm(in, out, question, refusal, "Not saved.")
}
