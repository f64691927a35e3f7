// Command oidc-onboard walks a person through setting up a generic OpenID
// Connect SSO connection for an organization, tests it with a real login,
// and stores the result. See README.md and DESIGN.md for the commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

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
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.quiet && ee.err != nil {
			a.printErr(ee.err)
			if ee.code == exitUsage {
				fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", root.CommandPath())
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
	return &cobra.Command{Use: "check URL", Short: "Validate an IdP's discovery metadata (not yet built)", Hidden: true}
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
