package steps

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// invCodeRE finds an invite code in a screen: four groups of four.
var invCodeRE = regexp.MustCompile(`\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b`)

// invEngineerEnv is a support engineer's session on a seeded store: an
// active Acme connection and a Globex draft.
func invEngineerEnv(t *testing.T, sshHost string) *Env {
	t.Helper()
	env := testEnv(t)
	orgSeed(t, env)
	env.Invites = &InviteSettings{SSHHost: sshHost}
	return env
}

// invCode is the one code on the screen.
func invCode(t *testing.T, view string) string {
	t.Helper()
	codes := invCodeRE.FindAllString(view, -1)
	if len(codes) == 0 {
		t.Fatalf("no invite code on the screen:\n%s", view)
	}
	return codes[0]
}

func TestOrganizationInviteByEngineerShowsTheCodeOnceAndStoresItsHash(t *testing.T) {
	t.Parallel()
	env := invEngineerEnv(t, "onboard.example.com:2222")
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Press i to invite") {
		t.Errorf("the list does not mention invites:\n%s", v)
	}
	if !slices.Contains(keysHelp(step.Keys()), "i invite a customer") {
		t.Errorf("keys %v lack i", keysHelp(step.Keys()))
	}
	run(t, step, press("down"), orgWait) // the Acme connection
	run(t, step, press("i"), orgWait)
	if !step.Capturing() {
		t.Fatal("the invite form should capture typing")
	}
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "Invite a customer") || !strings.Contains(v, "> Acme") || !strings.Contains(v, "Enter keeps 72h.") {
		t.Fatalf("the form is not pre-filled with the selected organization:\n%s", v)
	}
	run(t, step, press("enter"), orgWait) // to the TTL
	orgType(t, step, "48h")
	before := time.Now()
	run(t, step, press("enter"), orgWait)
	v = viewFits(t, step, 80, 17)
	code := invCode(t, v)
	wantIn(t, "the result", v, "Invite for Acme", "Shown once: only its hash is stored",
		"ssh -p 2222 setup@onboard.example.com", "ssh -p 2222 "+code+"@onboard.example.com")

	ctx := context.Background()
	inv, err := env.Store.LookupInvite(ctx, code)
	if err != nil {
		t.Fatalf("the shown code does not work: %v", err)
	}
	if inv.Organization != "Acme" || inv.ExpiresAt.Before(before.Add(48*time.Hour-time.Minute)) ||
		inv.ExpiresAt.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("invite %+v; want Acme, 48h from now", inv)
	}
	events, err := env.Store.ListAudit(ctx, store.AuditQuery{Organization: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if !invAudited(events, "invite.create", env.Actor, inv.ID) {
		t.Errorf("no invite_created event by %s for %s in %+v", env.Actor, inv.ID, events)
	}

	run(t, step, press("a"), orgWait)
	group, _, _ := strings.Cut(code, "-")
	wantIn(t, "the code read aloud", viewFits(t, step, 80, 24), group+"   "+flow.Spell(group))

	msgs := run(t, step, press("c"), orgWait)
	if len(msgs) != 1 || msgs[0] != StatusMsg("Sent the invite to your terminal's clipboard (if it supports OSC 52)") {
		t.Errorf("copy told the shell %v", msgs)
	}
	copied := step.(*organization).inviteCopyText()
	if copied != "ssh -p 2222 "+code+"@onboard.example.com" {
		t.Errorf("c copies %q", copied)
	}

	run(t, step, press("enter"), orgWait)
	if v := viewFits(t, step, 80, 17); strings.Contains(v, code) || !strings.Contains(v, "Acme / Acme OIDC") {
		t.Errorf("after the result the list should be back and the code gone:\n%s", v)
	}
}

// invAudited reports whether events hold action by actor with detail.
func invAudited(events []store.Event, action, actor, detail string) bool {
	for _, e := range events {
		if e.Action == action && e.Actor == actor && e.Detail == detail {
			return true
		}
	}
	return false
}

func TestOrganizationInviteFormValidatesAndCancels(t *testing.T) {
	t.Parallel()
	env := invEngineerEnv(t, "onboard.example.com")
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	run(t, step, press("i"), orgWait) // on the Globex draft
	for range "Globex" {
		run(t, step, press("backspace"), orgWait)
	}
	run(t, step, press("enter"), orgWait)
	run(t, step, press("enter"), orgWait)
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Type the organization the invite is for") {
		t.Errorf("an empty organization is not refused:\n%s", v)
	}
	orgType(t, step, "Globex")
	run(t, step, press("tab"), orgWait)
	orgType(t, step, "soon")
	run(t, step, press("enter"), orgWait)
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, `"soon" is not a duration`) || !strings.Contains(v, "> soon") {
		t.Errorf("a bad TTL is not explained with the input kept:\n%s", v)
	}
	invs, err := env.Store.ListInvites(context.Background(), "")
	if err != nil || len(invs) != 0 {
		t.Fatalf("invites after refused forms: %v %v", invs, err)
	}
	run(t, step, press("esc"), orgWait)
	if step.Capturing() || !strings.Contains(viewFits(t, step, 80, 17), "Globex / Globex OIDC") {
		t.Errorf("esc should go back to the list:\n%s", viewFits(t, step, 80, 17))
	}
}

