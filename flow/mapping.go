package flow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MapProfile turns verified claims into a Profile with the connection's
// claim mapping and role assignment. Empty mapping fields fall back to the
// guide's defaults (sub, email, given_name, family_name) and an empty groups
// claim name to DefaultGroupsClaim. It returns a warning, in plain words,
// for every attribute it could not fill.
//
// A groups claim may be a list, or a single string: a string holding a JSON
// list is read as that list, one holding commas is split at the commas, and
// any other string is one group. Strings are not split at spaces, because
// group names such as "Domain Users" (ADFS sends a lone group as a string)
// contain them.
//
// Roles are those of every mapping whose group the person is in, in the
// order of the mappings and without repeats; when none matched, the default
// role, if one is set.
func MapProfile(claims map[string]any, m ClaimMapping, r RoleAssignment) (Profile, []string) {
	m = m.WithDefaults()
	var warnings []string
	str := func(attr, claim string) string {
		s, warn := claimString(claims, attr, claim)
		if warn != "" {
			warnings = append(warnings, warn)
		}
		return s
	}
	p := Profile{
		IDPID:     str("idp_id", m.IDPID),
		Email:     str("email", m.Email),
		FirstName: str("first_name", m.FirstName),
		LastName:  str("last_name", m.LastName),
		RawClaims: claims,
	}

	groupsClaim := r.GroupsClaim
	if groupsClaim == "" {
		groupsClaim = DefaultGroupsClaim
	}
	groups, warn := claimGroups(claims, groupsClaim)
	if warn != "" && (len(r.Mappings) > 0 || r.GroupsClaim != "") {
		warnings = append(warnings, warn)
	}
	p.Groups = groups
	p.Roles = assignRoles(groups, r)
	return p, warnings
}

// MappedClaims lists the claim names a mapping reads, for deciding whether
// the ID token alone can fill a profile. The groups claim is included only
// when role mappings depend on it.
func MappedClaims(m ClaimMapping, r RoleAssignment) []string {
	m = m.WithDefaults()
	names := []string{m.IDPID, m.Email, m.FirstName, m.LastName}
	if len(r.Mappings) > 0 {
		g := r.GroupsClaim
		if g == "" {
			g = DefaultGroupsClaim
		}
		names = append(names, g)
	}
	return names
}

// claimString reads a claim as a string. Numbers and booleans are written out
// (some IdPs send a numeric sub); lists and objects cannot fill a text
// attribute and produce a warning.
func claimString(claims map[string]any, attr, claim string) (string, string) {
	v, ok := claims[claim]
	if !ok || v == nil {
		return "", fmt.Sprintf("%s is empty: the claims have no %q", attr, claim)
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", fmt.Sprintf("%s is empty: the %q claim is an empty string", attr, claim)
		}
		return x, ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), ""
	case json.Number:
		return x.String(), ""
	case bool:
		return strconv.FormatBool(x), ""
	default:
		return "", fmt.Sprintf("%s is empty: the %q claim is a %s, not text", attr, claim, jsonKind(v))
	}
}

// claimGroups reads the groups claim in any of the shapes IdPs send.
func claimGroups(claims map[string]any, claim string) ([]string, string) {
	v, ok := claims[claim]
	if !ok || v == nil {
		return []string{}, fmt.Sprintf("groups are empty: the claims have no %q (ask the IdP admin to add a groups claim to the ID token)", claim)
	}
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, g := range x {
			switch g := g.(type) {
			case string:
				out = appendGroup(out, g)
			case float64:
				out = appendGroup(out, strconv.FormatFloat(g, 'f', -1, 64))
			}
		}
		return out, ""
	case []string:
		out := make([]string, 0, len(x))
		for _, g := range x {
			out = appendGroup(out, g)
		}
		return out, ""
	case string:
		return splitGroupString(x), ""
	default:
		return []string{}, fmt.Sprintf("groups are empty: the %q claim is a %s, not a list of groups", claim, jsonKind(v))
	}
}

func splitGroupString(s string) []string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		var list []string
		if err := json.Unmarshal([]byte(t), &list); err == nil {
			out := make([]string, 0, len(list))
			for _, g := range list {
				out = appendGroup(out, g)
			}
			return out
		}
	}
	out := []string{}
	for g := range strings.SplitSeq(t, ",") {
		out = appendGroup(out, g)
	}
	return out
}

// appendGroup adds a trimmed, non-empty group once.
func appendGroup(groups []string, g string) []string {
	g = strings.TrimSpace(g)
	if g == "" {
		return groups
	}
	for _, have := range groups {
		if have == g {
			return groups
		}
	}
	return append(groups, g)
}

func assignRoles(groups []string, r RoleAssignment) []string {
	member := make(map[string]bool, len(groups))
	for _, g := range groups {
		member[g] = true
	}
	roles := []string{}
	seen := map[string]bool{}
	for _, rm := range r.Mappings {
		role := strings.TrimSpace(rm.Role)
		if role == "" || seen[role] || !member[strings.TrimSpace(rm.Group)] {
			continue
		}
		seen[role] = true
		roles = append(roles, role)
	}
	if len(roles) == 0 && strings.TrimSpace(r.DefaultRole) != "" {
		roles = append(roles, strings.TrimSpace(r.DefaultRole))
	}
	return roles
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "JSON object"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// SortedClaimNames returns the claim names in alphabetical order, for
// printing claims in a stable order.
func SortedClaimNames(claims map[string]any) []string {
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
