package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WellKnownPath is the discovery document's path below an issuer
// (OpenID Connect Discovery 1.0, section 4).
const WellKnownPath = "/.well-known/openid-configuration"

// Metadata is the part of an OpenID Provider's discovery document the engine
// uses. Unknown fields are kept in the raw document.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	ClaimsSupported                   []string `json:"claims_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
}

// TokenAuthMethods returns the advertised token endpoint auth methods, with
// the spec's default (client_secret_basic) when none are listed.
func (m *Metadata) TokenAuthMethods() []string {
	if len(m.TokenEndpointAuthMethodsSupported) == 0 {
		return []string{"client_secret_basic"}
	}
	return m.TokenEndpointAuthMethodsSupported
}

// DiscoveryURLFor turns what a person typed — a discovery endpoint or an
// issuer — into the discovery endpoint. An issuer gets WellKnownPath
// appended after dropping a terminating "/" (Discovery 4.1). appended
// reports whether the path was added.
func DiscoveryURLFor(input string) (discoveryURL string, appended bool, err error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", false, &Error{Code: CodeEmptyURL, Message: "no discovery endpoint given",
			Fix: "paste the Discovery Endpoint (it ends with " + WellKnownPath + ") or the issuer URL"}
	}
	u, perr := url.Parse(s)
	if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, &Error{Code: CodeBadURL, Message: fmt.Sprintf("%q is not a URL", s),
			Fix: "paste the full address, starting with https://"}
	}
	if u.User != nil {
		u.User = nil
		return "", false, &Error{Code: CodeURLHasUserinfo,
			Message: fmt.Sprintf("%s holds a user name or password before the host", u),
			Fix:     "remove the part before @: a Discovery Endpoint is public and never takes a password (and one typed here would be stored)"}
	}
	if err := CheckURLScheme(u); err != nil {
		return "", false, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		// Some IdPs (Entra's appid=…) put a query on the discovery URL; keep it.
		if strings.HasSuffix(u.Path, WellKnownPath) {
			return u.String(), false, nil
		}
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), WellKnownPath) {
		u.Path = strings.TrimSuffix(u.Path, "/")
		return u.String(), false, nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + WellKnownPath
	u.RawPath = ""
	return u.String(), true, nil
}

// IssuerFromDiscoveryURL is the issuer a discovery URL was built from: the
// prefix before WellKnownPath.
func IssuerFromDiscoveryURL(discoveryURL string) string {
	u, err := url.Parse(discoveryURL)
	if err != nil {
		return strings.TrimSuffix(discoveryURL, WellKnownPath)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, WellKnownPath)
	u.RawPath = ""
	return u.String()
}

// Discovery is a fetched discovery document with what the HTTP exchange
// told about it.
type Discovery struct {
	URL        string
	StatusCode int
	Header     http.Header
	Body       []byte
	// Metadata is set when Body parsed as a JSON object.
	Metadata *Metadata
	// Fields holds every top-level field of the document.
	Fields    map[string]json.RawMessage
	FetchedAt time.Time
	Elapsed   time.Duration
}

// FetchDiscovery fetches and parses a discovery document. Transport errors
// and non-JSON bodies are *Error values with a fix; a JSON document is
// returned as is, for the checks to judge.
func FetchDiscovery(ctx context.Context, client *http.Client, discoveryURL string) (*Discovery, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discoveryURL, nil)
	if err != nil {
		return nil, &Error{Code: CodeBadURL, Message: fmt.Sprintf("%q is not a URL", discoveryURL), Fix: "paste the full address, starting with https://", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, unreachable(discoveryURL, err)
	}
	body, err := ReadBody(resp)
	d := &Discovery{URL: discoveryURL, StatusCode: resp.StatusCode, Header: resp.Header, Body: body, FetchedAt: start, Elapsed: time.Since(start)}
	if err != nil {
		return d, unreachable(discoveryURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return d, &Error{Code: CodeHTTPStatus,
			Message: fmt.Sprintf("%s answered HTTP %d", discoveryURL, resp.StatusCode),
			Fix:     "check the address for typos (tenant, realm or domain name); open it in a browser: it must show a JSON document"}
	}
	d.Fields, d.Metadata, err = ParseDiscovery(discoveryURL, resp.Header.Get("Content-Type"), body)
	return d, err
}

// ParseDiscovery parses a discovery document as served with the given
// Content-Type. A body that is not a JSON object is an *Error saying what
// was served instead (an HTML login page is the common mistake).
func ParseDiscovery(discoveryURL, contentType string, body []byte) (map[string]json.RawMessage, *Metadata, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, nil, notJSON(discoveryURL, contentType, body)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return fields, nil, &Error{Code: CodeBadMetadata, Message: "the discovery document has a field of the wrong type", Fix: "ask the IdP admin to check the provider's OpenID configuration", Err: err}
	}
	return fields, &m, nil
}

func unreachable(u string, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	// A deadline can strike while the body is read too, outside any *url.Error.
	var te interface{ Timeout() bool }
	if (errors.As(err, &te) && te.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: fmt.Sprintf("%s did not answer in time", u),
			Fix: "check the address and that this machine can reach the IdP (VPN, firewall, proxy); raise --timeout if the IdP is slow", Err: err}
	}
	return &Error{Code: CodeUnreachable, Message: fmt.Sprintf("could not reach %s", u),
		Fix: "check the host name for typos and that this machine can reach the IdP (VPN, firewall, proxy)", Err: err}
}

func notJSON(u, contentType string, body []byte) error {
	head := strings.ToLower(string(body[:min(len(body), 512)]))
	if strings.Contains(contentType, "html") || strings.Contains(head, "<html") || strings.Contains(head, "<!doctype") {
		return &Error{Code: CodeHTMLPage, Message: fmt.Sprintf("%s served an HTML page, not the JSON discovery document", u),
			Fix: "this looks like a login or portal page; copy the Discovery Endpoint (ending in " + WellKnownPath + ") from the IdP's application settings instead"}
	}
	if json.Valid(body) {
		return &Error{Code: CodeNotJSON, Message: fmt.Sprintf("%s served JSON, but not a JSON object", u),
			Fix: "open the address in a browser: the right one shows a JSON object with \"issuer\" and \"authorization_endpoint\""}
	}
	return &Error{Code: CodeNotJSON, Message: fmt.Sprintf("%s did not serve a JSON document (Content-Type %q)", u, contentType),
		Fix: "open the address in a browser: the right one shows a JSON object with \"issuer\" and \"authorization_endpoint\""}
}