func TestOrganizationCustomerCannotInvite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		org     string
		invites *InviteSettings
	}{
		{"customer, even if miswired", "Globex", &InviteSettings{SSHHost: "onboard.example.com"}},
		{"no invite settings", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t)
			orgSeed(t, env)
			env.Organization, env.Invites = tc.org, tc.invites
			step := NewOrganization(env, NewTheme(true))
			orgEnter(t, step, NewSetup())
			if slices.Contains(keysHelp(step.Keys()), "i invite a customer") {
				t.Errorf("keys %v offer invites", keysHelp(step.Keys()))
			}
			before := viewFits(t, step, 80, 17)
			if msgs := run(t, step, press("i"), orgWait); len(msgs) != 0 {
				t.Errorf("i told the shell %v", msgs)
			}
			if after := viewFits(t, step, 80, 17); after != before || strings.Contains(after, "invite") {
				t.Errorf("i changed the screen:\n%s", after)
			}
			invs, err := env.Store.ListInvites(context.Background(), "")
			if err != nil || len(invs) != 0 {
				t.Errorf("invites: %v %v", invs, err)
			}
			if _, err := orgMakeInvite(context.Background(), env, "Globex", "", time.Hour); !flow.IsCode(err, "forbidden") {
				t.Errorf("orgMakeInvite for this session: %v", err)
			}
		})
	}
}

func TestOrganizationInviteFromAnEmptyStoreWithoutAKnownHost(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Invites = &InviteSettings{} // the local wizard: the server's address is unknown
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "To invite a customer instead: esc, then i.") {
		t.Errorf("the new-connection form does not say where invites are:\n%s", v)
	}
	run(t, step, press("esc"), orgWait)
	run(t, step, press("i"), orgWait) // on "New connection": no organization yet
	orgType(t, step, "Initech")
	run(t, step, press("enter"), orgWait)
	run(t, step, press("enter"), orgWait) // the default TTL
	v := viewFits(t, step, 80, 17)
	code := invCode(t, v)
	if !strings.Contains(v, "The server's address is not known") || strings.Contains(v, code+"@") {
		t.Errorf("without a host the result should give the code and a note only:\n%s", v)
	}
	inv, err := env.Store.LookupInvite(context.Background(), code)
	if err != nil || inv.Organization != "Initech" || inv.ExpiresAt.Sub(inv.CreatedAt) != DefaultInviteTTL {
		t.Fatalf("invite %+v, %v", inv, err)
	}
	if got := step.(*organization).inviteCopyText(); got != code {
		t.Errorf("c copies %q; want the code", got)
	}
	run(t, step, press("esc"), orgWait)
	run(t, step, press("i"), orgWait)
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "Existing: Initech") {
		t.Errorf("the new organization is not suggested next time:\n%s", v)
	}

	// Once `serve` recorded where it listens, invites name it.
	if err := env.Store.SetServeAddresses(context.Background(), "onboard.example.com:2222", "https://onboard.example.com"); err != nil {
		t.Fatal(err)
	}
	orgType(t, step, "Initech")
	run(t, step, press("enter"), orgWait)
	run(t, step, press("enter"), orgWait)
	v = viewFits(t, step, 80, 24)
	wantIn(t, "an invite once serve listened", v, "ssh -p 2222 setup@onboard.example.com", "ssh -p 2222 "+invCode(t, v)+"@onboard.example.com",
		"https://onboard.example.com/i/"+invCode(t, v))
}

