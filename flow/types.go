// Package flow is the OIDC engine of oidc-onboard: discovery checks, the
// login (state, nonce, PKCE), the callback server, ID token verification,
// claim and role mapping, and the guarded HTTP client. It knows nothing of
// the terminal UI or of the store; both build on the domain types here.
package flow

import (
	"time"
)

// ConnectionStatus is the life-cycle state of a connection.
type ConnectionStatus string

// Connection states.
const (
	StatusDraft    ConnectionStatus = "draft"
	StatusActive   ConnectionStatus = "active"
	StatusInactive ConnectionStatus = "inactive"
)

// ClaimMapping says which ID token claim fills each profile attribute.
// The JSON names are the profile attributes, the values the claim names,
// as in the design's export format.
type ClaimMapping struct {
	IDPID     string `json:"idp_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// DefaultClaimMapping is the mapping the guide asks the IdP to provide.
func DefaultClaimMapping() ClaimMapping {
	return ClaimMapping{IDPID: "sub", Email: "email", FirstName: "given_name", LastName: "family_name"}
}

// WithDefaults fills every empty attribute with the guide's default claim.
func (m ClaimMapping) WithDefaults() ClaimMapping {
	d := DefaultClaimMapping()
	if m.IDPID == "" {
		m.IDPID = d.IDPID
	}
	if m.Email == "" {
		m.Email = d.Email
	}
	if m.FirstName == "" {
		m.FirstName = d.FirstName
	}
	if m.LastName == "" {
		m.LastName = d.LastName
	}
	return m
}

// DefaultGroupsClaim is the claim that carries group memberships unless the
// connection names another.
const DefaultGroupsClaim = "groups"

// RoleMapping assigns a role to the members of one IdP group.
type RoleMapping struct {
	Group string `json:"group"`
	Role  string `json:"role"`
}

// RoleAssignment is the optional role set-up of a connection.
type RoleAssignment struct {
	GroupsClaim string        `json:"groups_claim"`
	Mappings    []RoleMapping `json:"role_mappings"`
	DefaultRole string        `json:"default_role"`
}

// Connection is one organization's OIDC SSO connection.
type Connection struct {
	ID           string           `json:"id"`
	Organization string           `json:"organization"`
	Name         string           `json:"name"`
	Status       ConnectionStatus `json:"status"`
	DiscoveryURL string           `json:"discovery_url"`
	Issuer       string           `json:"issuer"`
	ClientID     string           `json:"client_id"`
	// ClientSecret is the plain secret in memory only; the store seals it and
	// every output masks it (see MaskSecret).
	ClientSecret string        `json:"client_secret"`
	RedirectURI  string        `json:"redirect_uri"`
	Claims       ClaimMapping  `json:"claims"`
	GroupsClaim  string        `json:"groups_claim"`
	RoleMappings []RoleMapping `json:"role_mappings"`
	DefaultRole  string        `json:"default_role"`
	// TokenAuthMethod is how the client authenticates at the token
	// endpoint, client_secret_basic or client_secret_post; "" lets the
	// login choose from what the IdP advertises.
	TokenAuthMethod string    `json:"token_auth_method,omitempty"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

// Roles returns the role assignment part of the connection.
func (c Connection) Roles() RoleAssignment {
	return RoleAssignment{GroupsClaim: c.GroupsClaim, Mappings: c.RoleMappings, DefaultRole: c.DefaultRole}
}

// MaskSecret shows at most the last four characters of a secret, and none of
// a short one, so that a person can tell two secrets apart without either
// being disclosed.
func MaskSecret(s string) string {
	if s == "" {
		return ""
	}
	const dots = "••••"
	if len([]rune(s)) < 12 {
		return dots
	}
	r := []rune(s)
	return dots + string(r[len(r)-4:])
}

// Profile is the user profile a login produces after claim and role mapping.
type Profile struct {
	IDPID     string         `json:"idp_id"`
	Email     string         `json:"email"`
	FirstName string         `json:"first_name"`
	LastName  string         `json:"last_name"`
	Groups    []string       `json:"groups"`
	Roles     []string       `json:"roles"`
	RawClaims map[string]any `json:"-"`
}

// CheckStatus is the outcome of one discovery check.
type CheckStatus string

// Check outcomes.
const (
	Pass CheckStatus = "pass"
	Warn CheckStatus = "warn"
	Fail CheckStatus = "fail"
)

// Check is one named discovery check with a one-line detail and, when it did
// not pass, a concrete fix an IdP admin can act on.
type Check struct {
	ID     string      `json:"id"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix"`
}

// Report is the result of validating a discovery endpoint.
type Report struct {
	OK           bool    `json:"ok"`
	DiscoveryURL string  `json:"discovery_url"`
	Issuer       string  `json:"issuer"`
	Checks       []Check `json:"checks"`
	// Metadata is the parsed discovery document when one was served.
	Metadata *Metadata `json:"-"`
	// RawMetadata is the document as served, for the store's snapshot.
	RawMetadata []byte `json:"-"`
	// JWKS is the key set as served, when it was fetched.
	RawJWKS []byte `json:"-"`
}

// Set fills the profile attribute attr (idp_id, email, first_name or
// last_name) from claim; false when attr is none of those.
func (m *ClaimMapping) Set(attr, claim string) bool {
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
		return false
	}
	return true
}
