package steps

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// Group labels name opaque group IDs (Entra sends group Object IDs) for
// people: "3f2c1e8a-… (Finance admins)". They live in the store, per
// connection; steps 5, 6 and 7 load them on Enter and show them wherever a
// group appears.

// glLoadedMsg carries a connection's group labels after a load or a
// change. Every step showing groups takes it when it is for the
// connection it shows, so a label given in one step shows in all.
type glLoadedMsg struct {
	connID string
	labels map[string]string
	err    error
}

// glLabels keeps the labels a step has loaded for its connection.
type glLabels struct {
	connID string
	labels map[string]string
	err    error
}

// take keeps msg's labels when they are for connID.
func (g *glLabels) take(msg glLoadedMsg, connID string) {
	if msg.connID == "" || msg.connID != connID {
		return
	}
	g.connID, g.err = msg.connID, msg.err
	if msg.err == nil {
		g.labels = msg.labels
	}
}

// of is the labels for connID; nil when they are another connection's.
func (g *glLabels) of(connID string) map[string]string {
	if g.connID != connID {
		return nil
	}
	return g.labels
}

// glLoad reads the connection's labels in a command; nil without a store
// or a connection.
func glLoad(env *Env, connID string) tea.Cmd {
	if env == nil || env.Store == nil || connID == "" {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := env.readCtx(10 * time.Second)
		defer cancel()
		labels, err := env.Store.GroupLabels(ctx, connID)
		return glLoadedMsg{connID: connID, labels: labels, err: err}
	}
}

// glRead reads the connection's labels at once, for the line mode; nil
// without a store or when they cannot be read (they only decorate).
func glRead(ctx context.Context, env *Env, connID string) map[string]string {
	if env == nil || env.Store == nil || connID == "" {
		return nil
	}
	labels, err := env.Store.GroupLabels(ctx, connID)
	if err != nil {
		return nil
	}
	return labels
}

// glSave stores a label (empty removes it) in a command, then reloads the
// labels for every step.
func glSave(env *Env, connID, groupID, label string) tea.Cmd {
	if env == nil || env.Store == nil || connID == "" {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := env.writeCtx(10 * time.Second)
		defer cancel()
		if err := env.Store.SetGroupLabel(ctx, connID, groupID, label); err != nil {
			return glLoadedMsg{connID: connID, err: err}
		}
		labels, err := env.Store.GroupLabels(ctx, connID)
		return glLoadedMsg{connID: connID, labels: labels, err: err}
	}
}

// glName is a group with its label: "3f2c1e8a-… (Finance admins)" in full,
// or the group alone when it has none.
func glName(labels map[string]string, group string) string {
	if l := labels[group]; l != "" {
		return group + " (" + l + ")"
	}
	return group
}

// glFit is glName in at most width cells: the ID is cut first, so the
// label stays readable; the label is cut only when even a short ID and it
// do not fit.
func glFit(labels map[string]string, group string, width int) string {
	width = max(width, 1)
	// The group ID comes from the claims, the label from a person: both
	// are shown through flow.Display.
	l := flow.Display(labels[group])
	group = flow.Display(group)
	full := glName(map[string]string{group: l}, group)
	if ansi.StringWidth(full) <= width {
		return full
	}
	if l == "" {
		return ansi.Truncate(group, width, "…")
	}
	const minID = 5 // "3f2c…": enough to tell IDs apart at a glance
	suffix := " (" + l + ")"
	idW := width - ansi.StringWidth(suffix)
	if idW < minID {
		idW = min(minID, width)
		suffix = " (" + ansi.Truncate(l, max(width-idW-3, 1), "…") + ")"
	}
	return ansi.Truncate(ansi.Truncate(group, idW, "…")+suffix, width, "…")
}

// glGUIDGroups are the group IDs the last test login showed as GUIDs
// (the GUID-groups finding's values); nil without one.
func glGUIDGroups(s *Setup) []string {
	for _, f := range diagOnly(diagClaims(s), flow.FindingGroupGUIDs) {
		return f.Values
	}
	return nil
}
