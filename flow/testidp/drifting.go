package testidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Drifting serves a discovery document and a key set that a test changes
// as it goes (with Change): an IdP whose metadata drifts after a
// connection was activated. It signs nobody in.
type Drifting struct {
	Server *httptest.Server
	// Doc and Keys are what it serves; Skew is its clock's offset, in its
	// Date header. Change them only inside Change.
	Doc  map[string]any
	Keys []map[string]any
	Skew time.Duration

	mu sync.Mutex
}

// NewDrifting starts a Drifting IdP with one ES256 key, "k1", closed when
// the test ends.
func NewDrifting(t testing.TB) *Drifting {
	t.Helper()
	d := &Drifting{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		w.Header().Set("Date", time.Now().Add(d.Skew).UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(d.Doc)
		case "/keys":
			json.NewEncoder(w).Encode(map[string]any{"keys": d.Keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.Server.Close)
	u := d.Server.URL
	d.Doc = map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"jwks_uri": u + "/keys", "userinfo_endpoint": u + "/userinfo", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
		"scopes_supported": []string{"openid", "email", "profile"}, "code_challenge_methods_supported": []string{"S256"}}
	d.Keys = []map[string]any{ECKey(t, "k1")}
	return d
}

// Change runs f, which changes what d serves, while d serves nothing.
func (d *Drifting) Change(f func(d *Drifting)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

// ECKey is a fresh P-256 signing key as a JWK with key ID kid.
func ECKey(t testing.TB, kid string) map[string]any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": enc(b[1:33]), "y": enc(b[33:])}
}

// BusyPort is a loopback TCP port something listens on until the test
// ends, for tests of what happens when the Redirect URI's port is taken.
func BusyPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
