package steps

import (
	"strings"
	"sync"

	"charm.land/glamour/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/assets"
)

// maxGuideRenderings bounds the renderings a Guides keeps: a few
// providers, two themes and the widths of the terminals seen. Past it, a
// rendering is made for its caller and not kept.
const maxGuideRenderings = 512

// Guides renders the provider guides, each (provider, width, theme) once
// for every session that shows it: an SSH server holds hundreds of
// sessions, which would otherwise each run glamour on the same Markdown.
// A rendering is an immutable string; the connection's own Redirect URI
// goes into it after rendering, so that sessions of other connections
// share it. Safe for concurrent use; the zero value is not usable, use
// NewGuides.
type Guides struct {
	mu        sync.Mutex
	rendering map[guideKey]*guideRendering
}

// guideKey names one rendering: the guide, its wrap width, the glamour
// style and the Redirect URI with the connection's ID masked.
type guideKey struct {
	provider, uri, style string
	width                int
}

// guideRendering is a rendering, done when done is closed.
type guideRendering struct {
	done chan struct{}
	out  string
	err  error
	// own: the rendering depends on the connection's ID (a narrow guide
	// breaks the Redirect URI inside it), so each connection's is its own.
	own bool
}

// NewGuides is an empty set of guide renderings.
func NewGuides() *Guides { return &Guides{rendering: map[guideKey]*guideRendering{}} }

// Render is the guide of provider (the generic one when unknown), with
// redirectURI, the Redirect URI of connection connectionID, in it, wrapped
// at width in glamour's style. It waits for a rendering of the same key
// under way elsewhere instead of repeating it.
func (g *Guides) Render(provider, redirectURI, connectionID, style string, width int) (string, error) {
	uri, mask := maskConnection(redirectURI, connectionID)
	k := guideKey{provider: provider, uri: uri, style: style, width: width}
	g.mu.Lock()
	r, ok := g.rendering[k]
	if !ok {
		r = &guideRendering{done: make(chan struct{})}
		if len(g.rendering) < maxGuideRenderings {
			g.rendering[k] = r
		}
	}
	g.mu.Unlock()
	if ok {
		<-r.done
	} else {
		r.out, r.err = renderGuide(k)
		if r.err == nil && mask != "" {
			// The same guide with another mask must differ only by it: else
			// the URI was broken inside the ID, and sharing would leave a
			// piece of the mask in the guide.
			other := strings.Repeat("y", len(mask))
			var alt string
			alt, r.err = renderGuide(guideKey{provider: provider, uri: strings.ReplaceAll(uri, mask, other), style: style, width: width})
			r.own = alt != strings.ReplaceAll(r.out, mask, other)
		}
		if r.err != nil {
			g.mu.Lock()
			delete(g.rendering, k) // tried again by the next caller
			g.mu.Unlock()
		}
		close(r.done)
	}
	if r.err == nil && r.own {
		return renderGuide(guideKey{provider: provider, uri: redirectURI, style: style, width: width})
	}
	return r.with(mask, connectionID), r.err
}

// Rendered is what Render returns when that rendering is done already (a
// session coming back to its guide), without waiting or rendering: ok is
// false when it is not, or when the connection needs its own.
func (g *Guides) Rendered(provider, redirectURI, connectionID, style string, width int) (out string, ok bool) {
	uri, mask := maskConnection(redirectURI, connectionID)
	g.mu.Lock()
	r, found := g.rendering[guideKey{provider: provider, uri: uri, style: style, width: width}]
	g.mu.Unlock()
	if !found {
		return "", false
	}
	select {
	case <-r.done:
	default:
		return "", false
	}
	if r.err != nil || r.own {
		return "", false
	}
	return r.with(mask, connectionID), true
}

// with is the rendering with the connection's ID in place of its mask.
func (r *guideRendering) with(mask, connectionID string) string {
	if r.err != nil || mask == "" {
		return r.out
	}
	return strings.ReplaceAll(r.out, mask, connectionID)
}

