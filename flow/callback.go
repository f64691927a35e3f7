package flow

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Callback is what the browser brought back to the redirect URI for one
// login. Exactly one of Code and Error is set.
type Callback struct {
	Code             string
	Error            string
	ErrorDescription string
	// Issuer is the RFC 9207 "iss" parameter, when the IdP sends it.
	Issuer string
	reply  chan ResultPage
}

// Reply tells the waiting browser how the login ended. Calling it more than
// once, or never, is harmless: the browser shows a neutral page after
// callbackReplyWait.
func (c *Callback) Reply(p ResultPage) {
	select {
	case c.reply <- p:
	default:
	}
}

// ResultPage is what the browser shows after the callback.
type ResultPage struct {
	OK      bool
	Title   string
	Message string
}

// callbackReplyWait bounds how long the browser waits for the login's
// outcome before it gets a neutral "return to the terminal" page.
const callbackReplyWait = 30 * time.Second

// CallbackOptions configure a CallbackServer.
type CallbackOptions struct {
	// Page renders the result page; it is executed with a ResultPage. When
	// nil, a plain-text page is served.
	Page *template.Template
	// Listeners, when set, are served instead of binding the redirect URI's
	// host and port: the SSH mode listens on its own address behind a public
	// URL. Without them only loopback redirect URIs are accepted.
	Listeners []net.Listener
	// Pages, when set, serves other pages on the same listeners: a
	// request whose path starts with a key goes to its handler (`serve`'s
	// invite page at /i/); every other one is the callback server's.
	Pages map[string]http.Handler
	// ErrorLog receives the HTTP server's own errors (a failed accept, a
	// handler's panic); nil means the log package's default logger, that
	// is standard error. The full-screen wizard discards them so that
	// nothing writes over its screen.
	ErrorLog *log.Logger
	// Registered, when set, is told of each state a login starts waiting
	// for; what it returns is called once when the login stops waiting.
	// Several `serve` instances record there which of them holds a login.
	Registered func(state string) (release func())
	// Forward, when set, is asked about a callback on a callback path
	// whose state no login here waits for: another instance may hold the
	// login. It returns the browser's page and true once that login got
	// the callback; false keeps the uniform 400 of an unknown state.
	Forward func(ctx context.Context, query url.Values) (ResultPage, bool)
}

// CallbackServer receives the authorization callbacks for one redirect URI
// host and port and routes each, by its state, to the login waiting for it,
// so one server carries any number of concurrent logins.
type CallbackServer struct {
	redirect *url.URL
	page     *template.Template
	hooks    CallbackOptions // Registered and Forward
	srv      *http.Server
	lns      []net.Listener
	serveErr chan error

	mu      sync.Mutex
	paths   map[string]bool
	waiting map[string]chan *Callback
}

// StartCallbackServer starts the callback server for redirectURI. It binds
// exactly the URI's host and port (for localhost both 127.0.0.1 and ::1,
// the latter when the machine has it). Port 0 picks a free port; the
// effective URI is RedirectURI. A busy port is an error naming it.
func StartCallbackServer(redirectURI string, opts CallbackOptions) (*CallbackServer, error) {
	u, err := parseRedirectURI(redirectURI, len(opts.Listeners) > 0)
	if err != nil {
		return nil, err
	}
	lns := opts.Listeners
	if len(lns) == 0 {
		if lns, err = listenLoopback(u); err != nil {
			return nil, err
		}
		if u.Port() == "0" {
			port := lns[0].Addr().(*net.TCPAddr).Port
			u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
		}
	}
	s := &CallbackServer{
		redirect: u,
		page:     opts.Page,
		hooks:    CallbackOptions{Registered: opts.Registered, Forward: opts.Forward},
		lns:      lns,
		serveErr: make(chan error, len(lns)),
		paths:    map[string]bool{u.EscapedPath(): true},
		waiting:  map[string]chan *Callback{},
	}
	s.srv = &http.Server{Handler: withPages(s, opts.Pages), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: callbackReplyWait + 10*time.Second,
		ErrorLog: opts.ErrorLog}
	for _, ln := range lns {
		go func() {
			if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				s.serveErr <- err
			}
		}()
	}
	return s, nil
}

// RedirectURI is the effective redirect URI, with the port actually bound.
func (s *CallbackServer) RedirectURI() string { return s.redirect.String() }

