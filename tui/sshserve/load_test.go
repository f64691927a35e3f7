package sshserve

import (
	"bufio"
	"cmp"
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
	"github.com/oidc-onboard/oidc-onboard/store/pgtest"
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

// loadEngineersEnv, when set in a wizard load server child, names the
// authorized_keys file of the engineers who join sessions (watched mode).
const loadEngineersEnv = "OIDC_ONBOARD_LOAD_ENGINEERS"

// loadDBEnv, when set in a wizard load server child, names the PostgreSQL
// database it shares with the other instances (-ssh-load-instances); its
// sealing key is OIDC_ONBOARD_KEY, the same for every instance.
const loadDBEnv = "OIDC_ONBOARD_LOAD_DB"

// loadInstanceEnv numbers a wizard instance after the first (1, 2, …):
// its profiles are KIND-iN.cpu.pprof and KIND-iN.heap.pprof.
const loadInstanceEnv = "OIDC_ONBOARD_LOAD_INSTANCE"

var (
	loadSessions = flag.Int("ssh-load-sessions", 500, "BenchmarkSSHLoad: concurrent SSH sessions")
	loadKeys     = flag.Int("ssh-load-keys", 24, "BenchmarkSSHLoad: keystrokes timed per session")
	loadPace     = flag.Duration("ssh-load-pace", time.Second, "BenchmarkSSHLoad: mean time between one session's keystrokes (1s: a person typing a form, pauses included)")
	loadRate     = flag.Float64("ssh-load-rate", 0, "BenchmarkSSHLoad: keystrokes per second per session; when set, it replaces -ssh-load-pace (4: a fast typist)")
	loadWatched  = flag.Int("ssh-load-watched", 0, "BenchmarkSSHLoad: this many of the wizard's sessions are each joined by one engineer (join, the customer answers y) before typing")
	loadLimit    = flag.Duration("ssh-load-limit", 4*time.Minute, "BenchmarkSSHLoad: the whole run is abandoned after this long")
	loadProfile  = flag.String("ssh-load-profile", "", "BenchmarkSSHLoad: directory for the servers' CPU and heap profiles")
	loadInst     = flag.Int("ssh-load-instances", 1, "BenchmarkSSHLoad: wizard server instances on one PostgreSQL database (OIDC_ONBOARD_TEST_PG), the sessions split evenly between them; 1: one instance on SQLite")
	loadTimeline = flag.Bool("ssh-load-timeline", false, "BenchmarkSSHLoad: print each run's latencies by the 3-second window the keys were typed in, and when every session had started (to tell the connection burst, the steps' changes and the steady typing apart)")
	loadPaired   = flag.Bool("ssh-load-paired", false, "BenchmarkSSHLoad: run the floor and the wizard at the same time in each round, each with -ssh-load-sessions sessions, so that both meet the machine at the same speed (the CPU ratio of runs in turn moves with the machine's speed between them); the latencies are then those of twice the sessions on the machine")
	loadRounds   = flag.Int("ssh-load-rounds", 1, "BenchmarkSSHLoad: run the floor and the wizard this many times in turn and report the round whose CPU ratio is the median (each round's figures are logged); 3 steadies the ratio against the machine's speed")
	loadHandoffs = flag.Int("ssh-load-handoffs", 50, "BenchmarkSSHLoad: with several instances, test-login callbacks sent to another instance than the waiting one's while the sessions type")
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
// screen. It also reports the server's CPU time (its process's rusage,
// user and system, from before the first connection until every session
// has typed) per keystroke. With -ssh-load-watched N, N of the wizard's
// sessions are each joined by an engineer (`join`, the customer answers
// y) before typing; the keys' latency to the watcher's screen and the
// memory per watcher are reported too. With -ssh-load-instances N the
// wizard runs as N instances on one PostgreSQL database, the sessions
// split between them, and test-login callbacks are sent to an instance
// other than the waiting one's while the sessions type (the hand-off's
// p50 and p99, until the browser has the result page). With
// -ssh-load-timeline it also prints the latencies by 3-second window, to
// tell the burst of connections, the steps' changes and the steady typing
// apart. Run:
//
//	go test ./tui/sshserve -run '^$' -bench SSHLoad -benchtime 1x -timeout 10m
func BenchmarkSSHLoad(b *testing.B) {
	if *loadInst > 1 && os.Getenv(pgtest.Env) == "" {
		b.Fatal("-ssh-load-instances needs PostgreSQL: " + pgtest.HowToStart)
	}
	for range b.N {
		floor, wizard := runRounds(b)
		b.ReportMetric(float64(wizard.held), "sessions-held")
		b.ReportMetric(wizard.p(50), "p50-ms")
		b.ReportMetric(wizard.p(99), "p99-ms")
		b.ReportMetric(floor.p(50), "floor-p50-ms")
		b.ReportMetric(floor.p(99), "floor-p99-ms")
		b.ReportMetric(wizard.perSession/1024, "KiB/session")
		b.ReportMetric(floor.perSession/1024, "floor-KiB/session")
		b.ReportMetric(wizard.perSession/floor.perSession, "mem-ratio")
		b.ReportMetric(wizard.cpuPerKey()*1000, "cpu-ms/key")
		b.ReportMetric(floor.cpuPerKey()*1000, "floor-cpu-ms/key")
		b.ReportMetric(wizard.cpuPerKey()/floor.cpuPerKey(), "cpu-ratio")
		if len(wizard.perInstance) > 1 {
			for i, lat := range wizard.perInstance {
				b.ReportMetric(pct(lat, 99), fmt.Sprintf("i%d-p99-ms", i))
			}
			b.ReportMetric(float64(len(wizard.handoffs)), "handoffs")
			b.ReportMetric(pct(wizard.handoffs, 50), "handoff-p50-ms")
			b.ReportMetric(pct(wizard.handoffs, 99), "handoff-p99-ms")
		}
		if *loadWatched > 0 {
			b.ReportMetric(float64(wizard.watchers), "watchers-held")
			b.ReportMetric(pct(wizard.watched, 99), "watched-p99-ms")
			b.ReportMetric(pct(wizard.watchLat, 99), "watcher-p99-ms")
			b.ReportMetric(wizard.perWatcher/1024, "KiB/watcher")
		}
		b.Logf("wizard (%d instances): %d/%d sessions held, %d keystrokes, %d failures, %.2f s CPU; floor: %d held, %.2f s CPU",
			len(wizard.perInstance), wizard.held, *loadSessions, len(wizard.latencies), wizard.failures, wizard.cpu.Seconds(), floor.held, floor.cpu.Seconds())
	}
}

// runRounds runs the floor and then the wizard, -ssh-load-rounds times
// in turn, and returns the round whose CPU ratio is the median: the
// machine's speed moves each run's CPU time by some 8%, the floor's and
// the wizard's each in its own way, so a single round's ratio is off by
// some 11%; the median of three, each pair run back to back, much less.
// With -ssh-load-paired, the floor and the wizard of a round run at the
// same time instead, each server with its own sessions: whatever the
// machine's speed, both meet it. Every round's figures are logged.
func runRounds(b *testing.B) (floor, wizard loadResult) {
	type round struct{ floor, wizard loadResult }
	var rounds []round
	for i := range max(*loadRounds, 1) {
		ctx, cancel := context.WithTimeout(context.Background(), *loadLimit)
		var r round
		if *loadPaired {
			floorDone := make(chan struct{})
			go func() {
				defer close(floorDone) // also when the floor's run fails
				r.floor = runLoad(ctx, b, "floor")
			}()
			r.wizard = runLoad(ctx, b, "wizard")
			<-floorDone
			if b.Failed() {
				b.FailNow()
			}
		} else {
			r.floor = runLoad(ctx, b, "floor")
			r.wizard = runLoad(ctx, b, "wizard")
		}
		cancel()
		rounds = append(rounds, r)
		if *loadRounds > 1 {
			b.Logf("round %d: cpu %.3f ms/key (floor %.3f), ratio %.3f; p99 %.1f ms (floor %.1f); memory ratio %.3f; %d/%d sessions held",
				i+1, r.wizard.cpuPerKey()*1000, r.floor.cpuPerKey()*1000, r.wizard.cpuPerKey()/r.floor.cpuPerKey(),
				r.wizard.p(99), r.floor.p(99), r.wizard.perSession/r.floor.perSession, r.wizard.held, *loadSessions)
		}
	}
	ratio := func(r round) float64 { return r.wizard.cpuPerKey() / r.floor.cpuPerKey() }
	slices.SortFunc(rounds, func(a, b round) int { return cmp.Compare(ratio(a), ratio(b)) })
	m := rounds[len(rounds)/2]
	return m.floor, m.wizard
}

type loadResult struct {
	held       int
	failures   int
	latencies  []time.Duration
	perSession float64       // bytes of Go heap and stacks in use per session
	cpu        time.Duration // the server's CPU time while the sessions connected and typed

	perInstance [][]time.Duration // the latencies of each instance's sessions
	handoffs    []time.Duration   // callback sent to one instance until the browser got the other's result page

	watchers   int             // engineers who joined and saw every key
	watched    []time.Duration // the latencies of the watched sessions' customers
	watchLat   []time.Duration // key to the watcher's screen
	perWatcher float64         // bytes per watcher, from the memory they free on leaving
}

func (r loadResult) p(n int) float64 { return pct(r.latencies, n) }

// cpuPerKey is the server's CPU seconds per keystroke.
func (r loadResult) cpuPerKey() float64 {
	return r.cpu.Seconds() / float64(max(len(r.latencies), 1))
}

// pct is the n-th percentile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, n int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)*n/100, len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

// keyPace is the mean time between one session's keystrokes.
func keyPace() time.Duration {
	if *loadRate > 0 {
		return time.Duration(float64(time.Second) / *loadRate)
	}
	return *loadPace
}

// loadChild is a server process under load.
type loadChild struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	mu     sync.Mutex // one question and its answer at a time
	out    *bufio.Scanner
	addr   string   // SSH
	http   string   // the callback listener ("-" for the floor)
	logins []string // the invites it made; none ("-") for a second instance
}

// startLoadChild starts a kind server in dir (its TMPDIR: instances that
// share it share the host key), making invites for sessions sessions;
// env is added to its environment.
func startLoadChild(b *testing.B, kind, dir string, sessions int, env ...string) *loadChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadServerEnv+"="+kind, "TMPDIR="+dir,
		fmt.Sprintf("%s=%d", loadSessionsEnv, sessions))
	cmd.Env = append(cmd.Env, env...)
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
	if len(f) != 4 || f[0] != "ready" {
		b.Fatalf("%s server said %q", kind, c.out.Text())
	}
	c.addr, c.http = f[1], f[2]
	if f[3] != "-" {
		c.logins = strings.Split(f[3], ",")
	}
	return c
}

