package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoUsesItsOwnDatabase: --demo's connections go to onboard-demo.db
// next to the default database, so the real store's connections list (and
// verify --all) never carries them; --db still names the database.
func TestDemoUsesItsOwnDatabase(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := []string{"XDG_DATA_HOME=" + data, "OIDC_ONBOARD_DB=", "ACCESSIBLE="}
	wizard := func(args ...string) {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"--demo", "--accessible"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader("Acme\n\n")
		if out, err := cmd.CombinedOutput(); !strings.Contains(string(out), "Created connection") {
			t.Fatalf("the demo wizard created no connection (%v):\n%s", err, out)
		}
	}
	wizard()
	demoDB := filepath.Join(data, "oidc-onboard", "onboard-demo.db")
	if _, err := os.Stat(demoDB); err != nil {
		t.Fatalf("no demo database: %v", err)
	}
	if _, out, _ := runBinary(t, env, "connections", "list"); strings.Contains(out, "Acme") {
		t.Errorf("the real store lists the demo's connection:\n%s", out)
	}
	if _, out, _ := runBinary(t, env, "connections", "list", "--db", demoDB); !strings.Contains(out, "Acme") {
		t.Errorf("the demo database lacks the demo's connection:\n%s", out)
	}
	// --db says otherwise: the demo uses that database.
	mine := filepath.Join(t.TempDir(), "mine.db")
	wizard("--db", mine)
	if _, out, _ := runBinary(t, env, "connections", "list", "--db", mine); !strings.Contains(out, "Acme") {
		t.Errorf("--db with --demo: %s lacks the demo's connection:\n%s", mine, out)
	}
	if code, out, _ := runBinary(t, env, "--help"); code != 0 || !strings.Contains(out, "onboard-demo.db") {
		t.Errorf("--help does not say where the demo's connections go:\n%s", out)
	}
}
