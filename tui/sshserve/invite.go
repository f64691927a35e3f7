package sshserve

import (
	"context"
	"net/http"
	"net/url"

	gossh "golang.org/x/crypto/ssh"

	"github.com/oidc-onboard/oidc-onboard/assets"
	"github.com/oidc-onboard/oidc-onboard/flow"
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

// invitePages is the invite page at PUBLIC_URL/i/CODE, served beside the
// callbacks: how to reach this server with the code, and its host key.
func (s *Server) invitePages() map[string]http.Handler {
	base, _ := url.Parse(s.opts.PublicURL) // checked by NewServer
	prefix := base.Path + "/i/"
	fingerprint := gossh.FingerprintSHA256(s.opts.HostKey.PublicKey())
	return map[string]http.Handler{prefix: flow.InvitePageHandler(assets.InvitePage(), prefix, s.opts.SSHHost, fingerprint)}
}
