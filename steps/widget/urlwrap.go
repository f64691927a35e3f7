package widget

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// NOTE: a URL is never split across lines: a person copies it by
// selecting it, and a selection over two lines copies a line break in
// the middle, which no browser or IdP form accepts. A URL that does not
// fit on the current line starts the next one; a URL wider than the
// screen is drawn on its own line, cut with "…" at its end, so that what
// shows is plainly not the whole of it: the steps that show one offer c,
// which sends the whole URL to the clipboard, and the line mode prints it
// whole (the terminal wraps it itself, and copies it whole).

// hasURL reports whether plain text holds a URL.
func hasURL(plain string) bool { return strings.Contains(plain, "://") }

// lineSpan is one output line: the cells [start, end) of the input line;
// cut says that it is a URL wider than the line, to be cut with "…".
type lineSpan struct {
	start, end int
	cut        bool
}

// wrapKeepingURLs wraps one line (styled or not, no line breaks) to
// width cells at spaces, keeping each URL whole: see the note above.
// Words that are not URLs and are wider than width are broken.
func wrapKeepingURLs(line string, width int) []string {
	width = max(width, 1)
	var out []string
	for _, sp := range urlSpans(ansi.Strip(line), width) {
		l := ansi.Cut(line, sp.start, sp.end)
		if sp.cut {
			l = ansi.Truncate(l, width, "…")
		}
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// urlSpans lays the words of plain out in lines of width cells.
func urlSpans(plain string, width int) []lineSpan {
	var spans []lineSpan
	cur := lineSpan{start: 0, end: -1}
	for i, w := range wordCells(plain) {
		if cur.end >= 0 && w.end-cur.start <= width {
			cur.end = w.end
			continue
		}
		if cur.end >= 0 {
			spans = append(spans, cur)
		}
		start := w.start
		if i == 0 {
			start = 0 // the first line keeps its leading spaces
		}
		switch {
		case w.end-start <= width:
			cur = lineSpan{start: start, end: w.end}
			continue
		case hasURL(plain[w.byteStart:w.byteEnd]):
			spans = append(spans, lineSpan{start: start, end: w.end, cut: true})
			cur = lineSpan{end: -1}
			continue
		}
		for ; w.end-start > width; start += width {
			spans = append(spans, lineSpan{start: start, end: start + width})
		}
		cur = lineSpan{start: start, end: w.end}
	}
	if cur.end >= 0 {
		spans = append(spans, cur)
	}
	if len(spans) == 0 {
		spans = append(spans, lineSpan{start: 0, end: ansi.StringWidth(plain)})
	}
	return spans
}

// wordCell is a word of a line: its cells and its bytes.
type wordCell struct{ start, end, byteStart, byteEnd int }

// wordCells are the space-separated words of plain, with their positions.
func wordCells(plain string) []wordCell {
	var words []wordCell
	cell, in := 0, false
	var w wordCell
	for i, r := range plain {
		if r == ' ' {
			if in {
				w.end, w.byteEnd = cell, i
				words = append(words, w)
				in = false
			}
			cell++
			continue
		}
		if !in {
			w, in = wordCell{start: cell, byteStart: i}, true
		}
		cell += ansi.StringWidth(string(r))
	}
	if in {
		w.end, w.byteEnd = cell, len(plain)
		words = append(words, w)
	}
	return words
}

// wrapLines wraps each line of text to width, keeping URLs whole where
// there is one, and with wrap elsewhere.
func wrapLines(text string, width int, wrap func(string, int) string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if hasURL(ansi.Strip(line)) {
			out = append(out, wrapKeepingURLs(line, width)...)
			continue
		}
		out = append(out, strings.Split(wrap(line, max(width, 1)), "\n")...)
	}
	return out
}
