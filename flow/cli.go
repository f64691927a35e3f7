package flow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrReported ends a command with exit status 1 after it said why itself.
var ErrReported = errors.New("failed")

// Usage marks err as a mistake in the command line: exit status 2.
func Usage(err error) error {
	msg, fix := Explain(err)
	return &Error{Code: CodeUsage, Message: msg, Fix: fix}
}

// Usagef is a usage error with the message format makes of a.
func Usagef(format string, a ...any) error { return Usage(fmt.Errorf(format, a...)) }

// OneArg checks the count of a command's single argument, what, and names
// it in the sentence a person who left it out or gave more reads:
// "connections show needs the connection's ID, e.g. oidc-onboard
// connections show conn_7h3kq9". name is the command without the
// program's name, path with it.
func OneArg(name, path, what, example string, args []string) error {
	switch {
	case len(args) == 1:
		return nil
	case len(args) == 0:
		return Usagef("%s needs %s, e.g. %s %s", name, what, path, example)
	}
	return Usagef("%s takes only %s, got %d arguments: %s", name, what, len(args), strings.Join(args, " "))
}

// CheckURLArg checks that `check` got its one URL.
func CheckURLArg(args []string) error {
	switch {
	case len(args) == 0:
		return Usagef("missing URL: give the IdP's Discovery Endpoint or issuer, e.g. oidc-onboard check https://idp.example.com")
	case len(args) > 1:
		return Usagef("check takes one URL, got %d arguments (quote a URL that contains spaces or &)", len(args))
	}
	return nil
}

// CheckRedirectBase checks the wizard's --redirect-base, a loopback
// http://HOST:PORT without a path, and returns it without a trailing
// slash.
func CheckRedirectBase(s string) (string, error) {
	base, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || base.Host == "" || base.Path != "" || !IsLoopbackHost(base.Hostname()) || base.Scheme != "http" {
		return "", Usagef("--redirect-base %q: want http://localhost:PORT (a loopback address, no path)", s)
	}
	return base.String(), nil
}

// WriteJSON prints v indented; escapeHTML as check and login always did.
func WriteJSON(w io.Writer, v any, escapeHTML bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(escapeHTML)
	return enc.Encode(v)
}

// WriteFailure says why a command failed: on stderr for a person, and
// with asJSON also as the JSON failure on stdout, since scripts read one
// stream. A usage error ends with where to find the usage of the command
// at path. It returns the exit status: 1, or 2 for a usage error.
func WriteFailure(stdout, stderr io.Writer, err error, asJSON bool, path string) int {
	msg, fix := Explain(err)
	if asJSON {
		_ = WriteJSON(stdout, NewFailure(err), false)
	}
	// An error may quote the IdP (error_description, an error page).
	fmt.Fprintf(stderr, "Error: %s\n", DisplayText(msg))
	if fix != "" {
		fmt.Fprintf(stderr, "Fix:   %s\n", DisplayText(fix))
	}
	if !IsCode(err, CodeUsage) {
		return 1
	}
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", path)
	return 2
}

// WriteImported tells a person what `connections import` did with c, the
// connection it created or updated (action), and what is left to do;
// changed says its credentials changed.
func WriteImported(w io.Writer, c *Connection, action string, changed bool) {
	fmt.Fprintf(w, "%s connection %s (%s / %s).\n", strings.ToUpper(action[:1])+action[1:], c.ID, c.Organization, c.Name)
	switch {
	case changed:
		fmt.Fprintf(w, "Note: its credentials changed, so it shows \"changed since its last test login\" until one passes: oidc-onboard login --connection %s\n", c.ID)
	case action == "created":
		fmt.Fprintf(w, "Note: it is %s and never tested: oidc-onboard login --connection %s\n", c.Status, c.ID)
	}
	if c.ClientSecret == "" {
		fmt.Fprintln(w, "Note: it has no client secret; set OIDC_CLIENT_SECRET or pass --client-secret-file and import again.")
	}
}
