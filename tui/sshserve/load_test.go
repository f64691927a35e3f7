package sshserve

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// The load benchmark (BenchmarkSSHLoad) runs each server in a child
// process — this test binary, re-run with loadServerEnv set — so that the
// memory it reports is the server's alone, not the clients'.
const loadServerEnv = "OIDC_ONBOARD_LOAD_SERVER"

// loadSessionsEnv tells a wizard load server how many invites to make:
// one per session, each for its own organization, so that every session
// starts on an empty store's new-connection form as a new customer does
// (sessions of one organization would see each other's connections).
const loadSessionsEnv = "OIDC_ONBOARD_LOAD_SESSIONS"

// loadProfileEnv, when set in a load server child, names a directory where
// it writes KIND.cpu.pprof (from start to the last "mem") and
// KIND.heap.pprof (at each "mem", after the GC).
const loadProfileEnv = "OIDC_ONBOARD_LOAD_PROFILE"

var (
	loadSessions = flag.Int("ssh-load-sessions", 500, "BenchmarkSSHLoad: concurrent SSH sessions")
	loadKeys     = flag.Int("ssh-load-keys", 24, "BenchmarkSSHLoad: keystrokes timed per session")
	loadPace     = flag.Duration("ssh-load-pace", time.Second, "BenchmarkSSHLoad: mean time between one session's keystrokes (1s: a person typing a form, pauses included)")
	loadLimit    = flag.Duration("ssh-load-limit", 4*time.Minute, "BenchmarkSSHLoad: the whole run is abandoned after this long")
	loadProfile  = flag.String("ssh-load-profile", "", "BenchmarkSSHLoad: directory for the servers' CPU and heap profiles")
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(loadServerEnv); kind != "" {
		if err := runLoadServer(kind); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkSSHLoad opens -ssh-load-sessions concurrent sessions with PTYs
// against the wizard's server and against a bare wish + Bubble Tea server
// drawing one line (the floor), types through the first steps in each
// (the wizard, each session a customer with its own invite: the new
// connection's name, past the Redirect URI, the Client ID), and reports
// keystroke-to-redraw latency and the server's memory per session. Every
// key timed is a letter typed into a text field, once the field is on the
// screen, so it always redraws; a failed session is logged with its
// screen. Run:
//
//	go test ./tui -run '^$' -bench SSHLoad -benchtime 1x -timeout 10m
func BenchmarkSSHLoad(b *testing.B) {
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), *loadLimit)
		floor := runLoad(ctx, b, "floor")
		wizard := runLoad(ctx, b, "wizard")
		cancel()
		b.ReportMetric(float64(wizard.held), "sessions-held")
		b.ReportMetric(wizard.p(50), "p50-ms")
		b.ReportMetric(wizard.p(99), "p99-ms")
		b.ReportMetric(floor.p(50), "floor-p50-ms")
		b.ReportMetric(floor.p(99), "floor-p99-ms")
		b.ReportMetric(wizard.perSession/1024, "KiB/session")
		b.ReportMetric(floor.perSession/1024, "floor-KiB/session")
		b.ReportMetric(wizard.perSession/floor.perSession, "mem-ratio")
		b.Logf("wizard: %d/%d sessions held, %d keystrokes, %d failures; floor: %d held",
			wizard.held, *loadSessions, len(wizard.latencies), wizard.failures, floor.held)
	}
}

type loadResult struct {
	held       int
	failures   int
	latencies  []time.Duration
	perSession float64 // bytes of Go heap and stacks in use per session
}

func (r loadResult) p(pct int) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(len(r.latencies)*pct/100, len(r.latencies)-1)
	return float64(r.latencies[i].Microseconds()) / 1000
}

// loadChild is a server process under load.
type loadChild struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	addr   string
	logins []string // session i logs in as logins[i%len(logins)]
}

