package flow_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// hostile holds what an IdP can put in a field to take over the terminal
// that shows it.
var hostile = map[string]string{
	"OSC 52 clipboard": "https://idp.example.com\x1b]52;c;ZWNobyBwd25lZA==\x07",
	"CSI clear screen": "\x1b[2J\x1b[Hissuer",
	"OSC 8 hyperlink":  "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
	"DCS":              "\x1bP+q544e\x1b\\",
	"C1 CSI":           "a\u009b2Jb",
	"C1 OSC":           "a\u009d52;c;eA==\u009cb",
	"raw C1 byte":      "a\x9b2Jb",
	"carriage return":  "all good\rFAIL",
	"bidi override":    "conn_\u202etxt.exe",
	"bidi isolate":     "a\u2067b\u2069c",
	"backspace":        "secret\b\b\b\b\b\bpublic",
	"NUL and DEL":      "a\x00b\x7fc",
	"line separator":   "a\u2028b",
}

func TestDisplayLeavesNoControlForTheTerminal(t *testing.T) {
	t.Parallel()
	for name, in := range hostile {
		for _, out := range []string{flow.Display(in), flow.DisplayText(in)} {
			if !utf8.ValidString(out) {
				t.Errorf("%s: invalid UTF-8 out: %q", name, out)
			}
			for _, r := range out {
				if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x2028 {
					t.Errorf("%s: %q reaches the terminal in %q", name, r, out)
				}
			}
		}
	}
}

func TestDisplayShowsThatSomethingWasThere(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\x1b[2Jissuer":       "␛[2Jissuer",
		"all good\rFAIL":      "all good␍FAIL",
		"conn_\u202etxt.exe":  "conn_⟨U+202E⟩txt.exe",
		"a\u009b2J":           "a⟨U+009B⟩2J",
		"a\x9bb":              "a\uFFFDb",
		"two\nlines":          "two␊lines",
		"https://plain.test/": "https://plain.test/",
		"Grüße 👩‍💻":           "Grüße 👩‍💻",
	} {
		if got := flow.Display(in); got != want {
			t.Errorf("Display(%q) = %q, want %q", in, got, want)
		}
	}
	if got := flow.DisplayText("line one\n\tline two\r"); got != "line one\n    line two␍" {
		t.Errorf("DisplayText kept %q", got)
	}
}

func TestDisplayCapsLength(t *testing.T) {
	t.Parallel()
	huge := "https://idp.example.com/" + strings.Repeat("é", 450_000)
	got := flow.Display(huge)
	if len(got) > flow.MaxShownBytes+40 {
		t.Fatalf("kept %d bytes of %d", len(got), len(huge))
	}
	if !strings.HasSuffix(got, fmt.Sprintf("… (%d bytes)", len(huge))) || !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
		t.Errorf("cut badly: …%q", got[len(got)-40:])
	}
	short := strings.Repeat("a", flow.MaxShownBytes)
	if flow.Display(short) != short {
		t.Error("a value of exactly the limit was cut")
	}
}

func TestCheckTypedRefusesControlAndBidi(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Acme\x1b[2J", "Acme\u202eproC", "Acme\r", "Acme\u009b", "Acme\x00"} {
		if err := flow.CheckTyped("organization name", name); !flow.IsCode(err, "name_control_character") {
			t.Errorf("%q accepted: %v", name, err)
		}
	}
	for _, name := range []string{"Acme Corp", "Société Générale", "株式会社", "O'Brien & Co. (EU)"} {
		if err := flow.CheckTyped("organization name", name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}

func BenchmarkDisplayPlain(b *testing.B) {
	s := "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	for b.Loop() {
		_ = flow.Display(s)
	}
}

func FuzzDisplay(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, out := range []string{flow.Display(in), flow.DisplayText(in)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 from %q", in)
			}
			for _, r := range out {
				if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
					t.Fatalf("%q reaches the terminal from %q", r, in)
				}
			}
		}
	})
}

func TestDiscoveryURLWithPasswordIsRefusedAndNeverEchoed(t *testing.T) {
	t.Parallel()
	in := "https://admin:hunter2@idp.example.com/.well-known/openid-configuration"
	_, _, err := flow.DiscoveryURLFor(in)
	if !flow.IsCode(err, "url_has_userinfo") || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "admin") {
		t.Fatalf("err = %v", err)
	}
	r := flow.Validate(t.Context(), nil, in, flow.ValidateOptions{})
	if r.OK || strings.Contains(r.DiscoveryURL, "hunter2") {
		t.Fatalf("report %+v", r)
	}
	for _, c := range r.Checks {
		if strings.Contains(c.Detail+c.Fix, "hunter2") {
			t.Errorf("check %s echoes the password: %s", c.ID, c.Detail)
		}
	}
}