// ask sends the child one line and returns its answer.
func (c *loadChild) ask(line string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.in, line)
	if !c.out.Scan() {
		return "", fmt.Errorf("the server did not answer %q", line)
	}
	return c.out.Text(), nil
}

// mem asks the child for its Go heap and stacks in use once the GC
// settled, and the CPU time it used so far.
func (c *loadChild) mem(b *testing.B) (float64, time.Duration) {
	answer, err := c.ask("mem")
	if err != nil {
		b.Fatal(err)
	}
	var (
		n   float64
		cpu int64
	)
	if _, err := fmt.Sscanf(answer, "mem %g %d", &n, &cpu); err != nil {
		b.Fatalf("the server answered %q: %v", answer, err)
	}
	return n, time.Duration(cpu)
}

// loadChildren are the instances of one run, asked together.
type loadChildren []*loadChild

// mem is the instances' memory and CPU time, summed.
func (cs loadChildren) mem(b *testing.B) (float64, time.Duration) {
	var (
		all float64
		cpu time.Duration
	)
	for _, c := range cs {
		n, t := c.mem(b)
		all, cpu = all+n, cpu+t
	}
	return all, cpu
}

func (cs loadChildren) stop() {
	for _, c := range cs {
		c.stop()
	}
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

// loadRun is one server's run: its sessions, and when they may end.
type loadRun struct {
	children   loadChildren // session i is served by children[i%len(children)]
	logins     []string     // session i logs in as logins[i%len(logins)]
	started    atomic.Int64 // sessions that showed their first screen
	kind       string
	engineer   gossh.Signer  // the watchers' key (watched mode)
	handshakes chan struct{} // SSH handshakes in flight
	typed      chan struct{} // a session typed its keys, or failed
	unwatch    chan struct{} // closed: the watchers leave
	left       chan struct{} // a watcher left (or never joined)
	release    chan struct{} // closed: the sessions end
	keys       *keyLog       // -ssh-load-timeline
}

// keyLog keeps when each timed key was typed and its latency, for the
// timeline (-ssh-load-timeline); a nil keyLog keeps nothing.
type keyLog struct {
	mu      sync.Mutex
	keys    []loggedKey
	started time.Time // every session had started
}

type loggedKey struct {
	at  time.Time
	lat time.Duration
}

func (l *keyLog) add(at time.Time, lat time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, loggedKey{at, lat})
}

