package steps

import (
	"fmt"
	"sync"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/assets"
)

// A guide rendered once for every connection reads, for each, exactly as
// if it had been rendered with that connection's own Redirect URI: every
// guide, narrow and wide, in both themes.
func TestSharedGuideReadsAsItsOwn(t *testing.T) {
	t.Parallel()
	g := NewGuides()
	for _, guide := range assets.Guides() {
		for _, style := range []string{"dark", "light"} {
			for _, width := range []int{20, 38, 78, 118} {
				for _, id := range []string{"conn_abc123", "conn_7h3kq9", "conn_zz2zzz"} {
					uri := "https://sso.example.test:2222/callback/" + id
					got, err := g.Render(guide.ID, uri, id, style, width)
					if err != nil {
						t.Fatal(err)
					}
					want, err := renderGuide(guideKey{provider: guide.ID, uri: uri, style: style, width: width})
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("%s (%s, %d) for %s differs from its own rendering:\n%s\n---\n%s", guide.ID, style, width, id, got, want)
					}
				}
			}
		}
	}
}

// Sessions of many connections showing the same guide at the same width
// and theme, at the same moment, share one rendering.
func TestGuideRenderedOnceForEverySession(t *testing.T) {
	t.Parallel()
	g := NewGuides()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("conn_%06d", i)
			if _, err := g.Render("okta", "http://127.0.0.1:8976/callback/"+id, id, "dark", 78); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A URI that is not the connection's (imported from elsewhere) has a
	// rendering of its own.
	if _, err := g.Render("okta", "https://elsewhere.test/cb", "conn_abc123", "dark", 78); err != nil {
		t.Fatal(err)
	}
	if len(g.rendering) != 2 {
		t.Errorf("%d renderings kept, want 2 (one shared, one for the other URI)", len(g.rendering))
	}
}