func TestOrganizationInviteViewsFitNarrowTerminals(t *testing.T) {
	t.Parallel()
	env := invEngineerEnv(t, "onboard.customer-success.example.com:2222")
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	run(t, step, press("i"), orgWait)
	viewsFit(t, step, 17)
	run(t, step, press("enter"), orgWait)
	orgType(t, step, "-1h")
	run(t, step, press("enter"), orgWait)
	viewsFit(t, step, 17)
	run(t, step, press("enter"), orgWait)
	for i := 0; i < 3; i++ {
		run(t, step, press("backspace"), orgWait)
	}
	run(t, step, press("enter"), orgWait)
	for _, w := range []int{80, 60, 40} {
		v := viewFits(t, step, w, 17)
		// The code is never cut: it is what the customer types.
		invCode(t, v)
	}
}

func TestOrganizationRunLinesInvites(t *testing.T) {
	t.Parallel()
	env := invEngineerEnv(t, "onboard.example.com:2222")
	setup := NewSetup()
	// i, an organization, a bad TTL then a good one; back in the list,
	// choose the Acme connection (2).
	text, err := runLines(t, NewOrganization(env, NewTheme(true)), setup, "i\nAcme\nsoon\n7d\n2\n")
	if err != nil {
		t.Fatal(err)
	}
	code := invCode(t, text)
	wantOutput(t, text, "i) invite a customer", `"soon" is not a duration`,
		"(shown once; only its hash is stored)", "ssh -p 2222 setup@onboard.example.com",
		"ssh -p 2222 "+code+"@onboard.example.com")
	inv, err := env.Store.LookupInvite(context.Background(), code)
	if err != nil || inv.Organization != "Acme" || inv.ExpiresAt.Sub(inv.CreatedAt) != 7*24*time.Hour {
		t.Errorf("invite %+v, %v", inv, err)
	}
	if setup.Connection.Organization != "Acme" {
		t.Errorf("after the invite the list should work on: %+v", setup.Connection)
	}
}

func TestOrganizationRunLinesOffersNoInviteToCustomers(t *testing.T) {
	t.Parallel()
	env := invEngineerEnv(t, "onboard.example.com")
	env.Organization = "Globex"
	text, err := runLines(t, NewOrganization(env, NewTheme(true)), NewSetup(), "i\n1\n")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "invite") || invCodeRE.MatchString(text) {
		t.Errorf("a customer was offered invites:\n%s", text)
	}
}

func TestParseInviteTTL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": DefaultInviteTTL, "24h": 24 * time.Hour, " 7d ": 7 * 24 * time.Hour,
		"90m": 90 * time.Minute} {
		if got, err := ParseInviteTTL(in); err != nil || got != want {
			t.Errorf("ParseInviteTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "0h", "-1h", "30s", "xd", "-2d"} {
		if got, err := ParseInviteTTL(in); !flow.IsCode(err, "bad_ttl") {
			t.Errorf("ParseInviteTTL(%q) = %v, %v; want bad_ttl", in, got, err)
		}
	}
}

func TestSSHCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, want string }{
		{"onboard.example.com", "ssh setup@onboard.example.com"},
		{"onboard.example.com:22", "ssh setup@onboard.example.com"},
		{"localhost:2222", "ssh -p 2222 setup@localhost"},
		{"[::1]:2222", "ssh -p 2222 setup@::1"},
	} {
		if got := flow.SSHCommand(tc.host, "setup"); got != tc.want {
			t.Errorf("SSHCommand(%q) = %q; want %q", tc.host, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{72 * time.Hour: "72h", 90 * time.Minute: "1h30m", 45 * time.Minute: "45m",
		time.Hour + time.Second: "1h0m1s"} {
		if got := inviteTTLText(d); got != want {
			t.Errorf("inviteTTLText(%v) = %q; want %q", d, got, want)
		}
	}
}

// The invite form's third field says who the invite is for; the invite
// keeps it and the result shows it.
func TestOrganizationInviteTakesALabel(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Invites = &InviteSettings{}
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	run(t, step, press("esc"), orgWait)
	run(t, step, press("i"), orgWait)
	orgType(t, step, "Initech")
	if v := viewFits(t, step, 80, 17); !strings.Contains(v, "For whom (optional") {
		t.Fatalf("the form has no label field:\n%s", v)
	}
	run(t, step, press("tab"), orgWait)
	run(t, step, press("tab"), orgWait)
	orgType(t, step, "Jane at Initech IT")
	run(t, step, press("enter"), orgWait)
	v := viewFits(t, step, 80, 17)
	if !strings.Contains(v, "Invite for Initech (Jane at Initech IT)") {
		t.Fatalf("the result does not name whom the invite is for:\n%s", v)
	}
	inv, err := env.Store.LookupInvite(context.Background(), invCode(t, v))
	if err != nil || inv.Label != "Jane at Initech IT" {
		t.Fatalf("invite %+v, %v", inv, err)
	}
}
