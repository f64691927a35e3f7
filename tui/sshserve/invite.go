package sshserve

import "github.com/oidc-onboard/oidc-onboard/steps"

// invites lets a support engineer's session (public key, every
// organization) make invites; a customer's session never may.
func (s *Server) invites(id identity) *steps.InviteSettings {
	if id.organization != "" {
		return nil
	}
	return &steps.InviteSettings{SSHHost: s.opts.SSHHost}
}
