package flow

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MergeClaims is what a test login's mapping saw: the ID token's claims,
// plus the userinfo claims the ID token lacked.
func MergeClaims(idToken, userinfo map[string]any) map[string]any {
	out := make(map[string]any, len(idToken)+len(userinfo))
	maps.Copy(out, userinfo)
	maps.Copy(out, idToken)
	return out
}

// Replay maps a test login's captured claims (ID token and userinfo) again
// with another claim mapping and role assignment, without another login.
// It returns the profile, MapProfile's warnings, and the pitfalls those
// claims show for provider p under the new mapping.
func Replay(p IdP, idToken, userinfo map[string]any, m ClaimMapping, r RoleAssignment) (Profile, []string, []Finding) {
	claims := MergeClaims(idToken, userinfo)
	prof, warnings := MapProfile(claims, m, r)
	return prof, warnings, DiagnoseClaims(p, claims, m, r)
}

// ProfileChanges lists, in words, how after differs from before, e.g.
// `email: "" → "ana@acme.example"`; nil when they are the same.
func ProfileChanges(before, after Profile) []string {
	var out []string
	for _, f := range []struct{ name, a, b string }{
		{"idp_id", before.IDPID, after.IDPID}, {"email", before.Email, after.Email},
		{"first_name", before.FirstName, after.FirstName}, {"last_name", before.LastName, after.LastName},
		{"groups", strings.Join(before.Groups, ", "), strings.Join(after.Groups, ", ")},
	} {
		if f.a != f.b {
			out = append(out, fmt.Sprintf("%s: %q → %q", f.name, f.a, f.b))
		}
	}
	if !slices.Equal(before.Roles, after.Roles) {
		out = append(out, fmt.Sprintf("roles: [%s] → [%s]", strings.Join(before.Roles, ", "), strings.Join(after.Roles, ", ")))
	}
	return out
}
