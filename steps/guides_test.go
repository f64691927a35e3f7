package steps

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"charm.land/glamour/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

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

// A guide's paragraphs flow at the step's width: the lines its source
// wraps at are joined, so that no word is left alone on a line where a
// source line was longer than the width, while its subheadings, list
// items and code keep their own lines.
func TestGuideParagraphsFlowAtTheStepsWidth(t *testing.T) {
	md := "# Title\n\n**Client ID and Client Secret**\nThe provider issues both when the application is created; copy the secret's\n*value* (some consoles show it only once).\n\n1. First step,\n   continued.\n2. Second.\n- item\n  more\n\n```\nkeep\nthese\n```\n"
	want := "# Title\n\n**Client ID and Client Secret**\nThe provider issues both when the application is created; copy the secret's *value* (some consoles show it only once).\n\n1. First step, continued.\n2. Second.\n- item more\n\n```\nkeep\nthese\n```\n"
	if got := unwrapLines(md); got != want {
		t.Errorf("unwrapLines:\n%s\nwant:\n%s", got, want)
	}
	out, err := renderGuide(guideKey{provider: "generic", uri: "https://onboard.example/callback/conn_x", style: "dark", width: 76})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(ansi.Strip(out), "\n")
	// The source breaks this paragraph after "secret's": the line that
	// word ends must go on to "value", unless it is full.
	at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "secret's") })
	if at < 0 {
		t.Fatalf("the guide lost its paragraph:\n%s", ansi.Strip(out))
	}
	if l := strings.TrimRight(lines[at], " "); !strings.Contains(l, "secret's value") && len(l)+len(" value") <= 76 {
		t.Errorf("the line %q ends where the source's did, short of the width:\n%s", l, ansi.Strip(out))
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "Client ID and Client Secret" }) {
		t.Errorf("a subheading lost its own line:\n%s", ansi.Strip(out))
	}
}

// A guide's rendering is compacted to far fewer escape sequences, and
// shows the very same cells: every character in the same colour and
// attributes, in every guide, theme and width.
func TestCompactedGuidesShowTheSameCells(t *testing.T) {
	cells := func(s string, width, height int) uv.ScreenBuffer {
		buf := uv.NewScreenBuffer(width, height)
		uv.NewStyledString(s).Draw(buf, buf.Bounds())
		return buf
	}
	for _, g := range assets.Guides() {
		for _, style := range []string{"dark", "light"} {
			for _, width := range []int{40, 80, 120} {
				md, _ := assets.GuideMarkdown(g.ID, "https://onboard.example/callback/conn_x")
				tr, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(min(width, guideMeasure)), glamour.WithPreservedNewLines())
				if err != nil {
					t.Fatal(err)
				}
				raw, err := tr.Render(unwrapLines(md))
				if err != nil {
					t.Fatal(err)
				}
				raw = strings.Trim(raw, "\n")
				compact := compactStyles(raw)
				if len(compact) > len(raw)/2 {
					t.Errorf("%s %s %d: compacted to %d bytes of %d", g.ID, style, width, len(compact), len(raw))
				}
				h := strings.Count(raw, "\n") + 1
				a, b := cells(raw, width+10, h), cells(compact, width+10, h)
				for y := range h {
					for x := range width + 10 {
						if ca, cb := a.CellAt(x, y), b.CellAt(x, y); !ca.Equal(cb) && !(ca.Equal(&uv.EmptyCell) && cb.IsZero()) && !(cb.Equal(&uv.EmptyCell) && ca.IsZero()) {
							t.Fatalf("%s %s %d: cell %d,%d is %+v compacted, %+v rendered", g.ID, style, width, x, y, cb, ca)
						}
					}
				}
			}
		}
	}
}
