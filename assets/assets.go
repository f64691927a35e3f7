// Package assets holds the files oidc-onboard embeds that are data, not
// code: the page the browser shows after a login's callback, the invite
// page and the identity providers' setup guides.
package assets

import (
	"embed"
	"html/template"
	"strings"
)

//go:embed callback.html invite.html page.html
var pagesFS embed.FS

// CallbackPage returns the result page the callback server shows in the
// browser. It is executed with a flow.ResultPage (OK, Title, Message); the
// authorization code is never part of it.
func CallbackPage() *template.Template {
	return template.Must(template.ParseFS(pagesFS, "callback.html", "page.html"))
}

// InvitePage returns the page `serve` shows at PUBLIC_URL/i/CODE: how to
// connect with the code. It is executed with a flow.InvitePage.
func InvitePage() *template.Template {
	return template.Must(template.ParseFS(pagesFS, "invite.html", "page.html"))
}

//go:embed help/*.txt
var helpFS embed.FS

// Help is the help text of a command, as `--help` shows it: "check" is the
// check command's description, "check.example" its examples; "" when
// there is none.
func Help(name string) string {
	b, err := helpFS.ReadFile("help/" + name + ".txt")
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
