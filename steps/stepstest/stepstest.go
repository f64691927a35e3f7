// Package stepstest holds what the tests of the wizard's steps and of its
// shell share: a real environment to run steps in (a SQLite store, the demo
// IdP and a callback server on free loopback ports). It is imported by
// tests only, and imports nothing of steps, so that the steps' own tests
// can use it too.
package stepstest

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/demoidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// Timeout bounds each network call of a test environment.
const Timeout = 5 * time.Second

// testKey seals the test stores' secrets: a key given, not a key file, so
// that no file is created in the store's folder by a write still finishing
// as the test ends (the folder's removal would race with it).
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64

// OpenStore opens a fresh SQLite store in a temporary folder, on clock
// (nil: time.Now); it is closed when the test ends.
func OpenStore(t testing.TB, clock func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onboard.db"), store.Options{Now: clock, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// World is what a step's environment reaches outside the store, for real:
// the demo IdP and the callback server, each on a free loopback port, and
// the guarded HTTP client. Both servers close when the test ends.
type World struct {
	IdP      *demoidp.IdP
	Callback *flow.CallbackServer
	HTTP     *http.Client
}

// StartWorld starts the demo IdP, which accepts loopback redirect URIs,
// and a callback server.
func StartWorld(t testing.TB) *World {
	t.Helper()
	idp, err := demoidp.Start(context.Background(), demoidp.Options{AllowLoopbackRedirects: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	srv, err := flow.StartCallbackServer("http://127.0.0.1:0/callback", flow.CallbackOptions{Page: assets.CallbackPage()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &World{IdP: idp, Callback: srv, HTTP: flow.NewHTTPClient(flow.ClientOptions{Timeout: Timeout})}
}

// Callbacks is the environment's Callbacks: every redirect URI reaches the
// one callback server.
func (w *World) Callbacks(string) (*flow.CallbackServer, error) { return w.Callback, nil }

// RedirectBase is where callbacks arrive, without the path.
func (w *World) RedirectBase() string {
	return strings.TrimSuffix(w.Callback.RedirectURI(), "/callback")
}

// OnlyDraft is the one draft of organization org ("": of every
// organization) in st; the test fails unless there is exactly one. Its
// form is decoded into form, a *steps.Setup.
func OnlyDraft(t testing.TB, st *store.Store, org string, form any) store.Draft {
	t.Helper()
	drafts, err := st.ListDrafts(context.Background(), org)
	if err != nil || len(drafts) != 1 {
		t.Fatalf("drafts %+v, %v; want one", drafts, err)
	}
	if err := json.Unmarshal(drafts[0].Form, form); err != nil {
		t.Fatal(err)
	}
	return drafts[0]
}