func startLoadChild(b *testing.B, kind string) *loadChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadServerEnv+"="+kind, "TMPDIR="+b.TempDir(),
		fmt.Sprintf("%s=%d", loadSessionsEnv, *loadSessions))
	if *loadProfile != "" {
		dir, err := filepath.Abs(*loadProfile)
		if err != nil {
			b.Fatal(err)
		}
		cmd.Env = append(cmd.Env, loadProfileEnv+"="+dir)
	}
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &loadChild{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	c.out.Buffer(nil, 1<<20) // the ready line lists every session's invite code
	if !c.out.Scan() {
		b.Fatalf("%s server did not start", kind)
	}
	f := strings.Fields(c.out.Text())
	if len(f) != 3 || f[0] != "ready" {
		b.Fatalf("%s server said %q", kind, c.out.Text())
	}
	c.addr, c.logins = f[1], strings.Split(f[2], ",")
	return c
}

// mem asks the child for its Go heap and stacks in use after a GC.
func (c *loadChild) mem(b *testing.B) float64 {
	fmt.Fprintln(c.in, "mem")
	if !c.out.Scan() {
		b.Fatal("the server did not answer")
	}
	var n float64
	fmt.Sscanf(c.out.Text(), "mem %g", &n)
	return n
}

func (c *loadChild) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

func runLoad(ctx context.Context, b *testing.B, kind string) loadResult {
	child := startLoadChild(b, kind)
	defer child.stop()
	base := child.mem(b)

	n := *loadSessions
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	typed := make(chan struct{}, n)
	release := make(chan struct{})
	handshakes := make(chan struct{}, 32) // SSH handshakes in flight
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, err := loadSession(ctx, child, kind, i, handshakes, typed, release)
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			if err != nil {
				res.failures++
				if res.failures <= 3 {
					b.Logf("%s session %d: %v", kind, i, err)
				}
			}
		}()
	}
	// Wait until every session typed its keys (or failed), then measure
	// with all of them still held.
	for range n {
		select {
		case <-typed:
		case <-ctx.Done():
			b.Fatalf("%s: the run passed -ssh-load-limit", kind)
		}
	}
	mu.Lock()
	res.held = n - res.failures
	mu.Unlock()
	res.perSession = (child.mem(b) - base) / float64(max(res.held, 1))
	close(release)
	wg.Wait()
	slices.Sort(res.latencies)
	return res
}

// loadSession is one customer: connect, wait for the first screen, type,
// report that it typed, then hold the session until released.
func loadSession(ctx context.Context, child *loadChild, kind string, i int, handshakes chan struct{}, typed chan<- struct{}, release <-chan struct{}) (lat []time.Duration, err error) {
	reported := false
	defer func() {
		if !reported {
			typed <- struct{}{}
		}
	}()
	handshakes <- struct{}{}
	c, err := gossh.Dial("tcp", child.addr, &gossh.ClientConfig{User: child.logins[i%len(child.logins)],
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: time.Minute})
	<-handshakes
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if err := sess.RequestPty("xterm-256color", 24, 80, nil); err != nil {
		return nil, err
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	lt := &loadTerm{chunks: make(chan string, 256), in: stdin, screen: vt.NewEmulator(80, 24)}
	go func() { _, _ = io.Copy(io.Discard, lt.screen) }() // its answers to the program's queries
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w; keys sent: %q; the screen shows:\n%s\nbefore the last key it showed:\n%s",
				err, lt.sent, lt.shown(), lt.before)
		}
		lt.mu.Lock()
		defer lt.mu.Unlock()
		_ = lt.screen.Close()
	}()
	go lt.read(stdout)

	rng := rand.New(rand.NewPCG(uint64(i), 7))
	keys := *loadKeys
	if kind == "floor" {
		if err := lt.waitScreen(ctx, "typed:"); err != nil {
			return nil, err
		}
		lat, _, err = lt.typeKeys(ctx, rng, keys)
	} else {
		lat, err = loadWizard(ctx, lt, rng, keys)
	}
	if err != nil {
		return lat, err
	}
	typed <- struct{}{}
	reported = true
	select {
	case <-release:
	case <-ctx.Done():
	}
	return lat, nil
}

