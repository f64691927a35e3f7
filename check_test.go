package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// binary is the oidc-onboard command built once for the contract tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oidc-onboard-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "oidc-onboard")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBinary runs the built command and returns its exit code and output.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// contractIdP serves a discovery document on loopback; keys is the JWKS.
func contractIdP(t *testing.T, keys string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q,
				"response_types_supported":["code"],"subject_types_supported":["public"],
				"id_token_signing_alg_values_supported":["RS256"],"scopes_supported":["openid","email","profile"],
				"claims_supported":["sub","email","given_name","family_name"]}`,
				base, base+"/authorize", base+"/token", base+"/jwks")
		case "/jwks":
			w.Write([]byte(keys))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const goodKeys = `{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"k1","n":"` +
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw" +
	`","e":"AQAB"}]}`

// jsonReport is the exact shape of `check --json`; decoding rejects any
// other field.
type jsonReport struct {
	OK           bool   `json:"ok"`
	DiscoveryURL string `json:"discovery_url"`
	Issuer       string `json:"issuer"`
	Checks       []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
}

func decodeReport(t *testing.T, stdout string) jsonReport {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var r jsonReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("stdout is not the report JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", stdout)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal([]byte(stdout), &raw)
	for _, k := range []string{"ok", "discovery_url", "issuer", "checks"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("field %q missing from %s", k, stdout)
		}
	}
	for _, c := range r.Checks {
		if c.Status != "pass" && c.Status != "warn" && c.Status != "fail" {
			t.Errorf("check %s has status %q", c.ID, c.Status)
		}
	}
	return r
}

func TestCheckJSONPass(t *testing.T) {
	t.Parallel()
	srv := contractIdP(t, goodKeys)
	code, stdout, stderr := runBinary(t, nil, "check", "--json", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	r := decodeReport(t, stdout)
	if !r.OK || r.Issuer != srv.URL || r.DiscoveryURL != srv.URL+"/.well-known/openid-configuration" || len(r.Checks) < 10 {
		t.Errorf("unexpected report: %+v", r)
	}
	var raw struct {
		Checks []map[string]json.RawMessage `json:"checks"`
	}
	json.Unmarshal([]byte(stdout), &raw)
	for _, c := range raw.Checks {
		if len(c) != 4 {
			t.Errorf("a check has fields %v, want exactly id, status, detail, fix", c)
		}
	}
}

func TestCheckJSONFail(t *testing.T) {
	t.Parallel()
	srv := contractIdP(t, `{"keys":[]}`)
	code, stdout, _ := runBinary(t, nil, "check", "--json", srv.URL+"/.well-known/openid-configuration")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	r := decodeReport(t, stdout)
	failed := false
	for _, c := range r.Checks {
		if c.ID == "jwks" && c.Status == "fail" && c.Fix != "" {
			failed = true
		}
	}
	if r.OK || !failed {
		t.Errorf("empty JWKS not reported as a failed jwks check: %+v", r)
	}
}

func TestCheckHumanOutput(t *testing.T) {
	t.Parallel()
	srv := contractIdP(t, goodKeys)
	code, stdout, _ := runBinary(t, []string{"NO_COLOR=1"}, "check", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stdout)
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Error("colour codes despite NO_COLOR")
	}
	for _, want := range []string{"✓ Reachable", "✓ Issuer matches URL", "! PKCE S256", "fix: ", "No check failed (1 warning)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	bad := contractIdP(t, `{"keys":[]}`)
	code, stdout, _ = runBinary(t, nil, "check", bad.URL)
	if code != 1 || !strings.Contains(stdout, "✗ Signing keys") || !strings.Contains(stdout, "1 check failed") {
		t.Errorf("exit %d, output:\n%s", code, stdout)
	}
}

// TestCheckTimeout: a server that never answers ends the check within
// --timeout, as a failed check.
func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	code, stdout, _ := runBinary(t, nil, "check", "--json", "--timeout", "300ms", srv.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	if r := decodeReport(t, stdout); len(r.Checks) != 1 || r.Checks[0].ID != "reachable" || !strings.Contains(r.Checks[0].Detail, "in time") {
		t.Errorf("report %+v", r)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("took %s despite --timeout 300ms", elapsed)
	}
}

func TestCheckUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args   []string
		stderr string
	}{
		{[]string{"check"}, "missing URL"},
		{[]string{"check", "--json"}, "missing URL"},
		{[]string{"check", "https://a.example.com", "https://b.example.com"}, "one URL"},
		{[]string{"check", "--timeout", "soon", "https://idp.example.com"}, "invalid argument"},
		{[]string{"check", "--timeout", "0s", "https://idp.example.com"}, "--timeout must be positive"},
		{[]string{"check", "--nope", "https://idp.example.com"}, "unknown flag"},
		{[]string{"check", "http://idp.example.com"}, "plain http"},
		{[]string{"check", "idp.example.com"}, "not a URL"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runBinary(t, nil, tc.args...)
		wantStdout := ""
		if slices.Contains(tc.args, "--json") { // a failure with --json is on stdout too
			b, _ := json.MarshalIndent(flow.Failure{Error: flow.FailureDetail{Code: flow.CodeUsage, Message: strings.TrimPrefix(strings.SplitN(stderr, "\n", 2)[0], "Error: ")}}, "", "  ")
			wantStdout = string(b) + "\n"
		}
		if code != 2 || !strings.Contains(stderr, tc.stderr) || stdout != wantStdout {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, code, stderr, stdout, tc.stderr)
		}
	}
}

func TestCheckHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runBinary(t, nil, "check", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Exit codes", "issuer_template", "--timeout", "--json", "oidc-onboard check https://"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}