func (l *keyLog) allStarted() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = time.Now()
}

// print writes the run's latencies by the 3-second window of the first
// key on, to standard error (a benchmark's log keeps only some lines).
func (l *keyLog) print(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) == 0 {
		return
	}
	first := slices.MinFunc(l.keys, func(a, b loggedKey) int { return a.at.Compare(b.at) }).at
	const window = 3 * time.Second
	var windows [][]time.Duration
	for _, k := range l.keys {
		i := int(k.at.Sub(first) / window)
		for len(windows) <= i {
			windows = append(windows, nil)
		}
		windows[i] = append(windows[i], k.lat)
	}
	fmt.Fprintf(os.Stderr, "%s: every session started %.1f s after the first key\n", kind, l.started.Sub(first).Seconds())
	for i, lat := range windows {
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		fmt.Fprintf(os.Stderr, "%s +%2d s: %5d keys, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms\n",
			kind, i*int(window/time.Second), len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
	}
}

// sessionResult is what one session measured.
type sessionResult struct {
	lat, watchLat []time.Duration
	watched       bool // an engineer watched it throughout
	err           error
}

func runLoad(ctx context.Context, b *testing.B, kind string) loadResult {
	n, watched := *loadSessions, 0
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	run := &loadRun{kind: kind, handshakes: make(chan struct{}, 32), typed: make(chan struct{}, n),
		unwatch: make(chan struct{}), left: make(chan struct{}, n), release: make(chan struct{})}
	engineers := ""
	if *loadTimeline {
		run.keys = &keyLog{}
		defer run.keys.print(kind)
	}
	if kind == "wizard" && *loadWatched > 0 {
		watched = min(*loadWatched, n)
		engineers, run.engineer = loadEngineerKey(b)
	}
	run.children = startLoadChildren(b, kind, engineers)
	defer run.children.stop()
	run.logins = run.children[0].logins
	base, cpu0 := run.children.mem(b)
	res.perInstance = make([][]time.Duration, len(run.children))
	handoffs := make(chan []time.Duration, 1)
	if len(run.children) > 1 {
		go func() { handoffs <- run.handoffs(ctx, b) }()
	} else {
		handoffs <- nil
	}

	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := run.session(ctx, i, i < watched)
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, r.lat...)
			res.perInstance[i%len(run.children)] = append(res.perInstance[i%len(run.children)], r.lat...)
			if r.watched {
				res.watchers++
				res.watched = append(res.watched, r.lat...)
				res.watchLat = append(res.watchLat, r.watchLat...)
			}
			if r.err != nil {
				res.failures++
				if res.failures <= 3 {
					b.Logf("%s session %d: %v", kind, i, r.err)
				}
			}
		}()
	}
	// Wait until every session typed its keys (or failed), then measure
	// with all of them still held.
	for range n {
		select {
		case <-run.typed:
		case <-ctx.Done():
			b.Fatalf("%s: the run passed -ssh-load-limit", kind)
		}
	}
	res.handoffs = <-handoffs
	mu.Lock()
	res.held = n - res.failures
	mu.Unlock()
	all, cpu1 := run.children.mem(b)
	res.perSession, res.cpu = (all-base)/float64(max(res.held, 1)), cpu1-cpu0
	if watched > 0 {
		// The watchers leave; what the server frees is theirs.
		close(run.unwatch)
		for range watched {
			<-run.left
		}
		time.Sleep(2 * time.Second) // the server's side of the connections ends
		unwatched, _ := run.children.mem(b)
		res.perWatcher = (all - unwatched) / float64(max(res.watchers, 1))
		res.perSession = (unwatched - base) / float64(max(res.held, 1))
	}
	close(run.release)
	wg.Wait()
	slices.Sort(res.latencies)
	slices.Sort(res.watched)
	slices.Sort(res.watchLat)
	slices.Sort(res.handoffs)
	for _, lat := range res.perInstance {
		slices.Sort(lat)
	}
	return res
}

