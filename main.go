// Command oidc-onboard walks a person through setting up a generic OpenID
// Connect SSO connection for an organization, tests it with a real login,
// and stores the result. See README.md and DESIGN.md for the commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Exit codes of the command contract.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitDefault = 1
)

// exitError carries an exit code through cobra. Its message, if any, has
// already been explained to the person unless quiet is false.
type exitError struct {
	code  int
	err   error
	quiet bool // the command already printed what went wrong
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// app is what every command needs, built once in main: the program's
// streams and the settings shared by all commands.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	dbPath string
}

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(a.run(os.Args[1:]))
}

// run executes the command line and returns the process exit code.
func (a *app) run(args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.quiet && ee.err != nil {
			a.printErr(ee.err)
			if ee.code == exitUsage {
				fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
			}
		}
		return ee.code
	}
	a.printErr(err)
	return exitDefault
}

// printErr prints an error as the engine explains it: what went wrong, then
// what to do about it.
func (a *app) printErr(err error) {
	msg, fix := flow.Explain(err)
	fmt.Fprintf(a.stderr, "Error: %s\n", msg)
	if fix != "" {
		fmt.Fprintf(a.stderr, "Fix:   %s\n", fix)
	}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "oidc-onboard",
		Short: "Set up, validate and test a generic OpenID Connect SSO connection",
		Long: `oidc-onboard walks you through setting up a generic OpenID Connect (OIDC)
SSO connection for an organization: it shows the Redirect URI to give the
identity provider (IdP), collects the Client ID, Client Secret and Discovery
Endpoint, validates the IdP's metadata live, maps claims and groups to roles,
runs a real test login, and stores the result.

Quick starts:
  oidc-onboard check https://idp.example.com            validate an IdP's metadata
  oidc-onboard login --discovery URL --client-id ID \
      --redirect-uri http://localhost:8976/callback      run a real test login`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.PersistentFlags().StringVar(&a.dbPath, "db", "", "SQLite database file (env OIDC_ONBOARD_DB; default $XDG_DATA_HOME/oidc-onboard/onboard.db)")

	for _, c := range []*cobra.Command{
		a.checkCmd(),
		a.loginCmd(),
		a.connectionsCmd(),
	} {
		root.AddCommand(c)
	}
	wrapArgs(root)
	return root
}

// wrapArgs makes every positional-argument error a usage error (exit 2).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// ---------------------------------------------------------------------------
// check: validate a discovery endpoint.
// ---------------------------------------------------------------------------

func (a *app) checkCmd() *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check URL",
		Short: "Validate an IdP's discovery metadata and signing keys",
		Long: `check fetches an identity provider's OpenID Connect discovery document and
its signing keys (JWKS), and checks what a login needs. For each check it
prints ✓ (pass), ! (warning) or ✗ (failure), with a fix for the IdP admin
under each warning and failure.

URL is the Discovery Endpoint (ending in /.well-known/openid-configuration)
or the issuer, to which /.well-known/openid-configuration is appended.
Plain http:// is accepted only for localhost.

Checks (IDs as in --json):
  reachable        the endpoint answers HTTP 200 within --timeout
  json             it serves a JSON document, not an HTML login page
  issuer           the issuer equals the URL before /.well-known/... (a
                   terminating "/" aside); a mismatch is shown part by part
  issuer_template  replaces issuer when it is a template such as Entra's
                   {tenantid} (the common/organizations endpoints)
  required_fields  authorization_endpoint, token_endpoint, jwks_uri,
                   response_types_supported with "code", subject_types_supported,
                   id_token_signing_alg_values_supported
  https_endpoints  every endpoint uses https
  jwks             jwks_uri holds a signing key for an advertised algorithm
  scopes           openid is offered (warns without email or profile)
  claims           sub, email, given_name, family_name are offered (warns)
  token_auth       client_secret_basic or client_secret_post is offered
  pkce             PKCE S256 is advertised (warns)
  clock            the IdP's clock is within 60 s of this machine's (warns)
When the discovery document cannot be read, only reachable (and json) are
reported: the other checks need the document.

Exit codes:
  0  no check failed (warnings allowed)
  1  a check failed
  2  usage error (no URL, bad flag)`,
		Example: `  # an issuer: /.well-known/openid-configuration is appended
  oidc-onboard check https://dev-123456.okta.com

  # a Discovery Endpoint, as copied from the IdP's application settings
  oidc-onboard check https://login.microsoftonline.com/<tenant-id>/v2.0/.well-known/openid-configuration

  # for scripts: JSON on standard output, the exit code says pass or fail
  oidc-onboard check --json --timeout 5s https://idp.example.com/realms/acme`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageErr("missing URL: give the IdP's Discovery Endpoint or issuer, e.g. oidc-onboard check https://idp.example.com")
			case len(args) > 1:
				return usageErr("check takes one URL, got %d arguments (quote a URL that contains spaces or &)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usageErr("--timeout must be positive, e.g. --timeout 10s")
			}
			if _, _, err := flow.DiscoveryURLFor(args[0]); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return a.runCheck(cmd.Context(), args[0], timeout, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON: {ok, discovery_url, issuer, checks: [{id, status, detail, fix}]}")
	cmd.Flags().DurationVar(&timeout, "timeout", flow.DefaultTimeout, "give up on the whole check after this long")
	return cmd
}

// runCheck validates the IdP, prints the report and turns it into the exit
// code: 0 when no check failed, 1 otherwise.
func (a *app) runCheck(ctx context.Context, input string, timeout time.Duration, asJSON bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: timeout})
	report := flow.Validate(ctx, client, input, flow.ValidateOptions{})

	var err error
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(a.stdout, a.checkStyle())
	}
	if err != nil {
		return err
	}
	if !report.OK {
		return &exitError{code: exitFailed, quiet: true}
	}
	return nil
}

// checkStyle colours the report only on a terminal, and never with NO_COLOR.
func (a *app) checkStyle() flow.TextStyle {
	f, ok := a.stdout.(*os.File)
	if !ok || a.getenv("NO_COLOR") != "" || !term.IsTerminal(f.Fd()) {
		return flow.TextStyle{}
	}
	paint := func(s lipgloss.Style) func(string) string { return func(x string) string { return s.Render(x) } }
	return flow.TextStyle{
		Pass:  paint(lipgloss.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)),
		Warn:  paint(lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true)),
		Fail:  paint(lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)),
		Faint: paint(lipgloss.NewStyle().Faint(true)),
	}
}

// ---------------------------------------------------------------------------
// login: a real test login through the embedded callback server.
// ---------------------------------------------------------------------------

func (a *app) loginCmd() *cobra.Command {
	return &cobra.Command{Use: "login", Short: "Run a real test login (not yet built)", Hidden: true}
}

// ---------------------------------------------------------------------------
// connections: the stored connections.
// ---------------------------------------------------------------------------

func (a *app) connectionsCmd() *cobra.Command {
	return &cobra.Command{Use: "connections", Short: "Manage stored connections (not yet built)", Hidden: true}
}
