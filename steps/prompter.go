package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Prompter asks the accessible line mode's questions: it prints a prompt
// and reads the answer, one line at a time. One Prompter serves every step
// of a run, so that its buffer, and a line read while a step was busy with
// something else (a test login's browser came back first), go on to the
// next prompt instead of being lost.
type Prompter struct {
	src   io.Reader // the input under in: a terminal's secret is read from it without echo
	in    *bufio.Reader
	out   io.Writer
	lines chan promptLine // the line being read, when reading
	// reading says a line is being read and not yet taken: the next
	// prompt takes it rather than reading another.
	reading bool
}

// promptLine is one line read, or why none could be.
type promptLine struct {
	text string
	err  error
}

// NewPrompter returns a Prompter that reads answers from in and writes
// prompts to out.
func NewPrompter(in io.Reader, out io.Writer) *Prompter {
	return &Prompter{src: in, in: bufio.NewReader(in), out: out, lines: make(chan promptLine, 1)}
}

// Write writes b to the Prompter's output: what a step says between its
// questions goes the same way as the questions. It is the line mode's one
// way to the terminal, so it shows what it writes through
// flow.DisplayText, line by line: what an IdP sent or a customer typed
// cannot move the cursor, set the clipboard or reorder the text, and a
// line of it is cut at flow.MaxShownBytes.
func (p *Prompter) Write(b []byte) (int, error) {
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		lines[i] = flow.DisplayText(body)
		if nl {
			lines[i] += "\n"
		}
	}
	if _, err := io.WriteString(p.out, strings.Join(lines, "")); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Ask prints prompt and returns the answer, trimmed. The end of the input
// before an answer is an input_ended error that says what to do; when ctx
// ends first, ctx's error.
func (p *Prompter) Ask(ctx context.Context, prompt string) (string, error) {
	answer, err := p.answer(ctx, prompt, false)
	return strings.TrimSpace(answer), err
}

// AskOrBack is Ask for a step that can go back: the answer back, in any
// case, is ErrBack.
func (p *Prompter) AskOrBack(ctx context.Context, prompt string) (string, error) {
	answer, err := p.Ask(ctx, prompt)
	if err == nil && strings.EqualFold(answer, "back") {
		return "", ErrBack
	}
	return answer, err
}

// answer prints prompt and returns the answer as typed; hidden reads it
// without echo (see canHide), from the terminal itself, which ctx cannot
// interrupt.
func (p *Prompter) answer(ctx context.Context, prompt string, hidden bool) (string, error) {
	fmt.Fprint(p, prompt)
	if hidden {
		b, err := term.ReadPassword(p.src.(*os.File).Fd())
		fmt.Fprintln(p)
		if errors.Is(err, io.EOF) {
			return "", inputEnded()
		}
		return string(b), err
	}
	return p.next(ctx, nil)
}

// canHide reports whether the next answer can be read without echo: the
// input is a terminal and nothing of it is buffered or being read here.
func (p *Prompter) canHide() bool {
	f, ok := p.src.(*os.File)
	return ok && !p.reading && p.in.Buffered() == 0 && term.IsTerminal(f.Fd())
}

// errStopped is next's error when its stop channel closed first.
var errStopped = errors.New("stopped")

// next returns the next line of input, without its line break; a last
// line without one is still a line. It gives up when ctx ends or stop
// closes (nil never does), with errStopped for the latter; the line it was
// reading is then the next call's.
func (p *Prompter) next(ctx context.Context, stop <-chan struct{}) (string, error) {
	if !p.reading {
		p.reading = true
		go func() {
			text, err := p.in.ReadString('\n')
			switch {
			case err == nil:
				text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
			case errors.Is(err, io.EOF) && text != "":
				err = nil
			case errors.Is(err, io.EOF):
				err = inputEnded()
			}
			p.lines <- promptLine{text, err}
		}()
	}
	select {
	case l := <-p.lines:
		p.reading = false
		return l.text, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	case <-stop:
		return "", errStopped
	}
}

// inputEnded is the error of a prompt whose input ended before its answer.
func inputEnded() error {
	return &flow.Error{Code: flow.CodeInputEnded, Message: "the input ended before the wizard was done",
		Fix: "your answers so far are kept as a draft: run oidc-onboard --accessible again and choose it to resume"}
}

// lineExplain prints an error and its fix as two plain lines.
func lineExplain(out io.Writer, err error) {
	msg, fix := flow.Explain(err)
	fmt.Fprintf(out, "%s\n", msg)
	if fix != "" {
		fmt.Fprintf(out, "Fix: %s\n", fix)
	}
}
