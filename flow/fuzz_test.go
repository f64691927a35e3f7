package flow_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// FuzzDiscoveryParse feeds arbitrary bodies through discovery parsing, every
// document check, the key-set check and the text report. None may panic;
// every check that does not pass must carry a fix. The seed corpus in
// testdata/fuzz/FuzzDiscoveryParse runs as a regression test in go test.
func FuzzDiscoveryParse(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://idp.example.com","authorization_endpoint":"https://idp.example.com/a","token_endpoint":"https://idp.example.com/t","jwks_uri":"https://idp.example.com/k","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`), "text/html")
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`), "application/json")
	f.Add([]byte(`<!DOCTYPE html><html>`), "text/html")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		const discoveryURL = "https://idp.example.com/tenant" + flow.WellKnownPath
		fields, m, err := flow.ParseDiscovery(discoveryURL, contentType, body)
		if err != nil {
			if msg, fix := flow.Explain(err); msg == "" || fix == "" {
				t.Fatalf("error without message or fix: %q / %q", msg, fix)
			}
			return
		}
		if fields == nil || m == nil {
			t.Fatal("no error, yet no document")
		}
		header := http.Header{"Date": {string(body[:min(len(body), 29)])}, "Age": {contentType}}
		before, after := flow.DocumentChecks(discoveryURL, m, header, time.Unix(0, 0))
		r := &flow.Report{DiscoveryURL: discoveryURL, Issuer: m.Issuer, Metadata: m}
		r.Checks = append(append(append(r.Checks, before...), flow.KeySetCheck(body, m.IDTokenSigningAlgValuesSupported)), after...)
		for _, c := range r.Checks {
			switch c.Status {
			case flow.Pass:
			case flow.Warn, flow.Fail:
				if c.Fix == "" {
					t.Fatalf("%s is %s without a fix: %q", c.ID, c.Status, c.Detail)
				}
			default:
				t.Fatalf("%s has status %q", c.ID, c.Status)
			}
		}
		if err := r.WriteText(io.Discard, flow.TextStyle{}); err != nil {
			t.Fatal(err)
		}
	})
}
