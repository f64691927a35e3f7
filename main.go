// Command oidc-onboard walks a person through setting up a generic OpenID
// Connect SSO connection for an organization, tests it with a real login,
// and stores the result. See README.md and DESIGN.md for the commands.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/tui"
	"github.com/oidc-onboard/oidc-onboard/tui/sshserve"
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
	wf := &wizardFlags{}
	root := &cobra.Command{
		Use:   "oidc-onboard",
		Short: "Set up, validate and test a generic OpenID Connect SSO connection",
		Long: `oidc-onboard walks you through setting up a generic OpenID Connect (OIDC)
SSO connection for an organization: it shows the Redirect URI to give the
identity provider (IdP), collects the Client ID, Client Secret and Discovery
Endpoint, validates the IdP's metadata live, maps claims and groups to roles,
runs a real test login, and stores the result.

Quick starts:
  oidc-onboard                                          the wizard
  oidc-onboard --demo                                   the wizard with a built-in demo IdP
  oidc-onboard check https://idp.example.com            validate an IdP's metadata
  oidc-onboard login --discovery URL --client-id ID \
      --redirect-uri http://localhost:8976/callback      run a real test login
  oidc-onboard serve --authorized-keys FILE             the wizard over SSH, for customers with an invite`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runWizard(cmd.Context(), wf)
		},
	}
	a.wizardFlags(root, wf)
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
		a.verifyCmd(),
		a.transcriptCmd(),
		a.serveCmd(),
		a.inviteCmd(),
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
// the wizard: `oidc-onboard` with no command.
// ---------------------------------------------------------------------------

// defaultRedirectBase is where a local wizard's callbacks arrive.
const defaultRedirectBase = "http://localhost:8976"

type wizardFlags struct {
	demo         bool
	accessible   bool
	redirectBase string
	timeout      time.Duration
	sshHost      string
}

func (a *app) wizardFlags(root *cobra.Command, f *wizardFlags) {
	fl := root.Flags()
	fl.BoolVar(&f.demo, "demo", false, "start a demo IdP on this machine and pre-fill its client, so every step works with nothing else installed")
	fl.BoolVar(&f.accessible, "accessible", false, "plain line-by-line prompts for screen readers (also env ACCESSIBLE=1)")
	fl.StringVar(&f.redirectBase, "redirect-base", defaultRedirectBase, "where test-login callbacks arrive; each connection's Redirect URI is this + /callback/ID (loopback only)")
	fl.DurationVar(&f.timeout, "timeout", flow.DefaultTimeout, "limit for each network call to the IdP")
	fl.StringVar(&f.sshHost, "ssh-host", "", "the 'serve' SSH server as customers reach it, HOST[:PORT], for the command shown with invites made in the wizard (default: the code only)")
}

func (a *app) runWizard(ctx context.Context, f *wizardFlags) error {
	accessible := f.accessible || a.getenv("ACCESSIBLE") != ""
	if !accessible && !(isTerminal(a.stdin) && isTerminal(a.stdout)) {
		return usageErr("the wizard needs a terminal; use --accessible for plain prompts, or the check, login and connections commands in scripts")
	}
	base, err := url.Parse(strings.TrimSuffix(f.redirectBase, "/"))
	if err != nil || base.Host == "" || base.Path != "" || !flow.IsLoopbackHost(base.Hostname()) || base.Scheme != "http" {
		return usageErr("--redirect-base %q: want http://localhost:PORT (a loopback address, no path)", f.redirectBase)
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	callbacks := newLocalCallbacks()
	defer callbacks.close()
	env := &steps.Env{
		Context:      ctx,
		Log:          slog.New(slog.DiscardHandler), // the wizard's screen is the terminal
		Store:        st,
		HTTP:         flow.NewHTTPClient(flow.ClientOptions{Timeout: f.timeout}),
		Timeout:      f.timeout,
		Callbacks:    callbacks.get,
		RedirectBase: base.String(),
		OpenBrowser:  openBrowser,
		Now:          time.Now,
		Actor:        a.localActor(),
		// The local wizard runs as the support engineer, who may make
		// invites here as with 'oidc-onboard invite' (same database).
		Invites: &steps.InviteSettings{SSHHost: f.sshHost},
	}
	if a.getenv("SSH_CONNECTION") != "" || a.getenv("SSH_TTY") != "" {
		env.OpenBrowser = nil // the browser would open on the remote machine, not the person's
	}
	if f.demo {
		idp, err := startDemoIdP(ctx)
		if err != nil {
			return err
		}
		defer idp.Close()
		env.Demo = &steps.Demo{DiscoveryURL: idp.DiscoveryURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			Username: idp.User.Username, Password: idp.User.Password}
	}
	if accessible {
		return tui.RunLines(ctx, env, a.stdin, a.stdout)
	}
	return tui.Run(ctx, env, tea.WithInput(a.stdin), tea.WithOutput(a.stdout))
}

// startDemoIdP starts the embedded demo IdP on loopback. Its library logs
// to the default logger, which would scribble over the wizard's screen.
//
// It listens on a fixed port when it can, so that a demo draft resumed in a
// later run still finds its IdP at the discovery URL it saved.
func startDemoIdP(ctx context.Context) (*demoidp.IdP, error) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	idp, err := demoidp.Start(ctx, demoidp.Options{Addr: demoIdPAddr, AllowLoopbackRedirects: true})
	if flow.IsCode(err, "demo_idp_listen") {
		idp, err = demoidp.Start(ctx, demoidp.Options{AllowLoopbackRedirects: true})
	}
	return idp, err
}

// demoIdPAddr is where --demo's IdP listens, unless the port is taken.
const demoIdPAddr = "127.0.0.1:8977"

// localCallbacks starts one callback server per redirect host and port, on
// first use, and keeps it for the session's later test logins.
type localCallbacks struct {
	mu      sync.Mutex
	servers map[string]*flow.CallbackServer
}

func newLocalCallbacks() *localCallbacks {
	return &localCallbacks{servers: map[string]*flow.CallbackServer{}}
}

func (l *localCallbacks) get(redirectURI string) (*flow.CallbackServer, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, &flow.Error{Code: "bad_redirect_uri", Message: fmt.Sprintf("%q is not a URL", redirectURI), Fix: "use http://localhost:PORT/callback/..."}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.servers[u.Host]; ok {
		return s, nil
	}
	s, err := flow.StartCallbackServer(redirectURI, flow.CallbackOptions{Page: assets.CallbackPage()})
	if err != nil {
		return nil, err
	}
	l.servers[u.Host] = s
	return s, nil
}

