package sshserve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// An engineer's `join` may reach an instance other than the customer's
// session's: that instance relays. Instances behind one balancer share
// the SSH host key (or customers' ssh would warn when the balancer picks
// another one), so an instance logs in to another with that key as its
// client key; the other accepts that key as a peer instance only, which
// may run nothing but peerJoin: the join of the named engineer, audited
// as them. Bytes and window changes are piped both ways.

// peerJoin is the command a peer instance runs for an engineer's join:
// peerJoin SESSION REQUEST, REQUEST being a peerRequest in base64 JSON.
const peerJoin = "peer-join"

// peerRequest says who asked to join, for the owner's consent question
// and audit log.
type peerRequest struct {
	Actor string `json:"actor"`
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	From  string `json:"from"` // the relaying instance
	// Wizard: the engineer watches from their wizard, which is told why
	// the watch ended on standard error, as a notice.
	Wizard bool `json:"wizard,omitempty"`
}

// isPeer reports whether key is this service's host key: another
// instance of it.
func (s *Server) isPeer(key gossh.PublicKey) bool {
	return key != nil && bytes.Equal(key.Marshal(), s.opts.HostKey.PublicKey().Marshal())
}

// relayJoin joins the session id that runs on another instance, for the
// engineer of sess, relaying their terminal to it; false when no other
// instance has a live session id.
func (s *Server) relayJoin(sess ssh.Session, who identity, id string) bool {
	client, id, found, why := s.dialOwner(sess.Context(), id)
	if !found {
		return false
	}
	if client == nil {
		refuse(sess, why)
		return true
	}
	pty, winch, _ := sess.Pty()
	defer client.Close()
	rs, err := client.NewSession()
	if err == nil {
		err = rs.RequestPty(pty.Term, pty.Window.Height, pty.Window.Width, gossh.TerminalModes{})
	}
	var stdin io.WriteCloser
	if err == nil {
		stdin, err = rs.StdinPipe()
	}
	if err != nil {
		refuse(sess, fmt.Sprintf("Session %s runs on another instance of this service, which did not open the join: %v", id, err))
		return true
	}
	rs.Stdout, rs.Stderr = sess, sess.Stderr()
	if err := rs.Start(s.peerCommand(who, hostOf(sess.RemoteAddr()), id, false)); err != nil {
		refuse(sess, fmt.Sprintf("Session %s runs on another instance of this service, which did not open the join: %v", id, err))
		return true
	}
	done := make(chan struct{})
	// Not rs.Stdin: Wait would wait for the engineer's next key.
	go func() { _, _ = io.Copy(stdin, sess); _ = stdin.Close() }()
	go func() {
		for {
			select {
			case w, ok := <-winch:
				if !ok {
					return
				}
				if w != pty.Window { // not the size the relay opened with
					_ = rs.WindowChange(w.Height, w.Width)
				}
			case <-done:
				return
			}
		}
	}()
	err = rs.Wait()
	close(done)
	code := 0
	var exit *gossh.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitStatus()
	} else if err != nil {
		code = 1
	}
	_ = sess.Exit(code)
	return true
}

// dialOwner dials, as a peer, the instance that runs the live session
// id: the client, and the session's ID as listed. found is false when
// no other instance runs it; when one does but cannot be reached, the
// client is nil and why says so.
func (s *Server) dialOwner(ctx context.Context, id string) (client *gossh.Client, sessionID string, found bool, why string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var owner string
	for _, i := range s.cluster.others(ctx) {
		if strings.EqualFold(i.ID, strings.TrimSpace(id)) && i.State == stateLive {
			owner, id = i.Instance, i.ID
		}
	}
	if owner == "" {
		return nil, id, false, ""
	}
	in, err := s.opts.Store.GetInstance(ctx, owner)
	if err != nil || in.SSHAddr == "" {
		return nil, id, true, fmt.Sprintf("Session %s runs on another instance of this service, which gives no address to reach it at (serve --advertise). Connect to that instance directly to join.", id)
	}
	client, err = gossh.Dial("tcp", in.SSHAddr, &gossh.ClientConfig{User: peerJoin,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(s.opts.HostKey)},
		HostKeyCallback: gossh.FixedHostKey(s.opts.HostKey.PublicKey()), Timeout: 10 * time.Second})
	if err != nil {
		s.opts.Log.Warn("relay to another instance failed", "instance", owner, "address", in.SSHAddr, "error", err.Error())
		return nil, id, true, fmt.Sprintf("Session %s runs on another instance of this service, which cannot be reached now. Try again in a moment.", id)
	}
	return client, id, true, ""
}

// peerCommand is the peer-join of session id for engineer who at addr;
// wizard when they watch from their wizard.
func (s *Server) peerCommand(who identity, addr, id string, wizard bool) string {
	req, _ := json.Marshal(peerRequest{Actor: who.actor, Name: who.name, Addr: addr, From: s.cluster.id, Wizard: wizard})
	return peerJoin + " " + id + " " + base64.RawURLEncoding.EncodeToString(req)
}

