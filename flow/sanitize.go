package flow

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxShownBytes is how much of one outside value (an issuer, a claim, an
// IdP's error text) is kept for display: past it the value is cut and says
// how long it was.
const MaxShownBytes = 2048

// Display makes text from outside (IdP documents, tokens, error pages,
// what customers type) safe to put on a terminal, on one line: every
// control character, escape sequence introducer, C1 control and bidi
// override is shown as a visible stand-in (ESC as "␛", a C1 or bidi
// control as "⟨U+202E⟩"), so nothing in it can move the cursor, clear the
// screen, set the clipboard or reorder the text, and an engineer still
// sees that something was there. Invalid UTF-8 becomes "\uFFFD". Past
// MaxShownBytes the text is cut and ends with "… (N bytes)". JSON output
// keeps the raw value instead: its encoder escapes it.
func Display(s string) string {
	return sanitize(s, false)
}

// DisplayText is Display for text of several lines (an IdP's error page,
// an error description): line feeds and tabs are kept, a tab as spaces;
// a carriage return, which could overwrite what a line says, is not.
func DisplayText(s string) string {
	return sanitize(s, true)
}

func sanitize(s string, multiline bool) string {
	cut := 0
	if len(s) > MaxShownBytes {
		cut = len(s)
		s = s[:MaxShownBytes]
		// Not in the middle of a character.
		for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				if !utf8.FullRuneInString(s[i:]) {
					s = s[:i]
				}
				break
			}
		}
	}
	if cut == 0 && isPlain(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case multiline && r == '\n':
			b.WriteByte('\n')
		case multiline && r == '\t':
			b.WriteString("    ")
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟: ␛ for ESC, ␍ for CR
		case r == 0x7f:
			b.WriteRune('␡')
		case unsafeRune(r):
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		default:
			b.WriteRune(r)
		}
	}
	if cut > 0 {
		fmt.Fprintf(&b, "… (%d bytes)", cut)
	}
	return b.String()
}

// isPlain reports whether s needs no change: the common case, kept cheap.
func isPlain(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return isPlainUnicode(s[i:], multiline)
		}
		if c < 0x20 && !(multiline && (c == '\n')) || c == 0x7f {
			return false
		}
	}
	return true
}

func isPlainUnicode(s string, multiline bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 && !(multiline && r == '\n') || r == 0x7f || unsafeRune(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// unsafeRune reports the runes past ASCII a terminal must not receive
// from outside: C1 controls (0x80–0x9F: some terminals read 0x9B as CSI
// and 0x9D as OSC), the bidi embeddings, overrides and isolates that make
// text read differently from what it is, and other invisible format
// characters.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return unicode.Is(unicode.Cf, r) && r != 0x200d // keep the zero-width joiner of emoji
}

// CheckTyped says what is wrong with a value a person typed for a name
// (an organization, a connection), or nil: control characters and bidi
// overrides are refused, since the name is shown to others later.
func CheckTyped(what, s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unsafeRune(r) || r == utf8.RuneError {
			return &Error{Code: CodeNameControlCharacter,
				Message: fmt.Sprintf("the %s holds an invisible control character (%U)", what, r),
				Fix:     "type the " + what + " again with letters, digits, spaces and punctuation only"}
		}
	}
	return nil
}

// WithoutUserinfo is a URL as typed without its user name and password
// ("https://user:pass@host/…" → "https://host/…"), for what is shown,
// stored or audited of a URL that was refused; text that does not parse as
// a URL is returned as it is.
func WithoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
