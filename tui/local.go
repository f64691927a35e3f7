package tui

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// LocalOptions configure the wizard on this machine: `oidc-onboard` with
// no command. The caller checks them; RunLocal trusts them.
type LocalOptions struct {
	// Store persists the wizard's work; the caller opens and closes it.
	Store *store.Store
	// In and Out are the person's terminal, or any streams in line mode.
	In  io.Reader
	Out io.Writer
	// Accessible runs the steps as plain prompts (RunLines) instead of
	// the full screen (Run).
	Accessible bool
	// Demo starts the demo IdP on loopback and pre-fills its client.
	Demo bool
	// RedirectBase is where test-login callbacks arrive, a loopback
	// http://HOST:PORT without a path.
	RedirectBase string
	// Timeout bounds each network call to the IdP.
	Timeout time.Duration
	// SSHHost is the 'serve' SSH server as customers reach it, HOST[:PORT],
	// for the command shown with invites made here; empty shows the code only.
	SSHHost string
	// Actor names the local user in audit events ("local:alice").
	Actor string
	// Remote says the wizard itself runs in an SSH session: a browser
	// would open on that machine, not the person's, so none is opened.
	Remote bool
}

// RunLocal runs the wizard on this machine until the person quits or a
// signal (interrupt, SIGTERM, a hang-up) ends it, the last changes then
// saved as a draft. It starts the callback servers of the test logins on
// first use, and the demo IdP with Demo; it stops them before it returns.
func RunLocal(ctx context.Context, o LocalOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// Nothing may write over the wizard's screen: the HTTP servers' own
	// errors are dropped (a test login reports its failures itself).
	quiet := log.New(io.Discard, "", 0)
	callbacks := flow.NewCallbackServers(flow.CallbackOptions{Page: assets.CallbackPage(), ErrorLog: quiet})
	defer callbacks.Close()
	env := &steps.Env{Context: ctx, Log: slog.New(slog.DiscardHandler), Store: o.Store, HTTP: flow.NewHTTPClient(flow.ClientOptions{Timeout: o.Timeout}), Timeout: o.Timeout,
		Callbacks: callbacks.Get, RedirectBase: o.RedirectBase, OpenBrowser: flow.OpenBrowser, Now: time.Now, Actor: o.Actor,
		// The local wizard runs as the support engineer, who may make
		// invites here as with 'oidc-onboard invite' (same database).
		Invites: &steps.InviteSettings{SSHHost: o.SSHHost}}
	if o.Remote {
		env.OpenBrowser = nil
	}
	if o.Demo {
		idp, demo, err := StartDemo(ctx, quiet)
		if err != nil {
			return err
		}
		defer idp.Close()
		env.Demo = demo
	}
	if o.Accessible {
		return RunLines(ctx, env, o.In, o.Out)
	}
	return Run(ctx, env, tea.WithInput(o.In), tea.WithOutput(o.Out))
}

// StartDemo starts the embedded demo IdP on loopback (see
// demoidp.StartForWizard), its HTTP server's errors going to errorLog,
// and returns it with its client for the credentials step. The caller
// closes the IdP.
func StartDemo(ctx context.Context, errorLog *log.Logger) (*demoidp.IdP, *steps.Demo, error) {
	idp, err := demoidp.StartForWizard(ctx, errorLog)
	if err != nil {
		return nil, nil, err
	}
	return idp, &steps.Demo{DiscoveryURL: idp.DiscoveryURL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Username: idp.User.Username, Password: idp.User.Password}, nil
}
