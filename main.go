// Command oidc-onboard walks a person through setting up a generic OpenID
// Connect SSO connection for an organization, tests it with a real login,
// and stores the result. See README.md and DESIGN.md for the commands.
//
// This file is the command wiring only: the cobra commands, their flags
// and help (assets/help), calling into flow, store and tui.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/tui"
	"github.com/oidc-onboard/oidc-onboard/tui/sshserve"
)

// app is what every command needs, built once in main: the program's
// streams and the settings shared by all commands.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	dbPath         string
}

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(a.run(os.Args[1:]))
}

// run executes the command line and returns the process exit code: 0,
// 1 when the command failed, 2 on a usage error.
func (a *app) run(args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flow.ErrReported):
		return 1
	}
	f := cmd.Flags().Lookup("json")
	asJSON := f != nil && f.Changed && f.Value.String() == "true"
	return flow.WriteFailure(a.stdout, a.stderr, err, asJSON, cmd.CommandPath())
}

// command is a cobra command whose help texts come from assets/help.
func command(use, short, help string, args cobra.PositionalArgs, run func(*cobra.Command, []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: assets.Help(help), Example: assets.Help(help + ".example"), Args: args, RunE: run}
}

func (a *app) rootCmd() *cobra.Command {
	wf := &tui.LocalOptions{}
	root := command("oidc-onboard", "Set up, validate and test a generic OpenID Connect SSO connection", "root", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error { return a.runWizard(cmd.Context(), *wf) })
	root.SilenceUsage, root.SilenceErrors = true, true
	fl := root.Flags()
	fl.BoolVar(&wf.Demo, "demo", false, "start a demo IdP on this machine and pre-fill its client, so every step works with nothing else installed; its connections go to a separate demo database, onboard-demo.db next to the default one, unless --db or OIDC_ONBOARD_DB names one")
	fl.BoolVar(&wf.Accessible, "accessible", false, "plain line-by-line prompts for screen readers (also env ACCESSIBLE=1)")
	fl.StringVar(&wf.RedirectBase, "redirect-base", "http://localhost:8976", "where test-login callbacks arrive; each connection's Redirect URI is this + /callback/ID (loopback only)")
	fl.DurationVar(&wf.Timeout, "timeout", flow.DefaultTimeout, "limit for each network call to the IdP")
	fl.StringVar(&wf.SSHHost, "ssh-host", "", "the 'serve' SSH server as customers reach it, HOST[:PORT], for the command shown with invites made in the wizard (default: the code only)")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flow.Usage(err) })
	root.PersistentFlags().StringVar(&a.dbPath, "db", "", "SQLite database file, or a postgres:// URL (env OIDC_ONBOARD_DB; default $XDG_DATA_HOME/oidc-onboard/onboard.db)")
	root.AddCommand(a.checkCmd(), a.loginCmd(), a.connectionsCmd(), a.verifyCmd(), a.transcriptCmd(), a.serveCmd(), a.inviteCmd())
	wrapArgs(root)
	return root
}

// wrapArgs makes every positional-argument error a usage error (exit 2).
func wrapArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return flow.Usage(err)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// oneArg is a command's single argument, named in the sentence a person
// who left it out or gave more reads: "connections show needs the
// connection's ID, e.g. oidc-onboard connections show conn_7h3kq9".
func oneArg(what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return flow.OneArg(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" "), cmd.CommandPath(), what, example, args)
	}
}

// connectionArg is the connection ID argument of a command.
var connectionArg = oneArg("the connection's ID", "conn_7h3kq9")

// openStore opens the database named by --db, else OIDC_ONBOARD_DB, else
// the default place.
func (a *app) openStore() (*store.Store, error) { return store.OpenFromEnv(a.dbPath, a.getenv) }

// useDemoStore makes --demo's connections go to the demo database next to
// the default one, unless --db or OIDC_ONBOARD_DB names a database: so
// that the real store's verify --all and connections list never carry
// them.
func (a *app) useDemoStore() error {
	if a.dbPath != "" || a.getenv("OIDC_ONBOARD_DB") != "" {
		return nil
	}
	path, err := store.DefaultPath(a.getenv, "onboard-demo.db")
	a.dbPath = path
	return err
}

// withStore runs fn with the open store and closes it.
func (a *app) withStore(fn func(ctx context.Context, st *store.Store) error) error {
	return a.inStore(false, func(st *store.Store) error { return fn(context.Background(), st) })
}