func (l *localCallbacks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range l.servers {
		_ = s.Shutdown(ctx)
	}
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(file.Fd())
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
	if a.getenv("NO_COLOR") != "" || !isTerminal(a.stdout) {
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

// loginFlags are the flags of `login`.
type loginFlags struct {
	connection  string
	discovery   string
	clientID    string
	redirectURI string
	secretFile  string
	noBrowser   bool
	json        bool
	timeout     time.Duration
	wait        time.Duration
	groupsClaim string
	defaultRole string
	roleMaps    []string
	claims      []string
	scopes      []string
}

func (a *app) loginCmd() *cobra.Command {
	f := &loginFlags{}
	cmd := &cobra.Command{
		Use:   "login (--discovery URL --client-id ID --redirect-uri URI | --connection ID)",
		Short: "Run a real test login against an IdP and show the mapped profile",
		Long: `Run a real OpenID Connect login (authorization code flow with state, nonce
and PKCE S256) and show the profile it produces.

The callback server listens on the redirect URI's host and port (loopback
only; "localhost" means both 127.0.0.1 and ::1). The authorization URL is
printed to standard error and opened in a browser unless --no-browser. Sign
in there; the login then exchanges the code, verifies the ID token
(signature, algorithm, iss, aud, exp/iat with 60 s of clock skew, nonce,
azp, at_hash), asks userinfo for mapped claims the token lacks, and maps
the profile.

The client secret is read from the environment variable OIDC_CLIENT_SECRET,
or from --client-secret-file PATH ("-" for standard input); never from a
flag value.

With --connection ID the login uses a stored connection: its discovery URL,
client ID, sealed secret, redirect URI and mappings (--redirect-uri, --claim,
--role-map, --groups-claim and --default-role, when given, override the stored
ones for this login only). The result is recorded with the connection.

Time limits: --timeout bounds each network call (discovery, token, keys,
userinfo); --wait bounds the wait for the browser to come back.

Exit status: 0 when the ID token verified, 1 when the login failed (the
reason is on standard error), 2 on a usage error.`,
		Example: `  OIDC_CLIENT_SECRET=... oidc-onboard login \
      --discovery https://idp.example.com/.well-known/openid-configuration \
      --client-id my-app --redirect-uri http://localhost:8976/callback \
      --role-map admins=admin --json

  oidc-onboard login --connection conn_7h3kq9`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.connection != "" {
				return a.runStoredLogin(cmd.Context(), cmd, f)
			}
			return a.runLogin(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.connection, "connection", "", "test a stored connection (its discovery URL, client, secret and mappings) by ID")
	fl.StringVar(&f.discovery, "discovery", "", "the IdP's Discovery Endpoint (or its issuer URL)")
	fl.StringVar(&f.clientID, "client-id", "", "the app's Client ID")
	fl.StringVar(&f.redirectURI, "redirect-uri", "", "the Redirect URI registered in the IdP, e.g. http://localhost:8976/callback")
	fl.StringVar(&f.secretFile, "client-secret-file", "", `read the Client Secret from this file ("-" for standard input) instead of $OIDC_CLIENT_SECRET`)
	fl.BoolVar(&f.noBrowser, "no-browser", false, "do not open a browser; only print the authorization URL")
	fl.BoolVar(&f.json, "json", false, `print {"profile":{...},"claims":{...}} as JSON on success`)
	fl.DurationVar(&f.timeout, "timeout", flow.DefaultTimeout, "limit for each network call to the IdP")
	fl.DurationVar(&f.wait, "wait", flow.DefaultCallbackWait, "how long to wait for the browser to return to the redirect URI")
	fl.StringVar(&f.groupsClaim, "groups-claim", flow.DefaultGroupsClaim, "the claim that lists the user's groups")
	fl.StringArrayVar(&f.roleMaps, "role-map", nil, "GROUP=ROLE: give ROLE to members of GROUP (repeatable)")
	fl.StringVar(&f.defaultRole, "default-role", "", "the role given when no --role-map group matched")
	fl.StringArrayVar(&f.claims, "claim", nil, "ATTR=CLAIM: fill profile attribute ATTR (idp_id, email, first_name, last_name) from CLAIM (repeatable)")
	fl.StringArrayVar(&f.scopes, "scope", nil, `extra scope to request after "openid email profile" (repeatable; default: groups when the IdP lists it)`)
	return cmd
}

// loginInput is what the flags and the secret amount to, once checked.
type loginInput struct {
	discoveryURL string
	cfg          flow.LoginConfig
}

func (a *app) loginInput(f *loginFlags) (*loginInput, error) {
	for _, req := range []struct{ name, value string }{
		{"--discovery", f.discovery}, {"--client-id", f.clientID}, {"--redirect-uri", f.redirectURI},
	} {
		if strings.TrimSpace(req.value) == "" {
			return nil, usageErr("%s is required", req.name)
		}
	}
	if f.timeout <= 0 || f.wait <= 0 {
		return nil, usageErr("--timeout and --wait must be positive durations, e.g. 10s or 5m")
	}
	discoveryURL, _, err := flow.DiscoveryURLFor(f.discovery)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	claims, err := parseClaimFlags(flow.DefaultClaimMapping(), f.claims)
	if err != nil {
		return nil, err
	}
	mappings, err := parseRoleMaps(f.roleMaps)
	if err != nil {
		return nil, err
	}
	roles := flow.RoleAssignment{GroupsClaim: f.groupsClaim, DefaultRole: f.defaultRole, Mappings: mappings}
	secret, err := a.clientSecret(f.secretFile)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, usageErr("no client secret: set OIDC_CLIENT_SECRET or pass --client-secret-file PATH (\"-\" for standard input)")
	}
	return &loginInput{discoveryURL: discoveryURL, cfg: flow.LoginConfig{
		ClientID: f.clientID, ClientSecret: secret, RedirectURI: f.redirectURI,
		ExtraScopes: f.scopes, Claims: claims, Roles: roles, Wait: f.wait,
	}}, nil
}

// parseRoleMaps reads --role-map GROUP=ROLE pairs.
func parseRoleMaps(pairs []string) ([]flow.RoleMapping, error) {
	var out []flow.RoleMapping
	for _, rm := range pairs {
		group, role, ok := strings.Cut(rm, "=")
		if !ok || strings.TrimSpace(group) == "" || strings.TrimSpace(role) == "" {
			return nil, usageErr("--role-map %q: want GROUP=ROLE", rm)
		}
		out = append(out, flow.RoleMapping{Group: strings.TrimSpace(group), Role: strings.TrimSpace(role)})
	}
	return out, nil
}

// parseClaimFlags reads --claim ATTR=CLAIM pairs over the mapping m.
func parseClaimFlags(m flow.ClaimMapping, pairs []string) (flow.ClaimMapping, error) {
	for _, p := range pairs {
		attr, claim, ok := strings.Cut(p, "=")
		attr, claim = strings.TrimSpace(attr), strings.TrimSpace(claim)
		if !ok || claim == "" {
			return m, usageErr("--claim %q: want ATTR=CLAIM, e.g. email=upn", p)
		}
		switch attr {
		case "idp_id":
			m.IDPID = claim
		case "email":
			m.Email = claim
		case "first_name":
			m.FirstName = claim
		case "last_name":
			m.LastName = claim
		default:
			return m, usageErr("--claim %q: unknown attribute %q; use one of idp_id, email, first_name, last_name", p, attr)
		}
	}
	return m, nil
}

// clientSecret reads the secret from --client-secret-file PATH ("-" for
// standard input), else from OIDC_CLIENT_SECRET; "" when neither gives one.
// A file's final line break is not part of the secret.
func (a *app) clientSecret(path string) (string, error) {
	if path == "" {
		return a.getenv("OIDC_CLIENT_SECRET"), nil
	}
	var r io.Reader = a.stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return "", usageErr("--client-secret-file: %v", err)
		}
		defer file.Close()
		r = file
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", usageErr("--client-secret-file: %v", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(s) == "" {
		return "", usageErr("--client-secret-file %s is empty: put the client secret from the IdP's app in it", path)
	}
	return s, nil
}

func (a *app) runLogin(ctx context.Context, f *loginFlags) error {
	in, err := a.loginInput(f)
	if err != nil {
		return err
	}
	_, err = a.login(ctx, in, f)
	return err
}

// runStoredLogin tests a stored connection and records the outcome with it.
func (a *app) runStoredLogin(ctx context.Context, cmd *cobra.Command, f *loginFlags) error {
	fl := cmd.Flags()
	for _, name := range []string{"discovery", "client-id"} {
		if fl.Changed(name) {
			return usageErr("--%s cannot be combined with --connection: the stored connection's value is used", name)
		}
	}
	if f.timeout <= 0 || f.wait <= 0 {
		return usageErr("--timeout and --wait must be positive durations, e.g. 10s or 5m")
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := lookupConnection(ctx, st, f.connection)
	if err != nil {
		return err
	}
	if fl.Changed("redirect-uri") { // e.g. a loopback URI registered for tests, when the stored one is the server's
		c.RedirectURI = f.redirectURI
	}
	if c.RedirectURI == "" || c.DiscoveryURL == "" {
		return &flow.Error{Code: "incomplete_connection",
			Message: fmt.Sprintf("connection %s has no redirect URI or discovery URL yet", c.ID),
			Fix:     "finish it in the wizard (oidc-onboard), or import it again with redirect_uri and discovery_url set"}
	}
	cfg := flow.LoginConfigFromConnection(*c)
	if cfg.Claims, err = parseClaimFlags(c.Claims.WithDefaults(), f.claims); err != nil {
		return err
	}
	if fl.Changed("role-map") {
		if cfg.Roles.Mappings, err = parseRoleMaps(f.roleMaps); err != nil {
			return err
		}
	}
	if fl.Changed("groups-claim") || cfg.Roles.GroupsClaim == "" {
		cfg.Roles.GroupsClaim = f.groupsClaim
	}
	if fl.Changed("default-role") {
		cfg.Roles.DefaultRole = f.defaultRole
	}
	secret, err := a.clientSecret(f.secretFile)
	if err != nil {
		return err
	}
	if secret != "" {
		cfg.ClientSecret = secret
	}
	if cfg.ClientSecret == "" {
		return usageErr("connection %s has no stored client secret: set OIDC_CLIENT_SECRET or pass --client-secret-file PATH", c.ID)
	}
	cfg.ExtraScopes, cfg.Wait = f.scopes, f.wait

	res, loginErr := a.login(ctx, &loginInput{discoveryURL: c.DiscoveryURL, cfg: cfg}, f)
	rec := store.TestLogin{ConnectionID: c.ID, OK: loginErr == nil}
	if res != nil {
		rec.Profile, rec.Claims = &res.Profile, res.IDTokenClaims
		if res.UsedUserinfo {
			rec.UserinfoClaims = map[string]any{}
			for k, v := range res.Claims {
				if _, inToken := res.IDTokenClaims[k]; !inToken {
					rec.UserinfoClaims[k] = v
				}
			}
		}
	}
	if loginErr != nil {
		msg, _ := flow.Explain(loginErr)
		rec.Error = msg
	}
	// The outcome is recorded even when the person pressed Ctrl-C.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := st.SaveTestLogin(sctx, rec); err != nil {
		fmt.Fprintf(a.stderr, "Warning: the test login's result could not be recorded: %v\n", err)
	}
	outcome := "test login succeeded"
	if loginErr != nil {
		outcome = "test login failed: " + rec.Error
	}
	_ = st.Audit(sctx, store.Event{Actor: a.localActor(), Action: "connection.test_login", ConnectionID: c.ID, Organization: c.Organization, Detail: outcome})
	return loginErr
}

// login runs one test login from checked input; `login --connection ID`
// reaches it with the input built from a stored connection
// (flow.LoginConfigFromConnection).
func (a *app) login(ctx context.Context, in *loginInput, f *loginFlags) (*flow.LoginResult, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := flow.StartCallbackServer(in.cfg.RedirectURI, flow.CallbackOptions{Page: assets.CallbackPage()})
	if err != nil {
		return nil, &exitError{code: exitFailed, err: err}
	}
	defer func() {
		// Let the browser get its result page before the process ends.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	in.cfg.RedirectURI = srv.RedirectURI()

	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: f.timeout})
	provider, err := flow.DiscoverProvider(ctx, client, in.discoveryURL)
	if err != nil {
		return nil, &exitError{code: exitFailed, err: err}
	}
	login, err := provider.StartLogin(srv, in.cfg)
	if err != nil {
		return nil, &exitError{code: exitFailed, err: err}
	}
	for _, n := range login.Notes() {
		fmt.Fprintf(a.stderr, "Note: %s.\n", n)
	}
	fmt.Fprintf(a.stderr, "Open this URL in a browser and sign in:\n\n  %s\n\n", login.AuthURL())
	if !f.noBrowser {
		if err := openBrowser(login.AuthURL()); err != nil {
			fmt.Fprintf(a.stderr, "Note: could not open a browser (%v); open the URL yourself.\n", err)
		}
	}
	fmt.Fprintf(a.stderr, "Waiting up to %s for the browser to return to %s (Ctrl-C to cancel)...\n", f.wait, login.RedirectURI())

	res, err := login.Wait(ctx)
	if err != nil {
		return nil, &exitError{code: exitFailed, err: err}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "Warning: %s\n", w)
	}
	if f.json {
		return res, a.printLoginJSON(res)
	}
	a.printLoginHuman(res, provider.Metadata().Issuer, login.AuthMethod())
	return res, nil
}

