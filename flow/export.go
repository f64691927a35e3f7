package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// ConnectionExport is a connection in the export shape of the command
// contract (`connections export` writes it, `connections import` reads
// it; applications import it too): a Connection without its times.
type ConnectionExport Connection

// Export is c in the export shape, its secret masked unless withSecret.
func Export(c *Connection, withSecret bool) ConnectionExport {
	secret := MaskSecret(c.ClientSecret)
	if withSecret {
		secret = c.ClientSecret
	}
	roles := c.RoleMappings
	if roles == nil {
		roles = []RoleMapping{}
	}
	e := ConnectionExport(*c)
	e.ClientSecret, e.RoleMappings, e.CreatedAt, e.UpdatedAt = secret, roles, time.Time{}, time.Time{}
	return e
}

// ParseImport reads and checks the export shape, naming the field at
// fault; a key the shape does not have (a typo such as "emial") is an
// error naming it. The client secret in it is accepted and ignored.
//
// present names the fields the file has: updating a stored connection keeps
// the stored value of every optional field the file leaves out (KeepStored),
// so that the documented minimal file (organization, name, discovery_url,
// client_id) never wipes an existing connection's mappings or status.
func ParseImport(raw []byte) (*Connection, map[string]bool, error) {
	var in ConnectionExport
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, nil, importJSONError(raw, err)
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&ConnectionExport{}); err != nil {
		return nil, nil, importJSONError(raw, err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // it parsed just above
	present := map[string]bool{}
	for k, v := range fields {
		present[k] = string(v) != "null"
	}
	c := &Connection{ID: NormalizeID(in.ID), Organization: strings.TrimSpace(in.Organization),
		Name: strings.TrimSpace(in.Name), Status: in.Status, ClientID: strings.TrimSpace(in.ClientID),
		RedirectURI: strings.TrimSpace(in.RedirectURI), Claims: in.Claims.WithDefaults(),
		GroupsClaim: strings.TrimSpace(in.GroupsClaim), RoleMappings: in.RoleMappings,
		DefaultRole: strings.TrimSpace(in.DefaultRole), Issuer: strings.TrimSpace(in.Issuer),
		TokenAuthMethod: strings.TrimSpace(in.TokenAuthMethod)}
	for _, f := range []struct{ name, value string }{
		{"organization", c.Organization}, {"name", c.Name},
		{"discovery_url", strings.TrimSpace(in.DiscoveryURL)}, {"client_id", c.ClientID},
	} {
		if f.value == "" {
			return nil, nil, importError(f.name, "is missing or empty", "add it; organization, name, discovery_url and client_id are required")
		}
	}
	discovery, _, err := DiscoveryURLFor(in.DiscoveryURL)
	if err != nil {
		msg, fix := Explain(err)
		return nil, nil, importError("discovery_url", "is not usable: "+msg, fix)
	}
	c.DiscoveryURL = discovery
	if c.Issuer == "" {
		c.Issuer = IssuerFromDiscoveryURL(discovery)
	}
	if c.RedirectURI != "" {
		u, err := url.Parse(c.RedirectURI)
		if err == nil && u.Host == "" {
			err = errors.New("no host")
		}
		if err == nil {
			err = CheckURLScheme(u)
		}
		if err != nil {
			return nil, nil, importError("redirect_uri", "is not a usable URL", "use the Redirect URI the IdP's app was given, e.g. https://…/callback")
		}
	}
	switch c.Status {
	case "":
		c.Status = StatusDraft
	case StatusDraft, StatusActive, StatusInactive:
	default:
		return nil, nil, importError("status", fmt.Sprintf("is %q", c.Status), "use draft, active or inactive, or leave it out")
	}
	if !ValidTokenAuthMethod(c.TokenAuthMethod) {
		return nil, nil, importError("token_auth_method", fmt.Sprintf("is %q", c.TokenAuthMethod), "use client_secret_basic or client_secret_post, or leave it out to let the login choose")
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = DefaultGroupsClaim
	}
	for i, m := range c.RoleMappings {
		if strings.TrimSpace(m.Group) == "" || strings.TrimSpace(m.Role) == "" {
			return nil, nil, importError(fmt.Sprintf("role_mappings[%d]", i), "needs both group and role", "fill both in, or remove the entry")
		}
	}
	return c, present, nil
}

func importError(field, problem, fix string) error {
	return &Error{Code: CodeImportField, Message: fmt.Sprintf("the field %q %s; nothing was imported", field, problem), Fix: fix}
}

// importJSONError says where the JSON is broken, or which field has the
// wrong type.
func importJSONError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line := 1 + strings.Count(string(raw[:min(int(syn.Offset), len(raw))]), "\n")
		return &Error{Code: CodeImportJSON, Message: fmt.Sprintf("the file is not valid JSON (line %d: %s); nothing was imported", line, syn.Error()),
			Fix: "import the file exactly as 'oidc-onboard connections export' wrote it"}
	case errors.As(err, &typ) && typ.Field != "":
		return importError(typ.Field, "has the wrong type: expected "+typ.Type.String(), "compare it with the output of 'oidc-onboard connections export'")
	}
	// encoding/json names an unknown key only in its error text.
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(key)
		if uerr != nil {
			name = key
		}
		return importError(name, "is unknown: a connection has no such field", "check its spelling against the output of 'oidc-onboard connections export' (e.g. email, not emial), or remove it")
	}
	return &Error{Code: CodeImportJSON, Message: "the file is not a connection in JSON; nothing was imported", Err: err,
		Fix: "import the file exactly as 'oidc-onboard connections export' wrote it"}
}