// startLoadChildren starts the run's servers: the floor, or the wizard's
// -ssh-load-instances instances. Several instances share a fresh
// PostgreSQL database, the sealing key and the host key; the first makes
// every session's invite, as one store does behind a load balancer.
func startLoadChildren(b *testing.B, kind, engineers string) loadChildren {
	b.Helper()
	env := []string{loadEngineersEnv + "=" + engineers}
	if kind != "wizard" || *loadInst <= 1 {
		return loadChildren{startLoadChild(b, kind, b.TempDir(), *loadSessions, env...)}
	}
	key := make([]byte, 32)
	if _, err := crand.Read(key); err != nil {
		b.Fatal(err)
	}
	env = append(env, loadDBEnv+"="+pgtest.Fresh(b), "OIDC_ONBOARD_KEY="+base64.StdEncoding.EncodeToString(key))
	dir := b.TempDir()
	cs := loadChildren{startLoadChild(b, kind, dir, *loadSessions, env...)}
	for i := 1; i < *loadInst; i++ {
		cs = append(cs, startLoadChild(b, kind, dir, 0, append(env, fmt.Sprintf("%s=%d", loadInstanceEnv, i))...))
	}
	return cs
}

// handoffs is -ssh-load-handoffs test logins, spread over the time the
// sessions type once half of them are on their first screen: each waits
// on one instance (in turn), and its callback goes to the next instance's
// listener, as a load balancer may send it. Each is timed from the
// browser's request until the browser has the waiting instance's result
// page, handed back by the other: the callback's hand-over both ways.
func (run *loadRun) handoffs(ctx context.Context, b *testing.B) []time.Duration {
	for run.started.Load() < int64(*loadSessions/2) {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
	}
	n := *loadHandoffs
	gap := time.Duration(*loadKeys) * keyPace() / time.Duration(2*max(n, 1))
	var took []time.Duration
	for i := range n {
		owner, other := run.children[i%len(run.children)], run.children[(i+1)%len(run.children)]
		state := "load-" + randomHex(8)
		if answer, err := owner.ask("wait " + state); err != nil || answer != "waiting "+state {
			b.Errorf("hand-off %d: the instance answered %q (%v)", i, answer, err)
			return took
		}
		start := time.Now()
		status, body, err := testidp.Browse("http://" + other.http + "/callback/conn_load?code=c&state=" + state)
		if err != nil || status != http.StatusOK || !strings.Contains(body, loadSignedIn) {
			b.Errorf("hand-off %d: the browser got %d %q (%v), want the waiting instance's result page", i, status, body, err)
			return took
		}
		took = append(took, time.Since(start))
		select {
		case <-time.After(gap):
		case <-ctx.Done():
			return took
		}
	}
	return took
}