// loginJSON is the --json output of a successful login.
type loginJSON struct {
	Profile flow.Profile   `json:"profile"`
	Claims  map[string]any `json:"claims"`
}

func (a *app) printLoginJSON(res *flow.LoginResult) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(loginJSON{Profile: res.Profile, Claims: res.Claims})
}

func (a *app) printLoginHuman(res *flow.LoginResult, issuer, authMethod string) {
	w := a.stdout
	fmt.Fprintf(w, "✓ Signed in: the ID token verified (issuer %s, client authentication %s)\n\n", issuer, authMethod)
	p := res.Profile
	fmt.Fprintln(w, "Profile")
	for _, row := range [][2]string{
		{"idp_id", p.IDPID}, {"email", p.Email}, {"first_name", p.FirstName}, {"last_name", p.LastName},
		{"groups", strings.Join(p.Groups, ", ")}, {"roles", strings.Join(p.Roles, ", ")},
	} {
		v := row[1]
		if v == "" {
			v = "(empty)"
		}
		fmt.Fprintf(w, "  %-11s %s\n", row[0], v)
	}
	source := "ID token"
	if res.UsedUserinfo {
		source = "ID token + userinfo"
	}
	fmt.Fprintf(w, "\nClaims (%s)\n", source)
	for _, name := range flow.SortedClaimNames(res.Claims) {
		v, _ := json.Marshal(res.Claims[name])
		fmt.Fprintf(w, "  %-18s %s\n", name, v)
	}
}

// openBrowser asks the desktop to open url, without waiting for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// ---------------------------------------------------------------------------
// connections: the stored connections.
// ---------------------------------------------------------------------------

func (a *app) connectionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "List, show, export, import and delete stored connections",
		Long: `Manage the connections stored in the local database (--db, env OIDC_ONBOARD_DB).

Connection IDs look like conn_7h3kq9; "oidc-onboard connections list" shows them.
Client secrets are sealed in the database and masked in every output, except
"export --include-secret".`,
		Example: `  oidc-onboard connections list
  oidc-onboard connections show conn_7h3kq9
  oidc-onboard connections export conn_7h3kq9 > acme.json
  OIDC_CLIENT_SECRET=... oidc-onboard connections import acme.json
  oidc-onboard connections delete conn_7h3kq9 --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.connectionsListCmd(), a.connectionsShowCmd(), a.connectionsExportCmd(),
		a.connectionsImportCmd(), a.connectionsDeleteCmd(), a.connectionsRemapCmd())
	return cmd
}

// openStore opens the database named by --db, else OIDC_ONBOARD_DB, else
// $XDG_DATA_HOME/oidc-onboard/onboard.db (~/.local/share/... when unset),
// creating its folder 0700 when missing.
func (a *app) openStore() (*store.Store, error) {
	path := a.dbPath
	if path == "" {
		path = a.getenv("OIDC_ONBOARD_DB")
	}
	if path == "" {
		data := a.getenv("XDG_DATA_HOME")
		if !filepath.IsAbs(data) { // the XDG spec says to ignore a relative value
			home := a.getenv("HOME")
			if home == "" {
				return nil, &flow.Error{Code: "db_path", Message: "cannot find a place for the database: HOME is not set",
					Fix: "pass --db PATH or set OIDC_ONBOARD_DB"}
			}
			data = filepath.Join(home, ".local", "share")
		}
		path = filepath.Join(data, "oidc-onboard", "onboard.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &flow.Error{Code: "db_path", Message: fmt.Sprintf("cannot create the folder of %s", path), Err: err,
			Fix: "create it yourself, or pass another --db PATH"}
	}
	return store.Open(path, store.Options{Key: a.getenv("OIDC_ONBOARD_KEY")})
}

// withStore runs fn with the open store and closes it.
func (a *app) withStore(fn func(ctx context.Context, st *store.Store) error) error {
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(context.Background(), st)
}

// localActor names the local user in audit events.
func (a *app) localActor() string {
	if u := a.getenv("USER"); u != "" {
		return "local:" + u
	}
	return "local"
}

// connectionJSON is the export shape of the command contract; applications
// import it too.
type connectionJSON struct {
	ID           string                `json:"id"`
	Organization string                `json:"organization"`
	Name         string                `json:"name"`
	Status       flow.ConnectionStatus `json:"status"`
	DiscoveryURL string                `json:"discovery_url"`
	Issuer       string                `json:"issuer"`
	ClientID     string                `json:"client_id"`
	ClientSecret string                `json:"client_secret"`
	RedirectURI  string                `json:"redirect_uri"`
	Claims       flow.ClaimMapping     `json:"claims"`
	GroupsClaim  string                `json:"groups_claim"`
	RoleMappings []flow.RoleMapping    `json:"role_mappings"`
	DefaultRole  string                `json:"default_role"`
}

// exportShape is c in the export shape, its secret masked unless withSecret.
func exportShape(c *flow.Connection, withSecret bool) connectionJSON {
	secret := flow.MaskSecret(c.ClientSecret)
	if withSecret {
		secret = c.ClientSecret
	}
	roles := c.RoleMappings
	if roles == nil {
		roles = []flow.RoleMapping{}
	}
	return connectionJSON{ID: c.ID, Organization: c.Organization, Name: c.Name, Status: c.Status,
		DiscoveryURL: c.DiscoveryURL, Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret,
		RedirectURI: c.RedirectURI, Claims: c.Claims, GroupsClaim: c.GroupsClaim, RoleMappings: roles,
		DefaultRole: c.DefaultRole}
}

func (a *app) writeConnJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// lookupConnection loads a connection, turning an unknown ID into advice.
func lookupConnection(ctx context.Context, st *store.Store, id string) (*flow.Connection, error) {
	c, err := st.GetConnection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &flow.Error{Code: "unknown_connection", Message: fmt.Sprintf("there is no connection with ID %q in %s", id, st.Path()),
			Fix: "run 'oidc-onboard connections list' to see the IDs (and check --db / OIDC_ONBOARD_DB)"}
	}
	return c, err
}

func (a *app) connectionsListCmd() *cobra.Command {
	var asJSON bool
	var org string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored connections",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				cs, err := st.ListConnections(ctx, org)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]connectionJSON, 0, len(cs))
					for _, c := range cs {
						out = append(out, exportShape(c, false))
					}
					return a.writeConnJSON(out)
				}
				if len(cs) == 0 {
					fmt.Fprintf(a.stdout, "No connections in %s yet.\nCreate one with 'oidc-onboard' (the wizard) or 'oidc-onboard connections import FILE'.\n", st.Path())
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tORGANIZATION\tNAME\tSTATUS\tISSUER\tUPDATED")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Organization, c.Name, c.Status,
						connOrDash(c.Issuer), c.UpdatedAt.Local().Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of connections (secrets masked)")
	cmd.Flags().StringVar(&org, "org", "", "only the connections of this organization")
	return cmd
}

func connOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// connShowJSON is the export shape with the record's history.
type connShowJSON struct {
	connectionJSON
	CreatedAt      time.Time           `json:"created_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
	LastValidation *connValidationJSON `json:"last_validation"`
	LastTestLogin  *connTestLoginJSON  `json:"last_test_login"`
	// GroupLabels name opaque group IDs (such as Entra object IDs).
	GroupLabels map[string]string `json:"group_labels,omitempty"`
}

type connValidationJSON struct {
	At     time.Time    `json:"at"`
	OK     bool         `json:"ok"`
	Checks []flow.Check `json:"checks"`
}

type connTestLoginJSON struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
}

func (a *app) connectionsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one connection (secret masked), its last validation and test login",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				c, err := lookupConnection(ctx, st, args[0])
				if err != nil {
					return err
				}
				out := connShowJSON{connectionJSON: exportShape(c, false), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
				v, err := st.LastValidation(ctx, c.ID)
				if err != nil {
					return err
				}
				if v != nil {
					out.LastValidation = &connValidationJSON{At: v.At, OK: v.Report.OK, Checks: v.Report.Checks}
				}
				logins, err := st.ListTestLogins(ctx, c.ID)
				if err != nil {
					return err
				}
				if len(logins) > 0 {
					out.LastTestLogin = &connTestLoginJSON{At: logins[0].At, OK: logins[0].OK, Error: logins[0].Error}
				}
				if out.GroupLabels, err = st.GroupLabels(ctx, c.ID); err != nil {
					return err
				}
				if asJSON {
					return a.writeConnJSON(out)
				}
				return a.printConnection(out)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the export shape plus times, the last validation and test login, and group labels)")
	return cmd
}