// peerJoinCommand runs a peer instance's relayed join: the engineer it
// names joins, asked for and audited as them.
func (s *Server) peerJoinCommand(sess ssh.Session, args []string) {
	var req peerRequest
	raw, err := base64.RawURLEncoding.DecodeString(strings.Join(args[min(1, len(args)):], ""))
	if len(args) != 2 || err != nil || json.Unmarshal(raw, &req) != nil || req.Actor == "" {
		refuse(sess, "Usage: peer-join SESSION REQUEST (between instances of this service only).")
		return
	}
	why := io.Writer(sess)
	if req.Wizard {
		why = sess.Stderr()
	}
	s.joinAs(sess, identity{actor: req.Actor, name: flow.Display(req.Name), relayed: true}, args[:1], req.Addr, why)
}

// An engineer's wizard that chose, in its live list, a session on another
// instance watches it through that instance's peer-join, run as a
// tea.Exec: the wizard's program lets go of the terminal, the relay pipes
// it to the owner until the watch ends, and the wizard takes it back. The
// SSH session's input has no file to cancel a read on, so the program's
// reader would keep one read pending through the relay and eat the first
// key typed in it (and the relay's reader the first key after it): a gate
// owns the input instead and hands it to one side at a time. It owns the
// window changes too, which go to the relay while it runs (the program is
// busy in the Exec meanwhile and could not take them).

// gate owns an engineer's SSH session's input and window changes, and
// hands them to the wizard's program or to a relayed watch.
type gate struct {
	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte
	err      error // the session's input ended
	relaying bool
	gen      int // counts hand-overs: a read across one returns
	winch    chan ssh.Window
	relayWin chan ssh.Window // while relaying
	last     ssh.Window      // the latest size
	stale    bool            // the size changed while relaying
}

// gateBuffer bounds the input the gate holds for the side that reads
// next; the SSH channel's window holds the rest back.
const gateBuffer = 64 << 10

// gated is sess with its input and window changes behind a gate: what
// the wizard's program reads and resizes by.
type gated struct {
	ssh.Session
	g *gate
}

// newGated starts the gate's pumps for sess.
func newGated(sess ssh.Session) gated {
	pty, winch, _ := sess.Pty()
	g := &gate{winch: make(chan ssh.Window, 1), last: pty.Window}
	g.cond = sync.NewCond(&g.mu)
	go g.pump(sess)
	go g.pumpWindows(winch)
	return gated{Session: sess, g: g}
}

func (s gated) Read(p []byte) (int, error) { return s.g.readWizard(p) }

func (s gated) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	pty, _, ok := s.Session.Pty()
	return pty, s.g.winch, ok
}

func (g *gate) pump(r io.Reader) {
	chunk := make([]byte, 4096)
	for {
		n, err := r.Read(chunk)
		g.mu.Lock()
		for len(g.buf) >= gateBuffer && g.err == nil {
			g.cond.Wait()
		}
		g.buf = append(g.buf, chunk[:n]...)
		if err != nil {
			g.err = err
		}
		g.cond.Broadcast()
		g.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (g *gate) pumpWindows(in <-chan ssh.Window) {
	for w := range in {
		g.mu.Lock()
		g.last = w
		relay := g.relayWin
		g.stale = relay != nil
		g.mu.Unlock()
		if relay == nil {
			g.winch <- w
			continue
		}
		select { // the latest size is what counts
		case <-relay:
		default:
		}
		relay <- w
	}
}

// take hands the input to a relay; its generation is the relay's.
func (g *gate) take() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.relaying, g.relayWin = true, make(chan ssh.Window, 1)
	g.gen++
	g.cond.Broadcast()
	return g.gen
}

// give hands the input back to the wizard from the relay of generation
// gen, if it still has it, with the window's size when it changed
// meanwhile.
func (g *gate) give(gen int) {
	g.mu.Lock()
	if !g.relaying || g.gen != gen {
		g.mu.Unlock()
		return
	}
	g.relaying, g.relayWin = false, nil
	g.gen++
	g.cond.Broadcast()
	w, stale := g.last, g.stale
	g.stale = false
	g.mu.Unlock()
	if stale {
		select {
		case g.winch <- w:
		default:
		}
	}
}

// relayPoll is how often the wizard program's reader asks again while a
// relay has the input, until the program cancelled it (a few ms).
const relayPoll = 10 * time.Millisecond

// readWizard is the wizard program's read. While a relay has the input
// it returns nothing, after a pause: the program is letting go of the
// terminal, and its reader notices that it was cancelled only when a
// read returns (or after half a second).
func (g *gate) readWizard(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen := g.gen
	for {
		switch {
		case !g.relaying && len(g.buf) > 0:
			return g.from(p), nil
		case g.err != nil && len(g.buf) == 0:
			return 0, g.err
		case g.relaying || g.gen != gen:
			g.mu.Unlock()
			time.Sleep(relayPoll)
			g.mu.Lock()
			return 0, nil
		}
		g.cond.Wait()
	}
}

// ended reports whether the session's input ended.
func (g *gate) ended() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err != nil
}

