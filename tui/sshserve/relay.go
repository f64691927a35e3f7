package sshserve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"charm.land/ssh"
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
	ctx, cancel := context.WithTimeout(sess.Context(), 10*time.Second)
	defer cancel()
	var owner string
	for _, i := range s.cluster.others(ctx) {
		if strings.EqualFold(i.ID, strings.TrimSpace(id)) && i.State == stateLive {
			owner, id = i.Instance, i.ID
		}
	}
	if owner == "" {
		return false
	}
	in, err := s.opts.Store.GetInstance(ctx, owner)
	if err != nil || in.SSHAddr == "" {
		refuse(sess, fmt.Sprintf("Session %s runs on another instance of this service, which gives no address to reach it at (serve --advertise). Connect to that instance directly to join.", id))
		return true
	}
	pty, winch, _ := sess.Pty()
	client, err := gossh.Dial("tcp", in.SSHAddr, &gossh.ClientConfig{User: peerJoin,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(s.opts.HostKey)},
		HostKeyCallback: gossh.FixedHostKey(s.opts.HostKey.PublicKey()), Timeout: 10 * time.Second})
	if err != nil {
		s.opts.Log.Warn("relay to another instance failed", "instance", owner, "address", in.SSHAddr, "error", err.Error())
		refuse(sess, fmt.Sprintf("Session %s runs on another instance of this service, which cannot be reached now. Try again in a moment.", id))
		return true
	}
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
	req, _ := json.Marshal(peerRequest{Actor: who.actor, Name: who.name, Addr: hostOf(sess.RemoteAddr()), From: s.cluster.id})
	if err := rs.Start(peerJoin + " " + id + " " + base64.RawURLEncoding.EncodeToString(req)); err != nil {
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
				_ = rs.WindowChange(w.Height, w.Width)
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

// peerJoinCommand runs a peer instance's relayed join: the engineer it
// names joins, asked for and audited as them.
func (s *Server) peerJoinCommand(sess ssh.Session, args []string) {
	var req peerRequest
	raw, err := base64.RawURLEncoding.DecodeString(strings.Join(args[min(1, len(args)):], ""))
	if len(args) != 2 || err != nil || json.Unmarshal(raw, &req) != nil || req.Actor == "" {
		refuse(sess, "Usage: peer-join SESSION REQUEST (between instances of this service only).")
		return
	}
	s.joinAs(sess, identity{actor: req.Actor, name: flow.Display(req.Name), relayed: true}, args[:1], req.Addr)
}