func (a *app) printConnection(c connShowJSON) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, connOrDash(v)) }
	row("ID", c.ID)
	row("Organization", c.Organization)
	row("Name", c.Name)
	row("Status", string(c.Status))
	row("Discovery URL", c.DiscoveryURL)
	row("Issuer", c.Issuer)
	row("Client ID", c.ClientID)
	row("Client secret", c.ClientSecret)
	row("Redirect URI", c.RedirectURI)
	row("Claims", fmt.Sprintf("idp_id=%s email=%s first_name=%s last_name=%s",
		c.Claims.IDPID, c.Claims.Email, c.Claims.FirstName, c.Claims.LastName))
	row("Groups claim", c.GroupsClaim)
	roles := make([]string, 0, len(c.RoleMappings))
	for _, m := range c.RoleMappings {
		roles = append(roles, labelledGroup(c.GroupLabels, m.Group)+" → "+m.Role)
	}
	row("Role mappings", strings.Join(roles, ", "))
	if len(c.GroupLabels) > 0 {
		row("Group labels", groupLabelList(c.GroupLabels))
	}
	row("Default role", c.DefaultRole)
	row("Created", c.CreatedAt.Local().Format(time.DateTime))
	row("Updated", c.UpdatedAt.Local().Format(time.DateTime))
	if v := c.LastValidation; v != nil {
		counts := map[flow.CheckStatus]int{}
		for _, ch := range v.Checks {
			counts[ch.Status]++
		}
		row("Last validation", fmt.Sprintf("%s: %d passed, %d warnings, %d failed", v.At.Local().Format(time.DateTime),
			counts[flow.Pass], counts[flow.Warn], counts[flow.Fail]))
	} else {
		row("Last validation", "never")
	}
	if l := c.LastTestLogin; l != nil {
		outcome := "succeeded"
		if !l.OK {
			outcome = "failed: " + l.Error
		}
		row("Last test login", l.At.Local().Format(time.DateTime)+" "+outcome)
	} else {
		row("Last test login", "never")
	}
	return tw.Flush()
}

// labelledGroup is "ID (label)", or the ID when it has no label.
func labelledGroup(labels map[string]string, group string) string {
	if l := labels[group]; l != "" {
		return group + " (" + l + ")"
	}
	return group
}

// groupLabelList is "ID = label" for every label, by group ID.
func groupLabelList(labels map[string]string) string {
	groups := slices.Sorted(maps.Keys(labels))
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g + " = " + labels[g]
	}
	return strings.Join(out, ", ")
}

func (a *app) connectionsExportCmd() *cobra.Command {
	var includeSecret bool
	cmd := &cobra.Command{
		Use:   "export ID",
		Short: "Print a connection as the JSON that import (and applications) read",
		Long: `Print a connection as JSON: issuer, discovery URL, client ID, redirect URI,
claim and role mappings, status. The client secret is masked unless
--include-secret; "connections import" ignores it either way.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				c, err := lookupConnection(ctx, st, args[0])
				if err != nil {
					return err
				}
				if includeSecret {
					err := st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "connection.export_secret",
						ConnectionID: c.ID, Organization: c.Organization})
					if err != nil {
						return err
					}
					fmt.Fprintln(a.stderr, "Note: this export holds the client secret in plain text; keep it out of tickets and chats.")
				}
				return a.writeConnJSON(exportShape(c, includeSecret))
			})
		},
	}
	cmd.Flags().Bool("json", true, "print JSON (the only format; accepted for symmetry)")
	cmd.Flags().BoolVar(&includeSecret, "include-secret", false, "include the client secret in plain text")
	return cmd
}

func (a *app) connectionsImportCmd() *cobra.Command {
	var (
		secretFile string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create or update a connection from exported JSON",
		Long: `Create or update a connection from the JSON that "connections export" writes
("-" reads standard input). Only organization, name, discovery_url and
client_id are required. The client secret comes from the environment variable
OIDC_CLIENT_SECRET or --client-secret-file; a client_secret in the file is
ignored. A connection with the same id, or else the same organization and
name, is updated; otherwise one is created. Prints the connection's ID.`,
		Example: `  OIDC_CLIENT_SECRET=... oidc-onboard connections import acme.json
  oidc-onboard connections import --client-secret-file secret.txt - < acme.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "-" && secretFile == "-" {
				return usageErr("FILE and --client-secret-file cannot both be standard input")
			}
			raw, err := a.readConnInput(args[0], "connection file")
			if err != nil {
				return err
			}
			c, present, err := parseImport(raw)
			if err != nil {
				return err
			}
			secret, err := a.clientSecret(secretFile)
			if err != nil {
				return err
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				return a.importConnection(ctx, st, c, present, secret, asJSON)
			})
		},
	}
	cmd.Flags().StringVar(&secretFile, "client-secret-file", "", "read the client secret from this file ('-' for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id":..,"action":"created|updated"} instead of the ID alone`)
	return cmd
}

// readConnInput reads a named file, or standard input for "-".
func (a *app) readConnInput(name, what string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if name == "-" {
		b, err = io.ReadAll(a.stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, &flow.Error{Code: "read_input", Message: fmt.Sprintf("cannot read the %s %s", what, name), Err: err,
			Fix: "check the path"}
	}
	return b, nil
}

// parseImport reads and checks the export shape, naming the field at fault.
//
// present names the fields the file has: updating a stored connection keeps
// the stored value of every optional field the file leaves out, so that the
// documented minimal file (organization, name, discovery_url, client_id)
// never wipes an existing connection's mappings or status.
func parseImport(raw []byte) (*flow.Connection, map[string]bool, error) {
	var in connectionJSON
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, nil, importJSONError(raw, err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // it parsed just above
	present := map[string]bool{}
	for k, v := range fields {
		present[k] = string(v) != "null"
	}
	c := &flow.Connection{ID: store.NormalizeID(in.ID), Organization: strings.TrimSpace(in.Organization),
		Name: strings.TrimSpace(in.Name), Status: in.Status, ClientID: strings.TrimSpace(in.ClientID),
		RedirectURI: strings.TrimSpace(in.RedirectURI), Claims: in.Claims.WithDefaults(),
		GroupsClaim: strings.TrimSpace(in.GroupsClaim), RoleMappings: in.RoleMappings,
		DefaultRole: strings.TrimSpace(in.DefaultRole), Issuer: strings.TrimSpace(in.Issuer)}
	for _, f := range []struct{ name, value string }{
		{"organization", c.Organization}, {"name", c.Name},
		{"discovery_url", strings.TrimSpace(in.DiscoveryURL)}, {"client_id", c.ClientID},
	} {
		if f.value == "" {
			return nil, nil, importError(f.name, "is missing or empty", "add it; organization, name, discovery_url and client_id are required")
		}
	}
	discovery, _, err := flow.DiscoveryURLFor(in.DiscoveryURL)
	if err != nil {
		msg, fix := flow.Explain(err)
		return nil, nil, importError("discovery_url", "is not usable: "+msg, fix)
	}
	c.DiscoveryURL = discovery
	if c.Issuer == "" {
		c.Issuer = flow.IssuerFromDiscoveryURL(discovery)
	}
	if c.RedirectURI != "" {
		u, err := url.Parse(c.RedirectURI)
		if err == nil && u.Host == "" {
			err = errors.New("no host")
		}
		if err == nil {
			err = flow.CheckURLScheme(u)
		}
		if err != nil {
			return nil, nil, importError("redirect_uri", "is not a usable URL", "use the Redirect URI the IdP's app was given, e.g. https://…/callback")
		}
	}
	switch c.Status {
	case "":
		c.Status = flow.StatusDraft
	case flow.StatusDraft, flow.StatusActive, flow.StatusInactive:
	default:
		return nil, nil, importError("status", fmt.Sprintf("is %q", c.Status), "use draft, active or inactive, or leave it out")
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = flow.DefaultGroupsClaim
	}
	for i, m := range c.RoleMappings {
		if strings.TrimSpace(m.Group) == "" || strings.TrimSpace(m.Role) == "" {
			return nil, nil, importError(fmt.Sprintf("role_mappings[%d]", i), "needs both group and role", "fill both in, or remove the entry")
		}
	}
	return c, present, nil
}

func importError(field, problem, fix string) error {
	return &flow.Error{Code: "import_field", Message: fmt.Sprintf("the field %q %s; nothing was imported", field, problem), Fix: fix}
}

// importJSONError says where the JSON is broken, or which field has the
// wrong type.
func importJSONError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line := 1 + strings.Count(string(raw[:min(int(syn.Offset), len(raw))]), "\n")
		return &flow.Error{Code: "import_json", Message: fmt.Sprintf("the file is not valid JSON (line %d: %s); nothing was imported", line, syn.Error()),
			Fix: "import the file exactly as 'oidc-onboard connections export' wrote it"}
	case errors.As(err, &typ) && typ.Field != "":
		return importError(typ.Field, "has the wrong type: expected "+typ.Type.String(), "compare it with the output of 'oidc-onboard connections export'")
	}
	return &flow.Error{Code: "import_json", Message: "the file is not a connection in JSON; nothing was imported", Err: err,
		Fix: "import the file exactly as 'oidc-onboard connections export' wrote it"}
}

// importConnection updates the connection with c's ID, else the one with
// its organization and name, else creates c; it prints the ID.
func (a *app) importConnection(ctx context.Context, st *store.Store, c *flow.Connection, present map[string]bool, secret string, asJSON bool) error {
	var existing *flow.Connection
	if c.ID != "" {
		e, err := st.GetConnection(ctx, c.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		existing = e
	}
	if existing == nil {
		e, err := st.ConnectionByName(ctx, c.Organization, c.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if e != nil {
			existing, c.ID = e, e.ID
		}
	}
	if c.ID != "" && existing == nil && !validConnectionID(c.ID) {
		c.ID = "" // not one of ours: assign a fresh ID
	}
	c.ClientSecret = secret
	action := "created"
	if existing != nil {
		action = "updated"
		if secret == "" {
			c.ClientSecret = existing.ClientSecret
		}
		keepStored(c, existing, present)
	}
	if err := st.SaveConnection(ctx, c); err != nil {
		return err
	}
	if err := st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "connection.import", ConnectionID: c.ID,
		Organization: c.Organization, Detail: action}); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "%s connection %s (%s / %s).\n", strings.ToUpper(action[:1])+action[1:], c.ID, c.Organization, c.Name)
	if c.ClientSecret == "" {
		fmt.Fprintln(a.stderr, "Note: it has no client secret; set OIDC_CLIENT_SECRET or pass --client-secret-file and import again.")
	}
	if asJSON {
		return a.writeConnJSON(map[string]string{"id": c.ID, "action": action})
	}
	fmt.Fprintln(a.stdout, c.ID)
	return nil
}

