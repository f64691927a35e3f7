package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// diagEnv is a database file with its key, shared by the test (through the
// store package) and the built binary.
type diagEnv struct {
	st  *store.Store
	env []string
}

func newDiagEnv(t *testing.T) *diagEnv {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	key := base64.StdEncoding.EncodeToString(k)
	path := filepath.Join(t.TempDir(), "onboard.db")
	st, err := store.Open(path, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &diagEnv{st: st, env: []string{"OIDC_ONBOARD_DB=" + path, "OIDC_ONBOARD_KEY=" + key, "USER=ana"}}
}

// activeConnection stores a connection to p, validated and activated the
// way the wizard's review step does it.
func (e *diagEnv) activeConnection(t *testing.T, p *testidp.Drifting, name string) *flow.Connection {
	t.Helper()
	ctx := context.Background()
	c := &flow.Connection{Organization: "Acme Corp", Name: name, DiscoveryURL: p.Server.URL + flow.WellKnownPath,
		Issuer: p.Server.URL, ClientID: "acme-app", ClientSecret: "Zq8~pLk3RtY7vBn2MxC5wE9aS4dF6gH1jK0lP3oI", RedirectURI: "http://localhost:8976/callback"}
	if err := e.st.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	r := flow.Validate(ctx, flow.NewHTTPClient(flow.ClientOptions{}), c.DiscoveryURL, flow.ValidateOptions{})
	if !r.OK {
		t.Fatalf("validation: %+v", r.Checks)
	}
	if err := e.st.SaveValidation(ctx, c.ID, *r); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Activate(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// newActiveConnection is a database with one active connection, name, to
// an IdP that does not change.
func newActiveConnection(t *testing.T, name string) (*diagEnv, *flow.Connection) {
	t.Helper()
	e := newDiagEnv(t)
	return e, e.activeConnection(t, testidp.NewDrifting(t), name)
}

func decodeVerify(t *testing.T, stdout string) flow.VerifyReport {
	t.Helper()
	var v flow.VerifyReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, stdout)
	}
	return v
}

func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	stable, drifting := testidp.NewDrifting(t), testidp.NewDrifting(t)
	a := e.activeConnection(t, stable, "Stable")
	b := e.activeConnection(t, drifting, "Drifting")

	code, stdout, stderr := runBinary(t, e.env, "verify", "--all", "--json")
	if code != 0 {
		t.Fatalf("unchanged IdPs: exit %d\n%s%s", code, stdout, stderr)
	}
	if v := decodeVerify(t, stdout); !v.OK || len(v.Connections) != 2 || v.Connections[0].Snapshot != "activation" {
		t.Fatalf("%+v", v)
	}

	// A key added alongside is benign: listed, exit 0.
	k2 := testidp.ECKey(t, "k2")
	stable.Change(func(d *testidp.Drifting) { d.Keys = append(d.Keys, k2) })
	code, stdout, _ = runBinary(t, e.env, "verify", a.ID)
	if code != 0 || !strings.Contains(stdout, "nothing that breaks logins") || !strings.Contains(stdout, "key_added") {
		t.Fatalf("key added: exit %d\n%s", code, stdout)
	}

	// A changed token endpoint breaks logins: exit 1, with the fix.
	drifting.Change(func(d *testidp.Drifting) { d.Doc["token_endpoint"] = d.Server.URL + "/v2/token" })
	code, stdout, _ = runBinary(t, e.env, "verify", "--all", "--json")
	if code != 1 {
		t.Fatalf("token endpoint changed: exit %d\n%s", code, stdout)
	}
	v := decodeVerify(t, stdout)
	var got flow.VerifyResult
	for _, r := range v.Connections {
		if r.ID == b.ID {
			got = r
		}
	}
	if v.OK || got.OK || len(got.Changes) != 1 || got.Changes[0].Kind != flow.DriftEndpoint || !got.Changes[0].Breaking {
		t.Fatalf("%+v", v)
	}
	code, stdout, _ = runBinary(t, e.env, "verify", b.ID)
	if code != 1 || !strings.Contains(stdout, "token_endpoint changed") || !strings.Contains(stdout, "Fix:") {
		t.Fatalf("human output: exit %d\n%s", code, stdout)
	}

	events, err := e.st.ListAudit(context.Background(), store.AuditQuery{ConnectionID: b.ID})
	if err != nil || len(events) != 3 || events[0].Action != "connection.verify" || !strings.Contains(events[0].Detail, "endpoint") {
		t.Fatalf("audit: %+v %v", events, err)
	}

	// Usage errors.
	for _, args := range [][]string{{"verify"}, {"verify", a.ID, "--all"}} {
		if code, _, _ := runBinary(t, e.env, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestVerifyWithoutSnapshotFails(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	p := testidp.NewDrifting(t)
	c := &flow.Connection{Organization: "Acme Corp", Name: "Imported", Status: flow.StatusActive, DiscoveryURL: p.Server.URL + flow.WellKnownPath}
	if err := e.st.SaveConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runBinary(t, e.env, "verify", "--all")
	if code != 1 || !strings.Contains(stdout, "never validated") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}

func TestTranscriptIsRedacted(t *testing.T) {
	t.Parallel()
	e, c := newActiveConnection(t, "Acme OIDC")
	ctx := context.Background()
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
	claims := map[string]any{"sub": "00u1abc", "email": "ana@acme.example", "email_verified": true,
		"given_name": "Ana", "family_name": "Lima", "nonce": "n-0S6_WzA2Mj", "at_hash": "preHZvvQQnA5ChzZOCPd3g",
		"debug_token": jwt, "note": "copied " + c.ClientSecret + " here"}
	if _, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: true, Claims: claims,
		Profile: &flow.Profile{IDPID: "00u1abc", Email: "ana@acme.example", Groups: []string{}, Roles: []string{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: false, Error: "the IdP rejected the client credentials"}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"transcript", c.ID}, {"transcript", c.ID, "--json"}} {
		code, stdout, stderr := runBinary(t, e.env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		for _, secret := range []string{c.ClientSecret, jwt, "eyJhbGci", "n-0S6_WzA2Mj", "preHZvvQQnA5ChzZOCPd3g"} {
			if strings.Contains(stdout, secret) {
				t.Errorf("%v: output shows %q:\n%s", args, secret, stdout)
			}
		}
		for _, want := range []string{"ana@acme.example", "rejected the client credentials", "discovery checks", c.ID, "activated"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, stdout)
			}
		}
		if args[len(args)-1] != "--json" {
			if !strings.HasPrefix(stdout, "Support code: ") {
				t.Errorf("no support code at the top:\n%s", stdout)
			}
			continue
		}
		var tr flow.Transcript
		if err := json.Unmarshal([]byte(stdout), &tr); err != nil || len(tr.SupportCode) != 9 || len(tr.Entries) < 3 {
			t.Errorf("json transcript: %v %+v", err, tr)
		}
	}
	if code, _, stderr := runBinary(t, e.env, "transcript", "conn_nope22"); code != 1 || !strings.Contains(stderr, "connections list") {
		t.Errorf("unknown ID: exit %d %s", code, stderr)
	}
}

func TestConnectionsRemapReplaysTheTestLogin(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	ctx := context.Background()
	c := &flow.Connection{Organization: "Acme Corp", Name: "Entra", ClientID: "app",
		DiscoveryURL: "https://login.microsoftonline.com/3c1e9b5a-7f42-4d8e-a0b6-2f5d9c81e7a4/v2.0/.well-known/openid-configuration"}
	if err := e.st.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runBinary(t, e.env, "connections", "remap", c.ID, "--claim", "email=upn"); code != 1 || !strings.Contains(stderr, "login --connection") {
		t.Fatalf("no test login yet: exit %d %s", code, stderr)
	}
	guid := "c5a3e2f1-9b8d-4e6f-a1b2-c3d4e5f6a7b8"
	tl, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: true,
		Claims:         map[string]any{"sub": "AAAAkzqFVrSa", "preferred_username": "meganb@contoso.example", "groups": []any{guid}},
		UserinfoClaims: map[string]any{"given_name": "Megan", "family_name": "Bowen"}})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBinary(t, e.env, "connections", "remap", c.ID, "--claim", "email=preferred_username",
		"--role-map", guid+"=admin", "--default-role", "viewer", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("dry run: exit %d %s", code, stderr)
	}
	var out flow.RemapResult
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Saved || out.Profile.Email != "meganb@contoso.example" || out.Profile.FirstName != "Megan" ||
		strings.Join(out.Profile.Roles, ",") != "admin" || out.TestLogin.ID != tl.ID {
		t.Fatalf("%+v", out)
	}
	ids := map[string]bool{}
	for _, f := range out.Findings {
		ids[f.ID] = true
	}
	if !ids[flow.FindingGroupGUIDs] || !ids[flow.FindingEmailUnverified] || ids[flow.FindingEmailMissing] {
		t.Errorf("findings %+v", out.Findings)
	}
	if got, _ := e.st.GetConnection(ctx, c.ID); got.Claims.Email != "" || len(got.RoleMappings) != 0 {
		t.Fatalf("dry run saved: %+v", got)
	}

	code, stdout, stderr = runBinary(t, e.env, "connections", "remap", c.ID, "--claim", "email=preferred_username", "--role-map", guid+"=admin")
	if code != 0 || !strings.Contains(stdout, "meganb@contoso.example") || !strings.Contains(stdout, "Saved") {
		t.Fatalf("remap: exit %d\n%s%s", code, stdout, stderr)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	if got.Claims.Email != "preferred_username" || len(got.RoleMappings) != 1 {
		t.Fatalf("not saved: %+v", got)
	}
	if n, _ := e.st.MappingsCheckedAgainst(ctx, c.ID); n != tl.ID {
		t.Errorf("checked against %d, want %d", n, tl.ID)
	}
	events, _ := e.st.ListAudit(ctx, store.AuditQuery{ConnectionID: c.ID})
	if len(events) != 1 || events[0].Action != "connection.remap" || !strings.Contains(events[0].Detail, "email: email → preferred_username") {
		t.Errorf("audit %+v", events)
	}
	if code, _, _ := runBinary(t, e.env, "connections", "remap", c.ID, "--claim", "nope=x"); code != 2 {
		t.Errorf("bad --claim: exit %d", code)
	}
}