// Addrs lists the addresses the server listens on.
func (s *CallbackServer) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.lns))
	for i, ln := range s.lns {
		out[i] = ln.Addr()
	}
	return out
}

// Close stops the server at once; logins still waiting see no callback.
func (s *CallbackServer) Close() error { return s.srv.Close() }

// Shutdown stops the server once the browsers it is answering have their
// result pages, or when ctx ends. Use it after the last login finished.
func (s *CallbackServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Register makes the server route callbacks carrying state, on the path of
// redirectURI (which must be on this server's scheme, host and port), to the
// returned channel. A state is delivered at most once; cancel forgets it.
func (s *CallbackServer) Register(redirectURI, state string) (<-chan *Callback, func(), error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != s.redirect.Scheme || u.Host != s.redirect.Host {
		return nil, nil, &Error{Code: CodeRedirectURIServer,
			Message: fmt.Sprintf("the redirect URI %s is not served by the callback server on %s", redirectURI, s.redirect.Host),
			Fix:     "use a redirect URI on " + s.redirect.Scheme + "://" + s.redirect.Host}
	}
	ch := make(chan *Callback, 1)
	s.mu.Lock()
	s.paths[u.EscapedPath()] = true
	s.waiting[state] = ch
	s.mu.Unlock()
	release := func() {}
	if s.hooks.Registered != nil {
		release = s.hooks.Registered(state)
	}
	var once sync.Once
	cancel := func() {
		s.mu.Lock()
		if s.waiting[state] == ch {
			delete(s.waiting, state)
		}
		s.mu.Unlock()
		once.Do(release)
	}
	return ch, cancel, nil
}

// Err reports a listener that stopped serving, if any; nil while all serve.
func (s *CallbackServer) Err() error {
	select {
	case err := <-s.serveErr:
		return err
	default:
		return nil
	}
}

// withPages routes requests under each of pages' path prefixes to its
// handler, and the rest to callbacks.
func withPages(callbacks http.Handler, pages map[string]http.Handler) http.Handler {
	if len(pages) == 0 {
		return callbacks
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix, h := range pages {
			if strings.HasPrefix(r.URL.Path, prefix) {
				h.ServeHTTP(w, r)
				return
			}
		}
		callbacks.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the callback paths: it hands a known state's callback to
// its login. Everything else — an unknown state, a path no login waits on,
// any other path — gets the same 400 page, so that the answers do not tell
// which connection IDs exist.
func (s *CallbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, ResultPage{Title: "Bad request", Message: "The sign-in response could not be read. Return to the terminal."})
		return
	}
	var cb *Callback
	ok := s.servesPath(r.URL)
	if ok {
		cb, ok = s.route(r.Form)
	}
	if !ok && s.hooks.Forward != nil && s.underRedirect(r.URL) && r.Form.Get("state") != "" {
		if page, forwarded := s.hooks.Forward(r.Context(), r.Form); forwarded {
			s.render(w, http.StatusOK, page)
			return
		}
	}
	if !ok {
		s.render(w, http.StatusBadRequest, ResultPage{Title: "Unknown sign-in",
			Message: "This sign-in response does not belong to a login that is waiting (it may be old or already used). Return to the terminal; if it is still waiting, open the URL it printed."})
		return
	}
	page := ResultPage{Title: "Sign-in received", Message: "Return to the terminal to see the result."}
	timer := time.NewTimer(callbackReplyWait)
	defer timer.Stop()
	select {
	case page = <-cb.reply:
	case <-timer.C:
	case <-r.Context().Done():
		return
	}
	s.render(w, http.StatusOK, page)
}

// servesPath reports whether u's path is a registered callback path.
func (s *CallbackServer) servesPath(u *url.URL) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[u.EscapedPath()]
}

// underRedirect reports whether u's path is the server's redirect path or
// below it, where another instance's logins wait too.
func (s *CallbackServer) underRedirect(u *url.URL) bool {
	base := s.redirect.EscapedPath()
	p := u.EscapedPath()
	return p == base || strings.HasPrefix(p, strings.TrimSuffix(base, "/")+"/")
}

// Accept hands a callback that another instance received to the login
// here waiting for its state, as a browser's request would be; false when
// none waits. The channel then gives the login's result page, once.
func (s *CallbackServer) Accept(query url.Values) (<-chan ResultPage, bool) {
	cb, ok := s.route(query)
	if !ok {
		return nil, false
	}
	return cb.reply, true
}

