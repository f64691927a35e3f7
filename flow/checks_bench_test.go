package flow_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// BenchmarkValidate measures Validate against a provider that takes
// latency to serve each of the two documents it must fetch in turn
// (discovery, then JWKS). It reports chain-ratio, the wall time over that
// unavoidable chain: the target is at most 1.10 (+20 ms).
func BenchmarkValidate(b *testing.B) {
	const latency = 100 * time.Millisecond
	srv := testIdP{
		discovery: func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(latency)
			writeJSON(w, goodDoc("http://"+r.Host, "http://"+r.Host))
		},
		jwks: func(w http.ResponseWriter) {
			time.Sleep(latency)
			writeJSON(w, map[string]any{"keys": []any{rsaKey("sig", "RS256")}})
		},
	}.start(b)
	client := flow.NewHTTPClient(flow.ClientOptions{Timeout: 5 * time.Second})
	chain := 2 * latency
	start := time.Now()
	for b.Loop() {
		if r := flow.Validate(context.Background(), client, srv.URL, flow.ValidateOptions{}); !r.OK {
			b.Fatalf("report not OK: %s", dump(r))
		}
	}
	perOp := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(perOp)/float64(chain), "chain-ratio")
	b.ReportMetric(float64((perOp-chain).Microseconds())/1000, "overhead-ms")
}
