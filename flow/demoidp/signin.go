package demoidp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// SignIn plays the browser's part of a sign-in as the demo user, for tests
// and headless demos: it opens authURL (an authorization URL of this IdP),
// submits the sign-in form and returns the URL the IdP then sends the
// browser to — the redirect URI with code and state, or with error — without
// following it.
func (p *IdP) SignIn(ctx context.Context, authURL string) (*url.URL, error) {
	if !strings.HasPrefix(authURL, p.Issuer+"/") {
		return nil, fmt.Errorf("demo IdP: %q is not an authorization URL of %s", authURL, p.Issuer)
	}
	client := p.browser()
	resp, body, err := p.send(ctx, client, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	if next, done, err := leftIdP(resp, body); done || err != nil {
		return next, err
	}
	if resp.Request.URL.Path != loginPath {
		return nil, fmt.Errorf("demo IdP: expected the sign-in page, got %s", resp.Request.URL.Path)
	}
	form := url.Values{
		"id":       {resp.Request.URL.Query().Get("id")},
		"username": {p.User.Username},
		"password": {p.User.Password},
	}
	resp, body, err = p.send(ctx, client, http.MethodPost, p.Issuer+loginPath, form)
	if err != nil {
		return nil, err
	}
	if next, done, err := leftIdP(resp, body); done || err != nil {
		return next, err
	}
	return nil, fmt.Errorf("demo IdP: the sign-in form was not accepted (HTTP %d)", resp.StatusCode)
}

// browser follows redirects within the IdP and stops at the first one that
// leaves it.
func (p *IdP) browser() *http.Client {
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: 10 * time.Second})
	issuer, _ := url.Parse(p.Issuer)
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != issuer.Host || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return client
}

// send makes one request, following redirects within the IdP, and reads the last answer.
func (p *IdP) send(ctx context.Context, client *http.Client, method, target string, form url.Values) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP: %w", err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP: %w", err)
	}
	body, err := flow.ReadBody(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("demo IdP: %w", err)
	}
	return resp, body, nil
}

// leftIdP reports where a response sends the browser when that is outside
// the IdP (done), and an error when the IdP refused the request.
func leftIdP(resp *http.Response, body []byte) (next *url.URL, done bool, err error) {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		next, err = resp.Location()
		if err != nil {
			return nil, true, fmt.Errorf("demo IdP: redirect without a location: %w", err)
		}
		return next, true, nil
	case resp.StatusCode != http.StatusOK:
		return nil, true, fmt.Errorf("demo IdP: the request was refused (HTTP %d): %.200s",
			resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil, false, nil
}
