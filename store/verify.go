package store

import (
	"context"

	"github.com/oidc-onboard/oidc-onboard/flow"
)

// VerifyConnections is the drift watch (`oidc-onboard verify`): it checks
// the connection id, or every active one when id is empty, against its
// baseline (DriftBaseline) with check, and records each result as a
// "connection.verify" audit event by who. check is flow.Verify, given by
// the caller so that the store makes no network calls.
func (s *Store) VerifyConnections(ctx context.Context, id string, who Event,
	check func(ctx context.Context, c *flow.Connection, baseline string, snap *Validation) flow.VerifyResult) (flow.VerifyReport, error) {
	conns, err := s.ConnectionsToVerify(ctx, id)
	if err != nil {
		return flow.VerifyReport{}, err
	}
	out := flow.VerifyReport{OK: true, CheckedAt: s.now().UTC(), Connections: []flow.VerifyResult{}}
	for _, c := range conns {
		snap, baseline, err := s.DriftBaseline(ctx, c.ID)
		if err != nil {
			return out, err
		}
		r := check(ctx, c, baseline, snap)
		e := who
		e.Action, e.ConnectionID, e.Organization, e.Detail = "connection.verify", c.ID, c.Organization, r.AuditDetail()
		if err := s.Audit(ctx, e); err != nil {
			return out, err
		}
		out.OK = out.OK && r.OK
		out.Connections = append(out.Connections, r)
	}
	return out, nil
}
