//go:build unix

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// nobodyUID is the unprivileged user the read-only test runs as when the
// tests run as root (root may write a file whatever its mode says).
const nobodyUID = 65534

// testReadOnlyDatabase makes the database unwritable for the user running
// the binary — a 0444 file, and, under root, the binary run as nobody —
// and checks that reading and importing fail clearly and change nothing.
func testReadOnlyDatabase(t *testing.T, bin string) {
	c := newConnCLI(t, bin)
	db := filepath.Join(t.TempDir(), "ro.db")
	c.ok(t, acmeJSON(""), []string{"OIDC_CLIENT_SECRET=" + importSecret}, "--db", db, "connections", "import", "-")
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, db)
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyUID, Gid: nobodyUID}}
		// nobody must reach the binary and the database through their folders.
		for _, p := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), filepath.Dir(db), filepath.Dir(filepath.Dir(db))} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, args := range [][]string{{"connections", "list"}, {"connections", "import", "-"}} {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Env = append(c.env, "OIDC_CLIENT_SECRET=x")
		cmd.Stdin = strings.NewReader(acmeJSON(""))
		cmd.SysProcAttr = attr
		out, err := cmd.CombinedOutput()
		ee, _ := err.(*exec.ExitError)
		if ee == nil || ee.ExitCode() != 1 || !strings.Contains(string(out), "is read-only for this user") {
			t.Errorf("%v on a read-only database: %v\n%s", args, err, out)
		}
	}
	if fileSum(t, db) != before {
		t.Fatal("the read-only database was changed")
	}
}

// answerOnTerminal runs the binary with args on a pseudo-terminal, waits
// for its "[y/N]" question, answers it, and returns what it printed after
// the answer and how it ended.
func answerOnTerminal(t *testing.T, bin string, env []string, answer string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	r := bufio.NewReader(tty)
	if _, err := r.ReadString(']'); err != nil { // "[y/N]"
		t.Fatalf("no prompt: %v", err)
	}
	if _, err := tty.WriteString(answer + "\n"); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for line, err := r.ReadString('\n'); ; line, err = r.ReadString('\n') {
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	return rest.String(), cmd.Wait()
}

// testDeleteOnTerminal answers the y/N question through a pseudo-terminal:
// "n" keeps the connection, "y" deletes it.
func testDeleteOnTerminal(t *testing.T, bin string) {
	c := newConnCLI(t, bin)
	id := strings.TrimSpace(c.ok(t, acmeJSON(""), nil, "connections", "import", "-").stdout)
	for _, answer := range []string{"n", "y"} {
		rest, werr := answerOnTerminal(t, bin, c.env, answer, "connections", "delete", id)
		remaining := len(c.listJSON(t))
		switch answer {
		case "n":
			if werr == nil || !strings.Contains(rest, "Not deleted") || remaining != 1 {
				t.Fatalf("answer n: %v, %q, %d connections left", werr, rest, remaining)
			}
		case "y":
			if werr != nil || !strings.Contains(rest, "Deleted connection "+id) || remaining != 0 {
				t.Fatalf("answer y: %v, %q, %d connections left", werr, rest, remaining)
			}
		}
	}
}

// testImportAsksOnTerminal: importing new credentials over an active
// connection from a file asks on a terminal: "n" keeps it, "y" imports.
func testImportAsksOnTerminal(t *testing.T, bin string) {
	c := newConnCLI(t, bin)
	c.ok(t, acmeJSON(""), nil, "connections", "import", "-")
	file := filepath.Join(t.TempDir(), "changed.json")
	if err := os.WriteFile(file, []byte(strings.Replace(acmeJSON(""), `"client-123"`, `"client-456"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, answer := range []string{"n", "y"} {
		rest, werr := answerOnTerminal(t, bin, c.env, answer, "connections", "import", file)
		got := c.listJSON(t)[0].ClientID
		switch answer {
		case "n":
			if werr == nil || !strings.Contains(rest, "Not imported") || got != "client-123" {
				t.Fatalf("answer n: %v, %q, client ID %s", werr, rest, got)
			}
		case "y":
			if werr != nil || !strings.Contains(rest, "Updated connection") || got != "client-456" {
				t.Fatalf("answer y: %v, %q, client ID %s", werr, rest, got)
			}
		}
	}
}