// loadSignedIn is the title of the result page a load server's test login
// answers a callback with.
const loadSignedIn = "Signed in (load)"

// loadEngineerKey makes the watchers' key and the authorized_keys file
// that lets it in.
func loadEngineerKey(b *testing.B) (string, gossh.Signer) {
	b.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "authorized_keys")
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))) + " load-engineer\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		b.Fatal(err)
	}
	return path, signer
}

// openTerm opens a w×h terminal on c and runs command in it, or a shell
// when command is empty.
func openTerm(c *gossh.Client, command string) (*loadTerm, func(), error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, nil, err
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, nil); err != nil {
		sess.Close()
		return nil, nil, err
	}
	stdin, _ := sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	lt := &loadTerm{chunks: make(chan string, 256), in: stdin, screen: vt.NewEmulator(80, 24)}
	go func() { _, _ = io.Copy(io.Discard, lt.screen) }() // its answers to the program's queries
	go lt.read(stdout)
	return lt, func() {
		sess.Close()
		lt.mu.Lock()
		defer lt.mu.Unlock()
		_ = lt.screen.Close()
	}, nil
}

// dial opens an SSH connection to session i's server as user.
func (run *loadRun) dial(i int, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	run.handshakes <- struct{}{}
	defer func() { <-run.handshakes }()
	return gossh.Dial("tcp", run.children[i%len(run.children)].addr, &gossh.ClientConfig{User: user, Auth: auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: time.Minute})
}

