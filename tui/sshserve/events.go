package sshserve

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"charm.land/ssh"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/steps"
)

// Event is something in a customer's session an engineer cares about,
// sent to them without their asking: to `events` streams and as a notice
// in their own wizard sessions.
type Event struct {
	At           time.Time `json:"at"`
	Session      string    `json:"session"`
	Organization string    `json:"organization"`
	Who          string    `json:"who"`
	// Kind is one of the Event* constants.
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Event kinds.
const (
	EventValidationFailed = "validation.failed"
	EventTestLoginReached = "test_login.reached"
	EventTestLoginFailed  = "test_login.failed"
	EventConnectionActive = "connection.active"
	EventLeftWithDraft    = "session.left_with_draft"
)

// eventBuffer is how many events a slow `events` reader may lag behind
// before it misses some (the sessions never wait for it).
const eventBuffer = 64

// seen is what a session's program last reported, to tell what changed.
type seen struct {
	report *flow.Report
	login  *steps.TestLoginResult
	step   int
	active bool
	draft  bool
}

// seenOf is what s shows now, at step.
func seenOf(step int, s *steps.Setup) seen {
	return seen{report: s.Report, login: s.TestLogin, step: step,
		active: s.Connection.Status == flow.StatusActive, draft: s.DraftID != ""}
}

// changes are the events between what was seen before and now: a
// validation that failed, the test login reached, a test login that
// failed, the connection activated.
func changes(before, now seen) (kinds, details []string) {
	add := func(k, d string) { kinds, details = append(kinds, k), append(details, d) }
	if now.report != before.report && now.report != nil && failing(now.report) {
		add(EventValidationFailed, validationState(now.report))
	}
	if now.step != before.step && now.step == steps.StepTestLogin {
		add(EventTestLoginReached, "")
	}
	if now.login != before.login && now.login != nil && !now.login.OK {
		add(EventTestLoginFailed, testLoginState(now.login))
	}
	if now.active && !before.active {
		add(EventConnectionActive, "")
	}
	return kinds, details
}

// failing reports whether a check of r failed.
func failing(r *flow.Report) bool {
	return slices.ContainsFunc(r.Checks, func(c flow.Check) bool { return c.Status == flow.Fail })
}

// text is the event as one line for a person.
func (e Event) text() string {
	what := map[string]string{
		EventValidationFailed: "validation failed",
		EventTestLoginReached: "reached the test login",
		EventTestLoginFailed:  "test login failed",
		EventConnectionActive: "the connection is active",
		EventLeftWithDraft:    "left with a draft",
	}[e.Kind]
	if e.Detail != "" {
		what += ": " + e.Detail
	}
	return flow.Display(fmt.Sprintf("%s (%s, session %s) %s", e.Organization, e.Who, e.Session, what))
}

// emit sends an event of ls to every `events` stream and every engineer's
// wizard session, of this instance and the others, without waiting for
// any.
func (s *Server) emit(ls *liveSession, kind, detail string) {
	e := Event{At: s.opts.Now(), Session: ls.id, Organization: ls.who.organization, Who: ls.who.who(), Kind: kind, Detail: detail}
	s.deliver(e)
	s.cluster.share(e)
}

// deliver sends e to this instance's `events` streams and engineers'
// wizard sessions, without waiting for any.
func (s *Server) deliver(e Event) {
	s.mu.Lock()
	for ch := range s.streams {
		select {
		case ch <- e:
		default: // a reader too slow misses it
		}
	}
	s.mu.Unlock()
	for _, o := range s.live() {
		if o.who.invite == "" {
			o.send(noticeMsg{text: e.text()})
		}
	}
}

// streamEvents answers `events [--json]`: one line per event (a JSON
// object per line with --json) until the engineer disconnects.
func (s *Server) streamEvents(sess ssh.Session, args []string) {
	ch := make(chan Event, eventBuffer)
	s.mu.Lock()
	s.streams[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, ch)
		s.mu.Unlock()
	}()
	asJSON := slices.Contains(args, "--json")
	enc := json.NewEncoder(sess)
	for {
		select {
		case <-sess.Context().Done():
			return
		case e := <-ch:
			var err error
			if asJSON {
				err = enc.Encode(e)
			} else {
				_, err = fmt.Fprintf(sess, "%s  %s\r\n", e.At.UTC().Format(time.TimeOnly), e.text())
			}
			if err != nil {
				return
			}
		}
	}
}