// keepStored gives c the stored value of each optional field the imported
// file left out.
func keepStored(c, stored *flow.Connection, present map[string]bool) {
	if !present["status"] {
		c.Status = stored.Status
	}
	if !present["issuer"] && c.DiscoveryURL == stored.DiscoveryURL {
		c.Issuer = stored.Issuer
	}
	if !present["redirect_uri"] {
		c.RedirectURI = stored.RedirectURI
	}
	if !present["claims"] {
		c.Claims = stored.Claims
	}
	if !present["groups_claim"] {
		c.GroupsClaim = stored.GroupsClaim
	}
	if !present["role_mappings"] {
		c.RoleMappings = stored.RoleMappings
	}
	if !present["default_role"] {
		c.DefaultRole = stored.DefaultRole
	}
}

// validConnectionID reports whether id looks like an ID this tool gives.
func validConnectionID(id string) bool {
	rest, ok := strings.CutPrefix(id, "conn_")
	if !ok || len(rest) < 4 || len(rest) > 32 {
		return false
	}
	for _, r := range rest {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func (a *app) connectionsDeleteCmd() *cobra.Command {
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a connection and its test logins (asks first; --yes for scripts)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				c, err := lookupConnection(ctx, st, args[0])
				if err != nil {
					return err
				}
				if !yes {
					if err := a.confirmDelete(c); err != nil {
						return err
					}
				}
				if err := st.DeleteConnection(ctx, c.ID); err != nil {
					return err
				}
				if err := st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "connection.delete", ConnectionID: c.ID,
					Organization: c.Organization, Detail: c.Name}); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "Deleted connection %s (%s / %s).\n", c.ID, c.Organization, c.Name)
				if asJSON {
					return a.writeConnJSON(map[string]any{"id": c.ID, "deleted": true})
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id":..,"deleted":true} once deleted`)
	return cmd
}

// confirmDelete asks y/N on a terminal; elsewhere it refuses, since a
// script must say --yes.
func (a *app) confirmDelete(c *flow.Connection) error {
	if !isTerminal(a.stdin) {
		return usageErr("not deleting %s without confirmation: standard input is not a terminal; pass --yes", c.ID)
	}
	fmt.Fprintf(a.stderr, "Delete connection %s (%s / %s) and its test logins? [y/N] ", c.ID, c.Organization, c.Name)
	answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	fmt.Fprintln(a.stderr, "Not deleted.")
	return &exitError{code: exitFailed, quiet: true}
}

// ---------------------------------------------------------------------------
// verify: drift watch on active connections.
// ---------------------------------------------------------------------------

