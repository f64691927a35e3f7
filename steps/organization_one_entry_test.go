package steps

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/oidc-onboard/oidc-onboard/flow"
	"github.com/oidc-onboard/oidc-onboard/store"
)

// orgDraftOf stores a draft of conn that stopped at step with the client
// ID typed so far.
func orgDraftOf(t *testing.T, env *Env, conn *flow.Connection, step int, clientID string) store.Draft {
	t.Helper()
	s := NewSetup()
	s.Step, s.Connection = step, *conn
	s.Connection.ClientID = clientID
	form, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Store.SaveDraft(context.Background(), store.Draft{Organization: conn.Organization, ConnectionID: conn.ID, Step: step, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOrganizationOneEntryPerConnection: a connection with drafts is one
// entry, which opens its latest draft; editing a connection whose draft
// appeared since the list was read resumes that draft, never a second one.
func TestOrganizationOneEntryPerConnection(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	ctx := context.Background()
	conn := &flow.Connection{Organization: "Initech", Name: "Initech OIDC", Status: flow.StatusDraft}
	if err := env.Store.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	orgDraftOf(t, env, conn, StepRedirectURI, "old-typing")
	latest := orgDraftOf(t, env, conn, StepCredentials, "initech-typed")

	step := NewOrganization(env, NewTheme(true))
	orgEnter(t, step, NewSetup())
	v := viewFits(t, step, 80, 17)
	if n := strings.Count(v, "Initech / Initech OIDC"); n != 1 {
		t.Fatalf("the connection is listed %d times:\n%s", n, v)
	}
	wantIn(t, "view", v, "▸ Initech / Initech OIDC · stopped at Credentials")
	msgs := run(t, step, press("enter"), orgWait)
	r, ok := orgHas[ResumeMsg](msgs)
	if !ok || r.Setup.DraftID != latest.ID || r.Setup.Connection.ClientID != "initech-typed" {
		t.Fatalf("choosing the connection sent %v", msgs)
	}

	// A draft saved after the list was read: Edit resumes it.
	other := &flow.Connection{Organization: "Initech", Name: "Initech Staging", Status: flow.StatusDraft}
	if err := env.Store.SaveConnection(ctx, other); err != nil {
		t.Fatal(err)
	}
	setup := NewSetup()
	orgEnter(t, step, setup)
	o := step.(*organization)
	for i, it := range o.items {
		if it.id == other.ID {
			o.cursor = i
		}
	}
	raced := orgDraftOf(t, env, other, StepCredentials, "staging-typed")
	msgs = run(t, step, press("enter"), orgWait)
	r, ok = orgHas[ResumeMsg](msgs)
	if !ok || r.Setup.DraftID != raced.ID || r.Setup.Connection.ClientID != "staging-typed" {
		t.Fatalf("editing a connection with a draft sent %v", msgs)
	}
}