// inStore runs fn with the open store, the demo database with demo (see
// useDemoStore), and closes it.
func (a *app) inStore(demo bool, fn func(st *store.Store) error) error {
	if demo {
		if err := a.useDemoStore(); err != nil {
			return err
		}
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// actor names the local user in audit events.
func (a *app) actor() string {
	if u := a.getenv("USER"); u != "" {
		return "local:" + u
	}
	return "local"
}

// by is the audit event of an action the local user takes.
func (a *app) by() store.Event { return store.Event{Actor: a.actor()} }

// textWriter is a result that can print itself as text.
type textWriter interface{ WriteText(io.Writer) error }

// print prints v as JSON when asJSON, else as text.
func (a *app) print(v textWriter, asJSON bool) error {
	if asJSON {
		return a.writeJSON(v)
	}
	return v.WriteText(a.stdout)
}

// writeJSON prints v indented, HTML characters as they are.
func (a *app) writeJSON(v any) error { return flow.WriteJSON(a.stdout, v, false) }

// runWizard checks the wizard's flags and runs it on the local store.
func (a *app) runWizard(ctx context.Context, o tui.LocalOptions) error {
	o.Accessible = o.Accessible || a.getenv("ACCESSIBLE") != ""
	if !o.Accessible && !(tui.IsTerminal(a.stdin) && tui.IsTerminal(a.stdout)) {
		return flow.Usagef("the wizard needs a terminal; use --accessible for plain prompts, or the check, login and connections commands in scripts")
	}
	base, err := flow.CheckRedirectBase(o.RedirectBase)
	if err != nil {
		return err
	}
	return a.inStore(o.Demo, func(st *store.Store) error {
		o.Store, o.In, o.Out, o.RedirectBase, o.Actor = st, a.stdin, a.stdout, base, a.actor()
		// In an SSH session a browser would open on the remote machine.
		o.Remote = a.getenv("SSH_CONNECTION") != "" || a.getenv("SSH_TTY") != ""
		return tui.RunLocal(ctx, o)
	})
}

func (a *app) checkCmd() *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := command("check URL", "Validate an IdP's discovery metadata and signing keys", "check",
		func(_ *cobra.Command, args []string) error { return flow.CheckURLArg(args) },
		func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return flow.Usagef("--timeout must be positive, e.g. --timeout 10s")
			}
			if _, _, err := flow.DiscoveryURLFor(args[0]); err != nil {
				return flow.Usage(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			report := flow.Validate(ctx, flow.NewHTTPClient(flow.ClientOptions{Timeout: timeout}), args[0], flow.ValidateOptions{})
			var err error
			if asJSON {
				err = flow.WriteJSON(a.stdout, report, true)
			} else {
				w, style := tui.ReportStyle(a.stdin, a.stdout, a.getenv("NO_COLOR") != "")
				err = report.WriteText(w, style)
			}
			if err == nil && !report.OK {
				return flow.ErrReported
			}
			return err
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON: {ok, discovery_url, issuer, checks: [{id, status, detail, fix}]}")
	cmd.Flags().DurationVar(&timeout, "timeout", flow.DefaultTimeout, "give up on the whole check after this long")
	return cmd
}

// loginFlags are the flags of `login`: the request, and how to run it.
type loginFlags struct {
	flow.LoginRequest
	connection, secretFile string
	noBrowser, json        bool
}

func (a *app) loginCmd() *cobra.Command {
	f := &loginFlags{}
	cmd := command("login (--discovery URL --client-id ID --redirect-uri URI | --connection ID)",
		"Run a real test login against an IdP and show the mapped profile", "login", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			f.Given = cmd.Flags().Changed
			if f.connection != "" {
				return a.runStoredLogin(cmd.Context(), f)
			}
			discoveryURL, cfg, err := f.Config()
			if err != nil {
				return err
			}
			if cfg.ClientSecret, err = flow.ClientSecret(f.secretFile, a.stdin, a.getenv); err != nil {
				return err
			}
			if cfg.ClientSecret == "" {
				return flow.Usagef("no client secret: set OIDC_CLIENT_SECRET or pass --client-secret-file PATH (\"-\" for standard input)")
			}
			_, err = a.login(cmd.Context(), discoveryURL, cfg, f)
			return err
		})
	fl := cmd.Flags()
	fl.StringVar(&f.connection, "connection", "", "test a stored connection (its discovery URL, client, secret and mappings) by ID")
	fl.StringVar(&f.Discovery, "discovery", "", "the IdP's Discovery Endpoint (or its issuer URL)")
	fl.StringVar(&f.ClientID, "client-id", "", "the app's Client ID")
	fl.StringVar(&f.RedirectURI, "redirect-uri", "", "the Redirect URI registered in the IdP, e.g. http://localhost:8976/callback")
	fl.StringVar(&f.secretFile, "client-secret-file", "", `read the Client Secret from this file ("-" for standard input) instead of $OIDC_CLIENT_SECRET`)
	fl.BoolVar(&f.noBrowser, "no-browser", false, "do not open a browser; only print the authorization URL")
	fl.BoolVar(&f.json, "json", false, `print {"profile":{...},"claims":{...}} as JSON on success`)
	fl.DurationVar(&f.Timeout, "timeout", flow.DefaultTimeout, "limit for each network call to the IdP")
	fl.DurationVar(&f.Wait, "wait", flow.DefaultCallbackWait, "how long to wait for the browser to return to the redirect URI")
	fl.StringVar(&f.GroupsClaim, "groups-claim", flow.DefaultGroupsClaim, "the claim that lists the user's groups")
	fl.StringArrayVar(&f.RoleMaps, "role-map", nil, "GROUP=ROLE: give ROLE to members of GROUP (repeatable)")
	fl.StringVar(&f.DefaultRole, "default-role", "", "the role given when no --role-map group matched")
	fl.StringArrayVar(&f.Claims, "claim", nil, "ATTR=CLAIM: fill profile attribute ATTR (idp_id, email, first_name, last_name) from CLAIM (repeatable)")
	fl.StringArrayVar(&f.Scopes, "scope", nil, `extra scope to request after "openid email profile" (repeatable; default: groups when the IdP lists it)`)
	fl.StringVar(&f.AuthMethod, "auth-method", "", "how the app authenticates at the token endpoint: client_secret_basic or client_secret_post (default: the connection's, else what the IdP offers, basic first)")
	return cmd
}

// runStoredLogin tests a stored connection and records the outcome with it.
func (a *app) runStoredLogin(ctx context.Context, f *loginFlags) error {
	for _, name := range []string{"discovery", "client-id"} {
		if f.Given(name) {
			return flow.Usagef("--%s cannot be combined with --connection: the stored connection's value is used", name)
		}
	}
	if err := f.CheckTimes(); err != nil {
		return err
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Connection(ctx, f.connection)
	if err != nil {
		return err
	}
	discoveryURL, cfg, err := f.ConfigFor(*c)
	if err != nil {
		return err
	}
	secret, err := flow.ClientSecret(f.secretFile, a.stdin, a.getenv)
	if err != nil {
		return err
	}
	if secret != "" {
		cfg.ClientSecret = secret
	}
	if cfg.ClientSecret == "" {
		return flow.Usagef("connection %s has no stored client secret: set OIDC_CLIENT_SECRET or pass --client-secret-file PATH", c.ID)
	}
	res, loginErr := a.login(ctx, discoveryURL, cfg, f)
	// The outcome is recorded even when the person pressed Ctrl-C.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := st.RecordTestLogin(sctx, c, flow.NewTestLogin(time.Time{}, res, loginErr), a.by()); err != nil {
		fmt.Fprintf(a.stderr, "Warning: the test login's result could not be recorded: %v\n", err)
	}
	return loginErr
}

// login runs one test login and prints its result.
func (a *app) login(ctx context.Context, discoveryURL string, cfg flow.LoginConfig, f *loginFlags) (*flow.LoginResult, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := flow.RunOptions{Client: flow.NewHTTPClient(flow.ClientOptions{Timeout: f.Timeout}),
		Callback: flow.CallbackOptions{Page: assets.CallbackPage()}, Progress: a.stderr, Open: flow.OpenBrowser}
	if f.noBrowser {
		opts.Open = nil
	}
	res, out, err := flow.RunLogin(ctx, discoveryURL, cfg, opts)
	switch {
	case err != nil:
		return nil, err
	case f.json:
		return res, flow.WriteJSON(a.stdout, out, true)
	}
	return res, out.WriteText(a.stdout)
}

func (a *app) connectionsCmd() *cobra.Command {
	cmd := command("connections", "List, show, export, import and delete stored connections", "connections", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error { return cmd.Help() })
	cmd.AddCommand(a.connectionsListCmd(), a.connectionsShowCmd(), a.connectionsExportCmd(),
		a.connectionsImportCmd(), a.connectionsDeleteCmd(), a.connectionsRemapCmd())
	return cmd
}

// withConnection runs fn with the open store and the connection args[0].
func (a *app) withConnection(args []string, fn func(ctx context.Context, st *store.Store, c *flow.Connection) error) error {
	return a.withStore(func(ctx context.Context, st *store.Store) error {
		c, err := st.Connection(ctx, args[0])
		if err != nil {
			return err
		}
		return fn(ctx, st, c)
	})
}

// withRecord runs fn with the open store and all it keeps about the
// connection args[0].
func (a *app) withRecord(args []string, fn func(ctx context.Context, st *store.Store, r flow.ConnectionRecord) error) error {
	return a.withConnection(args, func(ctx context.Context, st *store.Store, c *flow.Connection) error {
		r, err := st.Record(ctx, c)
		if err != nil {
			return err
		}
		return fn(ctx, st, r)
	})
}

func (a *app) connectionsListCmd() *cobra.Command {
	return a.listCmd("list", "List the stored connections", "only the connections of this organization",
		"print a JSON array of connections (secrets masked)", func(ctx context.Context, st *store.Store, org string) (textWriter, error) {
			cs, err := st.ListConnections(ctx, org)
			if err != nil {
				return nil, err
			}
			tested, err := st.TestStates(ctx, org)
			return flow.ConnectionList{Connections: cs, Path: st.Path(), Tested: tested}, err
		})
}

// listCmd is a command that lists what list finds, of one organization
// with --org, as text or --json.
func (a *app) listCmd(use, short, orgHelp, jsonHelp string, list func(ctx context.Context, st *store.Store, org string) (textWriter, error)) *cobra.Command {
	var asJSON bool
	var org string
	cmd := command(use, short, "", cobra.NoArgs, func(*cobra.Command, []string) error {
		return a.withStore(func(ctx context.Context, st *store.Store) error {
			out, err := list(ctx, st, org)
			if err != nil {
				return err
			}
			return a.print(out, asJSON)
		})
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, jsonHelp)
	cmd.Flags().StringVar(&org, "org", "", orgHelp)
	return cmd
}

func (a *app) connectionsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := command("show ID", "Show one connection (secret masked), its last validation and test login", "", connectionArg,
		func(_ *cobra.Command, args []string) error {
			return a.withRecord(args, func(_ context.Context, _ *store.Store, r flow.ConnectionRecord) error {
				return a.print(r.Details(), asJSON)
			})
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the export shape plus times, the last validation and test login, and group labels)")
	return cmd
}

func (a *app) connectionsExportCmd() *cobra.Command {
	var includeSecret bool
	cmd := command("export ID", "Print a connection as the JSON that import (and applications) read", "export", connectionArg,
		func(_ *cobra.Command, args []string) error {
			return a.withConnection(args, func(ctx context.Context, st *store.Store, c *flow.Connection) error {
				if includeSecret {
					if err := st.Audit(ctx, store.Event{Actor: a.actor(), Action: "connection.export_secret", ConnectionID: c.ID,
						Organization: c.Organization}); err != nil {
						return err
					}
					fmt.Fprintln(a.stderr, "Note: this export holds the client secret in plain text; keep it out of tickets and chats.")
				}
				return a.writeJSON(flow.Export(c, includeSecret))
			})
		})
	cmd.Flags().Bool("json", true, "print JSON (the only format; accepted for symmetry)")
	cmd.Flags().BoolVar(&includeSecret, "include-secret", false, "include the client secret in plain text")
	return cmd
}

func (a *app) connectionsImportCmd() *cobra.Command {
	var secretFile string
	var asJSON, yes bool
	cmd := command("import FILE|-", "Create or update a connection from exported JSON", "import",
		oneArg("the file to import (- for standard input)", "acme.json"),
		func(_ *cobra.Command, args []string) error {
			if args[0] == "-" && secretFile == "-" {
				return flow.Usagef("FILE and --client-secret-file cannot both be standard input")
			}
			raw, err := flow.ReadInput(a.stdin, args[0], "connection file", 1<<30)
			if err != nil {
				return err
			}
			c, present, err := flow.ParseImport(raw)
			if err != nil {
				return err
			}
			for _, f := range [][2]string{{"organization", c.Organization}, {"connection name", c.Name}} {
				if err := flow.CheckTyped(f[0], f[1]); err != nil {
					return err
				}
			}
			secret, err := flow.ClientSecret(secretFile, a.stdin, a.getenv)
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				changed := false
				action, err := st.ImportConnection(ctx, c, present, secret, a.by(), func(stored *flow.Connection, changes []string) error {
					changed = true
					return tui.ConfirmImport(a.stdin, a.stderr, stored, changes, yes)
				})
				if err != nil {
					return err
				}
				flow.WriteImported(a.stderr, c, action, changed)
				if asJSON {
					return a.writeJSON(map[string]string{"id": c.ID, "action": action})
				}
				_, err = fmt.Fprintln(a.stdout, c.ID)
				return err
			})
		})
	cmd.Flags().StringVar(&secretFile, "client-secret-file", "", "read the client secret from this file ('-' for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id":..,"action":"created|updated"} instead of the ID alone`)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "change an active connection's client ID, secret, discovery URL or issuer without asking")
	return cmd
}

func (a *app) connectionsDeleteCmd() *cobra.Command {
	var yes, asJSON bool
	cmd := command("delete ID", "Delete a connection and its test logins (asks first; --yes for scripts)", "", connectionArg,
		func(_ *cobra.Command, args []string) error {
			return a.withConnection(args, func(ctx context.Context, st *store.Store, c *flow.Connection) error {
				if !yes {
					if err := tui.ConfirmDelete(a.stdin, a.stderr, c); err != nil {
						return err
					}
				}
				if err := st.DeleteConnectionAudited(ctx, c, a.by()); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "Deleted connection %s (%s / %s).\n", c.ID, c.Organization, c.Name)
				if asJSON {
					return a.writeJSON(map[string]any{"id": c.ID, "deleted": true})
				}
				return nil
			})
		})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id":..,"deleted":true} once deleted`)
	return cmd
}