// loadWizard names a new connection (the organization is the invite's),
// moves past the Redirect URI and types a Client ID: the first steps, as
// a customer does. Each screen is waited for as the terminal shows it
// before a key meant for it is typed, and each typed text must show in
// full, so that a key lost on the way fails the session.
func loadWizard(ctx context.Context, lt *loadTerm, rng *rand.Rand, keys int) ([]time.Duration, error) {
	if err := lt.waitScreen(ctx, "Connection name"); err != nil { // the form, not "Loading…"
		return nil, err
	}
	lat, name, err := lt.typeKeys(ctx, rng, keys/2)
	if err != nil {
		return lat, err
	}
	lt.send("\r")
	if err := lt.waitScreen(ctx, "Step 1 of 7", "/ "+name); err != nil {
		return lat, err
	}
	lt.send("\r")
	if err := lt.waitScreen(ctx, "Step 2 of 7", "Client ID"); err != nil {
		return lat, err
	}
	more, id, err := lt.typeKeys(ctx, rng, keys-keys/2)
	lat = append(lat, more...)
	if err != nil {
		return lat, err
	}
	return lat, lt.waitScreen(ctx, "> "+id)
}

// loadTerm reads a session's output as text chunks, for the latency, and
// keeps its screen in a terminal emulator, for what the session shows.
type loadTerm struct {
	chunks chan string
	in     io.Writer

	mu     sync.Mutex
	screen *vt.Emulator
	sent   string // the keys sent so far
	before string // the screen when the last key was sent
}

// shown is the session's screen now.
func (lt *loadTerm) shown() string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.screen.String()
}

func (lt *loadTerm) read(r io.Reader) {
	defer close(lt.chunks)
	readChunks(r, 16<<10, func(b []byte) {
		lt.mu.Lock()
		_, _ = lt.screen.Write(b)
		lt.mu.Unlock()
		lt.chunks <- ansi.Strip(string(b))
	})
}

func (lt *loadTerm) send(s string) {
	lt.mu.Lock()
	lt.sent += s
	lt.before = lt.screen.String()
	lt.mu.Unlock()
	_, _ = io.WriteString(lt.in, s)
}

