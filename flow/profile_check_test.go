package flow_test

import (
	"slices"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestCheckProfile(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"sub": "u-1", "preferred_username": "ada", "upn": "ada@contoso.example", "name": "Ada"}
	cases := []struct {
		name      string
		mapping   flow.ClaimMapping
		want      []string // attribute:suggest
		wantEmpty bool
	}{
		{name: "email claim missing", mapping: flow.DefaultClaimMapping(), want: []string{"email:upn"}},
		{name: "username is no address", mapping: flow.ClaimMapping{Email: "preferred_username"}, want: []string{"email:upn"}},
		{name: "no subject either", mapping: flow.ClaimMapping{IDPID: "oid", Email: "upn"}, want: []string{"idp_id:"}},
		{name: "all good", mapping: flow.ClaimMapping{Email: "upn"}, wantEmpty: true},
	}
	for _, c := range cases {
		p, _ := flow.MapProfile(claims, c.mapping, flow.RoleAssignment{})
		got := flow.CheckProfile(p, claims, c.mapping)
		var gotS []string
		for _, pr := range got {
			gotS = append(gotS, pr.Attribute+":"+pr.Suggest)
			if pr.Message == "" || pr.Claim == "" {
				t.Errorf("%s: problem without words: %+v", c.name, pr)
			}
		}
		if c.wantEmpty != (len(got) == 0) || !c.wantEmpty && !slices.Equal(gotS, c.want) {
			t.Errorf("%s: problems %v, want %v", c.name, gotS, c.want)
		}
	}
}

func TestIsEmailAddress(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"ada@example.com": true, "a.b+c@sub.example.co.uk": true,
		"ada": false, "": false, "Ada <ada@example.com>": false, "ada@localhost": false, "@example.com": false,
		"ada@example.com\x1b[2J": false,
	} {
		if got := flow.IsEmailAddress(s); got != want {
			t.Errorf("IsEmailAddress(%q) = %v", s, got)
		}
	}
}