// relayReader is the input of the relay of generation gen.
type relayReader struct {
	g   *gate
	gen int
}

func (r relayReader) Read(p []byte) (int, error) {
	g := r.g
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		switch {
		case g.gen != r.gen:
			return 0, io.EOF
		case len(g.buf) > 0:
			return g.from(p), nil
		case g.err != nil:
			return 0, g.err
		}
		g.cond.Wait()
	}
}

// from moves buffered input to p; the caller holds mu.
func (g *gate) from(p []byte) int {
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	if len(g.buf) == 0 {
		g.buf = nil
	}
	g.cond.Broadcast()
	return n
}

// wizardRelay is a watch of a session on another instance from an
// engineer's wizard: a tea.ExecCommand whose Run pipes the terminal to
// the owner's peer-join until the watch ends.
type wizardRelay struct {
	ctx     context.Context // the engineer's session's
	g       *gate
	gen     int
	client  *gossh.Client
	rs      *gossh.Session
	stdin   io.WriteCloser
	command string     // the owner's peer-join
	why     tailWriter // the owner's last words: why the watch ended
}

// dialRelay opens engineer who's watch of session id, which runs on
// another instance, for the wizard behind g at width×height: a
// relayStartMsg, or a notice saying why not.
func (s *Server) dialRelay(ctx context.Context, g *gate, who identity, addr, id string, width, height int) tea.Msg {
	client, id, found, why := s.dialOwner(ctx, id)
	if !found {
		return noticeMsg{text: fmt.Sprintf("The customer's session %s has ended.", flow.Display(id))}
	}
	if client == nil {
		return noticeMsg{text: why}
	}
	r := &wizardRelay{ctx: ctx, client: client, g: g, command: s.peerCommand(who, addr, id, true)}
	var err error
	r.rs, err = client.NewSession()
	if err == nil {
		err = r.rs.RequestPty("xterm-256color", height, width, gossh.TerminalModes{})
	}
	if err == nil {
		r.stdin, err = r.rs.StdinPipe()
	}
	if err != nil {
		_ = client.Close()
		return noticeMsg{text: fmt.Sprintf("Session %s runs on another instance, which did not open the watch: %v", flow.Display(id), err)}
	}
	// From now on the keys are the relay's, even those typed before the
	// program let go of the terminal.
	r.gen = g.take()
	return relayStartMsg{r: r}
}

// relayStartMsg: a relayed watch is open; the wizard runs it.
type relayStartMsg struct{ r *wizardRelay }

func (r *wizardRelay) SetStdin(io.Reader)    {} // the gate's, for the relay's generation
func (r *wizardRelay) SetStdout(w io.Writer) { r.rs.Stdout = w }
func (r *wizardRelay) SetStderr(io.Writer)   {} // the owner's stderr says why the watch ended

// Run pipes the terminal to the owner until the watch ends there, then
// gives the input back to the wizard.
func (r *wizardRelay) Run() error {
	defer r.g.give(r.gen)
	defer r.client.Close()
	r.rs.Stderr = &r.why
	if err := r.rs.Start(r.command); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(r.stdin, relayReader{r.g, r.gen})
		_ = r.stdin.Close()
		if r.g.ended() { // the engineer's connection ended: so does the watch
			_ = r.client.Close()
		}
	}()
	r.g.mu.Lock()
	winch := r.g.relayWin
	r.g.mu.Unlock()
	go func() {
		for {
			select {
			case w := <-winch:
				_ = r.rs.WindowChange(w.Height, w.Width)
			case <-r.ctx.Done(): // the server closed the engineer's session
				_ = r.client.Close()
			case <-done:
				return
			}
		}
	}()
	err := r.rs.Wait()
	close(done)
	return err
}

// reason is why the watch ended, as the owner said it.
func (r *wizardRelay) reason() string {
	lines := strings.Split(strings.TrimSpace(ansi.Strip(r.why.String())), "\n")
	return cmp.Or(strings.TrimSpace(lines[len(lines)-1]), "The watch ended.")
}

// abort closes a relay that did not run (the wizard ended meanwhile, or
// could not let go of the terminal).
func (r *wizardRelay) abort() {
	_ = r.client.Close()
	r.g.give(r.gen)
}

// tailWriter keeps the last KiB written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 1024 {
		t.buf = t.buf[len(t.buf)-1024:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
