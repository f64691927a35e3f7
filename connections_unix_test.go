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

// testDeleteOnTerminal answers the y/N question through a pseudo-terminal:
// "n" keeps the connection, "y" deletes it.
func testDeleteOnTerminal(t *testing.T, bin string) {
	c := newConnCLI(t, bin)
	id := strings.TrimSpace(c.ok(t, acmeJSON(""), nil, "connections", "import", "-").stdout)
	for _, answer := range []string{"n", "y"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "connections", "delete", id)
		cmd.Env = c.env
		tty, err := pty.Start(cmd)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
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
		werr := cmd.Wait()
		tty.Close()
		cancel()
		remaining := len(c.listJSON(t))
		switch answer {
		case "n":
			if werr == nil || !strings.Contains(rest.String(), "Not deleted") || remaining != 1 {
				t.Fatalf("answer n: %v, %q, %d connections left", werr, rest.String(), remaining)
			}
		case "y":
			if werr != nil || !strings.Contains(rest.String(), "Deleted connection "+id) || remaining != 0 {
				t.Fatalf("answer y: %v, %q, %d connections left", werr, rest.String(), remaining)
			}
		}
	}
}