func TestGroupLabelsInShowAndTranscript(t *testing.T) {
	t.Parallel()
	e, c := newActiveConnection(t, "Contoso OIDC")
	ctx := context.Background()
	const guid = "93ee6f0b-5d6c-4a8e-a0e1-3b7a8f2c4d51"
	c.RoleMappings = []flow.RoleMapping{{Group: guid, Role: "admin"}}
	if err := e.st.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetGroupLabel(ctx, c.ID, guid, "Finance admins"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SaveTestLogin(ctx, store.TestLogin{ConnectionID: c.ID, OK: true, Claims: map[string]any{"sub": "u1", "groups": []any{guid}},
		Profile: &flow.Profile{IDPID: "u1", Groups: []string{guid}, Roles: []string{"admin"}}}); err != nil {
		t.Fatal(err)
	}
	labelled := guid + " (Finance admins)"
	for _, args := range [][]string{{"connections", "show", c.ID}, {"transcript", c.ID}, {"transcript", c.ID, "--json"}} {
		code, stdout, stderr := runBinary(t, e.env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		for _, want := range []string{labelled + " → admin", guid + " = Finance admins"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, stdout)
			}
		}
	}
	if _, stdout, _ := runBinary(t, e.env, "transcript", c.ID); !strings.Contains(stdout, "groups=["+labelled+"]") {
		t.Errorf("the test login's profile lacks the label:\n%s", stdout)
	}
	_, stdout, _ := runBinary(t, e.env, "connections", "show", c.ID, "--json")
	var shown struct {
		GroupLabels map[string]string `json:"group_labels"`
	}
	if err := json.Unmarshal([]byte(stdout), &shown); err != nil || shown.GroupLabels[guid] != "Finance admins" {
		t.Errorf("show --json group_labels %v, %v:\n%s", shown.GroupLabels, err, stdout)
	}
}

