package steps

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// Env is everything the steps need from outside, built once in main.go (or
// per SSH session): no step reaches for globals.
type Env struct {
	// Context is the session's: the signal context locally, the SSH
	// session's over SSH. Work a step starts for the session (a
	// validation, a test login's wait) ends when it ends; writes that must
	// outlive it (a draft, an audit event) detach from its cancellation.
	Context context.Context
	// Log receives the session's diagnostics.
	Log *slog.Logger
	// Store persists connections, drafts, test logins and audit events.
	Store *store.Store
	// HTTP is the guarded client for every call to the IdP.
	HTTP *http.Client
	// Timeout bounds each network call (the HTTP client's own limit).
	Timeout time.Duration
	// Callbacks returns the callback server that receives the browser's
	// return to redirectURI, starting it on first use (locally), or the
	// shared one (over SSH).
	Callbacks func(redirectURI string) (*flow.CallbackServer, error)
	// RedirectBase is where callbacks arrive, without a path, e.g.
	// "http://localhost:8976" locally or the --public-url over SSH. A
	// connection's Redirect URI is RedirectBase + "/callback/" + its ID.
	RedirectBase string
	// OpenBrowser opens a URL in the person's browser; nil where there is
	// none to open (over SSH), and then the URL is only shown.
	OpenBrowser func(url string) error
	// Now is the clock.
	Now func() time.Time
	// Actor names who acts, for audit events ("local:alice", "ssh:SHA256:…").
	Actor string
	// Address is the SSH client's address, empty locally.
	Address string
	// Organization, when set, walls the session into that organization:
	// only its connections and drafts are listed, and new ones belong to it.
	Organization string
	// Customer, when set, says that the person at the keyboard is the
	// organization's own IdP admin (over SSH with an invite), not a
	// support engineer relaying to them: the steps address them directly
	// and leave out commands only the vendor can run (see words).
	Customer bool
	// Demo, when set, pre-fills the credentials step with the embedded
	// demo IdP's client.
	Demo *Demo
	// Invites, when set, lets this person make invite codes for customers
	// from the organization step: support engineers over SSH and the local
	// wizard; never a session walled into an organization.
	Invites *InviteSettings
	// Recheck, when set, is called after each draft save with the save's
	// context: over SSH it checks again that the person may still be here
	// (an invite revoked or expired meanwhile) and ends the session if not,
	// their draft being saved by then.
	Recheck func(ctx context.Context)
	// Watched, when set, reports whether someone else sees this session's
	// screen now (a support engineer who joined it over SSH): the client
	// secret can then not be shown.
	Watched func() bool
	// Live, when set, lists the customer sessions running now: a support
	// engineer's wizard over SSH shows them in step 0, where choosing one
	// sends a JoinMsg (the SSH server then shows that customer's screen).
	// Never set for a customer, and step 0 ignores it in a session walled
	// into an organization. It is called from a command, about once a
	// second while step 0 is on screen.
	Live func(ctx context.Context) []LiveSession
	// Guides renders the provider guides; an SSH server shares one between
	// its sessions. Nil: each session renders its own.
	Guides *Guides
	// Themes are the dark and the light theme; an SSH server shares one
	// pair between its sessions. Nil: each session builds its own.
	Themes *Themes
}

// Demo is the embedded demo IdP's client, for `oidc-onboard --demo`.
type Demo struct {
	DiscoveryURL string
	ClientID     string
	ClientSecret string
	// Username and Password of the demo user, shown in the test login step.
	Username, Password string
}

// RedirectURIFor is the Redirect URI of the connection with the given ID.
func (e *Env) RedirectURIFor(connectionID string) string {
	return e.RedirectBase + "/callback/" + connectionID
}

// sees reports whether this session may see organization org's
// connections and drafts: every organization's unless it is walled into
// one.
func (e *Env) sees(org string) bool {
	return e.Organization == "" || org == e.Organization
}

// readCtx bounds a read or a network call a step starts for the session
// by d: it ends when the session ends.
func (e *Env) readCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.Context, d)
}

// writeCtx bounds a write the person asked for by d: it completes even
// when the session ended meanwhile (a dropped connection).
func (e *Env) writeCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(e.Context), d)
}

// Audit records an event for the connection, best effort: an audit
// failure must not stop the person's work; it is logged. Call it from a
// command.
func (e *Env) Audit(ctx context.Context, action string, c flow.Connection, detail string) {
	if e.Store == nil {
		return
	}
	if err := e.Store.Audit(ctx, store.Event{Actor: e.Actor, Address: e.Address, Action: action,
		ConnectionID: c.ID, Organization: c.Organization, Detail: detail}); err != nil {
		e.Logger().Warn("audit event not recorded", "action", action, "connection", c.ID, "error", err.Error())
	}
}

// watched reports whether someone else sees the screen now.
func (e *Env) watched() bool { return e.Watched != nil && e.Watched() }

// Logger is the session's logger; one that discards when none was given.
func (e *Env) Logger() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}