// waitScreen waits until the screen shows each of wants.
func (lt *loadTerm) waitScreen(ctx context.Context, wants ...string) error {
	shows := func() bool {
		screen := lt.shown()
		for _, w := range wants {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	}
	timeout := time.After(30 * time.Second)
	for !shows() {
		select {
		case _, ok := <-lt.chunks:
			if !ok && !shows() {
				return errors.New("the session ended")
			}
		case <-timeout:
			return fmt.Errorf("the screen did not show %q within 30 s", wants)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// waitText waits until the output since the call shows want.
func (lt *loadTerm) waitText(ctx context.Context, want string) error {
	var seen strings.Builder
	timeout := time.After(30 * time.Second)
	for {
		select {
		case chunk, ok := <-lt.chunks:
			if !ok {
				return errors.New("the session ended")
			}
			seen.WriteString(chunk)
			if strings.Contains(seen.String(), want) {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("no %q within 30 s", want)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// typeKeys types n letters at the pace into a text field, timing each
// from the write to the first output that draws it; it returns the text
// typed.
func (lt *loadTerm) typeKeys(ctx context.Context, rng *rand.Rand, n int) ([]time.Duration, string, error) {
	lat := make([]time.Duration, 0, n)
	var typed strings.Builder
	for range n {
		pause := time.Duration(rng.Int64N(int64(*loadPace) * 2))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return lat, typed.String(), ctx.Err()
		}
		for drained := false; !drained; { // output of earlier keys
			select {
			case <-lt.chunks:
			default:
				drained = true
			}
		}
		ch := string(rune('a' + rng.IntN(26)))
		start := time.Now()
		lt.send(ch)
		typed.WriteString(ch)
		if err := lt.waitText(ctx, ch); err != nil {
			return lat, typed.String(), err
		}
		lat = append(lat, time.Since(start))
	}
	return lat, typed.String(), nil
}

// runLoadServer is the child process: it serves kind ("wizard" or
// "floor") on loopback, prints "ready ADDR LOGIN", answers "mem" with the
// Go heap and stacks in use after a GC, and stops when stdin closes.
func runLoadServer(kind string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	logins, done := []string{"load"}, make(chan error, 1)
	switch kind {
	case "floor":
		srv, err := wish.NewServer(func(s *ssh.Server) error {
			signer, _, err := LoadHostKey(filepath.Join(os.TempDir(), "floor_host_key"))
			s.AddHostKey(signer)
			return err
		}, wish.WithMiddleware(bubbletea.Middleware(func(ssh.Session) (tea.Model, []tea.ProgramOption) {
			return &lineModel{}, []tea.ProgramOption{tea.WithoutSignalHandler()}
		})))
		if err != nil {
			return err
		}
		go func() { done <- srv.Serve(ln) }()
		defer srv.Close()
	case "wizard":
		dir := os.TempDir()
		st, err := store.Open(filepath.Join(dir, "load.db"), store.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		if logins, err = loadInvites(ctx, st); err != nil {
			return err
		}
		signer, _, err := LoadHostKey(filepath.Join(dir, "host_key"))
		if err != nil {
			return err
		}
		httpLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv, err := NewServer(ServerOptions{Store: st, HostKey: signer, PublicURL: "http://" + httpLn.Addr().String(),
			HTTP: flow.NewHTTPClient(flow.ClientOptions{DialControl: flow.NetGuard{}.Control}), MaxSessions: 100000})
		if err != nil {
			return err
		}
		go func() { done <- srv.Serve(ctx, ln, httpLn) }()
		<-srv.Ready()
	default:
		return fmt.Errorf("unknown load server %q", kind)
	}
	prof, err := startLoadProfile(kind)
	if err != nil {
		return err
	}
	defer prof.stop()
	fmt.Printf("ready %s %s\n", ln.Addr(), strings.Join(logins, ","))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "mem" {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			prof.heap(ms)
			fmt.Printf("mem %d\n", ms.HeapInuse+ms.StackInuse)
		}
	}
	prof.stop()
	cancel()
	select {
	case <-done:
	case <-time.After(12 * time.Second):
	}
	return nil
}

// loadInvites makes the invite codes of a wizard load server's sessions,
// one organization each.
func loadInvites(ctx context.Context, st *store.Store) ([]string, error) {
	n, err := strconv.Atoi(os.Getenv(loadSessionsEnv))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%s=%q is not a number of sessions", loadSessionsEnv, os.Getenv(loadSessionsEnv))
	}
	logins := make([]string, n)
	for i := range logins {
		if logins[i], _, err = st.CreateInvite(ctx, fmt.Sprintf("Load Test %d", i), time.Hour); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

// loadProfiler writes a load server's profiles when loadProfileEnv asks.
type loadProfiler struct {
	dir, kind string
	cpu       *os.File
}

func startLoadProfile(kind string) (*loadProfiler, error) {
	p := &loadProfiler{dir: os.Getenv(loadProfileEnv), kind: kind}
	if p.dir == "" {
		return p, nil
	}
	f, err := os.Create(filepath.Join(p.dir, kind+".cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	p.cpu = f
	return p, nil
}

// heap writes the heap profile as of the last GC, and says how much of
// the memory is heap and how much stacks.
func (p *loadProfiler) heap(ms runtime.MemStats) {
	if p.dir == "" {
		return
	}
	fmt.Fprintf(os.Stderr, "%s server: heap in use %d KiB, stacks %d KiB, %d goroutines\n",
		p.kind, ms.HeapInuse>>10, ms.StackInuse>>10, runtime.NumGoroutine())
	f, err := os.Create(filepath.Join(p.dir, p.kind+".heap.pprof"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func (p *loadProfiler) stop() {
	if p.cpu != nil {
		pprof.StopCPUProfile()
		p.cpu.Close()
		p.cpu = nil
	}
}

// lineModel is the floor: a program that draws one line, the keys typed.
type lineModel struct{ typed string }

func (m *lineModel) Init() tea.Cmd { return nil }

func (m *lineModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		if k.String() == "ctrl+c" {
			return m, tea.Quit
		}
		m.typed += k.Text
	}
	return m, nil
}

func (m *lineModel) View() tea.View {
	v := tea.NewView("typed: " + m.typed)
	v.AltScreen = true
	return v
}