// KeepStored gives c, parsed by ParseImport, the stored value of each
// optional field the imported file left out (present names those it has).
func KeepStored(c, stored *Connection, present map[string]bool) {
	if !present["status"] {
		c.Status = stored.Status
	}
	if !present["issuer"] && c.DiscoveryURL == stored.DiscoveryURL {
		c.Issuer = stored.Issuer
	}
	if !present["redirect_uri"] {
		c.RedirectURI = stored.RedirectURI
	}
	if !present["claims"] {
		c.Claims = stored.Claims
	}
	if !present["groups_claim"] {
		c.GroupsClaim = stored.GroupsClaim
	}
	if !present["role_mappings"] {
		c.RoleMappings = stored.RoleMappings
	}
	if !present["default_role"] {
		c.DefaultRole = stored.DefaultRole
	}
	if !present["token_auth_method"] {
		c.TokenAuthMethod = stored.TokenAuthMethod
	}
}

// CredentialChanges lists, in words, how next's credentials differ from
// stored's: the client ID, the client secret (masked), the discovery URL
// and the issuer, e.g. `client_id: "a" → "b"`; nil when they are the same.
// A login through a changed connection may fail where the last one worked.
func CredentialChanges(stored, next *Connection) []string {
	var out []string
	for _, f := range []struct{ name, a, b string }{
		{"client_id", stored.ClientID, next.ClientID},
		{"client_secret", MaskSecret(stored.ClientSecret), MaskSecret(next.ClientSecret)},
		{"discovery_url", stored.DiscoveryURL, next.DiscoveryURL},
		{"issuer", stored.Issuer, next.Issuer},
	} {
		switch {
		case f.name == "client_secret" && stored.ClientSecret != next.ClientSecret:
			out = append(out, fmt.Sprintf("client_secret: %s → %s (a different secret)", OrDash(f.a), OrDash(f.b)))
		case f.name != "client_secret" && f.a != f.b:
			out = append(out, fmt.Sprintf("%s: %q → %q", f.name, Display(f.a), Display(f.b)))
		}
	}
	return out
}

// ConnectionList is `connections list` of the database at Path.
type ConnectionList struct {
	Connections []*Connection
	Path        string
	// Tested says, by connection ID, what its test logins tell of it as
	// it is now (TestStateOf); a connection missing here shows nothing.
	Tested map[string]TestState
}

// MarshalJSON is the list in the export shape, secrets masked, HTML
// characters as they are (as `connections export` writes them).
func (l ConnectionList) MarshalJSON() ([]byte, error) {
	out := make([]ConnectionExport, 0, len(l.Connections))
	for _, c := range l.Connections {
		out = append(out, Export(c, false))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(out)
	return b.Bytes(), err
}

// WriteText writes a table of the connections, times in the local zone,
// names and issuers through Display.
func (l ConnectionList) WriteText(w io.Writer) error {
	if len(l.Connections) == 0 {
		_, err := fmt.Fprintf(w, "No connections in %s yet.\nCreate one with 'oidc-onboard' (the wizard) or 'oidc-onboard connections import FILE'.\n", l.Path)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORGANIZATION\tNAME\tSTATUS\tISSUER\tUPDATED\tTEST LOGIN")
	for _, c := range l.Connections {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, Display(c.Organization), Display(c.Name), c.Status,
			Display(OrDash(c.Issuer)), c.UpdatedAt.Local().Format("2006-01-02 15:04"), OrDash(l.Tested[c.ID].Words()))
	}
	return tw.Flush()
}
