package assets

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func TestGuidesListEveryEmbeddedGuideOnceGenericLast(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(guidesFS, "guides/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var embedded []string
	for _, f := range files {
		embedded = append(embedded, strings.TrimSuffix(strings.TrimPrefix(f, "guides/"), ".md"))
	}
	guides := Guides()
	var listed []string
	for _, g := range guides {
		listed = append(listed, g.ID)
		if g.Name == "" || g.Name == g.ID {
			t.Errorf("guide %s has no name from its heading: %q", g.ID, g.Name)
		}
	}
	slices.Sort(embedded)
	sorted := slices.Sorted(slices.Values(listed))
	if !slices.Equal(sorted, embedded) {
		t.Fatalf("listed %v, embedded %v", sorted, embedded)
	}
	if last := guides[len(guides)-1]; last.ID != GenericGuide {
		t.Errorf("last guide is %s, want the generic one", last.ID)
	}
	for _, want := range []string{"Okta", "Microsoft Entra ID", "Google Workspace", "Auth0", "Keycloak",
		"OneLogin", "JumpCloud", "PingOne", "Cognito", "AD FS", "Generic"} {
		if !slices.ContainsFunc(guides, func(g Guide) bool { return strings.Contains(g.Name, want) }) {
			t.Errorf("no guide for %s", want)
		}
	}
}

func TestGuideMarkdownPutsTheRedirectURIInEveryGuide(t *testing.T) {
	t.Parallel()
	const uri = "https://sso.example.test/callback/conn_abc123"
	for _, g := range Guides() {
		md, ok := GuideMarkdown(g.ID, uri)
		if !ok {
			t.Fatalf("guide %s not found", g.ID)
		}
		if strings.Contains(md, "{{") {
			t.Errorf("guide %s keeps a placeholder", g.ID)
		}
		if !strings.Contains(md, uri) {
			t.Errorf("guide %s does not show the Redirect URI", g.ID)
		}
		for _, words := range []string{"client", "secret", "discovery", "groups"} {
			if !strings.Contains(strings.ToLower(md), words) {
				t.Errorf("guide %s does not mention the %s", g.ID, words)
			}
		}
	}
}

func TestGuideMarkdownDefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	generic, ok := GuideMarkdown("", "")
	if !ok || !strings.HasPrefix(generic, "# Generic") {
		t.Fatalf(`GuideMarkdown("") = %.40q, %v; want the generic guide`, generic, ok)
	}
	if strings.Contains(generic, RedirectURIPlaceholder) {
		t.Error("an empty Redirect URI left the placeholder in the guide")
	}
	for _, id := range []string{"nope", "../assets", "guides/okta", "okta.md"} {
		if _, ok := GuideMarkdown(id, "x"); ok {
			t.Errorf("GuideMarkdown(%q) found a guide", id)
		}
	}
}

// Guides is read once, and each caller gets a list of its own: a step
// that reorders or renames its copy changes no other session's.
func TestGuidesGivesEachCallerItsOwnList(t *testing.T) {
	a := Guides()
	want := a[0]
	a[0] = Guide{ID: "changed", Name: "Changed"}
	if b := Guides(); b[0] != want {
		t.Errorf("a caller's change to its list reached the next caller: %+v", b[0])
	}
	if n := testing.AllocsPerRun(10, func() { _ = Guides() }); n > 1 {
		t.Errorf("Guides allocates %.0f times a call: the guides are read again", n)
	}
}