// TestVerifyUnreachableIsNotChanged: an IdP that cannot be reached is
// reported as unreachable, not as changed, in the text, the JSON and the
// audit log; verify still exits 1, since logins through it would fail.
func TestVerifyUnreachableIsNotChanged(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	idp := testidp.NewDrifting(t)
	c := e.activeConnection(t, idp, "Gone")
	idp.Server.Close()

	code, stdout, _ := runBinary(t, e.env, "verify", c.ID)
	if code != 1 || !strings.Contains(stdout, c.ID+" (Acme Corp / Gone): unreachable") || strings.Contains(stdout, ": changed") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runBinary(t, e.env, "verify", "--all", "--json")
	v := decodeVerify(t, stdout)
	if code != 1 || v.OK || len(v.Connections) != 1 || len(v.Connections[0].Changes) != 1 || v.Connections[0].Changes[0].Kind != flow.DriftUnreachable {
		t.Errorf("exit %d %+v", code, v)
	}
	events, err := e.st.ListAudit(context.Background(), store.AuditQuery{ConnectionID: c.ID})
	if err != nil || len(events) == 0 || events[0].Action != "connection.verify" || !strings.HasPrefix(events[0].Detail, "unreachable: ") {
		t.Errorf("audit %+v %v", events, err)
	}
}
