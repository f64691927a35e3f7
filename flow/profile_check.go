package flow

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// ProfileProblem is one reason a mapped profile cannot sign anyone in: an
// empty idp_id, an empty email, or an email that is not an address.
type ProfileProblem struct {
	// Attribute is the profile attribute: "idp_id" or "email".
	Attribute string `json:"attribute"`
	// Claim is the claim the mapping reads for it.
	Claim string `json:"claim"`
	// Message says what is wrong, in plain words.
	Message string `json:"message"`
	// Suggest is a claim of the captured claims that holds what the
	// attribute needs (an email address), or "".
	Suggest string `json:"suggest,omitempty"`
}

// CheckProfile says why a profile mapped with m from the captured claims
// would not work for signing in, or nil when it would: every user needs a
// stable idp_id and an email address. It never changes anything; the
// front ends show the problems and activate only with a recorded override.
func CheckProfile(p Profile, claims map[string]any, m ClaimMapping) []ProfileProblem {
	m = m.WithDefaults()
	var out []ProfileProblem
	if strings.TrimSpace(p.IDPID) == "" {
		out = append(out, ProfileProblem{Attribute: "idp_id", Claim: m.IDPID,
			Message: fmt.Sprintf("idp_id is empty: the claim %q was not in the login's claims", m.IDPID)})
	}
	switch email := strings.TrimSpace(p.Email); {
	case email == "":
		out = append(out, ProfileProblem{Attribute: "email", Claim: m.Email,
			Message: fmt.Sprintf("email is empty: the claim %q was not in the login's claims", m.Email),
			Suggest: AddressClaim(claims, m.Email)})
	case !IsEmailAddress(email):
		out = append(out, ProfileProblem{Attribute: "email", Claim: m.Email,
			Message: fmt.Sprintf("email %q (claim %q) is not an email address", Display(email), m.Email),
			Suggest: AddressClaim(claims, m.Email)})
	}
	return out
}

// IsEmailAddress reports whether s is one bare address such as
// ada@example.com (no display name, no angle brackets).
func IsEmailAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// addressClaims are the claims IdPs put addresses in, most likely first.
var addressClaims = []string{"email", "upn", "preferred_username", "mail", "unique_name", "emails"}

// AddressClaim names a claim other than except whose value is an email
// address (or a list whose first item is one), preferring the claims IdPs
// commonly use; "" when there is none.
func AddressClaim(claims map[string]any, except string) string {
	holds := func(name string) bool {
		switch v := claims[name].(type) {
		case string:
			return IsEmailAddress(v)
		case []any:
			s, ok := firstString(v)
			return ok && IsEmailAddress(s)
		}
		return false
	}
	names := SortedClaimNames(claims)
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	for _, name := range names {
		if name != except && holds(name) {
			return name
		}
	}
	return ""
}

func rank(claim string) int {
	if i := slices.Index(addressClaims, claim); i >= 0 {
		return i
	}
	return len(addressClaims)
}

func firstString(v []any) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	s, ok := v[0].(string)
	return s, ok
}
