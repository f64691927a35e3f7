package steps

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// hostile is what a hostile IdP (or customer) puts in a text field: OSC 52
// (writes the clipboard), CSI 2J (clears the screen), an OSC 8 hyperlink,
// a DCS string, a C1 CSI (U+009B) and a bidi override (U+202E).
const hostile = "\x1b]52;c;SGFja2Vk\x07" + "\x1b[2J" + "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\" +
	"\x1bP1$r0m\x1b\\" + "\u009b31m" + "\u202eliame"

// sgr matches the colour and style sequences the theme itself draws.
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// frameSafe fails when a drawn frame holds anything a terminal would act
// on other than the theme's own styles: an escape sequence, a C0 control
// other than a line feed, a C1 control, a byte that is not UTF-8, or a
// bidi control.
func frameSafe(t *testing.T, what, frame string) {
	t.Helper()
	text := sgr.ReplaceAllString(frame, "")
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == utf8.RuneError && size == 1 ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f {
			t.Errorf("%s holds %U at byte %d: …%q…", what, r, i, text[max(i-40, 0):min(i+40, len(text))])
			return
		}
		i += size
	}
}

// hostileDocument puts hostile into every text field of a discovery
// document; the issuer is base followed by it.
func hostileDocument(base string, doc map[string]any) {
	doc["issuer"] = base + "/" + hostile
	doc["authorization_endpoint"] = base + "/authorize" + hostile
	doc["userinfo_endpoint"] = hostile
	doc["response_types_supported"] = []string{"code", hostile}
	doc["subject_types_supported"] = []string{hostile}
	doc["id_token_signing_alg_values_supported"] = []string{"RS256", "HS256" + hostile}
	doc["scopes_supported"] = []string{"openid", "email", hostile}
	doc["claims_supported"] = []string{"sub", "email", hostile}
	doc["token_endpoint_auth_methods_supported"] = []string{hostile}
	doc["code_challenge_methods_supported"] = []string{"plain" + hostile}
}

func hostileKeys(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": []any{
		map[string]any{"kty": "RSA" + hostile, "kid": hostile, "alg": "RS256" + hostile, "use": hostile, "n": hostile, "e": "AQAB"},
	}})
}

// TestValidateViewShowsAHostileIdPSafely: the checks' list and details,
// the summary and the findings draw a hostile discovery document and key
// set with visible stand-ins only, in the full screen and the line mode.
func TestValidateViewShowsAHostileIdPSafely(t *testing.T) {
	t.Parallel()
	keys := validateIdP(t, nil, hostileKeys) // its /jwks
	var base string
	env, v, s := diagValidated(t, func(b string, doc map[string]any) {
		base = b
		hostileDocument(b, doc)
		doc["jwks_uri"] = keys.URL + "/jwks"
	})
	if s.Report == nil || s.Report.Issuer != base+"/"+hostile {
		t.Fatalf("the report does not keep the issuer as served: %+v", s.Report)
	}
	for _, size := range [][2]int{{80, 24}, {80, 200}, {40, 200}, {120, 300}} {
		frame := viewAt(v, size[0], size[1])
		frameSafe(t, "validate's view", frame)
		if size[1] == 200 && !strings.Contains(frame, "␛") {
			t.Errorf("no stand-in for the escape sequences:\n%s", frame)
		}
	}
	out, _ := runLines(t, NewValidate(env, NewTheme(true)), s, "o\nyes\n")
	frameSafe(t, "validate's line mode", out)
}

