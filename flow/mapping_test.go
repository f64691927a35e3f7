package flow_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

func TestMapProfile(t *testing.T) {
	t.Parallel()
	roles := flow.RoleAssignment{Mappings: []flow.RoleMapping{
		{Group: "admins", Role: "admin"}, {Group: "eng", Role: "member"}, {Group: "ops", Role: "member"},
	}, DefaultRole: "viewer"}
	cases := []struct {
		name   string
		claims string
		m      flow.ClaimMapping
		r      flow.RoleAssignment
		want   flow.Profile
		warns  []string // parts of the expected warnings, in order
	}{
		{name: "defaults", claims: `{"sub":"u1","email":"a@b.c","given_name":"A","family_name":"B","groups":["eng","ops","admins"]}`, r: roles,
			want: flow.Profile{IDPID: "u1", Email: "a@b.c", FirstName: "A", LastName: "B", Groups: []string{"eng", "ops", "admins"}, Roles: []string{"admin", "member"}}},
		{name: "overridden claims", claims: `{"sub":"u1","oid":"o-9","upn":"a@corp","first":"A","last":"B"}`,
			m:    flow.ClaimMapping{IDPID: "oid", Email: "upn", FirstName: "first", LastName: "last"},
			want: flow.Profile{IDPID: "o-9", Email: "a@corp", FirstName: "A", LastName: "B", Groups: []string{}, Roles: []string{}}},
		{name: "numeric sub", claims: `{"sub":12345678901,"email":"a@b.c","given_name":"A","family_name":"B"}`,
			want: flow.Profile{IDPID: "12345678901", Email: "a@b.c", FirstName: "A", LastName: "B", Groups: []string{}, Roles: []string{}}},
		{name: "missing and wrong-typed claims warn", claims: `{"sub":"u1","email":["x"],"given_name":""}`,
			want:  flow.Profile{IDPID: "u1", Groups: []string{}, Roles: []string{}},
			warns: []string{`email is empty: the "email" claim is a list`, `first_name is empty: the "given_name" claim is an empty string`, `last_name is empty: the claims have no "family_name"`}},
		{name: "single group as string (ADFS)", claims: `{"sub":"u","groups":"Domain Users"}`, r: flow.RoleAssignment{Mappings: []flow.RoleMapping{{Group: "Domain Users", Role: "member"}}},
			want:  flow.Profile{IDPID: "u", Groups: []string{"Domain Users"}, Roles: []string{"member"}},
			warns: []string{"email", "first_name", "last_name"}},
		{name: "comma-separated groups", claims: `{"sub":"u","groups":"eng, admins,,eng"}`, r: roles,
			want:  flow.Profile{IDPID: "u", Groups: []string{"eng", "admins"}, Roles: []string{"admin", "member"}},
			warns: []string{"email", "first_name", "last_name"}},
		{name: "JSON list in a string", claims: `{"sub":"u","groups":"[\"ops\",\"x y\"]"}`, r: roles,
			want:  flow.Profile{IDPID: "u", Groups: []string{"ops", "x y"}, Roles: []string{"member"}},
			warns: []string{"email", "first_name", "last_name"}},
		{name: "no group matched: default role", claims: `{"sub":"u","groups":["sales"]}`, r: roles,
			want:  flow.Profile{IDPID: "u", Groups: []string{"sales"}, Roles: []string{"viewer"}},
			warns: []string{"email", "first_name", "last_name"}},
		{name: "no groups claim with mappings warns", claims: `{"sub":"u"}`, r: roles,
			want:  flow.Profile{IDPID: "u", Groups: []string{}, Roles: []string{"viewer"}},
			warns: []string{"email", "first_name", "last_name", `the claims have no "groups"`}},
		{name: "custom groups claim", claims: `{"sub":"u","roles":["admins"],"groups":["eng"]}`,
			r:     flow.RoleAssignment{GroupsClaim: "roles", Mappings: roles.Mappings},
			want:  flow.Profile{IDPID: "u", Groups: []string{"admins"}, Roles: []string{"admin"}},
			warns: []string{"email", "first_name", "last_name"}},
		{name: "groups claim of the wrong type", claims: `{"sub":"u","groups":{"a":1}}`, r: roles,
			want:  flow.Profile{IDPID: "u", Groups: []string{}, Roles: []string{"viewer"}},
			warns: []string{"email", "first_name", "last_name", "JSON object"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var claims map[string]any
			if err := json.Unmarshal([]byte(tc.claims), &claims); err != nil {
				t.Fatal(err)
			}
			got, warns := flow.MapProfile(claims, tc.m, tc.r)
			if !reflect.DeepEqual(got.RawClaims, claims) {
				t.Error("raw claims not kept")
			}
			got.RawClaims = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("profile\n got %#v\nwant %#v", got, tc.want)
			}
			if len(warns) != len(tc.warns) {
				t.Fatalf("warnings %q, want %d", warns, len(tc.warns))
			}
			for i, w := range tc.warns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %d = %q, want it to mention %q", i, warns[i], w)
				}
			}
		})
	}
}