func (a *app) verifyCmd() *cobra.Command {
	var (
		all, asJSON bool
		timeout     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify [ID | --all]",
		Short: "Check that active connections' IdPs still match what they were activated with",
		Long: `Drift watch: fetch the discovery document and signing keys of a connection
(or of every active connection with --all) and compare them with the snapshot
kept when the connection was activated (or, without one, its last validation).

Reported: issuer and endpoint changes, signing keys added, removed or rotated,
advertised algorithms changed, the IdP's clock drifting, checks that now fail.
Every result is written to the audit log.

Exit status: 0 when nothing breaks logins (benign changes such as a key added
alongside the old one are listed), 1 when a change breaks logins, a connection
cannot be checked or has no snapshot, 2 on a usage error. Suitable for cron.

--json prints:
  {"ok": bool, "checked_at": RFC3339,
   "connections": [{"id", "organization", "name", "provider", "ok": bool,
     "snapshot": "activation" | "last_validation" | "none", "snapshot_at",
     "changes": [{"kind", "breaking": bool, "detail", "fix"}], "error"}]}
Change kinds: unreachable, issuer, endpoint, key_added, key_removed,
keys_rotated, no_usable_key, algorithms, clock, check_failed, snapshot_empty.`,
		Example: `  oidc-onboard verify conn_7h3kq9
  oidc-onboard verify --all --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return usageErr("give one connection ID or --all")
			}
			if timeout <= 0 {
				return usageErr("--timeout must be a positive duration, e.g. 10s")
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				return a.runVerify(ctx, st, args, timeout, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "verify every active connection")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (shape above)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "time limit for each IdP's fetches")
	return cmd
}

// verifyResult is one connection's drift in the --json shape.
type verifyResult struct {
	ID           string             `json:"id"`
	Organization string             `json:"organization"`
	Name         string             `json:"name"`
	Provider     flow.IdPKind       `json:"provider"`
	OK           bool               `json:"ok"`
	Snapshot     string             `json:"snapshot"`
	SnapshotAt   *time.Time         `json:"snapshot_at"`
	Changes      []flow.DriftChange `json:"changes"`
	Error        string             `json:"error,omitempty"`
}

type verifyJSON struct {
	OK          bool           `json:"ok"`
	CheckedAt   time.Time      `json:"checked_at"`
	Connections []verifyResult `json:"connections"`
}

func (a *app) runVerify(ctx context.Context, st *store.Store, args []string, timeout time.Duration, asJSON bool) error {
	var conns []*flow.Connection
	if len(args) == 1 {
		c, err := lookupConnection(ctx, st, args[0])
		if err != nil {
			return err
		}
		conns = append(conns, c)
	} else {
		list, err := st.ListConnections(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range list {
			if c.Status == flow.StatusActive {
				conns = append(conns, c)
			}
		}
	}
	out := verifyJSON{OK: true, CheckedAt: time.Now().UTC(), Connections: []verifyResult{}}
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: timeout})
	for _, c := range conns {
		r, err := a.verifyOne(ctx, st, client, c)
		if err != nil {
			return err
		}
		out.OK = out.OK && r.OK
		out.Connections = append(out.Connections, r)
	}
	if asJSON {
		if err := a.writeConnJSON(out); err != nil {
			return err
		}
	} else {
		a.printVerify(out)
	}
	if !out.OK {
		return &exitError{code: exitFailed, quiet: true}
	}
	return nil
}

// verifyOne compares one connection with its snapshot and audits the result.
func (a *app) verifyOne(ctx context.Context, st *store.Store, client *http.Client, c *flow.Connection) (verifyResult, error) {
	r := verifyResult{ID: c.ID, Organization: c.Organization, Name: c.Name, Snapshot: "activation", Changes: []flow.DriftChange{}}
	snap, err := st.ActivationSnapshot(ctx, c.ID)
	if err == nil && snap == nil {
		r.Snapshot = "last_validation"
		snap, err = st.LastValidation(ctx, c.ID)
	}
	if err != nil {
		return r, err
	}
	switch {
	case c.DiscoveryURL == "":
		r.Error = "the connection has no discovery URL"
	case snap == nil:
		r.Snapshot = "none"
		r.Error = "the connection was never validated, so there is nothing to compare with; validate it in the wizard and activate it again"
	default:
		at := snap.At
		r.SnapshotAt = &at
		d := flow.CheckDrift(ctx, client, c.DiscoveryURL,
			flow.Snapshot{At: snap.At, RawMetadata: snap.Report.RawMetadata, RawJWKS: snap.Report.RawJWKS}, flow.ValidateOptions{})
		r.OK, r.Changes = d.OK, d.Changes
		r.Provider = flow.DetectProvider(d.Report.Metadata, d.Report.RawMetadata).Kind
	}
	detail := "no change"
	if r.Error != "" {
		detail = "not checked: " + r.Error
	} else if len(r.Changes) > 0 {
		var kinds []string
		for _, ch := range r.Changes {
			kinds = append(kinds, ch.Kind)
		}
		detail = fmt.Sprintf("ok=%v changes: %s", r.OK, strings.Join(kinds, ", "))
	}
	err = st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "connection.verify", ConnectionID: c.ID,
		Organization: c.Organization, Detail: detail})
	return r, err
}

func (a *app) printVerify(out verifyJSON) {
	w := a.stdout
	if len(out.Connections) == 0 {
		fmt.Fprintln(w, "No active connections to verify.")
		return
	}
	for _, r := range out.Connections {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		head := fmt.Sprintf("%s %s (%s / %s)", mark, r.ID, r.Organization, r.Name)
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "%s: not checked — %s\n", head, r.Error)
			continue
		case len(r.Changes) == 0:
			fmt.Fprintf(w, "%s: no change since %s\n", head, strings.ReplaceAll(r.Snapshot, "_", " "))
			continue
		case r.OK:
			fmt.Fprintf(w, "%s: changed, nothing that breaks logins\n", head)
		default:
			fmt.Fprintf(w, "%s: changed in a way that breaks logins\n", head)
		}
		for _, ch := range r.Changes {
			sym := "•"
			if ch.Breaking {
				sym = "✗"
			}
			fmt.Fprintf(w, "    %s %s: %s\n", sym, ch.Kind, ch.Detail)
			if ch.Fix != "" {
				fmt.Fprintf(w, "      Fix: %s\n", ch.Fix)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// transcript: a redacted record of a connection's setup for a ticket.
// ---------------------------------------------------------------------------

func (a *app) transcriptCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "transcript ID",
		Short: "Print a redacted record of a connection's setup for a support ticket",
		Long: `Print a timestamped record of a connection's setup — its settings, the checks
and their results, test logins and their verdicts, mapping changes, drift
checks — with a short support code at the top, ready to attach to a ticket.

The client secret, authorization codes and tokens are never printed; anything
that looks like a JWT or a random token is masked, and claims such as nonce,
at_hash and sid are removed.

--json prints {"support_code", "generated_at", "connection_id", "organization",
"name", "status", "provider", "settings": {...}, "entries": [{"at", "kind",
"summary", "details": [...]}]}.`,
		Example: `  oidc-onboard transcript conn_7h3kq9 > ticket-4711.txt`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				t, err := buildTranscript(ctx, st, args[0], time.Now())
				if err != nil {
					return err
				}
				if asJSON {
					return a.writeConnJSON(t)
				}
				return t.WriteText(a.stdout)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the transcript as JSON")
	return cmd
}

// buildTranscript gathers a connection's record from the store and redacts it.
func buildTranscript(ctx context.Context, st *store.Store, id string, now time.Time) (*flow.Transcript, error) {
	c, err := lookupConnection(ctx, st, id)
	if err != nil {
		return nil, err
	}
	last, err := st.LastValidation(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	activation, err := st.ActivationSnapshot(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	logins, err := st.ListTestLogins(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	events, err := st.ListAudit(ctx, store.AuditQuery{ConnectionID: c.ID})
	if err != nil {
		return nil, err
	}
	checked, err := st.MappingsCheckedAgainst(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	labels, err := st.GroupLabels(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	p := flow.DetectProviderURL(c.DiscoveryURL)
	if last != nil && last.Report.Metadata == nil && len(last.Report.RawMetadata) > 0 {
		if _, md, err := flow.ParseDiscovery(c.DiscoveryURL, "application/json", last.Report.RawMetadata); err == nil {
			p = flow.DetectProvider(md, last.Report.RawMetadata)
		}
	}
	t := &flow.Transcript{SupportCode: flow.SupportCode(c.ID, now), GeneratedAt: now.UTC(), ConnectionID: c.ID,
		Organization: c.Organization, Name: c.Name, Status: c.Status, Provider: p,
		Settings: transcriptSettings(c, p, checked, labels)}
	red := flow.NewRedactor(c.ClientSecret)
	for _, v := range []struct {
		kind string
		val  *store.Validation
	}{{"validation", last}, {"activation", activation}} {
		if v.val != nil {
			t.Entries = append(t.Entries, validationEntry(v.kind, v.val))
		}
	}
	for _, tl := range logins {
		t.Entries = append(t.Entries, testLoginEntry(tl, c, p, red, tl.ID == checked, labels))
	}
	for _, e := range events {
		summary := e.Action
		if e.Detail != "" {
			summary += ": " + e.Detail
		}
		t.Entries = append(t.Entries, flow.TranscriptEntry{At: e.At, Kind: "audit", Summary: summary, Details: []string{"by " + e.Actor}})
	}
	t.Sort()
	t.Redact(red)
	return t, nil
}

func transcriptSettings(c *flow.Connection, p flow.IdP, checked int64, labels map[string]string) map[string]string {
	secret := "not set"
	if c.ClientSecret != "" {
		secret = "set (sealed; not shown)"
		if fs := flow.DiagnoseSecret(p, c.ClientSecret); len(fs) > 0 {
			secret += " — warning: " + fs[0].Message
		}
	}
	roles := make([]string, 0, len(c.RoleMappings))
	for _, rm := range c.RoleMappings {
		roles = append(roles, labelledGroup(labels, rm.Group)+" → "+rm.Role)
	}
	m := c.Claims.WithDefaults()
	s := map[string]string{
		"discovery_url": connOrDash(c.DiscoveryURL), "issuer": connOrDash(c.Issuer), "client_id": connOrDash(c.ClientID),
		"client_secret": secret, "redirect_uri": connOrDash(c.RedirectURI),
		"claims":       fmt.Sprintf("idp_id←%s email←%s first_name←%s last_name←%s", m.IDPID, m.Email, m.FirstName, m.LastName),
		"groups_claim": connOrDash(c.GroupsClaim), "role_mappings": connOrDash(strings.Join(roles, "; ")),
		"default_role": connOrDash(c.DefaultRole), "mappings_tested": "not checked against a test login",
	}
	if checked != 0 {
		s["mappings_tested"] = fmt.Sprintf("checked against test login #%d", checked)
	}
	if len(labels) > 0 {
		s["group_labels"] = groupLabelList(labels)
	}
	return s
}

func validationEntry(kind string, v *store.Validation) flow.TranscriptEntry {
	counts := map[flow.CheckStatus]int{}
	var details []string
	for _, ch := range v.Report.Checks {
		counts[ch.Status]++
		line := fmt.Sprintf("%s %s: %s", ch.Status, ch.ID, ch.Detail)
		if ch.Fix != "" && ch.Status != flow.Pass {
			line += " — fix: " + ch.Fix
		}
		details = append(details, line)
	}
	summary := fmt.Sprintf("discovery checks: %d pass, %d warn, %d fail (issuer %s)", counts[flow.Pass], counts[flow.Warn], counts[flow.Fail], connOrDash(v.Report.Issuer))
	if kind == "activation" { // the checks are those of a validation listed too
		summary, details = "activated with this snapshot — "+summary, nil
	}
	return flow.TranscriptEntry{At: v.At, Kind: kind, Summary: summary, Details: details}
}

func testLoginEntry(tl store.TestLogin, c *flow.Connection, p flow.IdP, red *flow.Redactor, checked bool, labels map[string]string) flow.TranscriptEntry {
	e := flow.TranscriptEntry{At: tl.At, Kind: "test_login", Summary: fmt.Sprintf("#%d succeeded", tl.ID)}
	if !tl.OK {
		e.Summary = fmt.Sprintf("#%d failed: %s", tl.ID, tl.Error)
	}
	if checked {
		e.Summary += " (current mappings checked against it)"
	}
	if tl.Profile != nil {
		pr := tl.Profile
		e.Details = append(e.Details, fmt.Sprintf("profile: idp_id=%s email=%s first_name=%s last_name=%s groups=[%s] roles=[%s]",
			pr.IDPID, pr.Email, pr.FirstName, pr.LastName, labelledGroups(labels, pr.Groups), strings.Join(pr.Roles, ", ")))
	}
	if tl.Claims != nil {
		claims := flow.MergeClaims(tl.Claims, tl.UserinfoClaims)
		for _, line := range red.RedactClaims(claims) {
			e.Details = append(e.Details, "claim "+line)
		}
		for _, f := range flow.DiagnoseClaims(p, claims, c.Claims, c.Roles()) {
			e.Details = append(e.Details, fmt.Sprintf("%s %s: %s — fix: %s", f.Severity, f.ID, f.Message, f.Fix))
		}
	}
	return e
}

// ---------------------------------------------------------------------------
// connections remap: replay a test login's claims under new mappings.
// ---------------------------------------------------------------------------

// labelledGroups is groups with their labels, comma separated.
func labelledGroups(labels map[string]string, groups []string) string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = labelledGroup(labels, g)
	}
	return strings.Join(out, ", ")
}

func (a *app) connectionsRemapCmd() *cobra.Command {
	var (
		claims, roleMaps         []string
		groupsClaim, defaultRole string
		dryRun, asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "remap ID",
		Short: "Change a connection's mappings and see the profile at once from its last test login",
		Long: `Replay the claims captured by the connection's latest test login (ID token
and userinfo) under changed claim and role mappings, and show the resulting
profile and roles at once — no new login needed. Unless --dry-run, the new
mappings are saved and the connection records the test login they were
checked against. --role-map replaces the whole list of role mappings.

--json prints {"connection_id", "test_login": {"id", "at"}, "saved": bool,
"mapping": {"claims", "groups_claim", "role_mappings", "default_role"},
"profile": {...}, "changes": [...], "warnings": [...], "findings": [...]}.`,
		Example: `  oidc-onboard connections remap conn_7h3kq9 --claim email=upn --dry-run
  oidc-onboard connections remap conn_7h3kq9 --groups-claim roles --role-map Admins=admin --default-role viewer`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				c, err := lookupConnection(ctx, st, args[0])
				if err != nil {
					return err
				}
				next := *c
				if next.Claims, err = parseClaimFlags(c.Claims, claims); err != nil {
					return err
				}
				fl := cmd.Flags()
				if fl.Changed("role-map") {
					if next.RoleMappings, err = parseRoleMaps(roleMaps); err != nil {
						return err
					}
				}
				if fl.Changed("groups-claim") {
					next.GroupsClaim = strings.TrimSpace(groupsClaim)
				}
				if fl.Changed("default-role") {
					next.DefaultRole = strings.TrimSpace(defaultRole)
				}
				return a.runRemap(ctx, st, c, &next, dryRun, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&claims, "claim", nil, "map a profile attribute to a claim, ATTR=CLAIM (idp_id, email, first_name, last_name); repeatable")
	f.StringVar(&groupsClaim, "groups-claim", "", "the claim that carries group memberships")
	f.StringArrayVar(&roleMaps, "role-map", nil, "map an IdP group to a role, GROUP=ROLE; repeatable; replaces the list")
	f.StringVar(&defaultRole, "default-role", "", "the role of users no mapping matches (empty: none)")
	f.BoolVar(&dryRun, "dry-run", false, "show the result without saving the mappings")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

type remapMapping struct {
	Claims       flow.ClaimMapping  `json:"claims"`
	GroupsClaim  string             `json:"groups_claim"`
	RoleMappings []flow.RoleMapping `json:"role_mappings"`
	DefaultRole  string             `json:"default_role"`
}

type remapJSON struct {
	ConnectionID string         `json:"connection_id"`
	TestLogin    remapTestLogin `json:"test_login"`
	Saved        bool           `json:"saved"`
	Mapping      remapMapping   `json:"mapping"`
	Profile      flow.Profile   `json:"profile"`
	Changes      []string       `json:"changes"`
	Warnings     []string       `json:"warnings"`
	Findings     []flow.Finding `json:"findings"`
}

type remapTestLogin struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
}

func (a *app) runRemap(ctx context.Context, st *store.Store, c, next *flow.Connection, dryRun, asJSON bool) error {
	tl, err := latestCapturedLogin(ctx, st, c.ID)
	if err != nil {
		return err
	}
	p := flow.DetectProviderURL(c.DiscoveryURL)
	if v, err := st.LastValidation(ctx, c.ID); err == nil && v != nil && len(v.Report.RawMetadata) > 0 {
		if _, md, err := flow.ParseDiscovery(c.DiscoveryURL, "application/json", v.Report.RawMetadata); err == nil {
			p = flow.DetectProvider(md, v.Report.RawMetadata)
		}
	}
	before, _, _ := flow.Replay(p, tl.Claims, tl.UserinfoClaims, c.Claims, c.Roles())
	after, warnings, findings := flow.Replay(p, tl.Claims, tl.UserinfoClaims, next.Claims, next.Roles())
	roles := next.RoleMappings
	if roles == nil {
		roles = []flow.RoleMapping{}
	}
	out := remapJSON{ConnectionID: c.ID, TestLogin: remapTestLogin{ID: tl.ID, At: tl.At}, Saved: !dryRun,
		Mapping: remapMapping{Claims: next.Claims, GroupsClaim: next.GroupsClaim, RoleMappings: roles, DefaultRole: next.DefaultRole},
		Profile: after, Changes: flow.ProfileChanges(before, after), Warnings: warnings, Findings: findings}
	for _, s := range []*[]string{&out.Changes, &out.Warnings} {
		if *s == nil {
			*s = []string{}
		}
	}
	if out.Findings == nil {
		out.Findings = []flow.Finding{}
	}
	if !dryRun {
		if err := st.SaveConnection(ctx, next); err != nil {
			return err
		}
		if err := st.SetMappingsCheckedAgainst(ctx, c.ID, tl.ID); err != nil {
			return err
		}
		if err := st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "connection.remap", ConnectionID: c.ID,
			Organization: c.Organization, Detail: mappingChanges(c, next, tl.ID)}); err != nil {
			return err
		}
	}
	if asJSON {
		return a.writeConnJSON(out)
	}
	a.printRemap(out)
	return nil
}

// latestCapturedLogin is the newest test login with captured claims.
func latestCapturedLogin(ctx context.Context, st *store.Store, id string) (store.TestLogin, error) {
	logins, err := st.ListTestLogins(ctx, id)
	if err != nil {
		return store.TestLogin{}, err
	}
	for _, tl := range logins {
		if tl.Claims != nil {
			return tl, nil
		}
	}
	return store.TestLogin{}, &flow.Error{Code: "no_test_login",
		Message: fmt.Sprintf("connection %s has no test login with captured claims to replay", id),
		Fix:     "run one test login first: oidc-onboard login --connection " + id}
}

// mappingChanges describes, for the audit log, how next's mappings differ
// from c's.
func mappingChanges(c, next *flow.Connection, testLogin int64) string {
	var parts []string
	o, n := c.Claims.WithDefaults(), next.Claims.WithDefaults()
	for _, f := range []struct{ attr, a, b string }{
		{"idp_id", o.IDPID, n.IDPID}, {"email", o.Email, n.Email}, {"first_name", o.FirstName, n.FirstName}, {"last_name", o.LastName, n.LastName},
		{"groups_claim", c.GroupsClaim, next.GroupsClaim}, {"default_role", c.DefaultRole, next.DefaultRole},
	} {
		if f.a != f.b {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", f.attr, connOrDash(f.a), connOrDash(f.b)))
		}
	}
	if fmt.Sprint(c.RoleMappings) != fmt.Sprint(next.RoleMappings) {
		parts = append(parts, fmt.Sprintf("role_mappings: %d → %d", len(c.RoleMappings), len(next.RoleMappings)))
	}
	if len(parts) == 0 {
		parts = append(parts, "no mapping change")
	}
	return strings.Join(parts, "; ") + fmt.Sprintf(" (checked against test login #%d)", testLogin)
}

func (a *app) printRemap(out remapJSON) {
	w := a.stdout
	fmt.Fprintf(w, "Replayed test login #%d (%s) of %s\n\n", out.TestLogin.ID, out.TestLogin.At.Format(time.RFC3339), out.ConnectionID)
	p := out.Profile
	fmt.Fprintln(w, "Profile")
	for _, row := range [][2]string{
		{"idp_id", p.IDPID}, {"email", p.Email}, {"first_name", p.FirstName}, {"last_name", p.LastName},
		{"groups", strings.Join(p.Groups, ", ")}, {"roles", strings.Join(p.Roles, ", ")},
	} {
		fmt.Fprintf(w, "  %-11s %s\n", row[0], cmpOrEmpty(row[1]))
	}
	if len(out.Changes) > 0 {
		fmt.Fprintln(w, "\nChanged")
		for _, c := range out.Changes {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	for _, wn := range out.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", wn)
	}
	for _, f := range out.Findings {
		fmt.Fprintf(w, "\n[%s] %s\n  Fix: %s\n", f.Severity, f.Message, f.Fix)
		if f.Suggestion != "" {
			fmt.Fprintf(w, "  Try: oidc-onboard connections remap %s %s\n", out.ConnectionID, f.Suggestion)
		}
	}
	if out.Saved {
		fmt.Fprintln(w, "\nSaved the new mappings.")
	} else {
		fmt.Fprintln(w, "\nDry run: nothing was saved.")
	}
}

func cmpOrEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// ---------------------------------------------------------------------------
// serve: the wizard for many customers at once, over SSH.
// ---------------------------------------------------------------------------

type serveFlags struct {
	sshAddr, httpAddr, publicURL string
	authorizedKeys, hostKey      string
	sshHost                      string
	maxSessions                  int
	idleTimeout, maxSession      time.Duration
	timeout                      time.Duration
	allowPrivate, demo           bool
}

func (a *app) serveCmd() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the setup wizard over SSH: customers come in with an invite code, support engineers with their key",
		Long: `serve runs the setup wizard for every SSH session, each customer walled into the
organization of their invite, and receives the test-login callbacks of all
sessions over HTTP at --public-url. The SSH host key is generated once, next
to the database; its fingerprint is printed at start.

Make invites with 'oidc-onboard invite --org NAME'.`,
		Example: `  # behind a TLS proxy that forwards https://onboard.example.com/callback/* here
  oidc-onboard serve --ssh-addr :2222 --http-addr 127.0.0.1:8976 \
      --public-url https://onboard.example.com --authorized-keys ~/.ssh/engineers.pub

  # try it all on this machine, with the demo IdP
  oidc-onboard serve --demo --ssh-addr 127.0.0.1:2222
  oidc-onboard invite --org "Acme Corp"          # then: ssh -p 2222 setup@localhost`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runServe(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.sshAddr, "ssh-addr", ":2222", "address the SSH server listens on")
	fl.StringVar(&f.httpAddr, "http-addr", ":8976", "address the callback listener (HTTP) listens on")
	fl.StringVar(&f.publicURL, "public-url", "", "where browsers reach the callback listener, e.g. https://onboard.example.com behind a TLS proxy (default http://localhost:PORT of --http-addr)")
	fl.StringVar(&f.authorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys file of the support engineers, who see every organization")
	fl.StringVar(&f.sshHost, "ssh-host", "", "the SSH server as customers reach it, HOST[:PORT], for the command shown with invites engineers make in the wizard (default: the --public-url's host and the --ssh-addr port)")
	fl.StringVar(&f.hostKey, "host-key", "", "SSH host key file, created on first start (default: ssh_host_ed25519_key next to the database)")
	fl.IntVar(&f.maxSessions, "max-sessions", sshserve.DefaultMaxSessions, "most sessions at once; more are told to come back later")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", sshserve.DefaultIdleTimeout, "disconnect a session after this long without a key press (warned a minute before; the draft is saved)")
	fl.DurationVar(&f.maxSession, "max-session", sshserve.DefaultMaxSession, "longest a session may last (the draft is saved)")
	fl.DurationVar(&f.timeout, "timeout", flow.DefaultTimeout, "limit for each network call to an IdP")
	fl.BoolVar(&f.allowPrivate, "allow-private-networks", false, "let sessions reach IdPs on loopback, private and link-local addresses (refused by default)")
	fl.BoolVar(&f.demo, "demo", false, "start the demo IdP on this machine and pre-fill its client in every session (its address alone is reachable)")
	return cmd
}

func (a *app) runServe(ctx context.Context, f *serveFlags) error {
	if f.maxSessions < 1 || f.idleTimeout <= 0 || f.maxSession <= 0 || f.timeout <= 0 {
		return usageErr("--max-sessions, --idle-timeout, --max-session and --timeout must be positive")
	}
	publicURL := f.publicURL
	if publicURL == "" {
		_, port, err := net.SplitHostPort(f.httpAddr)
		if err != nil {
			return usageErr("--http-addr %q: want HOST:PORT or :PORT", f.httpAddr)
		}
		publicURL = "http://localhost:" + port
	}
	if _, err := sshserve.CheckPublicURL(publicURL); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	if f.authorizedKeys != "" {
		if _, err := os.Stat(f.authorizedKeys); err != nil {
			return &flow.Error{Code: "authorized_keys", Message: fmt.Sprintf("cannot read --authorized-keys %s", f.authorizedKeys),
				Fix: "give an OpenSSH authorized_keys file (one public key per line)", Err: err}
		}
	}
	hostKeyPath := f.hostKey
	if hostKeyPath == "" {
		hostKeyPath = filepath.Join(filepath.Dir(st.Path()), "ssh_host_ed25519_key")
	}
	signer, fingerprint, err := sshserve.LoadHostKey(hostKeyPath)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	guard := flow.NetGuard{}
	var demo *steps.Demo
	if f.demo {
		idp, err := startDemoIdP(ctx)
		if err != nil {
			return err
		}
		defer idp.Close()
		demo = &steps.Demo{DiscoveryURL: idp.DiscoveryURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			Username: idp.User.Username, Password: idp.User.Password}
		u, _ := url.Parse(idp.Issuer)
		guard.Allow = append(guard.Allow, u.Host)
	}
	opts := flow.ClientOptions{Timeout: f.timeout}
	if !f.allowPrivate {
		opts.DialControl = guard.Control
	}
	sshLn, err := net.Listen("tcp", f.sshAddr)
	if err != nil {
		return &flow.Error{Code: "listen_failed", Message: fmt.Sprintf("cannot listen on --ssh-addr %s", f.sshAddr),
			Fix: "pick a free port, e.g. --ssh-addr :2222", Err: err}
	}
	httpLn, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		sshLn.Close()
		return &flow.Error{Code: "listen_failed", Message: fmt.Sprintf("cannot listen on --http-addr %s", f.httpAddr),
			Fix: "pick a free port, e.g. --http-addr :8976", Err: err}
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	srv, err := sshserve.NewServer(sshserve.ServerOptions{Store: st, HostKey: signer, PublicURL: publicURL,
		AuthorizedKeys: f.authorizedKeys, HTTP: flow.NewHTTPClient(opts), Timeout: f.timeout,
		MaxSessions: f.maxSessions, IdleTimeout: f.idleTimeout, MaxSession: f.maxSession,
		Demo: demo, Log: logger, SSHHost: serveSSHHost(f.sshHost, publicURL, sshLn.Addr())})
	if err != nil {
		sshLn.Close()
		httpLn.Close()
		return err
	}
	a.printServeBanner(sshLn.Addr(), httpLn.Addr(), publicURL, fingerprint, st.Path(), f)
	return srv.Serve(ctx, sshLn, httpLn)
}

// serveSSHHost is the SSH server as customers reach it: --ssh-host, else
// the host browsers reach (--public-url) on the port SSH listens on.
func serveSSHHost(flag, publicURL string, sshAddr net.Addr) string {
	if flag != "" {
		return flag
	}
	u, err := url.Parse(publicURL)
	_, port, perr := net.SplitHostPort(sshAddr.String())
	if err != nil || perr != nil || u.Hostname() == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func (a *app) printServeBanner(sshAddr, httpAddr net.Addr, publicURL, fingerprint, db string, f *serveFlags) {
	_, port, _ := net.SplitHostPort(sshAddr.String())
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "oidc-onboard serve\n")
	fmt.Fprintf(w, "SSH\t%s\t(customers: ssh -p %s setup@THIS-HOST)\n", sshAddr, port)
	fmt.Fprintf(w, "Host key\t%s\t(read it to a customer whose ssh asks)\n", fingerprint)
	fmt.Fprintf(w, "Callbacks\t%s\t(Redirect URIs are %s/callback/CONNECTION-ID)\n", httpAddr, publicURL)
	fmt.Fprintf(w, "Database\t%s\n", db)
	keys := "none: customers with invite codes only"
	if f.authorizedKeys != "" {
		keys = f.authorizedKeys
	}
	fmt.Fprintf(w, "Engineers\t%s\n", keys)
	fmt.Fprintf(w, "Limits\t%d sessions, idle %s, at most %s each\n", f.maxSessions, f.idleTimeout, f.maxSession)
	if f.allowPrivate {
		fmt.Fprintf(w, "Network\tprivate networks ALLOWED for IdP calls\n")
	}
	if f.demo {
		fmt.Fprintf(w, "Demo\tthe demo IdP is pre-filled in every session\n")
	}
	w.Flush()
	fmt.Fprintf(a.stdout, "Make an invite with: oidc-onboard invite --org NAME. Stop with ctrl+c (sessions are told, drafts saved).\n")
}

// ---------------------------------------------------------------------------
// invite: codes that let a customer into the SSH setup of one organization.
// ---------------------------------------------------------------------------

type inviteJSON struct {
	Code         string `json:"code"`
	Organization string `json:"organization"`
	ExpiresAt    string `json:"expires_at"`
	Command      string `json:"command"`
}

func (a *app) inviteCmd() *cobra.Command {
	var (
		org     string
		ttl     time.Duration
		asJSON  bool
		sshHost string
	)
	cmd := &cobra.Command{
		Use:   "invite --org NAME [--ttl D] [--json]",
		Short: "Make an invite code that lets a customer into the SSH setup of their organization",
		Long: `invite prints a code and the ssh command to give the customer. The code is shown
once and stored hashed. It can be used again until it expires, is revoked
('oidc-onboard invite revoke ID'), or the organization's connection is activated,
so a dropped session can come back and resume its draft.`,
		Example: `  oidc-onboard invite --org "Acme Corp" --ssh-host onboard.example.com:2222
  oidc-onboard invite --org "Acme Corp" --ttl 24h --json
  oidc-onboard invite list --org "Acme Corp"
  oidc-onboard invite revoke inv_4mx8pq`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(org) == "" {
				return usageErr("--org is required: the organization the invite is for")
			}
			if ttl <= 0 {
				return usageErr("--ttl %s: give a positive duration, e.g. 72h", ttl)
			}
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				code, inv, err := st.CreateInvite(ctx, org, ttl)
				if err != nil {
					return err
				}
				_ = st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "invite.create", Organization: inv.Organization, Detail: inv.ID})
				out := inviteJSON{Code: code, Organization: inv.Organization,
					ExpiresAt: inv.ExpiresAt.UTC().Format(time.RFC3339), Command: steps.SSHCommand(sshHost, "setup")}
				if asJSON {
					return a.writeConnJSON(out)
				}
				fmt.Fprintf(a.stdout, "Invite %s for %s, valid until %s.\n\n", inv.ID, inv.Organization, inv.ExpiresAt.Local().Format("Mon 2 Jan 2006 15:04 MST"))
				fmt.Fprintf(a.stdout, "Code:  %s   (shown once; only its hash is stored)\n\n", code)
				fmt.Fprintf(a.stdout, "Give the customer the code and this command; ssh asks for the code:\n  %s\n", out.Command)
				fmt.Fprintf(a.stdout, "or, in one go:\n  %s\n", steps.SSHCommand(sshHost, code))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&org, "org", "", "the organization the customer sets up (created when new)")
	fl.DurationVar(&ttl, "ttl", steps.DefaultInviteTTL, "how long the code works")
	fl.BoolVar(&asJSON, "json", false, "print {code, organization, expires_at, command} as JSON")
	fl.StringVar(&sshHost, "ssh-host", "localhost:2222", "the server's address as customers reach it, HOST[:PORT], for the printed command")
	cmd.AddCommand(a.inviteListCmd(), a.inviteRevokeCmd())
	return cmd
}

