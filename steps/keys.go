package steps

import "charm.land/bubbles/v2/key"

// The wizard's keys, in one place: the shell's global keys and each
// step's, built with one constructor, so that a key means the same thing
// wherever it is bound (enter continues, esc leaves a field or goes back,
// ↑/↓ move or scroll) and the help line reads the same on every step.

// bind is a key binding shown in the help line as help and desc.
func bind(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Bindings every step that shows them shares.
func continueKey() key.Binding { return bind("enter", "continue", "enter") }
func scrollKey() key.Binding   { return bind("↑/↓", "scroll", "up", "down", "pgup", "pgdown") }
func moveKey() key.Binding     { return bind("↑/↓", "move", "up", "down", "tab", "shift+tab") }
func retryKey() key.Binding    { return bind("enter", "try again", "enter", "r") }

// yesKey and noKey answer a yes/no question (esc says no); desc says what
// the answer does.
func yesKey(desc string) key.Binding { return bind("y", desc, "y", "Y") }
func noKey(desc string) key.Binding  { return bind("n", desc, "n", "N", "esc") }

// ShellKeys are the shell's global keys; each step adds its own.
type ShellKeys struct {
	Quit, QuitAlias, Back, Help key.Binding
	// Confirm and Deny answer the question whether to quit with unsaved
	// changes.
	Confirm, Deny key.Binding
}

// NewShellKeys are the shell's global keys.
func NewShellKeys() ShellKeys {
	return ShellKeys{
		Quit:      bind("ctrl+c", "quit", "ctrl+c"),
		QuitAlias: bind("q", "quit", "q"),
		Back:      bind("esc", "back", "esc"),
		Help:      bind("?", "more keys", "?"),
		Confirm:   yesKey("quit anyway"),
		Deny:      noKey("stay"),
	}
}

// orgKeys are step 0's: the start list and the new connection's form.
type orgKeys struct {
	up, down, choose, submit, next, prev, cancel key.Binding
	move                                         key.Binding // next and prev as one entry of the help line
}

func newOrgKeys() orgKeys {
	return orgKeys{
		up:     bind("↑/k", "up", "up", "k"),
		down:   bind("↓/j", "down", "down", "j"),
		choose: bind("enter", "choose", "enter"),
		submit: bind("enter", "next/create", "enter"),
		move:   bind("tab/shift+tab", "field", "tab", "shift+tab"),
		next:   bind("tab", "next field", "tab"),
		prev:   bind("shift+tab", "previous field", "shift+tab"),
		cancel: bind("esc", "list", "esc"),
	}
}

// inviteKeys are step 0's invite form's and result's.
type inviteKeys struct{ open, copy, aloud, done key.Binding }

func newInviteKeys() inviteKeys {
	return inviteKeys{
		open:  bind("i", "invite a customer", "i"),
		copy:  bind("c", "copy the command", "c"),
		aloud: bind("a", "read the code aloud", "a"),
		done:  bind("enter/esc", "back to the list", "enter", "esc"),
	}
}

// redirectKeys are step 1's: the guide and the provider picker.
type redirectKeys struct {
	copyKey, provider, scrollUp, scrollDown, pageUp, pageDown, done key.Binding
	aloud                                                           key.Binding // the URI in chunks, its random part spelt
	switchURI                                                       key.Binding // use this wizard's callback address
	choose                                                          key.Binding // record the guide being read as the provider
	scroll                                                          key.Binding // the four scroll keys as one help entry
	pickUp, pickDown, pickChoose, pickCancel                        key.Binding
}

func newRedirectKeys() redirectKeys {
	return redirectKeys{
		copyKey:    bind("c", "copy", "c"),
		aloud:      bind("a", "read aloud", "a"),
		provider:   bind("p", "provider", "p"),
		switchURI:  bind("u", "use this URI", "u"),
		choose:     bind("s", "set as provider", "s"),
		scrollUp:   bind("↑", "scroll", "up", "k"),
		scrollDown: bind("↓", "scroll", "down", "j"),
		pageUp:     bind("pgup", "page up", "pgup", "b"),
		pageDown:   bind("pgdn", "page down", "pgdown", "f", "space"),
		done:       bind("enter", "next", "enter"),
		scroll:     bind("↑↓", "scroll", "up", "k", "down", "j", "pgup", "b", "pgdown", "f", "space"),
		pickUp:     bind("↑/k", "up", "up", "k"),
		pickDown:   bind("↓/j", "down", "down", "j"),
		pickChoose: bind("enter", "choose", "enter"),
		pickCancel: bind("esc", "close", "esc"),
	}
}

// credKeys are step 2's.
type credKeys struct {
	next, prev, submit, reveal key.Binding
	move                       key.Binding // next and prev as one entry of the help line
	// handoff asks the customer to paste the secret over SSH; askSecret,
	// askAll and askCancel answer what to ask for.
	handoff, askSecret, askAll, askCancel key.Binding
}

func newCredKeys() credKeys {
	return credKeys{
		next:   bind("tab/↓", "next field", "tab", "down"),
		prev:   bind("shift+tab/↑", "previous", "shift+tab", "up"),
		move:   bind("tab/↑↓", "field", "tab", "down", "shift+tab", "up"),
		submit: bind("enter", "next/continue", "enter"),
		reveal: bind("ctrl+r", "show secret", "ctrl+r"),
		// ctrl+g: free in the text fields (bubbles' textinput binds
		// neither it nor ctrl+r), and not a terminal's flow control.
		handoff:   bind("ctrl+g", "ask the customer", "ctrl+g"),
		askSecret: bind("s", "secret only", "s", "S"),
		askAll:    bind("a", "all three", "a", "A"),
		askCancel: bind("esc", "cancel", "esc"),
	}
}

// validateKeys are step 3's.
type validateKeys struct {
	Rerun, Continue, Override, Confirm, Deny, Scroll key.Binding
	// Edit opens the Discovery Endpoint in step 2 with the suggested
	// address filled in, when the fix of a failed check is there.
	Edit key.Binding
	// Details shows passed checks' whole details instead of one line each.
	Details key.Binding
}

func newValidateKeys() validateKeys {
	return validateKeys{
		Rerun:    bind("r", "check again", "r"),
		Continue: continueKey(),
		Override: bind("o", "go on anyway", "o"),
		Edit:     bind("e", "edit the URL", "e"),
		Details:  bind("d", "details", "d"),
		Confirm:  yesKey("yes, go on"),
		Deny:     noKey("no"),
		Scroll:   scrollKey(),
	}
}

// claimsKeys are step 4's.
type claimsKeys struct {
	Move, Edit, Continue, Defaults key.Binding
	Next, Done, Accept, Cycle      key.Binding
	// EditContinue is enter on the continue row.
	EditContinue key.Binding
}

func newClaimsKeys() claimsKeys {
	return claimsKeys{
		Move:         moveKey(),
		Edit:         bind("enter", "edit", "enter"),
		Continue:     bind("c", "continue", "c"),
		Defaults:     bind("d", "defaults", "d"),
		Next:         bind("enter", "next", "enter"),
		Done:         bind("esc", "done", "esc"),
		Accept:       bind("tab", "accept suggestion", "tab"),
		Cycle:        bind("ctrl+n/p", "other suggestions", "ctrl+n", "ctrl+p"),
		EditContinue: continueKey(),
	}
}

// rolesKeys are step 5's.
type rolesKeys struct {
	Move, Edit, Add, Delete, Undo, Label, Skip, Continue key.Binding
	Done, Next, Switch, Cancel, SaveLabel                key.Binding
	// SaveMapping is enter on a mapping's role; EditContinue enter on the
	// continue row.
	SaveMapping, EditContinue key.Binding
}

func newRolesKeys() rolesKeys {
	return rolesKeys{
		Move:         moveKey(),
		Edit:         bind("enter", "edit", "enter"),
		Add:          bind("a", "add mapping", "a"),
		Delete:       bind("x", "delete", "x", "delete"),
		Undo:         bind("u", "undo delete", "u"),
		Label:        bind("l", "label group", "l"),
		Skip:         bind("s", "skip step", "s"),
		Continue:     bind("c", "continue", "c"),
		Done:         bind("enter", "done", "enter", "esc"),
		Next:         bind("enter", "next", "enter"),
		Switch:       bind("tab", "group/role", "tab", "shift+tab"),
		Cancel:       bind("esc", "cancel", "esc"),
		SaveLabel:    bind("enter", "save label", "enter"),
		SaveMapping:  bind("enter", "save mapping", "enter"),
		EditContinue: continueKey(),
	}
}

// tlKeys are step 6's.
type tlKeys struct {
	start, cont, again, retry, skip      key.Binding
	cancel, copy, paste, submit, unfocus key.Binding
	scroll                               key.Binding
	toRedirect, toCreds, toClaims        key.Binding
	toRoles                              key.Binding
	label, saveLabel, stopLabel          key.Binding
}

func newTLKeys() tlKeys {
	return tlKeys{
		start:      bind("enter", "start test login", "enter"),
		cont:       continueKey(),
		again:      bind("r", "test again", "r"),
		retry:      retryKey(),
		skip:       bind("s", "skip (save untested)", "s"),
		cancel:     bind("x", "cancel", "x", "esc"),
		copy:       bind("c", "copy URL", "c"),
		paste:      bind("p", "paste address", "p"),
		submit:     bind("enter", "use address", "enter"),
		unfocus:    bind("esc", "close field", "esc"),
		scroll:     scrollKey(),
		toRedirect: bind("1", "redirect URI", "1"),
		toCreds:    bind("2", "credentials", "2"),
		toClaims:   bind("4", "claims", "4"),
		toRoles:    bind("5", "roles", "5"),
		label:      bind("l", "label groups", "l"),
		saveLabel:  bind("enter", "save label, next", "enter"),
		stopLabel:  bind("esc", "stop labelling", "esc"),
	}
}

// rvKeys are step 7's.
type rvKeys struct {
	save, yes, no, retry, another, scroll key.Binding
	// override activates a connection whose mapped profile fails.
	override key.Binding
}

func newReviewKeys() rvKeys {
	return rvKeys{
		save:    bind("enter", "save and activate", "enter", "s"),
		yes:     yesKey("activate anyway"),
		no:      noKey("not now"),
		retry:   retryKey(),
		another: bind("n", "set up another connection", "n"),
		scroll:  scrollKey(),
		// Not y: activating a profile that fails is a deliberate override.
		override: bind("o", "override: activate with the profile failing", "o"),
	}
}
