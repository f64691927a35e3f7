package assets

import (
	"embed"
	"slices"
	"strings"
	"sync"
)

//go:embed guides/*.md
var guidesFS embed.FS

// RedirectURIPlaceholder is what a guide says where the connection's
// Redirect URI goes; GuideMarkdown replaces it.
const RedirectURIPlaceholder = "{{RedirectURI}}"

// GenericGuide is the ID of the guide for any OpenID Connect provider.
const GenericGuide = "generic"

// Guide names one identity provider's setup guide.
type Guide struct {
	// ID is the guide's file name without ".md", e.g. "okta".
	ID string
	// Name is the provider's name, from the guide's heading.
	Name string
}

// guideIDs is the order in which the wizard offers the guides: the most
// common providers first, the generic guide last.
func guideIDs() []string {
	return []string{"okta", "entra", "google", "auth0", "keycloak", "onelogin", "jumpcloud", "ping",
		"cognito", "adfs", GenericGuide}
}

// Guides lists the provider guides in the order the wizard offers them.
// Their names are read from the guides once: each session's Redirect URI
// step lists them, and reading the guides copies every one.
func Guides() []Guide { return slices.Clone(guides()) }

var guides = sync.OnceValue(func() []Guide {
	ids := guideIDs()
	out := make([]Guide, 0, len(ids))
	for _, id := range ids {
		md, _ := guidesFS.ReadFile("guides/" + id + ".md")
		out = append(out, Guide{ID: id, Name: guideName(string(md), id)})
	}
	return out
})

// guideName is the text of the guide's first "# " heading, as a string of
// its own (a slice of md would keep the whole guide alive with it).
func guideName(md, id string) string {
	for line := range strings.Lines(md) {
		if name, ok := strings.CutPrefix(line, "# "); ok {
			return strings.Clone(strings.TrimSpace(name))
		}
	}
	return id
}

// GuideMarkdown returns the guide of provider id ("" means the generic one)
// as Markdown, with the connection's Redirect URI in place of the
// placeholder. ok is false for an unknown id.
func GuideMarkdown(id, redirectURI string) (markdown string, ok bool) {
	if id == "" {
		id = GenericGuide
	}
	if strings.ContainsAny(id, "/.\\") {
		return "", false
	}
	md, err := guidesFS.ReadFile("guides/" + id + ".md")
	if err != nil {
		return "", false
	}
	if redirectURI == "" {
		redirectURI = "(the connection's Redirect URI)"
	}
	return strings.ReplaceAll(string(md), RedirectURIPlaceholder, redirectURI), true
}
