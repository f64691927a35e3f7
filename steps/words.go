package steps

import (
	"fmt"
	"strings"
	"time"
)

// words are the sentences of the steps that depend on who reads them:
// the vendor's support engineer (or the local user), who relays to the
// organization's admin, or the customer over SSH with an invite, who IS
// that admin. Every such sentence comes from here, for both the full
// screen and the line mode, rather than from an if in each view.
type words struct {
	// welcome is step 0's introduction.
	welcome string
	// nameForm heads step 0's form for a new connection.
	nameForm string
	// redirect is step 1's instruction for the Redirect URI.
	redirect string
	// credentials introduces step 2's form.
	credentials string
	// mayAdd says who may need to add a claim to the IdP's tokens, with
	// %s for what ("it", "them", "a groups claim to the ID token").
	mayAdd string
	// applyFixes is what to do about failed checks on the IdP's side.
	applyFixes string
	// askSend is the last resort for a missing claim, with %q for it.
	askSend string
	// testLater says, with %s for the connection's ID, how a connection
	// saved untested is tested later.
	testLater string
	// doneTitle heads the last screen; next is what happens then, as
	// lines, %s being the connection's ID.
	doneTitle string
	next      []string
	// toAdmin rewrites the fixes of checks and findings, written for
	// someone who relays them ("ask the IdP admin to enable …"), for the
	// admin themself; nil keeps them as written.
	toAdmin *strings.Replacer
}

// addressed is a fix as the person at the keyboard should read it.
func (w words) addressed(fix string) string {
	if w.toAdmin == nil {
		return fix
	}
	return w.toAdmin.Replace(fix)
}

// words are the sentences for the person at this session's keyboard.
func (e *Env) words() words {
	if e != nil && e.Customer { // a step made without an Env (in tests) speaks to the engineer
		return words{
			welcome: "This wizard sets up single sign-on (OpenID Connect, OIDC) between your identity provider " +
				"and the vendor's application. You'll need your OIDC application's Client ID, Client Secret " +
				"and Discovery Endpoint; the next steps show you where to find each.",
			nameForm:    "Name this SSO connection for your organization.",
			redirect:    "Paste this Redirect URI into your OIDC application as its login redirect URI (authorization code grant):",
			credentials: "Paste your OIDC application's Client ID, Client Secret and Discovery Endpoint.",
			mayAdd:      "you may need to add %s in your IdP",
			applyFixes:  "apply the fixes in your IdP",
			askSend:     "or have your IdP send %q",
			testLater:   "the vendor's team can test it later",
			doneTitle:   "The setup is done.",
			next: []string{"The vendor's team has been told: there is nothing else for you to do.",
				"Your users can sign in with single sign-on once the vendor turns it on for your organization."},
			toAdmin: strings.NewReplacer("ask the IdP admin to ", "in your IdP, ", "ask the IdP admin for ", "look up in your IdP ",
				"the IdP admin may need to ", "you may need to "),
		}
	}
	return words{
		welcome: "This wizard sets up an OpenID Connect (OIDC) SSO connection for an organization. " +
			"You'll need the Client ID, Client Secret and Discovery Endpoint of their OIDC provider " +
			"from the organization's IT team; the next steps show them where to find each.",
		nameForm: "Name the customer's organization and this SSO connection.",
		redirect: "Have the organization's admin paste this Redirect URI as the login redirect URI " +
			"of their OIDC application (authorization code grant):",
		credentials: "Paste the Client ID, Client Secret and Discovery Endpoint the organization's IT team sent you.",
		mayAdd:      "the IdP admin may need to add %s",
		applyFixes:  "ask the IdP admin to apply the fixes",
		askSend:     "or ask the IdP admin to send %q",
		testLater:   "test it later with oidc-onboard login --connection %s",
		doneTitle:   "What happens next",
		next: []string{"Hand the connection to the application:", "  oidc-onboard connections export %s",
			"Test it again at any time:", "  oidc-onboard login --connection %s"},
	}
}

// nextLines is what happens after the connection with the given ID is
// active, as lines.
func (w words) nextLines(id string) []string {
	out := make([]string, len(w.next))
	for i, l := range w.next {
		if strings.Contains(l, "%s") {
			l = fmt.Sprintf(l, id)
		}
		out[i] = l
	}
	return out
}

// laterTest is how a connection saved untested is tested later.
func (w words) laterTest(id string) string {
	if strings.Contains(w.testLater, "%s") {
		return fmt.Sprintf(w.testLater, id)
	}
	return w.testLater
}

// LeaveNote is what a customer reads as they leave with their invite
// still open: their draft waits for them until the invite expires.
func LeaveNote(expires time.Time) string {
	return "Your draft is saved; connect again with the same code until " +
		expires.UTC().Format("Mon 2 Jan 2006 15:04 MST") + "."
}
