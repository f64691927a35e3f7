package flow

import (
	"fmt"
	"io"
	"strings"
)

// Symbols of the check statuses in text output.
const (
	SymbolPass = "✓"
	SymbolWarn = "!"
	SymbolFail = "✗"
)

// TextStyle decorates the parts of a text report, e.g. with colour. Each
// func may be nil, meaning plain text.
type TextStyle struct {
	Pass, Warn, Fail func(string) string
	Faint            func(string) string
}

const (
	textWidth  = 80
	nameColumn = 20
)

// WriteText writes the report for a person: one line per check (symbol,
// name, detail), the fix under every check that did not pass, and a summary
// line at the end. It wraps at 80 columns. What the IdP sent is shown
// through Display: no control sequence of it reaches the terminal.
func (r *Report) WriteText(w io.Writer, style TextStyle) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Checking %s\n\n", Display(r.DiscoveryURL))
	indent := strings.Repeat(" ", 2+nameColumn)
	for _, c := range r.Checks {
		sym, paint := r.symbol(c.Status, style)
		name := fmt.Sprintf("%-*s", nameColumn, CheckName(c.ID))
		lines := wrapLines(DisplayText(c.Detail), textWidth-len(indent))
		b.WriteString(paint(sym) + " " + name + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString(indent + l + "\n")
		}
		if c.Status != Pass && c.Fix != "" {
			fix := wrapLines("fix: "+DisplayText(c.Fix), textWidth-len(indent)-2)
			for i, l := range fix {
				if i > 0 {
					l = "  " + l
				}
				b.WriteString(indent + apply(style.Faint, l) + "\n")
			}
		}
	}
	b.WriteString("\n" + r.summary(style) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) symbol(s CheckStatus, style TextStyle) (string, func(string) string) {
	paint := func(f func(string) string) func(string) string {
		return func(x string) string { return apply(f, x) }
	}
	switch s {
	case Pass:
		return SymbolPass, paint(style.Pass)
	case Warn:
		return SymbolWarn, paint(style.Warn)
	}
	return SymbolFail, paint(style.Fail)
}

func (r *Report) summary(style TextStyle) string {
	var passed, warned, failed int
	for _, c := range r.Checks {
		switch c.Status {
		case Pass:
			passed++
		case Warn:
			warned++
		default:
			failed++
		}
	}
	switch {
	case r.Metadata == nil:
		return apply(style.Fail, SymbolFail) + " The discovery document could not be read, so the other checks did not run."
	case failed > 0:
		return apply(style.Fail, SymbolFail) + fmt.Sprintf(" %s failed, %s, %d passed: logins will not work until each failure is fixed.",
			plural(failed, "check"), plural(warned, "warning"), passed)
	case warned > 0:
		return apply(style.Warn, SymbolPass) + fmt.Sprintf(" No check failed (%s). ID tokens must carry the issuer %s",
			plural(warned, "warning"), Display(r.Issuer))
	}
	return apply(style.Pass, SymbolPass) + fmt.Sprintf(" All %d checks passed. ID tokens must carry the issuer %s", passed, Display(r.Issuer))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func apply(f func(string) string, s string) string {
	if f == nil {
		return s
	}
	return f(s)
}

// wrapLines splits text at its newlines and wraps each line at width,
// keeping a wrapped line's leading indentation. It returns at least one line.
func wrapLines(text string, width int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		words := strings.Fields(line)
		if len([]rune(line)) <= width || len(words) == 0 {
			out = append(out, line)
			continue
		}
		lead := line[:len(line)-len(strings.TrimLeft(line, " "))]
		cur := lead + words[0]
		for _, w := range words[1:] {
			if len([]rune(cur))+1+len([]rune(w)) > width {
				out = append(out, cur)
				cur = lead + w
				continue
			}
			cur += " " + w
		}
		out = append(out, cur)
	}
	return out
}
