package sshserve

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// A support engineer makes an invite inside the wizard over SSH; the code
// on their screen lets a customer in, walled into that organization, and
// the customer's session offers no invites.
func TestSSHEngineerInvitesFromTheWizard(t *testing.T) {
	t.Parallel()
	signer, line := sshKey(t)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sshStart(t, func(o *ServerOptions) {
		o.AuthorizedKeys = keys
		o.SSHHost = "onboard.example.com:2222"
	})
	_, term := s.connect(t, 80, 24, "alice", gossh.PublicKeys(signer))
	term.waitFor(t, "To invite a customer instead: esc, then i.")
	term.answer(t, "\x1b", "Press i to invite")
	term.answer(t, "i", "Invite a customer")
	term.answer(t, "Initech\r\r", "Shown once")
	code := regexp.MustCompile(`[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}`).FindString(term.screen())
	if code == "" {
		t.Fatalf("no code on the screen:\n%s", term.screen())
	}
	term.waitFor(t, "ssh -p 2222 "+code+"@onboard.example.com")
	ev := s.waitAudit(t, "invite.create")
	if ev.Actor != "ssh:"+gossh.FingerprintSHA256(signer.PublicKey()) || ev.Organization != "Initech" {
		t.Errorf("invite_created = %+v", ev)
	}

	_, customer := s.connect(t, 80, 24, code)
	customer.waitFor(t, "Initech")
	if strings.Contains(customer.screen(), "invite a customer") {
		t.Errorf("a customer was offered invites:\n%s", customer.screen())
	}
}

// A customer is the organization's admin: step 0 speaks to them; when
// they leave, they read until when the same code brings them back.
func TestSSHCustomerIsAddressedAndToldWhenToComeBack(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, inv := s.invite(t, "Initech")
	_, term := s.connect(t, 80, 24, code)
	term.waitFor(t, "Name this SSO connection for your organization.")
	term.send("\x03")
	term.waitEnd(t)
	if want := steps.LeaveNote(inv.ExpiresAt); !strings.Contains(term.all(), want) {
		t.Errorf("the customer left without reading %q:\n%s", want, term.all())
	}
}

// serve records where its SSH server listens, as customers reach it, for
// the command `invite` prints.
func TestServeRecordsItsSSHAddressForInvites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "onboard.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{Store: st, SSHAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			PublicURL: "http://localhost:8976", Timeout: time.Second}, io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(sshWait)
	for time.Now().Before(deadline) {
		host, err := st.InviteSSHHost(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(host, "localhost:") && host != "localhost:0" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("serve never recorded its SSH address")
}
