package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Limits of the guarded HTTP client.
const (
	DefaultTimeout   = 10 * time.Second
	MaxResponseBytes = 1 << 20 // 1 MiB
	MaxRedirects     = 3
)

// ClientOptions configure the guarded HTTP client.
type ClientOptions struct {
	// Timeout bounds the connection and the whole exchange, body included.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds what is read of any response body. Zero means
	// MaxResponseBytes.
	MaxBytes int64
	// DialControl, when set, is called on every address actually dialled,
	// after name resolution; returning an error refuses the connection.
	// The SSH mode uses it to keep customers off private networks.
	DialControl func(network, address string, c syscall.RawConn) error
	// Proxy picks the proxy for a request. Nil means: the environment's
	// (HTTPS_PROXY, NO_PROXY, …) when there is no DialControl, and no
	// proxy when there is one, since DialControl would then see only the
	// proxy's address and the guard would check nothing. To send guarded
	// traffic through a proxy anyway, say so with http.ProxyFromEnvironment.
	Proxy func(*http.Request) (*url.URL, error)
}

// NewHTTPClient returns the guarded client every network call of the engine
// goes through: bounded in time and size, at most MaxRedirects redirects,
// never a redirect to another scheme, and plain http only for loopback hosts.
func NewHTTPClient(opts ClientOptions) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxResponseBytes
	}
	if opts.Proxy == nil && opts.DialControl == nil {
		opts.Proxy = http.ProxyFromEnvironment
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second, Control: opts.DialControl}
	base := &http.Transport{
		Proxy:                 opts.Proxy,
		DialContext:           loopbackForPlainHTTP(dialer.DialContext),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          50,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Timeout:       opts.Timeout,
		Transport:     &guardTransport{base: base, maxBytes: opts.MaxBytes},
		CheckRedirect: checkRedirect,
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return &Error{Code: CodeTooManyRedirects,
			Message: fmt.Sprintf("gave up after %d redirects (last to %s)", MaxRedirects, req.URL.Redacted()),
			Fix:     "use the final URL directly, or ask the IdP admin why the address redirects in a loop"}
	}
	prev := via[len(via)-1].URL
	if req.URL.Scheme != prev.Scheme {
		return &Error{Code: CodeRedirectSchemeChange,
			Message: fmt.Sprintf("%s redirected from %s to %s", prev.Redacted(), prev.Scheme, req.URL.Scheme),
			Fix:     "use the https:// address the IdP publishes, so that no redirect changes the scheme"}
	}
	return nil
}

// guardTransport enforces the scheme rule on every request, redirects
// included, and bounds every response body.
type guardTransport struct {
	base     http.RoundTripper
	maxBytes int64
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := CheckURLScheme(req.URL); err != nil {
		return nil, err
	}
	if req.URL.Scheme == "http" {
		req = req.WithContext(context.WithValue(req.Context(), plainHTTPKey{}, true))
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.maxBytes {
		resp.Body.Close()
		return nil, tooLarge(req.URL, t.maxBytes)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.maxBytes, url: req.URL, max: t.maxBytes}
	return resp, nil
}

func tooLarge(u *url.URL, max int64) error {
	return &Error{Code: CodeResponseTooLarge,
		Message: fmt.Sprintf("%s sent more than %d KiB", u.Redacted(), max>>10),
		Fix:     "check that the URL points at the IdP's metadata or keys, not at a page or a file download"}
}

// limitedBody fails, rather than silently truncating, once a body passes the
// limit: a truncated JSON document would only produce a confusing parse error.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
	url  *url.URL
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, tooLarge(b.url, b.max)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), tooLarge(b.url, b.max)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// plainHTTPKey marks a request's context as plain http, which may only
// connect to a loopback address.
type plainHTTPKey struct{}

// loopbackForPlainHTTP checks, for plain-http requests, the address actually
// connected to: "localhost" is resolved like any name, and only a loopback
// answer may carry unencrypted traffic (a client secret, say).
func loopbackForPlainHTTP(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil || ctx.Value(plainHTTPKey{}) == nil {
			return conn, err
		}
		if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			conn.Close()
			return nil, &Error{Code: CodeInsecureURL,
				Message: fmt.Sprintf("%s did not resolve to this machine (it answered %s), and plain http is accepted only there", addr, conn.RemoteAddr()),
				Fix:     "use the https:// address; plain http is accepted only for localhost"}
		}
		return conn, nil
	}
}

// CheckURLScheme accepts https URLs, and http URLs only for loopback hosts.
func CheckURLScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return &Error{Code: CodeInsecureURL,
			Message: fmt.Sprintf("%s uses plain http", u.Redacted()),
			Fix:     "use the https:// address; plain http is accepted only for localhost"}
	default:
		return &Error{Code: CodeBadURLScheme,
			Message: fmt.Sprintf("%q is not a web address", u.Redacted()),
			Fix:     "use an address that starts with https://"}
	}
}

// IsLoopbackHost reports whether host (without port) is localhost or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	// Only the name localhost itself: other *.localhost names go to DNS,
	// which on a hostile network can answer with any address.
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReadBody reads a response body under the client's size limit and closes
// it. It exists so callers never use io.ReadAll on an unbounded body.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var fe *Error
	if errors.As(err, &fe) {
		return nil, fe
	}
	return b, err
}
