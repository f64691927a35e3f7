package flow

import (
	"fmt"
	"strings"
	"time"
)

// CodeUsage marks a mistake in what the person asked for (a flag or its
// value); the commands exit with status 2 on it.
const CodeUsage = "usage"

func usageError(format string, a ...any) error {
	return &Error{Code: CodeUsage, Message: fmt.Sprintf(format, a...)}
}

// ParseRoleMappings reads GROUP=ROLE pairs (--role-map).
func ParseRoleMappings(pairs []string) ([]RoleMapping, error) {
	var out []RoleMapping
	for _, rm := range pairs {
		group, role, ok := strings.Cut(rm, "=")
		group, role = strings.TrimSpace(group), strings.TrimSpace(role)
		if !ok || group == "" || role == "" {
			return nil, usageError("--role-map %q: want GROUP=ROLE", rm)
		}
		out = append(out, RoleMapping{Group: group, Role: role})
	}
	return out, nil
}

// WithPairs is m with ATTR=CLAIM pairs (--claim) applied.
func (m ClaimMapping) WithPairs(pairs []string) (ClaimMapping, error) {
	for _, p := range pairs {
		attr, claim, ok := strings.Cut(p, "=")
		attr, claim = strings.TrimSpace(attr), strings.TrimSpace(claim)
		if !ok || claim == "" {
			return m, usageError("--claim %q: want ATTR=CLAIM, e.g. email=upn", p)
		}
		if !m.Set(attr, claim) {
			return m, usageError("--claim %q: unknown attribute %q; use one of idp_id, email, first_name, last_name", p, attr)
		}
	}
	return m, nil
}

// MappingRequest is a change of a connection's mappings as a person asks
// for it (the flags of `login` and `connections remap`).
type MappingRequest struct {
	Claims, RoleMaps         []string // ATTR=CLAIM and GROUP=ROLE pairs
	GroupsClaim, DefaultRole string
	// Given reports whether the person gave the flag with that name; a
	// setting not given keeps the connection's value.
	Given func(flag string) bool
}

// Apply changes c's mappings as asked: claims over c's own (over the
// defaults when withDefaults), and the role mappings, groups claim and
// default role that were given.
func (r MappingRequest) Apply(c *Connection, withDefaults bool) error {
	claims := c.Claims
	if withDefaults {
		claims = claims.WithDefaults()
	}
	var err error
	if c.Claims, err = claims.WithPairs(r.Claims); err != nil {
		return err
	}
	if r.Given("role-map") {
		if c.RoleMappings, err = ParseRoleMappings(r.RoleMaps); err != nil {
			return err
		}
	}
	if r.Given("groups-claim") {
		c.GroupsClaim = r.GroupsClaim
	}
	if r.Given("default-role") {
		c.DefaultRole = r.DefaultRole
	}
	return nil
}

// LoginRequest is a test login as the person asks for it (the flags of
// `login`): a connection's settings one by one, or a stored connection's
// changed for this login only. The client secret comes separately.
type LoginRequest struct {
	MappingRequest
	Discovery, ClientID, RedirectURI string
	Scopes                           []string
	// AuthMethod is --auth-method: client_secret_basic or
	// client_secret_post; "" chooses from what the IdP advertises.
	AuthMethod string
	// Timeout bounds each network call; Wait the wait for the browser.
	Timeout, Wait time.Duration
}

// CheckTimes refuses a time limit that is not positive, and an
// --auth-method a login cannot use.
func (r LoginRequest) CheckTimes() error {
	if r.Timeout <= 0 || r.Wait <= 0 {
		return usageError("--timeout and --wait must be positive durations, e.g. 10s or 5m")
	}
	if !ValidTokenAuthMethod(r.AuthMethod) {
		return usageError("--auth-method %q: want %s or %s", r.AuthMethod, AuthMethodBasic, AuthMethodPost)
	}
	return nil
}

// Config checks a request without a stored connection and returns its
// discovery URL and the login's configuration, secret aside.
func (r LoginRequest) Config() (string, LoginConfig, error) {
	for _, req := range []struct{ name, value string }{
		{"--discovery", r.Discovery}, {"--client-id", r.ClientID}, {"--redirect-uri", r.RedirectURI},
	} {
		if strings.TrimSpace(req.value) == "" {
			return "", LoginConfig{}, usageError("%s is required", req.name)
		}
	}
	if err := r.CheckTimes(); err != nil {
		return "", LoginConfig{}, err
	}
	discoveryURL, _, err := DiscoveryURLFor(r.Discovery)
	if err != nil {
		msg, fix := Explain(err)
		return "", LoginConfig{}, &Error{Code: CodeUsage, Message: msg, Fix: fix}
	}
	claims, err := DefaultClaimMapping().WithPairs(r.Claims)
	if err != nil {
		return "", LoginConfig{}, err
	}
	mappings, err := ParseRoleMappings(r.RoleMaps)
	if err != nil {
		return "", LoginConfig{}, err
	}
	return discoveryURL, LoginConfig{ClientID: r.ClientID, RedirectURI: r.RedirectURI, ExtraScopes: r.Scopes, Claims: claims, Wait: r.Wait,
		Roles: RoleAssignment{GroupsClaim: r.GroupsClaim, DefaultRole: r.DefaultRole, Mappings: mappings}, TokenAuthMethod: r.AuthMethod}, nil
}

// ConfigFor is the login configuration of the stored connection c with
// the request's changes (c's groups claim, when it has none, is the
// request's), and c's discovery URL.
func (r LoginRequest) ConfigFor(c Connection) (string, LoginConfig, error) {
	if r.Given("redirect-uri") { // e.g. a loopback URI registered for tests, when the stored one is the server's
		c.RedirectURI = r.RedirectURI
	}
	if r.Given("auth-method") { // for this login only, like the mappings
		c.TokenAuthMethod = r.AuthMethod
	}
	if c.RedirectURI == "" || c.DiscoveryURL == "" {
		return "", LoginConfig{}, &Error{Code: CodeIncompleteConnection,
			Message: fmt.Sprintf("connection %s has no redirect URI or discovery URL yet", c.ID),
			Fix:     "finish it in the wizard (oidc-onboard), or import it again with redirect_uri and discovery_url set"}
	}
	given := r.Given
	r.Given = func(flag string) bool { return given(flag) || flag == "groups-claim" && c.GroupsClaim == "" }
	if err := r.Apply(&c, true); err != nil {
		return "", LoginConfig{}, err
	}
	cfg := LoginConfigFromConnection(c)
	cfg.ExtraScopes, cfg.Wait = r.Scopes, r.Wait
	return c.DiscoveryURL, cfg, nil
}