func (a *app) connectionsRemapCmd() *cobra.Command {
	var claims, roleMaps []string
	var groupsClaim, defaultRole string
	var dryRun, asJSON, yes bool
	cmd := command("remap ID", "Change a connection's mappings and see the profile at once from its last test login", "remap", connectionArg,
		func(cmd *cobra.Command, args []string) error {
			return a.withConnection(args, func(ctx context.Context, st *store.Store, c *flow.Connection) error {
				next := *c
				req := flow.MappingRequest{Claims: claims, RoleMaps: roleMaps, GroupsClaim: strings.TrimSpace(groupsClaim),
					DefaultRole: strings.TrimSpace(defaultRole), Given: cmd.Flags().Changed}
				if err := req.Apply(&next, false); err != nil {
					return err
				}
				if !dryRun && !yes && c.Status == flow.StatusActive {
					if err := tui.ConfirmRemap(ctx, st, a.stdin, a.stderr, c, &next, a.by()); err != nil {
						return err
					}
				}
				out, err := st.Remap(ctx, c, &next, dryRun, a.by())
				if err != nil {
					return err
				}
				return a.print(out, asJSON)
			})
		})
	f := cmd.Flags()
	f.StringArrayVar(&claims, "claim", nil, "map a profile attribute to a claim, ATTR=CLAIM (idp_id, email, first_name, last_name); repeatable")
	f.StringVar(&groupsClaim, "groups-claim", "", "the claim that carries group memberships")
	f.StringArrayVar(&roleMaps, "role-map", nil, "map an IdP group to a role, GROUP=ROLE; repeatable; replaces the list")
	f.StringVar(&defaultRole, "default-role", "", "the role of users no mapping matches (empty: none)")
	f.BoolVar(&dryRun, "dry-run", false, "show the result without saving the mappings")
	f.BoolVarP(&yes, "yes", "y", false, "save the mappings of an active connection without asking (also when its profile then fails: the override is recorded)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	var all, asJSON bool
	var timeout time.Duration
	cmd := command("verify [ID | --all]", "Check that active connections' IdPs still match what they were activated with", "verify",
		cobra.MaximumNArgs(1), func(_ *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return flow.Usagef("give one connection ID or --all")
			}
			if timeout <= 0 {
				return flow.Usagef("--timeout must be a positive duration, e.g. 10s")
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				client := flow.NewHTTPClient(flow.ClientOptions{Timeout: timeout})
				out, err := st.VerifyConnections(ctx, strings.Join(args, ""), a.by(), func(ctx context.Context, c *flow.Connection, baseline string, snap *flow.Validation) flow.VerifyResult {
					return flow.Verify(ctx, client, c, baseline, snap)
				})
				if err == nil {
					err = a.print(out, asJSON)
				}
				if err == nil && !out.OK {
					return flow.ErrReported
				}
				return err
			})
		})
	cmd.Flags().BoolVar(&all, "all", false, "verify every active connection")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (shape above)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "time limit for each IdP's fetches")
	return cmd
}

