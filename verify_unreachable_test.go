package main

import (
	"context"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/flow/testidp"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// TestVerifyUnreachableIsNotChanged: an IdP that cannot be reached is
// reported as unreachable, not as changed, in the text, the JSON and the
// audit log; verify still exits 1, since logins through it would fail.
func TestVerifyUnreachableIsNotChanged(t *testing.T) {
	t.Parallel()
	e := newDiagEnv(t)
	idp := testidp.NewDrifting(t)
	c := e.activeConnection(t, idp, "Gone")
	idp.Server.Close()

	code, stdout, _ := runBinary(t, e.env, "verify", c.ID)
	if code != 1 || !strings.Contains(stdout, c.ID+" (Acme Corp / Gone): unreachable") || strings.Contains(stdout, ": changed") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runBinary(t, e.env, "verify", "--all", "--json")
	v := decodeVerify(t, stdout)
	if code != 1 || v.OK || len(v.Connections) != 1 || len(v.Connections[0].Changes) != 1 || v.Connections[0].Changes[0].Kind != flow.DriftUnreachable {
		t.Errorf("exit %d %+v", code, v)
	}
	events, err := e.st.ListAudit(context.Background(), store.AuditQuery{ConnectionID: c.ID})
	if err != nil || len(events) == 0 || events[0].Action != "connection.verify" || !strings.HasPrefix(events[0].Detail, "unreachable: ") {
		t.Errorf("audit %+v %v", events, err)
	}
}