// maskConnection replaces connectionID in uri with a mask of the same
// length (so the guide wraps exactly as it would around the ID) and
// returns it with the mask; a uri without the ID is returned as it is.
func maskConnection(uri, connectionID string) (masked, mask string) {
	if connectionID == "" || !strings.Contains(uri, connectionID) {
		return uri, ""
	}
	mask = strings.Repeat("z", len(connectionID))
	if mask == connectionID {
		return uri, ""
	}
	return strings.ReplaceAll(uri, connectionID, mask), mask
}

// renderGuide runs glamour on a guide. The renderer is not kept: it is
// cheap to build (well under a millisecond) and heavy to hold (styles, a
// Markdown parser, an HTML policy).
func renderGuide(k guideKey) (string, error) {
	md, ok := assets.GuideMarkdown(k.provider, k.uri)
	if !ok {
		md, _ = assets.GuideMarkdown("", k.uri)
	}
	// Its lines are at most guideMeasure wide, however wide the terminal.
	tr, err := glamour.NewTermRenderer(glamour.WithStandardStyle(k.style), glamour.WithWordWrap(min(k.width, guideMeasure)),
		glamour.WithPreservedNewLines())
	if err != nil {
		return "", err
	}
	out, err := tr.Render(unwrapLines(md))
	if err != nil {
		return "", err
	}
	return compactStyles(strings.Trim(out, "\n")), nil
}

// compactStyles is s, a glamour rendering, as the same cells in as few
// escape sequences as they need, and without the blanks that end its
// lines. Glamour styles each word and each space of its own: Okta's guide
// was 28 KB with 3,500 sequences, 5 KB and 170 sequences once compacted,
// and every frame of every session that shows a guide is parsed and
// compared cell by cell.
func compactStyles(s string) string {
	lines := strings.Split(s, "\n")
	width := 0
	for _, l := range lines {
		width = max(width, ansi.StringWidth(l))
	}
	buf := uv.NewScreenBuffer(width, len(lines))
	uv.NewStyledString(s).Draw(buf, buf.Bounds())
	return buf.Render()
}

// guideMeasure is the widest a guide's lines are: on a wide terminal,
// longer lines are harder to read.
const guideMeasure = 100

// unwrapLines joins the lines a guide's source wraps a paragraph or a list
// item at, so that glamour, which keeps the source's line breaks (the
// guides' bold subheadings need it), wraps the text at the step's width
// alone: a source line longer than the width left a word alone on a line.
// A subheading (a line in bold only), a heading, a list item, a quote, a
// table row and a code fence start a line of their own; code blocks are
// kept as they are.
func unwrapLines(md string) string {
	var out []string
	fenced, joinable := false, false
	for line := range strings.Lines(md) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
		}
		starts := trimmed == "" || fenced || strings.HasPrefix(trimmed, "```") || startsBlock(trimmed)
		if joinable && !starts {
			out[len(out)-1] += " " + trimmed
			continue
		}
		out = append(out, line)
		joinable = trimmed != "" && !fenced && !strings.HasPrefix(trimmed, "```") && !boldOnly(trimmed) && !strings.HasPrefix(trimmed, "#")
	}
	return strings.Join(out, "\n") + "\n"
}

// startsBlock reports whether a (trimmed) Markdown line starts a block of
// its own: a heading, a list item, a quote, a table row, a subheading.
func startsBlock(line string) bool {
	if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ">") || strings.HasPrefix(line, "|") ||
		strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "+ ") || boldOnly(line) {
		return true
	}
	digits := len(line) - len(strings.TrimLeft(line, "0123456789"))
	return digits > 0 && (strings.HasPrefix(line[digits:], ". ") || strings.HasPrefix(line[digits:], ") "))
}

// boldOnly reports whether a line is all bold: a guide's subheading.
func boldOnly(line string) bool {
	return len(line) > 4 && strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**") && !strings.Contains(line[2:len(line)-2], "**")
}
