package flow

import (
	"strings"
	"testing"
)

func TestSSHHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ given, publicURL, want string }{
		{"", "https://onboard.example.com", "onboard.example.com:2222"},
		{"", "http://localhost:8976", "localhost:2222"},
		{"ssh.example.com", "https://onboard.example.com", "ssh.example.com"},
		{"", "http://[::1]:8976", "[::1]:2222"},
	} {
		if got := SSHHost(tc.given, tc.publicURL, "[::]:2222"); got != tc.want {
			t.Errorf("SSHHost(%q, %q) = %q; want %q", tc.given, tc.publicURL, got, tc.want)
		}
	}
}

func TestSpellSaysEachCharacter(t *testing.T) {
	t.Parallel()
	got := []string{Spell("7h3kq9"), Spell("b3-X"), Spell("é")}
	want := []string{"seven · hotel · three · kilo · quebec · nine", "bravo · three · dash · capital x-ray", "é"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Spell = %q; want %q", got, want)
	}
}

func TestURIAloudSpellsOnlyTheRandomPart(t *testing.T) {
	t.Parallel()
	got := URIAloud("https://onboard.example.com/callback/conn_7h3kq9")
	want := []AloudChunk{{Text: "https://onboard.example.com"}, {Text: "/callback"}, {Text: "/conn_"},
		{Text: "7h3kq9", Spelling: "seven · hotel · three · kilo · quebec · nine"}}
	var joined strings.Builder
	for _, c := range got {
		joined.WriteString(c.Text)
	}
	if joined.String() != "https://onboard.example.com/callback/conn_7h3kq9" {
		t.Errorf("the chunks join to %q, not the URI", joined.String())
	}
	if len(got) != len(want) {
		t.Fatalf("URIAloud = %#v; want %#v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("chunk %d = %#v; want %#v", i, got[i], want[i])
		}
	}
}

func TestCodeAloudSpellsEachGroup(t *testing.T) {
	t.Parallel()
	got := AloudLines(CodeAloud("7k2m-q9xd"))
	want := []string{"7k2m   seven · kilo · two · mike", "q9xd   quebec · nine · x-ray · delta"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("AloudLines(CodeAloud) = %q; want %q", got, want)
	}
}

func TestNewInvitePageTakesOnlyACodesShape(t *testing.T) {
	t.Parallel()
	p := NewInvitePage("7K2M-Q9XD-4HNC-B3TW", "onboard.example.com:2222", "SHA256:x")
	if p.Code != "7k2m-q9xd-4hnc-b3tw" || p.OneGo != "ssh -p 2222 7k2m-q9xd-4hnc-b3tw@onboard.example.com" ||
		p.Command != "ssh -p 2222 setup@onboard.example.com" || p.Fingerprint != "SHA256:x" {
		t.Errorf("NewInvitePage = %+v", p)
	}
	for _, bad := range []string{"", "x;rm -rf ~", "7k2m-q9xd", "7k2m-q9xd-4hnc-b3tu"} {
		if p := NewInvitePage(bad, "onboard.example.com", ""); p.Code != "" || p.OneGo != "" || p.Command != "ssh setup@onboard.example.com" {
			t.Errorf("NewInvitePage(%q) = %+v; want the setup command only", bad, p)
		}
	}
	if p := NewInvitePage("7k2m-q9xd-4hnc-b3tw", "", ""); p.Command != "" || p.OneGo != "" {
		t.Errorf("without a host: %+v", p)
	}
}
