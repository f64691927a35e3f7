package widget

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Fit cuts s to height lines (none when height is 0 or less) and each
// line to width cells, with an ellipsis. A view that fits already is
// returned as it is, without a copy: every step's view goes through Fit on
// every key.
func Fit(s string, width, height int) string {
	if Fits(s, width, height) {
		return s
	}
	lines := strings.Split(s, "\n")
	if height > 0 && len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		// A line has at least as many bytes as it is wide: most lines are
		// measured by their length alone.
		if len(l) > width && lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// Fits reports whether s has at most height lines (any number when
// height is 0 or less) and none wider than width cells. Most lines are
// told by their bytes alone, without measuring their width: see narrow.
func Fits(s string, width, height int) bool {
	for n := 1; ; n++ {
		if height > 0 && n > height {
			return false
		}
		line, rest, more := strings.Cut(s, "\n")
		if !narrow(line, width) && lipgloss.Width(line) > width {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// narrow reports that line is surely no wider than width cells: it has no
// more than width characters outside its CSI escape sequences (its
// colours and styles), which take no cell, and each of them takes at most
// one cell whatever follows it (see oneCell). When it says false, line may
// fit still.
func narrow(line string, width int) bool {
	n := 0
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == 0x1b && i+1 < len(line) && line[i+1] == '[':
			// ESC [, parameter and intermediate bytes, a final byte.
			j := i + 2
			for j < len(line) && line[j] >= 0x20 && line[j] <= 0x3f {
				j++
			}
			if j < len(line) && line[j] >= 0x40 && line[j] <= 0x7e {
				i = j + 1
				continue
			}
			i++
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(line[i:])
			if !oneCell(r) {
				return false
			}
			i += size
		}
		if n++; n > width {
			return false
		}
	}
	return true
}

// oneCell reports whether r takes at most one cell wherever it stands: it
// is below U+3000, where the wide characters are few (⌚, ✅ and the like
// are measured), is one cell wide on its own, and is no mark, format
// character or variation selector, the characters that join others into
// a grapheme cluster that can be wider than its parts (❤ and U+FE0F is
// two cells). The symbols views draw (✓ • … ─ ↑ ↓) are, so the lines that
// hold them are not measured on every key. Each block of 256 characters
// is worked out once, when a line first holds one of them.
func oneCell(r rune) bool {
	if r >= 0x3000 {
		return false
	}
	b := &oneCellBlocks[r>>8]
	b.once.Do(func() {
		for i := range 256 {
			c := r&^0xff | rune(i)
			if c >= 0x80 && !unicode.In(c, unicode.Mn, unicode.Me, unicode.Mc, unicode.Cf, unicode.Cc, unicode.Co, unicode.Cs) &&
				utf8.ValidRune(c) && ansi.StringWidth(string(c)) == 1 {
				b.one[i/64] |= 1 << (i % 64)
			}
		}
	})
	i := r & 0xff
	return b.one[i/64]&(1<<(i%64)) != 0
}

var oneCellBlocks [0x30]struct {
	once sync.Once
	one  [4]uint64
}

// Truncate cuts s to width cells (at least one), with an ellipsis.
func Truncate(s string, width int) string { return ansi.Truncate(s, max(width, 1), "…") }

// Wrap wraps s to width cells (at least one), styles and all, keeping
// URLs whole (see wrapKeepingURLs).
func Wrap(s string, width int) string {
	return strings.Join(wrapLines(s, width, func(l string, w int) string { return lipgloss.Wrap(l, w, "") }), "\n")
}

// WrapPlain wraps plain text to width cells (at least one), keeping URLs
// whole.
func WrapPlain(text string, width int) []string { return wrapLines(text, width, plainWrap) }

// Para is text wrapped to width, keeping URLs whole, each line in style;
// the text is shown through flow.DisplayText, like WrapStyled's.
func Para(style lipgloss.Style, text string, width int) string {
	return strings.Join(WrapStyled(style, text, width), "\n")
}

// plainWrap wraps plain text at spaces, breaking words wider than width.
func plainWrap(s string, width int) string { return ansi.Wrap(s, width, "") }

// WrapStyled wraps plain text to width, keeping URLs whole, and styles
// each line. The text
// may quote the IdP or what people typed: it is shown through
// flow.DisplayText (cut at flow.MaxShownBytes), before it is wrapped.
func WrapStyled(style lipgloss.Style, text string, width int) []string {
	lines := WrapPlain(flow.DisplayText(text), width)
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// WrapIndented wraps each line of text to width, keeping its leading
// spaces on every line it wraps into (unless they take half the width),
// and keeping URLs whole.
func WrapIndented(text string, width int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		rest := strings.TrimLeft(line, " ")
		lead := line[:len(line)-len(rest)]
		if len(lead) > width/2 {
			lead = ""
		}
		for _, l := range WrapPlain(rest, width-len(lead)) {
			out = append(out, lead+l)
		}
	}
	return out
}

// Window is the height lines of lines around focus, so that a list taller
// than its area scrolls to keep the focused line in sight.
func Window(lines []string, focus, height int) []string {
	if len(lines) <= height || height <= 0 {
		return lines
	}
	start := min(max(focus-height/2, 0), len(lines)-height)
	return lines[start : start+height]
}

// FirstLine is s up to its first line break.
func FirstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
