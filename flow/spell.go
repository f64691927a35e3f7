package flow

import (
	"net/url"
	"strings"
)

// phonetic is how each character of a code is said aloud: letters by the
// ICAO/NATO alphabet, digits by name, the punctuation codes carry by name.
var phonetic = map[rune]string{
	'a': "alfa", 'b': "bravo", 'c': "charlie", 'd': "delta", 'e': "echo", 'f': "foxtrot",
	'g': "golf", 'h': "hotel", 'i': "india", 'j': "juliett", 'k': "kilo", 'l': "lima",
	'm': "mike", 'n': "november", 'o': "oscar", 'p': "papa", 'q': "quebec", 'r': "romeo",
	's': "sierra", 't': "tango", 'u': "uniform", 'v': "victor", 'w': "whiskey", 'x': "x-ray",
	'y': "yankee", 'z': "zulu",
	'0': "zero", '1': "one", '2': "two", '3': "three", '4': "four", '5': "five", '6': "six",
	'7': "seven", '8': "eight", '9': "nine",
	'-': "dash", '_': "underscore", '.': "dot", '/': "slash", ':': "colon",
}

// Spell is s as said aloud, one word per character joined by " · ":
// "7h3kq9" → "seven · hotel · three · kilo · quebec · nine". Capitals are
// said "capital hotel"; a character without a word is kept as it is.
func Spell(s string) string {
	words := make([]string, 0, len(s))
	for _, r := range s {
		lower := []rune(strings.ToLower(string(r)))[0]
		w, ok := phonetic[lower]
		switch {
		case !ok:
			w = string(r)
		case lower != r:
			w = "capital " + w
		}
		words = append(words, w)
	}
	return strings.Join(words, " · ")
}

// AloudChunk is a piece of a URI or code read aloud: Text as written and,
// for a random part a listener cannot guess, Spelling, its characters one
// by one (empty for words that are read as they are).
type AloudChunk struct {
	Text     string
	Spelling string
}

// URIAloud cuts a URI into the pieces (which, joined, are the URI) a person reads to another: the
// origin ("https://onboard.example.com"), each path segment, and the random
// part of an ID (the letters and digits after "conn_") spelt out:
// ".../callback/conn_7h3kq9" ends with "/callback", "/conn_" and "7h3kq9"
// spelt "seven · hotel · three · kilo · quebec · nine".
func URIAloud(uri string) []AloudChunk {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return []AloudChunk{{Text: uri, Spelling: Spell(uri)}}
	}
	out := []AloudChunk{{Text: u.Scheme + "://" + u.Host}}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for _, seg := range segs {
		prefix, random, ok := cutRandom(seg)
		if !ok {
			out = append(out, AloudChunk{Text: "/" + seg})
			continue
		}
		out = append(out, AloudChunk{Text: "/" + prefix}, AloudChunk{Text: random, Spelling: Spell(random)})
	}
	if u.RawQuery != "" {
		out = append(out, AloudChunk{Text: "?" + u.RawQuery, Spelling: Spell(u.RawQuery)})
	}
	return out
}

// cutRandom splits an ID such as "conn_7h3kq9" into its word ("conn_")
// and its random part ("7h3kq9").
func cutRandom(seg string) (prefix, random string, ok bool) {
	i := strings.LastIndexByte(seg, '_')
	if i <= 0 || i == len(seg)-1 {
		return "", "", false
	}
	return seg[:i+1], seg[i+1:], true
}

// CodeAloud cuts an invite code ("7k2m-q9xd-4hnc-b3tw") into its groups,
// each spelt out.
func CodeAloud(code string) []AloudChunk {
	var out []AloudChunk
	for _, g := range strings.Split(code, "-") {
		if g != "" {
			out = append(out, AloudChunk{Text: g, Spelling: Spell(g)})
		}
	}
	return out
}

// AloudLines is chunks as lines for a screen: each chunk on its own line,
// its spelling after it ("7h3kq9   seven · hotel · …").
func AloudLines(chunks []AloudChunk) []string {
	lines := make([]string, 0, len(chunks))
	for _, c := range chunks {
		if c.Spelling == "" {
			lines = append(lines, c.Text)
			continue
		}
		lines = append(lines, c.Text+"   "+c.Spelling)
	}
	return lines
}