// TestValidateViewCutsAHugeIssuer: a 900 KB issuer is drawn cut to
// flow.MaxShownBytes, and scrolling stays quick.
func TestValidateViewCutsAHugeIssuer(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	huge := "https://idp.example/" + strings.Repeat("a", 900<<10)
	srv := validateIdP(t, func(_ string, doc map[string]any) { doc["issuer"] = huge }, nil)
	s := validateSetup(t, env, srv.URL+flow.WellKnownPath)
	v := NewValidate(env, NewTheme(true))
	validateRun(t, v, s)
	frame := viewAt(v, 80, 24)
	start := time.Now()
	for range 20 {
		v.Update(press("down"))
		frame = v.View()
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 scroll keys took %s", d)
	}
	v.SetSize(80, 400)
	if all := v.View(); len(all) > 64<<10 || !strings.Contains(all, " bytes)") {
		t.Errorf("the view is %d bytes and does not say the issuer was cut:\n%.3000s", len(all), all)
	}
	frameSafe(t, "validate's view", frame)
}

// tlHostileSetup is a setup after a test login whose claims, profile,
// warnings (or, when failed, error text) are hostile, with a 900 KB claim.
func tlHostileSetup(ok bool) *Setup {
	s := NewSetup()
	s.Connection.Organization, s.Connection.Name = "Acme "+hostile, "OIDC "+hostile
	s.Connection.ID = "conn_hostile"
	huge := strings.Repeat("b", 900<<10)
	claims := map[string]any{"sub": hostile, "email": "ada@example.com", "given_name": hostile, "family_name": huge,
		"groups": []any{hostile, "3f2c1e8a-77d0-4b54-9bd1-5b1f0c2a9e01"}, "x" + hostile: hostile}
	p, warnings := flow.MapProfile(claims, s.Connection.Claims, s.Connection.Roles())
	s.TestLogin = &TestLoginResult{At: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), OK: ok, Profile: &p, Claims: claims,
		Warnings: append(warnings, "the claim "+hostile+" is empty")}
	if !ok {
		s.TestLogin = &TestLoginResult{At: s.TestLogin.At, Error: "the IdP says: " + hostile + "\n  sent " + hostile + "\n" + huge, Fix: "fix " + hostile}
	}
	return s
}

// TestTestLoginViewShowsHostileClaimsSafely: the profile, the claims, the
// warnings and an IdP's error text are drawn with stand-ins only, a 900 KB
// claim cut; the review and the line mode draw them the same way.
func TestTestLoginViewShowsHostileClaimsSafely(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	for _, ok := range []bool{true, false} {
		s := tlHostileSetup(ok)
		step := diagEnter(t, NewTestLogin, s)
		for _, size := range [][2]int{{80, 24}, {120, 200}, {50, 200}} {
			start := time.Now()
			frame := viewAt(step, size[0], size[1])
			frameSafe(t, "the test login's view", frame)
			if size[1] == 200 && !strings.Contains(frame, "␛") {
				t.Errorf("no stand-in for the escape sequences:\n%s", frame)
			}
			if d := time.Since(start); d > time.Second || len(frame) > 64<<10 {
				t.Errorf("drawing took %s and %d bytes", d, len(frame))
			}
		}
		var out strings.Builder
		p := NewPrompter(strings.NewReader(""), &out)
		tlPrintResult(p, s, nil, (&Env{}).words())
		frameSafe(t, "the test login's line mode", out.String())
		if out.Len() > 64<<10 {
			t.Errorf("the line mode printed %d bytes", out.Len())
		}
		review := NewReview(env, NewTheme(true))
		review.Enter(s)
		frameSafe(t, "the review's view", viewAt(review, 80, 200))
	}
}

