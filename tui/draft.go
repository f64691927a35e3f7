package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oidc-onboard/oidc-onboard/steps"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// saveDelay gathers a burst of keystrokes into one draft save: typing
// loses at most this much of itself to a crash (a session that ends, or
// moves on to another step, saves at once). Over SSH, each save is a
// marshalled setup and a write for each of hundreds of sessions: at
// 200 ms a person typing a field saved on nearly every key.
const saveDelay = time.Second

// draftTimeout bounds one draft write or delete.
const draftTimeout = 10 * time.Second

// Draft keeps the setup stored as a draft: one save in flight at a time,
// a burst of changes gathered into one save. The shell tells it when the
// setup may have changed (Touch); it reads the setup only when it saves,
// so an idle session costs nothing.
type Draft struct {
	env *steps.Env

	// rev counts the changes the shell reported; stored is the revision
	// last stored (or found equal to what is stored).
	rev, stored uint64
	// form is the setup's JSON as last stored.
	form []byte

	saving bool // a save is in flight
	queued bool // a save is scheduled
	err    error
	failed uint64 // the revision whose save failed: not retried until it changes
}

type (
	saveTickMsg struct{}
	draftSaved  struct {
		draft store.Draft
		form  []byte
		rev   uint64
		err   error
	}
)

func newDraft(env *steps.Env) *Draft { return &Draft{env: env} }

// Touch records that the setup may have changed.
func (d *Draft) Touch() { d.rev++ }

// Saving reports whether a save is in flight.
func (d *Draft) Saving() bool { return d.saving }

// Err is the last save's error, nil once a save succeeds.
func (d *Draft) Err() error { return d.err }

// Unsaved reports whether s holds input the store does not have.
func (d *Draft) Unsaved(s *steps.Setup) bool {
	if s.Connection.Organization == "" {
		return false // nothing entered yet worth keeping
	}
	if d.err != nil {
		return true
	}
	if d.rev == d.stored {
		return false
	}
	form, err := json.Marshal(s)
	return err != nil || !bytes.Equal(form, d.form)
}

// Settled reports whether nothing is left to do: no save in flight, and
// the setup stored, or its save failed (a host closing the session stops
// waiting then).
func (d *Draft) Settled(s *steps.Setup) bool {
	return !d.saving && (d.err != nil || !d.Unsaved(s))
}

// schedule arranges a save shortly after a change.
func (d *Draft) schedule(s *steps.Setup) tea.Cmd {
	if d.queued || d.saving || d.rev == d.stored || s.Connection.Organization == "" {
		return nil
	}
	if d.err != nil && d.rev == d.failed {
		return nil // retried on the next change, not in a loop
	}
	d.queued = true
	return tea.Tick(saveDelay, func(time.Time) tea.Msg { return saveTickMsg{} })
}

// resumed takes s as the setup from now on: as stored when it is a draft
// just read from the store, as new work otherwise (a fresh setup after
// the review's "set up another").
func (d *Draft) resumed(s *steps.Setup) {
	d.rev++
	d.form = nil
	if s.DraftID != "" {
		d.form, _ = json.Marshal(s)
		d.stored = d.rev
	}
}

// Save stores s now, unless a save is in flight (its completion saves
// again when needed) or there is nothing to keep yet.
func (d *Draft) Save(s *steps.Setup) tea.Cmd {
	d.queued = false
	if d.saving || d.env.Store == nil || s.Connection.Organization == "" {
		return nil
	}
	if d.rev == d.stored && d.err == nil {
		return nil
	}
	form, err := json.Marshal(s)
	if err != nil {
		d.err, d.failed = err, d.rev
		return nil
	}
	if bytes.Equal(form, d.form) && d.err == nil {
		d.stored = d.rev // changed back, or not changed at all
		return nil
	}
	d.saving = true
	draft, st, rev, ctx, log, recheck := draftOf(d.env, s, form), d.env.Store, d.rev, d.env.Context, d.env.Logger(), d.env.Recheck
	return func() tea.Msg {
		// A draft is saved even as the session ends: that is when it
		// matters most.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), draftTimeout)
		defer cancel()
		saved, err := st.SaveDraft(ctx, draft)
		if err != nil {
			log.Warn("draft not saved", "draft", draft.ID, "connection", draft.ConnectionID, "error", err.Error())
		} else if recheck != nil {
			recheck(ctx)
		}
		return draftSaved{draft: saved, form: form, rev: rev, err: err}
	}
}

// saved takes a save's outcome for s.
func (d *Draft) saved(msg draftSaved, s *steps.Setup) {
	d.saving = false
	d.err = msg.err
	if msg.err != nil {
		d.failed = msg.rev
		return
	}
	// Step 0 may have replaced the setup while the save was in flight: the
	// draft's ID belongs only to the connection it was saved for.
	if msg.draft.ConnectionID != store.NormalizeID(s.Connection.ID) {
		return
	}
	d.form, d.stored = msg.form, msg.rev
	if s.DraftID == "" {
		s.DraftID = msg.draft.ID
	}
}

// delete removes the stored draft of s.
func (d *Draft) delete(s *steps.Setup) tea.Cmd {
	id, st, ctx, log := s.DraftID, d.env.Store, d.env.Context, d.env.Logger()
	if id == "" || st == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), draftTimeout)
		defer cancel()
		if err := st.DeleteDraft(ctx, id); err != nil {
			log.Warn("draft not deleted", "draft", id, "error", err.Error())
		}
		return nil
	}
}

// draftOf is the store's draft of a setup whose JSON is form.
func draftOf(env *steps.Env, s *steps.Setup, form []byte) store.Draft {
	return store.Draft{ID: s.DraftID, Organization: s.Connection.Organization,
		ConnectionID: s.Connection.ID, Step: s.Step, Form: form, Actor: env.Actor}
}
