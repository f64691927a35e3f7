package sshserve

import (
	"context"

	"github.com/oidc-onboard/oidc-onboard/steps"
)

// invites lets a support engineer's session (public key, every
// organization) make invites; a customer's session never may.
func (s *Server) invites(id identity) *steps.InviteSettings {
	if id.organization != "" {
		return nil
	}
	return &steps.InviteSettings{SSHHost: s.opts.SSHHost}
}

// leaveNote is what a customer reads as they leave while their invite is
// still open: their draft waits for them until it expires. It is "" for
// engineers, for an invite no longer open (a setup activated closes it),
// and when the store cannot tell.
func (s *Server) leaveNote(ctx context.Context, id identity) string {
	if id.invite == "" {
		return ""
	}
	invites, err := s.opts.Store.ListInvites(ctx, id.organization)
	if err != nil {
		return ""
	}
	for _, inv := range invites {
		if inv.ID == id.invite && inv.Status(s.opts.Now()) == "open" {
			return steps.LeaveNote(inv.ExpiresAt)
		}
	}
	return ""
}