// session is one customer: connect, wait for the first screen, let an
// engineer join when watch, type, report that it typed, then hold the
// session until released.
func (run *loadRun) session(ctx context.Context, i int, watch bool) (r sessionResult) {
	reported, left, started := false, !watch, false
	start := func() {
		if !started {
			started = true
			if run.started.Add(1) == int64(*loadSessions) {
				run.keys.allStarted()
			}
		}
	}
	defer func() {
		start() // a session that failed is not waited for
		if !reported {
			run.typed <- struct{}{}
		}
		if !left {
			run.left <- struct{}{}
		}
	}()
	c, err := run.dial(i, run.logins[i%len(run.logins)])
	if err != nil {
		return sessionResult{err: err}
	}
	defer c.Close()
	lt, closeTerm, err := openTerm(c, "")
	if err != nil {
		return sessionResult{err: err}
	}
	defer closeTerm()
	lt.keys = run.keys
	defer func() {
		if r.err != nil {
			r.err = fmt.Errorf("%w; keys sent: %q; the screen shows:\n%s\nbefore the last key it showed:\n%s",
				r.err, lt.sent, lt.shown(), lt.before)
		}
	}()

	rng := rand.New(rand.NewPCG(uint64(i), 7))
	keys := *loadKeys
	if run.kind == "floor" {
		if err := lt.waitScreen(ctx, "typed:"); err != nil {
			return sessionResult{err: err}
		}
		start()
		r.lat, _, _, r.err = lt.typeKeys(ctx, rng, keys, nil)
	} else {
		if err := lt.waitScreen(ctx, "Connection name"); err != nil { // the form, not "Loading…"
			return sessionResult{err: err}
		}
		start()
		var w *loadTerm
		if watch {
			eng, closeEng, err := run.join(ctx, i, lt, fmt.Sprintf("Load Test %d", i))
			if err != nil {
				return sessionResult{err: fmt.Errorf("join: %w", err)}
			}
			defer closeEng()
			w = eng
		}
		r.lat, r.watchLat, r.err = loadWizard(ctx, lt, w, rng, keys)
		r.watched = watch && r.err == nil
	}
	if r.err != nil {
		return r
	}
	run.typed <- struct{}{}
	reported = true
	if watch {
		select {
		case <-run.unwatch:
		case <-ctx.Done():
		}
		left = true
		run.left <- struct{}{}
		return r // the deferred closes end the watch, then the session
	}
	select {
	case <-run.release:
	case <-ctx.Done():
	}
	return r
}

// join is an engineer joining session i, of org, shown on cust, on its
// instance: they find its ID in `sessions --json`, run `join ID`, and the
// customer says y. It returns the engineer's terminal, showing the customer's screen,
// and what ends the watch.
func (run *loadRun) join(ctx context.Context, i int, cust *loadTerm, org string) (*loadTerm, func(), error) {
	c, err := run.dial(i, "load-engineer", gossh.PublicKeys(run.engineer))
	if err != nil {
		return nil, nil, err
	}
	id, err := sessionID(ctx, c, org)
	if err == nil {
		var (
			eng  *loadTerm
			stop func()
		)
		if eng, stop, err = openTerm(c, "join "+id); err == nil {
			end := func() { stop(); c.Close() }
			if err = cust.waitScreen(ctx, "wants to see your screen: y/n"); err == nil {
				cust.send("y")
				if err = cust.waitScreen(ctx, "Your screen is shared with"); err == nil {
					if err = eng.waitScreen(ctx, "Connection name"); err == nil {
						return eng, end, nil
					}
				}
			}
			err = fmt.Errorf("%w; the engineer's screen shows:\n%s", err, eng.shown())
			end()
			return nil, nil, err
		}
	}
	c.Close()
	return nil, nil, err
}

