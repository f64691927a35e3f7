package steps

import (
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Setup is the connection being set up and everything the wizard learned
// along the way. It is what a draft stores (sealed: it holds the client
// secret), so a quit, a crash or a dropped SSH session resumes exactly
// where it stopped. Each step reads and writes only its own part.
type Setup struct {
	// DraftID is the store's draft ID, empty until first saved.
	DraftID string `json:"draft_id,omitempty"`
	// Step is the current step index.
	Step int `json:"step"`
	// Reached is the furthest step index reached so far.
	Reached int `json:"reached"`

	// Connection holds the organization, name, ID, redirect URI, client
	// credentials, discovery endpoint, issuer, claim and role mappings.
	// Its ID is set once step 0 created the connection (status draft).
	Connection flow.Connection `json:"connection"`

	// Provider is the ID of the identity provider's guide shown in step 1
	// (a file name in assets/guides without ".md"); "" means generic.
	Provider string `json:"provider,omitempty"`

	// Credentials step: the text as typed, before normalization, so that
	// resuming shows exactly what was entered.
	DiscoveryInput string `json:"discovery_input,omitempty"`
	// Focus names the field the next step entered puts the cursor in
	// (FocusDiscovery), when a step sends the person there to change it;
	// that step clears it. It is not kept in a draft.
	Focus string `json:"-"`

	// Validate step.
	Report   *flow.Report   `json:"report,omitempty"`
	Metadata *flow.Metadata `json:"metadata,omitempty"`
	// Override is set when the person chose to go on despite failed checks.
	Override bool `json:"override,omitempty"`
	// Detected is the identity provider recognized from the validated
	// metadata (Report.RawMetadata is not kept in a draft, so the
	// detection is); nil until a validation read the document.
	Detected *flow.IdP `json:"detected,omitempty"`

	// Roles step: the person chose to skip role assignment.
	SkipRoles bool `json:"skip_roles,omitempty"`

	// Test login step: the outcome of the last test login.
	TestLogin *TestLoginResult `json:"test_login,omitempty"`

	// Handoff is the secret hand-off the credentials step asked the
	// customer for: pending, then received (see credentials_handoff.go).
	Handoff *Handoff `json:"handoff,omitempty"`
	// polling is the ID of the hand-off being polled for now, so that one
	// poll runs per hand-off; it is not kept in a draft.
	polling string
}

// FocusDiscovery is Setup.Focus for the credentials step's Discovery
// Endpoint field.
const FocusDiscovery = "discovery"

// TestLoginResult is what the test login step keeps of its last run.
type TestLoginResult struct {
	// ID is the test login's ID in the store once recorded, else 0;
	// Number its number among the connection's (#1, #2 …).
	ID       int64          `json:"id,omitempty"`
	Number   int            `json:"number,omitempty"`
	At       time.Time      `json:"at"`
	OK       bool           `json:"ok"`
	Profile  *flow.Profile  `json:"profile,omitempty"`
	Claims   map[string]any `json:"claims,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Error    string         `json:"error,omitempty"`
	Fix      string         `json:"fix,omitempty"`
	// Code is the failure's flow.Error code, to point at the step to change.
	Code flow.Code `json:"code,omitempty"`
}

// NewSetup is an empty setup with the guide's default claim mapping.
func NewSetup() *Setup {
	return &Setup{Connection: flow.Connection{
		Status:      flow.StatusDraft,
		Claims:      flow.DefaultClaimMapping(),
		GroupsClaim: flow.DefaultGroupsClaim,
	}}
}