// route hands a callback's parameters to the login waiting for their
// state and forgets the state (it is good for one callback only). It
// reports false when no login waits for the state.
func (s *CallbackServer) route(params url.Values) (*Callback, bool) {
	state := params.Get("state")
	if state == "" {
		return nil, false
	}
	s.mu.Lock()
	ch, ok := s.waiting[state]
	if ok {
		delete(s.waiting, state)
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	cb := &Callback{Code: params.Get("code"), Error: params.Get("error"),
		ErrorDescription: params.Get("error_description"), Issuer: params.Get("iss"),
		reply: make(chan ResultPage, 1)}
	ch <- cb // buffered for one, and the state was just removed: never blocks
	return cb, true
}

// Deliver routes a callback URL that the person pasted — the browser's
// address bar after the IdP sent it to a redirect URI it could not reach
// (another machine, a firewall, SSH) — exactly as a browser request would
// be routed: the login waiting for its state then finishes the exchange.
// The URL must be on this server's scheme, host, port and a registered
// callback path. Every refusal is an *Error in plain words.
func (s *CallbackServer) Deliver(rawURL string) error {
	raw := strings.TrimSpace(rawURL)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return &Error{Code: CodePasteNotURL, Message: "what was pasted is not a web address",
			Fix: "copy the whole address from the browser's address bar (it starts with " + s.redirect.Scheme + "://" + s.redirect.Host + ") and paste it"}
	}
	if !s.servesPath(u) || u.Scheme != s.redirect.Scheme || !sameHostPort(u, s.redirect) {
		return &Error{Code: CodePasteOtherAddress,
			// Scheme, host and path only: the query holds the authorization code.
			Message: fmt.Sprintf("the pasted address %s://%s%s is not this login's redirect URI", u.Scheme, u.Host, u.EscapedPath()),
			Fix:     "paste the address the browser shows after signing in: it starts with the redirect URI on " + s.redirect.Scheme + "://" + s.redirect.Host}
	}
	q := u.Query()
	if q.Get("state") == "" {
		return &Error{Code: CodePasteNoState, Message: "the pasted address has no state, so it cannot be matched to a login",
			Fix: "copy the complete address, including everything after the \"?\", once the IdP sent the browser back"}
	}
	if _, ok := s.route(q); !ok {
		return &Error{Code: CodePasteUnknownState,
			Message: "the pasted address belongs to no login that is waiting: it is from an older attempt, was already used, or the login ended",
			Fix:     "start the test login again and paste the address of that sign-in"}
	}
	return nil
}

// sameHostPort compares two URLs' hosts (case-insensitively) and ports,
// with the scheme's default port when none is written.
func sameHostPort(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func (s *CallbackServer) render(w http.ResponseWriter, status int, p ResultPage) {
	private(w.Header())
	if s.page == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s\n\n%s\n", p.Title, p.Message)
		return
	}
	writeHTML(w, status, s.page, p)
}

// parseRedirectURI accepts an absolute http(s) URI; without listeners of its
// own the server binds the host itself, which must then be loopback and
// plain http.
func parseRedirectURI(raw string, ownListeners bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &Error{Code: CodeBadRedirectURI, Message: fmt.Sprintf("%q is not a redirect URI", raw),
			Fix: "use the Redirect URI registered in the IdP, e.g. http://localhost:8976/callback"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &Error{Code: CodeBadRedirectURI, Message: fmt.Sprintf("the redirect URI %s has a query or fragment", raw),
			Fix: "register and use a redirect URI without ?… or #…"}
	}
	if ownListeners {
		return u, nil
	}
	if !IsLoopbackHost(u.Hostname()) {
		return nil, &Error{Code: CodeRedirectNotLoopback,
			Message: fmt.Sprintf("the redirect URI's host %q is not this machine", u.Hostname()),
			Fix:     "for a test login use a loopback redirect URI such as http://localhost:8976/callback and register it in the IdP; other hosts are served only by 'oidc-onboard serve'"}
	}
	if u.Scheme != "http" {
		return nil, &Error{Code: CodeRedirectHTTPSLoopback,
			Message: fmt.Sprintf("the redirect URI %s uses https on this machine, which needs a certificate the login cannot have", raw),
			Fix:     "register http://localhost:PORT/… in the IdP (IdPs accept plain http for localhost) and pass that"}
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "80")
	}
	return u, nil
}