// TestOrganizationListShowsStoredNamesSafely: names stored before names
// were checked are listed with stand-ins, in the list, the form's hint and
// the line mode.
func TestOrganizationListShowsStoredNamesSafely(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	ctx := context.Background()
	if err := env.Store.SaveConnection(ctx, &flow.Connection{Organization: "Acme " + hostile, Name: "OIDC " + hostile}); err != nil {
		t.Fatal(err)
	}
	s := NewSetup()
	s.Connection.Organization, s.Connection.Name = "Globex "+hostile, "Draft "+hostile
	form, _ := json.Marshal(s)
	if _, err := env.Store.SaveDraft(ctx, store.Draft{Organization: s.Connection.Organization, Step: StepCredentials, Form: form}); err != nil {
		t.Fatal(err)
	}
	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	frame := viewAt(step, 80, 24)
	frameSafe(t, "step 0's list", frame)
	wantIn(t, "step 0's list", frame, "Acme ␛]52;c;")
	run(t, step, press("j"), orgWait)
	run(t, step, press("j"), orgWait)
	run(t, step, press("enter"), orgWait) // New connection
	frameSafe(t, "step 0's form", viewAt(step, 80, 24))
	out, _ := runLines(t, NewOrganization(env, NewTheme(true)), NewSetup(), "")
	frameSafe(t, "step 0's line mode", out)
}

// TestOrganizationRefusesControlCharactersInNames: a name with a bidi
// override or an escape is refused with an inline error on its field, in
// the full screen and in the line mode; nothing is stored.
func TestOrganizationRefusesControlCharactersInNames(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	step, setup := orgEnterNew(t, NewOrganization, env)
	run(t, step, tea.PasteMsg{Content: "Acme\u202eproC"}, orgWait)
	run(t, step, press("enter"), orgWait) // to the name field
	run(t, step, press("enter"), orgWait)
	frame := viewAt(step, 80, 24)
	wantIn(t, "view", flat(frameText(frame)), "control character")
	frameSafe(t, "step 0's form", frame)
	if setup.Connection.ID != "" {
		t.Fatalf("a name with a bidi override was stored: %+v", setup.Connection)
	}
	out, _ := runLines(t, NewOrganization(env, NewTheme(true)), NewSetup(), "Acme\u202eproC\n\n")
	wantIn(t, "line mode", out, "control character")
	frameSafe(t, "step 0's line mode", out)
	if cs, _ := env.Store.ListConnections(context.Background(), ""); len(cs) != 0 {
		t.Errorf("stored %+v", cs)
	}
}

// frameText is a frame without the theme's styles.
func frameText(frame string) string { return sgr.ReplaceAllString(frame, "") }

// TestPastesAreCutAtTheFieldsLimit: a 1 MB paste into a name, a URL or a
// secret is cut to the field's limit, and the footer says so; a paste
// that fits says nothing.
func TestPastesAreCutAtTheFieldsLimit(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	huge := strings.Repeat("x", 1<<20)
	step, _ := orgEnterNew(t, NewOrganization, env)
	msgs := run(t, step, tea.PasteMsg{Content: huge}, orgWait)
	note, _ := orgHas[StatusMsg](msgs)
	if o := step.(*organization); len(o.fields.org.Value()) != 200 || !strings.Contains(string(note), "cut to 200 characters") {
		t.Errorf("the organization field holds %d characters after a 1 MB paste; note %q", len(o.fields.org.Value()), note)
	}
	step, _ = orgEnterNew(t, NewOrganization, env)
	if msgs := run(t, step, tea.PasteMsg{Content: "Acme"}, orgWait); len(msgs) != 0 {
		t.Errorf("a paste that fits sent %v", msgs)
	}

	c := NewCredentials(env, NewTheme(true))
	c.Enter(NewSetup())
	for i, want := range map[int]int{credClientID: 2048, credSecret: 4096, credDiscovery: 2048} {
		cr := c.(*credentials)
		cr.focus = i
		cr.focusField()
		cr.inputs[i].SetValue("")
		start := time.Now()
		msgs := run(t, c, tea.PasteMsg{Content: huge}, orgWait)
		note, _ := orgHas[StatusMsg](msgs)
		if got := len(cr.inputs[i].Value()); got != want || !strings.Contains(string(note), "cut to") {
			t.Errorf("field %d holds %d characters after a 1 MB paste, want %d; note %q", i, got, want, note)
		}
		for range 20 {
			c.Update(press("a"))
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("field %d: a paste and 20 keys took %s", i, d)
		}
	}
}