type inviteListJSON struct {
	ID           string `json:"id"`
	Organization string `json:"organization"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
	ExpiresAt    string `json:"expires_at"`
}

// inviteStatus says whether an invite still lets someone in.
func inviteStatus(inv store.Invite, now time.Time) string {
	switch {
	case !inv.RevokedAt.IsZero():
		return "revoked"
	case !inv.UsedAt.IsZero():
		return "closed" // the organization's connection was activated
	case !now.Before(inv.ExpiresAt):
		return "expired"
	}
	return "open"
}

func (a *app) inviteListCmd() *cobra.Command {
	var (
		org    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [--org NAME] [--json]",
		Short: "List invites, the newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				invites, err := st.ListInvites(ctx, org)
				if err != nil {
					return err
				}
				now := time.Now()
				out := make([]inviteListJSON, 0, len(invites))
				for _, inv := range invites {
					out = append(out, inviteListJSON{ID: inv.ID, Organization: inv.Organization, Status: inviteStatus(inv, now),
						CreatedAt: inv.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: inv.ExpiresAt.UTC().Format(time.RFC3339)})
				}
				if asJSON {
					return a.writeConnJSON(out)
				}
				if len(out) == 0 {
					fmt.Fprintln(a.stdout, "No invites yet. Make one with 'oidc-onboard invite --org NAME'.")
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tORGANIZATION\tSTATUS\tEXPIRES")
				for _, inv := range out {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", inv.ID, inv.Organization, inv.Status, inv.ExpiresAt)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "only this organization's invites")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) inviteRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Withdraw an invite: its code stops working, and sessions using it are refused from their next connection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(ctx context.Context, st *store.Store) error {
				if err := st.RevokeInvite(ctx, args[0]); err != nil {
					return err
				}
				_ = st.Audit(ctx, store.Event{Actor: a.localActor(), Action: "invite.revoke", Detail: store.NormalizeID(args[0])})
				fmt.Fprintf(a.stdout, "Invite %s revoked.\n", store.NormalizeID(args[0]))
				return nil
			})
		},
	}
}
