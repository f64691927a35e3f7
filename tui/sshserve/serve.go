package sshserve

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/soheilhy/cmux"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/tui"
)

// ServeConfig is what `oidc-onboard serve` runs with: its flags, checked
// by the caller, and the open store.
type ServeConfig struct {
	// Store persists everything; the caller opens and closes it.
	Store *store.Store
	// SSHAddr and HTTPAddr are where the SSH server and the callback
	// listener listen.
	SSHAddr, HTTPAddr string
	// SSHHTTPAddr, when set, is one address for both, in place of SSHAddr
	// and HTTPAddr: for customers whose network lets only one port out
	// (443). A connection is SSH when its first bytes are "SSH-" (an SSH
	// client speaks first), HTTP otherwise.
	SSHHTTPAddr string
	// PublicURL is where browsers reach the callback listener (see
	// CheckPublicURL).
	PublicURL string
	// AuthorizedKeys is the support engineers' authorized_keys file; empty
	// admits customers (invite codes) only.
	AuthorizedKeys string
	// HostKey is the SSH host key file; empty means ssh_host_ed25519_key
	// next to the database.
	HostKey string
	// SSHHost is the server as customers reach it, HOST[:PORT], for the
	// invites engineers make; empty derives it from PublicURL and SSHAddr.
	SSHHost string
	// Advertise is where the other instances on the same database reach
	// this one over SSH, HOST:PORT; empty means --ssh-addr when it names
	// a concrete address.
	Advertise string
	// Limits (see ServerOptions) and each IdP call's timeout.
	MaxSessions                      int
	IdleTimeout, MaxSession, Timeout time.Duration
	// AllowPrivateNetworks lets sessions reach IdPs on loopback, private
	// and link-local addresses.
	AllowPrivateNetworks bool
	// ViaEnvProxy sends the sessions' IdP calls through the environment's
	// HTTPS_PROXY; the network guard then sees only the proxy's address,
	// so the proxy must do that filtering. Off by default.
	ViaEnvProxy bool
	// Demo starts the demo IdP on this machine and pre-fills it in every
	// session; its address alone is then reachable.
	Demo bool
}

// Serve runs `oidc-onboard serve`: it loads the host key, listens, prints
// the banner on stdout and serves until ctx ends or a signal (interrupt,
// SIGTERM, a hang-up) stops it; sessions and server events are logged
// to stderr.
func Serve(ctx context.Context, cfg ServeConfig, stdout, stderr io.Writer) error {
	if cfg.AuthorizedKeys != "" {
		if _, err := os.Stat(cfg.AuthorizedKeys); err != nil {
			return &flow.Error{Code: flow.CodeAuthorizedKeys, Message: fmt.Sprintf("cannot read --authorized-keys %s", cfg.AuthorizedKeys),
				Fix: "give an OpenSSH authorized_keys file (one public key per line)", Err: err}
		}
	}
	hostKeyPath := cfg.HostKey
	if hostKeyPath == "" && store.IsPostgres(cfg.Store.Path()) {
		// No folder holds a PostgreSQL database to keep the key next to;
		// and instances behind one address must present the same key.
		return flow.Usagef("with a PostgreSQL database, give --host-key FILE: the SSH host key every instance of this service presents (created there on first start)")
	}
	if hostKeyPath == "" {
		hostKeyPath = filepath.Join(filepath.Dir(cfg.Store.Path()), "ssh_host_ed25519_key")
	}
	signer, fingerprint, err := LoadHostKey(hostKeyPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	guard := flow.NetGuard{}
	var demo *steps.Demo
	if cfg.Demo {
		idp, d, err := tui.StartDemo(ctx, errorLog(logger))
		if err != nil {
			return err
		}
		defer idp.Close()
		demo = d
		u, _ := url.Parse(idp.Issuer)
		guard.Allow = append(guard.Allow, u.Host)
	}
	opts := flow.ClientOptions{Timeout: cfg.Timeout}
	if !cfg.AllowPrivateNetworks {
		opts.DialControl = guard.Control
	}
	if cfg.ViaEnvProxy {
		opts.Proxy = http.ProxyFromEnvironment
	}
	sshLn, httpLn, err := listenBoth(cfg)
	if err != nil {
		return err
	}
	sshHost := flow.SSHHost(cfg.SSHHost, cfg.PublicURL, sshLn.Addr().String())
	srv, err := NewServer(ServerOptions{Store: cfg.Store, HostKey: signer, PublicURL: cfg.PublicURL,
		AuthorizedKeys: cfg.AuthorizedKeys, HTTP: flow.NewHTTPClient(opts), Timeout: cfg.Timeout,
		MaxSessions: cfg.MaxSessions, IdleTimeout: cfg.IdleTimeout, MaxSession: cfg.MaxSession,
		Demo: demo, Log: logger, SSHHost: sshHost, Advertise: cfg.Advertise})
	if err != nil {
		sshLn.Close()
		httpLn.Close()
		return err
	}
	// `invite` and the local wizard print the command customers type and
	// the invite page's link: they name where this server really listens.
	if err := cfg.Store.SetServeAddresses(ctx, sshHost, srv.opts.PublicURL); err != nil {
		logger.Warn("the SSH address for invites was not recorded", "error", err.Error())
	}
	printBanner(stdout, sshLn.Addr(), httpLn.Addr(), fingerprint, cfg)
	return srv.Serve(ctx, sshLn, httpLn)
}

// errorLog is a standard logger for an HTTP server's own errors, writing
// to the server's log.
func errorLog(l *slog.Logger) *log.Logger { return slog.NewLogLogger(l.Handler(), slog.LevelError) }

// listen listens on addr, given by flag, whose example value is example.
func listen(flag, addr, example string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &flow.Error{Code: flow.CodeListenFailed, Message: fmt.Sprintf("cannot listen on %s %s", flag, addr),
			Fix: fmt.Sprintf("pick a free port, e.g. %s %s", flag, example), Err: err}
	}
	return ln, nil
}

