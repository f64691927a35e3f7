package flow_test

import (
	"slices"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestReplayRemapsCapturedClaims(t *testing.T) {
	t.Parallel()
	entra := provider(t, "entra-v2")
	idToken := loadClaims(t, "entra-guid-groups-no-email")
	userinfo := map[string]any{"sub": "someone-else", "given_name": "Megan", "family_name": "Bowen"}
	before, warnings, fs := flow.Replay(entra, idToken, userinfo, flow.ClaimMapping{}, flow.RoleAssignment{})
	if before.Email != "" || len(warnings) == 0 {
		t.Fatalf("default mapping should miss email: %+v %v", before, warnings)
	}
	if before.IDPID != idToken["sub"] || before.FirstName != "Megan" {
		t.Errorf("ID token claims must win over userinfo, and userinfo fill the rest: %+v", before)
	}
	findingByID(t, fs, flow.FindingEmailMissing)

	roles := flow.RoleAssignment{Mappings: []flow.RoleMapping{{Group: "c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8", Role: "admin"}}, DefaultRole: "viewer"}
	after, _, fs := flow.Replay(entra, idToken, userinfo, flow.ClaimMapping{Email: "preferred_username"}, roles)
	if after.Email != "meganb@contoso.example" || !slices.Equal(after.Roles, []string{"admin"}) {
		t.Errorf("remapped profile: %+v", after)
	}
	assertNoFinding(t, fs, flow.FindingEmailMissing)
	changes := flow.ProfileChanges(before, after)
	if !slices.Equal(changes, []string{`email: "" → "meganb@contoso.example"`, "roles: [] → [admin]"}) {
		t.Errorf("changes: %q", changes)
	}
	if flow.ProfileChanges(after, after) != nil {
		t.Error("no change should list nothing")
	}
}