// listenLoopback binds the redirect URI's host and port: for localhost both
// loopback addresses, as browsers may resolve it to either.
func listenLoopback(u *url.URL) ([]net.Listener, error) {
	host, port := u.Hostname(), u.Port()
	if host != "localhost" {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, listenError(u, err)
		}
		return []net.Listener{ln}, nil
	}
	ln4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, listenError(u, err)
	}
	if port == "0" {
		port = strconv.Itoa(ln4.Addr().(*net.TCPAddr).Port)
	}
	ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", port))
	switch {
	case err == nil:
		return []net.Listener{ln4, ln6}, nil
	case errors.Is(err, syscall.EADDRINUSE):
		ln4.Close()
		return nil, listenError(u, err)
	default: // no IPv6 loopback on this machine: browsers then use 127.0.0.1
		return []net.Listener{ln4}, nil
	}
}

func listenError(u *url.URL, err error) error {
	port := u.Port()
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return &Error{Code: CodePortBusy,
			Message: fmt.Sprintf("port %s on %s is already in use, so the callback for %s cannot be received", port, u.Hostname(), u.Redacted()),
			Fix:     fmt.Sprintf("stop the program using port %s (another login still running?), or register a redirect URI with a free port in the IdP and pass it with --redirect-uri", port),
			Err:     err}
	case errors.Is(err, syscall.EACCES):
		return &Error{Code: CodePortDenied,
			Message: fmt.Sprintf("this user may not listen on port %s", port),
			Fix:     "register a redirect URI with a port above 1023 (e.g. http://localhost:8976/callback) in the IdP and pass it",
			Err:     err}
	default:
		return &Error{Code: CodeListenFailed,
			Message: fmt.Sprintf("could not listen on %s for the callback", u.Host),
			Fix:     "check the redirect URI's host and port",
			Err:     err}
	}
}

// waitCallback waits for the callback of one registered state.
func waitCallback(ctx context.Context, ch <-chan *Callback, wait time.Duration, redirectURI string) (*Callback, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case cb := <-ch:
		return cb, nil
	case <-timer.C:
		return nil, &Error{Code: CodeCallbackTimeout,
			Message: fmt.Sprintf("no callback arrived within %s; did the browser reach %s? "+
				"The browser may be showing the IdP's own error page instead (e.g. an unknown client ID, or a Redirect URI that is not registered): "+
				"an IdP that refuses the sign-in request shows its error there and never calls back, and that error is the cause", wait, redirectURI),
			Fix: "look at the browser: if the IdP shows an error, fix what it names (the Client ID, or register this Redirect URI exactly in the IdP's app) and run the login again; " +
				"otherwise check that the Redirect URI registered in the IdP is exactly this one and that the browser runs on this machine; finish the sign-in sooner or raise --wait"}
	case <-ctx.Done():
		return nil, &Error{Code: CodeLoginCancelled, Message: "the login was cancelled before the callback arrived",
			Fix: "run the login again", Err: ctx.Err()}
	}
}

// CallbackServers starts one callback server per redirect host and port,
// on first use, and keeps it for later logins: a local wizard's test
// logins. Its zero value is not usable; see NewCallbackServers.
type CallbackServers struct {
	opts    CallbackOptions
	mu      sync.Mutex
	servers map[string]*CallbackServer
}

// NewCallbackServers returns an empty set whose servers start with opts.
func NewCallbackServers(opts CallbackOptions) *CallbackServers {
	return &CallbackServers{opts: opts, servers: map[string]*CallbackServer{}}
}

// Get returns the server that receives the callbacks to redirectURI,
// starting it when it is the first for that host and port.
func (l *CallbackServers) Get(redirectURI string) (*CallbackServer, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, &Error{Code: CodeBadRedirectURI, Message: fmt.Sprintf("%q is not a URL", redirectURI), Fix: "use http://localhost:PORT/callback/..."}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.servers[u.Host]; ok {
		return s, nil
	}
	s, err := StartCallbackServer(redirectURI, l.opts)
	if err != nil {
		return nil, err
	}
	l.servers[u.Host] = s
	return s, nil
}

// Close shuts every server down, waiting up to three seconds.
func (l *CallbackServers) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range l.servers {
		_ = s.Shutdown(ctx)
	}
}