// firstBytesWait bounds how long a connection to the shared address may
// take to send its first bytes (an SSH client's version line, an HTTP
// request line) before it is taken as HTTP.
const firstBytesWait = 10 * time.Second

// listenBoth opens the SSH and the callback listeners: on their own
// addresses, or both on the one SSHHTTPAddr, told apart by the first bytes
// each connection sends. Closing either of the shared ones closes the
// address.
func listenBoth(cfg ServeConfig) (sshLn, httpLn net.Listener, err error) {
	if cfg.SSHHTTPAddr != "" {
		ln, err := listen("--ssh-http-addr", cfg.SSHHTTPAddr, ":443")
		if err != nil {
			return nil, nil, err
		}
		mux := cmux.New(ln)
		mux.SetReadTimeout(firstBytesWait)
		sshLn = mux.Match(cmux.PrefixMatcher("SSH-"))
		httpLn = mux.Match(cmux.Any())
		go func() { _ = mux.Serve() }() // ends when the listeners close
		return sshLn, httpLn, nil
	}
	sshLn, err = listen("--ssh-addr", cfg.SSHAddr, ":2222")
	if err != nil {
		return nil, nil, err
	}
	httpLn, err = listen("--http-addr", cfg.HTTPAddr, ":8976")
	if err != nil {
		sshLn.Close()
		return nil, nil, err
	}
	return sshLn, httpLn, nil
}

// printBanner tells the operator where the server listens, what it
// admits and how to make an invite.
func printBanner(w io.Writer, sshAddr, httpAddr net.Addr, fingerprint string, cfg ServeConfig) {
	_, port, _ := net.SplitHostPort(sshAddr.String())
	keys := "none: customers with invite codes only"
	if cfg.AuthorizedKeys != "" {
		keys = cfg.AuthorizedKeys
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "oidc-onboard serve\nSSH\t%s\t(customers: ssh -p %s setup@THIS-HOST)\n", sshAddr, port)
	fmt.Fprintf(tw, "Host key\t%s\t(read it to a customer whose ssh asks)\n", fingerprint)
	fmt.Fprintf(tw, "Callbacks\t%s\t(Redirect URIs are %s/callback/CONNECTION-ID)\n", httpAddr, cfg.PublicURL)
	if cfg.SSHHTTPAddr != "" {
		fmt.Fprintf(tw, "One port\tSSH and the callbacks share %s, told apart by their first bytes\n", sshAddr)
	}
	fmt.Fprintf(tw, "Database\t%s\nEngineers\t%s\n", cfg.Store.Path(), keys)
	fmt.Fprintf(tw, "Limits\t%d sessions, idle %s, at most %s each\n", cfg.MaxSessions, cfg.IdleTimeout, cfg.MaxSession)
	if cfg.AllowPrivateNetworks {
		fmt.Fprintf(tw, "Network\tprivate networks ALLOWED for IdP calls\n")
	}
	if cfg.ViaEnvProxy {
		fmt.Fprintf(tw, "Proxy\tIdP calls go through HTTPS_PROXY, which must refuse private addresses itself\n")
	}
	if cfg.Demo {
		fmt.Fprintf(tw, "Demo\tthe demo IdP is pre-filled in every session\n")
	}
	tw.Flush()
	fmt.Fprintf(w, "Make an invite with: oidc-onboard invite --org NAME. Stop with ctrl+c (sessions are told, drafts saved).\n")
}
