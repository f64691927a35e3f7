package steps

import (
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// The step flow names is the wizard's step of that title; a fix in the IdP
// or outside the wizard is none of them.
func TestStepOfIsTheWizardStepFlowNames(t *testing.T) {
	t.Parallel()
	for s, title := range map[flow.Step]string{
		flow.StepOrganization: "Organization", flow.StepRedirectURI: "Redirect URI", flow.StepCredentials: "Credentials",
		flow.StepValidate: "Validate", flow.StepClaims: "Claims", flow.StepRoles: "Role assignment",
		flow.StepTestLogin: "Test login", flow.StepReview: "Review",
	} {
		i := stepOf(s)
		if i < 0 || i >= len(Constructors()) {
			t.Errorf("%s is step %d", s, i)
			continue
		}
		if got := Constructors()[i](&Env{}, NewTheme(false)).Title(); got != title {
			t.Errorf("%s is step %d, %q; want %q", s, i, got, title)
		}
	}
	for _, s := range []flow.Step{flow.StepIdP, flow.StepOutside, ""} {
		if i := stepOf(s); i != -1 {
			t.Errorf("%q is step %d", s, i)
		}
	}
}

// A failed test login points back to the earlier step whose setting caused
// it; a failure fixed by trying again, in the IdP or on this machine points
// nowhere. The Entra error an explanation quotes tells what the OAuth error
// alone does not.
func TestFailedLoginPointsBackToTheStepWhoseSettingCausedIt(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	// No Discovery Endpoint yet: a setting of the Credentials step.
	_, _, _, err := tlBegin(t.Context(), env, nil, flow.Connection{ID: "c", RedirectURI: env.RedirectURIFor("c")})
	incomplete := tlResultOf(time.Now(), nil, err)
	if incomplete.Code != flow.CodeIncompleteConnection {
		t.Fatalf("an incomplete connection fails with %+v", incomplete)
	}
	entra := func(number string) string {
		return "the IdP refused (the IdP says: \"AADSTS" + number + ": …\")"
	}
	for _, tc := range []struct {
		name string
		r    TestLoginResult
		want int
	}{
		{"incomplete connection", *incomplete, StepCredentials},
		{"wrong client secret", TestLoginResult{Code: flow.CodeInvalidClient}, StepCredentials},
		{"redirect URI refused", TestLoginResult{Code: flow.CodeRedirectURIMismatch}, StepRedirectURI},
		{"callback too late", TestLoginResult{Code: flow.CodeCallbackTimeout}, -1},
		{"user not assigned", TestLoginResult{Code: flow.CodeAccessDenied}, -1},
		{"IdP unreachable", TestLoginResult{Code: flow.CodeUnreachable}, -1},
		{"an IdP's own code", TestLoginResult{Code: "slow_down"}, -1},
		{"Entra: unknown client ID", TestLoginResult{Code: flow.CodeUnauthorizedClient, Error: entra("700016")}, StepCredentials},
		{"Entra: redirect URI, no OAuth code", TestLoginResult{Error: entra("50011")}, StepRedirectURI},
		{"Entra: user not assigned", TestLoginResult{Code: flow.CodeAccessDenied, Error: entra("50105")}, -1},
		{"Entra code the OAuth code overrules", TestLoginResult{Code: flow.CodeRedirectURIMismatch, Error: entra("7000215")}, StepRedirectURI},
	} {
		if got := tlResultFixStep(&tc.r); got != tc.want {
			t.Errorf("%s: step %d, want %d", tc.name, got, tc.want)
		}
	}
}
