package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/oidc-onboard/oidc-onboard/store"
)

// wizardRun is the built binary's wizard on an 80×24 pseudo-terminal,
// drawn into a terminal emulator so that tests read the screen a person
// would see (the renderer only redraws the cells that change).
type wizardRun struct {
	cmd *exec.Cmd
	tty *os.File
	mu  sync.Mutex
	vt  *vt.Emulator
}

func startWizard(t *testing.T, db string, args ...string) *wizardRun {
	t.Helper()
	return startOnTerminal(t, exec.Command(binary, append([]string{"--db", db}, args...)...), 80, 24)
}

// startOnTerminal runs cmd on a cols×rows pseudo-terminal drawn into a
// terminal emulator (the wizard, or an ssh client).
func startOnTerminal(t *testing.T, cmd *exec.Cmd, cols, rows int) *wizardRun {
	t.Helper()
	w := &wizardRun{cmd: cmd, vt: vt.NewEmulator(cols, rows)}
	w.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm-256color"}
	tty, err := pty.StartWithSize(w.cmd, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	if err != nil {
		t.Fatal(err)
	}
	w.tty = tty
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			w.mu.Lock()
			_, _ = w.vt.Write(buf[:n])
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// The terminal's answers to the program's queries (its background
	// colour, say) go back to the program, as a real terminal's do.
	go func() { _, _ = io.Copy(tty, w.vt) }()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		tty.Close()
		// The emulator is not closed: its Close would race the goroutine
		// copying its answers, which ends with the test binary.
	})
	return w
}

// screen is what the terminal shows now.
func (w *wizardRun) screen() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.vt.String()
}

// waitFor waits until the screen shows text.
func (w *wizardRun) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(w.screen(), text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the screen never showed %q; it shows:\n%s", text, w.screen())
}

// waitForDraft polls the store until a draft holds text: the wizard saves
// drafts shortly after each change, in its own process.
func waitForDraft(t *testing.T, db, text string) {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		drafts, err := st.ListDrafts(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range drafts {
			if strings.Contains(string(d.Form), text) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no draft in %s ever held %q", db, text)
}

func (w *wizardRun) typeText(t *testing.T, s string) {
	t.Helper()
	if _, err := w.tty.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// TestWizardResumesAfterSIGKILL kills the wizard with SIGKILL in the middle
// of the credentials step and checks that the next start offers the draft
// and resumes at that step with what was typed.
func TestWizardResumesAfterSIGKILL(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "onboard.db")
	w := startWizard(t, db)
	w.waitFor(t, "New connection")
	w.typeText(t, "Resume Corp\r")
	w.typeText(t, "\r") // the suggested connection name
	w.waitFor(t, "Step 1 of 7: Redirect URI")
	w.typeText(t, "\r")
	w.waitFor(t, "Step 2 of 7: Credentials")
	w.typeText(t, "client-typed-before-the-kill")
	w.waitFor(t, "client-typed-before-the-kill")
	// Kill without any chance to clean up, as soon as the draft in the
	// store holds what was typed.
	waitForDraft(t, db, "client-typed-before-the-kill")
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()

	w2 := startWizard(t, db)
	w2.waitFor(t, "Resume a draft")
	w2.waitFor(t, "Resume Corp / Resume Corp OIDC · stopped at Credentials")
	w2.typeText(t, "\r")
	w2.waitFor(t, "Step 2 of 7: Credentials")
	w2.waitFor(t, "client-typed-before-the-kill")
}