// sessionID asks `sessions --json` for the ID of org's live session until
// it is listed.
func sessionID(ctx context.Context, c *gossh.Client, org string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		sess, err := c.NewSession()
		if err != nil {
			return "", err
		}
		out, err := sess.Output("sessions --json")
		sess.Close()
		if err != nil {
			return "", fmt.Errorf("sessions: %w", err)
		}
		var list []SessionInfo
		if err := json.Unmarshal(out, &list); err != nil {
			return "", fmt.Errorf("sessions: %w", err)
		}
		for _, s := range list {
			if s.Organization == org {
				return s.ID, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no live session of %s within 30 s", org)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// loadWizard names a new connection (the organization is the invite's),
// moves past the Redirect URI and types a Client ID: the first steps, as
// a customer does. Each screen is waited for as the terminal shows it
// before a key meant for it is typed, and each typed text must show in
// full, so that a key lost on the way fails the session. A watcher w,
// when there is one, must see each key too.
func loadWizard(ctx context.Context, lt, w *loadTerm, rng *rand.Rand, keys int) (lat, watchLat []time.Duration, err error) {
	lat, watchLat, name, err := lt.typeKeys(ctx, rng, keys/2, w)
	if err != nil {
		return lat, watchLat, err
	}
	lt.send("\r")
	if err := lt.waitScreen(ctx, "Step 1 of 7", "/ "+name); err != nil {
		return lat, watchLat, err
	}
	lt.send("\r")
	if err := lt.waitScreen(ctx, "Step 2 of 7", "Client ID"); err != nil {
		return lat, watchLat, err
	}
	more, watchMore, id, err := lt.typeKeys(ctx, rng, keys-keys/2, w)
	lat, watchLat = append(lat, more...), append(watchLat, watchMore...)
	if err != nil {
		return lat, watchLat, err
	}
	if w != nil {
		if err := w.waitScreen(ctx, "> "+id); err != nil {
			return lat, watchLat, fmt.Errorf("the watcher: %w", err)
		}
	}
	return lat, watchLat, lt.waitScreen(ctx, "> "+id)
}

// loadTerm reads a session's output as text chunks, for the latency, and
// keeps its screen in a terminal emulator, for what the session shows.
type loadTerm struct {
	chunks chan string
	in     io.Writer
	keys   *keyLog // where its timed keys are logged, when the run keeps a timeline

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
// from the write to the first output that draws it, on this terminal and
// on the watcher's w when there is one; it returns the text typed.
func (lt *loadTerm) typeKeys(ctx context.Context, rng *rand.Rand, n int, w *loadTerm) (lat, watchLat []time.Duration, text string, err error) {
	lat = make([]time.Duration, 0, n)
	var typed strings.Builder
	for range n {
		pause := time.Duration(rng.Int64N(int64(keyPace()) * 2))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return lat, watchLat, typed.String(), ctx.Err()
		}
		lt.drain() // output of earlier keys
		if w != nil {
			w.drain()
		}
		ch := string(rune('a' + rng.IntN(26)))
		start := time.Now()
		lt.send(ch)
		typed.WriteString(ch)
		if err := lt.waitText(ctx, ch); err != nil {
			return lat, watchLat, typed.String(), err
		}
		lat = append(lat, time.Since(start))
		lt.keys.add(start, lat[len(lat)-1])
		if w != nil { // its output waits in its channel meanwhile
			if err := w.waitText(ctx, ch); err != nil {
				return lat, watchLat, typed.String(), fmt.Errorf("the watcher: %w", err)
			}
			watchLat = append(watchLat, time.Since(start))
		}
	}
	return lat, watchLat, typed.String(), nil
}

// drain drops the output read so far.
func (lt *loadTerm) drain() {
	for {
		select {
		case <-lt.chunks:
		default:
			return
		}
	}
}

// runLoadServer is the child process: it serves kind ("wizard" or
// "floor") on loopback, prints "ready ADDR HTTP LOGINS" (HTTP the
// callback listener, "-" for none; LOGINS "-" when it made no invites),
// answers "mem" with the Go heap and stacks in use once the GC settled
// (settledMemory) and the CPU time (user and system) used so far in
// nanoseconds, read before those GCs, answers "wait STATE"
// with "waiting STATE" once a test login waits for that state's callback
// (the wizard), and stops when stdin closes.
func runLoadServer(kind string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	logins, httpAddr, done := []string{"load"}, "-", make(chan error, 1)
	var wait func(state string) error
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
		dir, db := os.TempDir(), os.Getenv(loadDBEnv)
		if db == "" {
			db = filepath.Join(dir, "load.db")
		}
		st, err := store.Open(db, store.Options{Key: os.Getenv("OIDC_ONBOARD_KEY")})
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
			HTTP: flow.NewHTTPClient(flow.ClientOptions{DialControl: flow.NetGuard{}.Control}), MaxSessions: 100000,
			AuthorizedKeys: os.Getenv(loadEngineersEnv)})
		if err != nil {
			return err
		}
		go func() { done <- srv.Serve(ctx, ln, httpLn) }()
		<-srv.Ready()
		httpAddr, wait = httpLn.Addr().String(), loadWait(srv)
	default:
		return fmt.Errorf("unknown load server %q", kind)
	}
	prof, err := startLoadProfile(kind)
	if err != nil {
		return err
	}
	defer prof.stop()
	if len(logins) == 0 {
		logins = []string{"-"}
	}
	fmt.Printf("ready %s %s %s\n", ln.Addr(), httpAddr, strings.Join(logins, ","))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if state, ok := strings.CutPrefix(sc.Text(), "wait "); ok && wait != nil {
			if err := wait(state); err != nil {
				return err
			}
			fmt.Printf("waiting %s\n", state)
		}
		if sc.Text() == "mem" {
			var ru syscall.Rusage // before the GCs, which are the measure's, not the sessions'
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				return err
			}
			ms := settledMemory()
			prof.heap(ms)
			fmt.Printf("mem %d %d\n", ms.HeapInuse+ms.StackInuse, ru.Utime.Nano()+ru.Stime.Nano())
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

// settledMemory is the memory statistics once the GC has settled: one
// GC frees the garbage of the heap, but a goroutine's stack that grew
// while it worked shrinks by half at each GC only, so the GC runs until
// the stacks stop shrinking (at most five times). A server at rest runs
// GCs too (at least every two minutes), so what is left is what its
// sessions hold: for 200 wizard sessions the first GC left 16.8 MB of
// stacks, the third 11.3 MB; the floor's 9.9 MB did not move.
func settledMemory() runtime.MemStats {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	for range 4 {
		before := ms.StackInuse
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.StackInuse >= before {
			break
		}
	}
	return ms
}

// loadWait makes a test login of srv wait for a state's callback, as a
// session's does, and answer it with a result page.
func loadWait(srv *Server) func(state string) error {
	return func(state string) error {
		ch, cancel, err := srv.callbacks.Register(srv.opts.PublicURL+"/callback/conn_load", state)
		if err != nil {
			return err
		}
		go func() {
			defer cancel()
			select {
			case cb := <-ch:
				cb.Reply(flow.ResultPage{OK: true, Title: loadSignedIn, Message: "Return to the terminal."})
			case <-time.After(time.Minute):
			}
		}()
		return nil
	}
}

// loadInvites makes the invite codes of a wizard load server's sessions,
// one organization each (none for a second instance).
func loadInvites(ctx context.Context, st *store.Store) ([]string, error) {
	n, err := strconv.Atoi(os.Getenv(loadSessionsEnv))
	if err != nil || n < 0 {
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
	if i := os.Getenv(loadInstanceEnv); i != "" {
		p.kind += "-i" + i
	}
	if p.dir == "" {
		return p, nil
	}
	f, err := os.Create(filepath.Join(p.dir, p.kind+".cpu.pprof"))
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

// heap writes the heap profile as of the last GC and the goroutines'
// stacks (KIND.goroutines.txt), and says how much of the memory is heap
// and how much stacks.
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
	g, err := os.Create(filepath.Join(p.dir, p.kind+".goroutines.txt"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer g.Close()
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
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