func (a *app) transcriptCmd() *cobra.Command {
	var asJSON bool
	cmd := command("transcript ID", "Print a redacted record of a connection's setup for a support ticket", "transcript", connectionArg,
		func(_ *cobra.Command, args []string) error {
			return a.withRecord(args, func(_ context.Context, _ *store.Store, r flow.ConnectionRecord) error {
				return a.print(flow.BuildTranscript(r, time.Now()), asJSON)
			})
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the transcript as JSON")
	return cmd
}

func (a *app) serveCmd() *cobra.Command {
	f := &sshserve.ServeConfig{}
	cmd := command("serve", "Serve the setup wizard over SSH: customers come in with an invite code, support engineers with their key",
		"serve", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
			if f.SSHHTTPAddr != "" && (cmd.Flags().Changed("ssh-addr") || cmd.Flags().Changed("http-addr")) {
				return flow.Usagef("--ssh-http-addr replaces --ssh-addr and --http-addr: give it alone")
			}
			return a.runServe(cmd.Context(), *f)
		})
	fl := cmd.Flags()
	fl.StringVar(&f.SSHAddr, "ssh-addr", ":2222", "address the SSH server listens on")
	fl.StringVar(&f.HTTPAddr, "http-addr", ":8976", "address the callback listener (HTTP) listens on")
	fl.StringVar(&f.SSHHTTPAddr, "ssh-http-addr", "", "one address for SSH and the callbacks (HTTP), e.g. :443 for customers whose network lets only that port out; a connection is SSH when it starts with SSH-2.0-, HTTP otherwise (replaces --ssh-addr and --http-addr)")
	fl.StringVar(&f.PublicURL, "public-url", "", "where browsers reach the callback listener, e.g. https://onboard.example.com behind a TLS proxy (default http://localhost:PORT of --http-addr)")
	fl.StringVar(&f.AuthorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys file of the support engineers, who see every organization")
	fl.StringVar(&f.SSHHost, "ssh-host", "", "the SSH server as customers reach it, HOST[:PORT], for the command shown with invites engineers make in the wizard (default: the --public-url's host and the --ssh-addr port)")
	fl.StringVar(&f.HostKey, "host-key", "", "SSH host key file, created on first start (default: ssh_host_ed25519_key next to the database)")
	fl.StringVar(&f.Advertise, "advertise", "", "HOST:PORT where the other instances on the same database reach this one's SSH server (default: --ssh-addr when it names a concrete address)")
	fl.IntVar(&f.MaxSessions, "max-sessions", sshserve.DefaultMaxSessions, "most sessions at once; more are told to come back later")
	fl.DurationVar(&f.IdleTimeout, "idle-timeout", sshserve.DefaultIdleTimeout, "disconnect a session after this long without a key press (warned a minute before; the draft is saved)")
	fl.DurationVar(&f.MaxSession, "max-session", sshserve.DefaultMaxSession, "longest a session may last (the draft is saved)")
	fl.DurationVar(&f.Timeout, "timeout", flow.DefaultTimeout, "limit for each network call to an IdP")
	fl.BoolVar(&f.AllowPrivateNetworks, "allow-private-networks", false, "let sessions reach IdPs on loopback, private and link-local addresses (refused by default)")
	fl.BoolVar(&f.ViaEnvProxy, "https-proxy", false, "send the sessions' IdP calls through the environment's HTTPS_PROXY (not by default: the network guard would see only the proxy)")
	fl.BoolVar(&f.Demo, "demo", false, "start the demo IdP on this machine and pre-fill its client in every session (its address alone is reachable); the sessions use the demo database, onboard-demo.db next to the default one, unless --db or OIDC_ONBOARD_DB names one")
	return cmd
}

// runServe checks the serve flags and serves on the local store.
func (a *app) runServe(ctx context.Context, f sshserve.ServeConfig) error {
	if f.MaxSessions < 1 || f.IdleTimeout <= 0 || f.MaxSession <= 0 || f.Timeout <= 0 {
		return flow.Usagef("--max-sessions, --idle-timeout, --max-session and --timeout must be positive")
	}
	if f.PublicURL == "" {
		flag, addr := "--http-addr", f.HTTPAddr
		if f.SSHHTTPAddr != "" {
			flag, addr = "--ssh-http-addr", f.SSHHTTPAddr
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return flow.Usagef("%s %q: want HOST:PORT or :PORT", flag, addr)
		}
		f.PublicURL = "http://localhost:" + port
	}
	if _, err := sshserve.CheckPublicURL(f.PublicURL); err != nil {
		return flow.Usage(err)
	}
	return a.inStore(f.Demo, func(st *store.Store) error {
		f.Store = st
		return sshserve.Serve(ctx, f, a.stdout, a.stderr)
	})
}

func (a *app) inviteCmd() *cobra.Command {
	var org, sshHost, label string
	var ttl time.Duration
	var asJSON bool
	cmd := command("invite --org NAME [--label TEXT] [--ttl D] [--json]", "Make an invite code that lets a customer into the SSH setup of their organization",
		"invite", cobra.NoArgs, func(*cobra.Command, []string) error {
			if strings.TrimSpace(org) == "" {
				return flow.Usagef("--org is required: the organization the invite is for")
			}
			if err := flow.CheckTyped("organization name", org); err != nil {
				return flow.Usage(err)
			}
			if ttl <= 0 {
				return flow.Usagef("--ttl %s: give a positive duration, e.g. 72h", ttl)
			}
			if err := flow.CheckTyped("label", label); err != nil {
				return flow.Usage(err)
			}
			if n := len([]rune(label)); n > steps.MaxInviteLabel {
				return flow.Usagef("--label is %d characters long: keep it to %d, e.g. \"Jane at Acme IT\"", n, steps.MaxInviteLabel)
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				host, page, err := st.InviteAddresses(ctx, sshHost)
				if err != nil {
					return err
				}
				code, inv, err := st.MakeInviteFor(ctx, org, label, ttl, a.by())
				if err != nil {
					return err
				}
				return a.print(flow.NewInviteCode(code, inv, host).WithPage(page), asJSON)
			})
		})
	fl := cmd.Flags()
	fl.StringVar(&org, "org", "", "the organization the customer sets up (created when new)")
	fl.StringVar(&label, "label", "", "who the invite is for, e.g. \"Jane at Acme IT\": engineers see it in the list of live sessions")
	fl.DurationVar(&ttl, "ttl", steps.DefaultInviteTTL, "how long the code works")
	fl.BoolVar(&asJSON, "json", false, "print {code, organization, label, expires_at, command, id} as JSON")
	fl.StringVar(&sshHost, "ssh-host", "", "the server's address as customers reach it, HOST[:PORT], for the printed command (default: where 'serve' last listened with this database)")
	cmd.AddCommand(a.inviteListCmd(), a.inviteRevokeCmd())
	return cmd
}

func (a *app) inviteListCmd() *cobra.Command {
	return a.listCmd("list [--org NAME] [--json]", "List invites, the newest first", "only this organization's invites", "print JSON",
		func(ctx context.Context, st *store.Store, org string) (textWriter, error) {
			invites, err := st.ListInvites(ctx, org)
			return flow.NewInviteList(invites, time.Now()), err
		})
}

func (a *app) inviteRevokeCmd() *cobra.Command {
	return command("revoke ID", "Withdraw an invite: its code stops working, and sessions using it are refused from their next connection",
		"", oneArg("the invite's ID", "inv_7h3kq9"), func(_ *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				if err := st.RevokeInvite(ctx, args[0]); err != nil {
					return err
				}
				_ = st.Audit(ctx, store.Event{Actor: a.actor(), Action: "invite.revoke", Detail: store.NormalizeID(args[0])})
				_, err := fmt.Fprintf(a.stdout, "Invite %s revoked.\n", store.NormalizeID(args[0]))
				return err
			})
		})
}
