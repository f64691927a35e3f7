package tui_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkStartup measures the time from starting the program in a
// terminal to its first frame on screen, for the wizard (`oidc-onboard`,
// with a new database) and for a bare Bubble Tea v2 program linked with the
// same libraries (tui/testdata/bare), and reports the ratio of their
// medians (target: under 1.5). It also times `oidc-onboard --demo`, whose
// demo IdP starts alongside the first frame, against the plain wizard
// (demo-ratio; target: within 1.2).
//
//	go test ./tui -run '^$' -bench Startup -benchtime 20x
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	wizard := filepath.Join(dir, "oidc-onboard")
	bare := filepath.Join(dir, "bare")
	for bin, pkg := range map[string]string{wizard: "..", bare: "./testdata/bare"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	var wizardTimes, demoTimes, bareTimes []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate them, so that a busy moment hurts all alike.
		db := filepath.Join(dir, "db", time.Now().Format("150405.000000000"), "onboard.db")
		wizardTimes = append(wizardTimes, firstFrame(b, exec.Command(wizard, "--db", db)))
		demoTimes = append(demoTimes, firstFrame(b, exec.Command(wizard, "--db", db+".demo", "--demo")))
		bareTimes = append(bareTimes, firstFrame(b, exec.Command(bare)))
	}
	b.StopTimer()
	w, d, f := median(wizardTimes), median(demoTimes), median(bareTimes)
	b.ReportMetric(float64(w.Microseconds())/1000, "wizard-ms")
	b.ReportMetric(float64(d.Microseconds())/1000, "demo-ms")
	b.ReportMetric(float64(f.Microseconds())/1000, "bare-ms")
	b.ReportMetric(float64(w)/float64(f), "ratio")
	b.ReportMetric(float64(d)/float64(w), "demo-ratio")
}

// firstFrame starts cmd on an 80×24 pseudo-terminal and returns how long
// it took to draw its first frame (the header "oidc-onboard"); then it
// quits the program with ctrl+c.
func firstFrame(b *testing.B, cmd *exec.Cmd) time.Duration {
	b.Helper()
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "HOME="+b.TempDir())
	start := time.Now()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		b.Fatal(err)
	}
	defer tty.Close()
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	elapsed := time.Duration(0)
	deadline := time.Now().Add(10 * time.Second)
	for elapsed == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			b.Fatalf("%s drew no frame in 10 s; it wrote %q", cmd.Path, seen.String())
		}
		n, err := tty.Read(buf)
		seen.Write(buf[:n])
		if bytes.Contains(seen.Bytes(), []byte("oidc-onboard")) {
			elapsed = time.Since(start)
		}
		if err != nil && elapsed == 0 {
			b.Fatalf("%s: %v; it wrote %q", cmd.Path, err, seen.String())
		}
	}
	_, _ = tty.Write([]byte{3}) // ctrl+c
	done := make(chan error, 1)
	go func() {
		for { // drain, so the program is never blocked writing
			if _, err := tty.Read(buf); err != nil {
				return
			}
		}
	}()
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return elapsed
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
