package flow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ClockSkew is the clock difference allowed between this machine and the
// IdP on the ID token's iat, exp and nbf: no more.
const ClockSkew = 60 * time.Second

// Provider is one IdP as logins see it: its metadata, the guarded HTTP
// client, and one remote key set. Reuse a Provider for every login of a
// connection: keys are fetched once and fetched again only when a token
// names a key ID the cached set lacks (key rotation).
type Provider struct {
	md     *Metadata
	client *http.Client
	keys   recordingKeySet
}

// NewProvider builds a Provider from discovered metadata. It checks only
// what a login cannot do without; `oidc-onboard check` explains the rest.
func NewProvider(md *Metadata, client *http.Client) (*Provider, error) {
	if md == nil {
		return nil, &Error{Code: CodeNoMetadata, Message: "no discovery metadata", Fix: "pass the IdP's Discovery Endpoint"}
	}
	for _, f := range []struct{ name, value string }{
		{"issuer", md.Issuer},
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"jwks_uri", md.JWKSURI},
	} {
		if f.value == "" {
			return nil, &Error{Code: CodeMissingField, Message: fmt.Sprintf("the discovery document has no %q", f.name),
				Fix: "run 'oidc-onboard check' on the discovery URL and ask the IdP admin to fix what it reports"}
		}
		u, err := url.Parse(f.value)
		if err != nil || u.Host == "" {
			return nil, &Error{Code: CodeBadMetadataURL, Message: fmt.Sprintf("the discovery document's %q is not a URL: %q", f.name, f.value),
				Fix: "run 'oidc-onboard check' on the discovery URL and ask the IdP admin to fix what it reports"}
		}
		if err := CheckURLScheme(u); err != nil {
			return nil, err
		}
	}
	ctx := oidc.ClientContext(context.Background(), client)
	return &Provider{md: md, client: client, keys: recordingKeySet{remote: oidc.NewRemoteKeySet(ctx, md.JWKSURI)}}, nil
}

// DiscoverProvider fetches the discovery document at discoveryURL and builds
// a Provider from it. The document's issuer must be the one the URL was
// built from (a terminating "/" aside); from then on ID tokens must carry
// exactly the discovered issuer.
func DiscoverProvider(ctx context.Context, client *http.Client, discoveryURL string) (*Provider, error) {
	d, err := FetchDiscovery(ctx, client, discoveryURL)
	if err != nil {
		return nil, err
	}
	want := IssuerFromDiscoveryURL(discoveryURL)
	got := d.Metadata.Issuer
	if got != want && strings.TrimSuffix(got, "/") != want {
		return nil, &Error{Code: CodeIssuerMismatch,
			Message: fmt.Sprintf("the discovery document names another issuer than the URL it came from:\n  URL's issuer:  %s\n  document says: %s", want, got),
			Fix:     "use the discovery URL of the issuer the IdP names (run 'oidc-onboard check " + discoveryURL + "' for details)"}
	}
	return NewProvider(d.Metadata, client)
}

// Metadata returns the provider's discovery metadata.
func (p *Provider) Metadata() *Metadata { return p.md }

// signingAlgs are the algorithms ID tokens may use: the advertised ones
// except "none", or RS256 (the one every OP must support) when none are.
func (p *Provider) signingAlgs() []string {
	var algs []string
	for _, a := range p.md.IDTokenSigningAlgValuesSupported {
		if !strings.EqualFold(a, "none") {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	return algs
}

// idTokenExpectations are the values a login's ID token must match.
type idTokenExpectations struct {
	clientID    string
	nonce       string
	accessToken string
	now         time.Time
}

// VerifiedIDToken is an ID token that passed every check.
type VerifiedIDToken struct {
	Subject string
	Claims  map[string]any
	Raw     string
}

// verifyIDToken checks an ID token per OIDC Core 3.1.3.7. go-oidc verifies
// the signature against the IdP's keys (restricted to the advertised
// algorithms), the issuer and the audience; the checks it leaves to the
// caller follow here: exp, iat and nbf within ClockSkew, sub present, the
// nonce sent, azp when there are several audiences, and at_hash.
func (p *Provider) verifyIDToken(ctx context.Context, raw string, exp idTokenExpectations) (*VerifiedIDToken, error) {
	hdr, err := jwtHeader(raw)
	if err != nil {
		return nil, err
	}
	algs := p.signingAlgs()
	if strings.EqualFold(hdr.Alg, "none") {
		return nil, &Error{Code: CodeAlgNone,
			Message: "the ID token is not signed (alg \"none\"), so anyone could have written it",
			Fix:     "ask the IdP admin to sign ID tokens for this app with RS256 (or another algorithm the IdP advertises)"}
	}
	if !slices.Contains(algs, hdr.Alg) {
		return nil, &Error{Code: CodeAlgNotAdvertised,
			Message: fmt.Sprintf("the ID token is signed with %s, which the IdP does not advertise (it lists %s)", hdr.Alg, strings.Join(algs, ", ")),
			Fix:     "ask the IdP admin to sign this app's ID tokens with an advertised algorithm, or to list " + hdr.Alg + " in id_token_signing_alg_values_supported"}
	}

	rec := &sigRecord{}
	vctx := oidc.ClientContext(context.WithValue(ctx, sigRecordKey{}, rec), p.client)
	verifier := oidc.NewVerifier(p.md.Issuer, p.keys, &oidc.Config{
		ClientID:             exp.clientID,
		SupportedSigningAlgs: algs,
		SkipExpiryCheck:      true, // checked below with exactly ClockSkew
	})
	tok, verr := verifier.Verify(vctx, raw)
	switch {
	case verr == nil:
	case rec.err != nil:
		return nil, p.signatureError(rec.err, hdr.Kid)
	case rec.payload == nil:
		return nil, &Error{Code: CodeMalformedIDToken, Message: "the ID token could not be read", Fix: "ask the IdP admin to check the app's token settings", Err: shortErr(verr)}
	}
	payload := rec.payload
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, &Error{Code: CodeMalformedIDToken, Message: "the ID token's claims are not a JSON object", Fix: "ask the IdP admin to check the app's token settings", Err: shortErr(err)}
	}
	if err := checkIDTokenClaims(claims, p.md.Issuer, exp); err != nil {
		return nil, err
	}
	if verr != nil { // go-oidc refused something the checks above did not name
		return nil, &Error{Code: CodeIDTokenInvalid, Message: "the ID token was rejected", Fix: "ask the IdP admin to check the app's token settings", Err: shortErr(verr)}
	}
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(exp.accessToken); err != nil {
			return nil, &Error{Code: CodeATHashMismatch,
				Message: "the ID token's at_hash does not match the access token it came with",
				Fix:     "the token response was altered or the IdP is misconfigured; ask the IdP admin to check the app's token settings"}
		}
	}
	sub, _ := claims["sub"].(string)
	return &VerifiedIDToken{Subject: sub, Claims: claims, Raw: raw}, nil
}

func (p *Provider) signatureError(err error, kid string) error {
	if strings.HasPrefix(err.Error(), "fetching keys") { // go-oidc's RemoteKeySet wording for a failed JWKS fetch
		return &Error{Code: CodeJWKSUnreachable,
			Message: fmt.Sprintf("could not fetch the IdP's signing keys from %s", p.md.JWKSURI),
			Fix:     "check that jwks_uri in the discovery document works (open it in a browser: it must show JSON with \"keys\"); retry if the IdP was briefly down",
			Err:     shortErr(err)}
	}
	key := "its key"
	if kid != "" {
		key = fmt.Sprintf("key %q", kid)
	}
	return &Error{Code: CodeBadSignature,
		Message: fmt.Sprintf("the ID token's signature does not verify with %s from the IdP's published keys", key),
		Fix:     "the token was not signed by this IdP: check that the discovery URL is the same IdP and tenant as the app; retry in case the IdP was rotating keys"}
}

// checkIDTokenClaims applies the claim rules of OIDC Core 3.1.3.7 with clear
// reasons; it runs on claims whose signature has been verified.
func checkIDTokenClaims(c map[string]any, issuer string, exp idTokenExpectations) error {
	if iss, _ := c["iss"].(string); iss != issuer {
		return &Error{Code: CodeWrongIssuer,
			Message: fmt.Sprintf("the ID token comes from another issuer than the discovery document names:\n  expected: %s\n  token:    %s", issuer, iss),
			Fix:     "use the discovery URL of the issuer the app belongs to (tenant, realm or trailing slash may differ)"}
	}
	aud := audiences(c["aud"])
	if !slices.Contains(aud, exp.clientID) {
		return &Error{Code: CodeWrongAudience,
			Message: fmt.Sprintf("the ID token is meant for %s, not for client ID %q", quoteList(aud), exp.clientID),
			Fix:     "check the Client ID: copy it again from the app in the IdP"}
	}
	azp, hasAzp := c["azp"].(string)
	if (len(aud) > 1 || hasAzp) && azp != exp.clientID {
		return &Error{Code: CodeAZPMismatch,
			Message: fmt.Sprintf("the ID token was issued to party %q, not to client ID %q", azp, exp.clientID),
			Fix:     "check the Client ID; ask the IdP admin why the token names another authorized party"}
	}
	if err := checkTimes(c, exp.now); err != nil {
		return err
	}
	if sub, _ := c["sub"].(string); sub == "" {
		return &Error{Code: CodeSubMissing, Message: "the ID token has no subject (sub), so the user cannot be identified",
			Fix: "ask the IdP admin to include the sub claim (every OpenID Provider must)"}
	}
	if nonce, _ := c["nonce"].(string); nonce != exp.nonce {
		return &Error{Code: CodeNonceMismatch, Message: "the ID token's nonce is not the one this login sent, so it may be replayed from another sign-in",
			Fix: "run the login again; if it repeats, the IdP does not return the nonce it was given — ask the IdP admin"}
	}
	return nil
}

func checkTimes(c map[string]any, now time.Time) error {
	expT, ok := numericDate(c["exp"])
	if !ok {
		return &Error{Code: CodeExpMissing, Message: "the ID token has no expiry (exp)", Fix: "ask the IdP admin to check the app's token settings"}
	}
	if now.After(expT.Add(ClockSkew)) {
		return &Error{Code: CodeTokenExpired,
			Message: fmt.Sprintf("the ID token expired %s ago (at %s)", now.Sub(expT).Round(time.Second), expT.UTC().Format(time.RFC3339)),
			Fix:     "run the login again; if a fresh token is already expired, this machine's clock or the IdP's is wrong (more than 60 s apart) — fix the clock"}
	}
	iat, ok := numericDate(c["iat"])
	if !ok {
		return &Error{Code: CodeIatMissing, Message: "the ID token has no issue time (iat)", Fix: "ask the IdP admin to check the app's token settings"}
	}
	if iat.After(now.Add(ClockSkew)) {
		return &Error{Code: CodeIatFuture,
			Message: fmt.Sprintf("the ID token says it was issued %s in the future", iat.Sub(now).Round(time.Second)),
			Fix:     "this machine's clock and the IdP's are more than 60 s apart; fix the clock (NTP) on the one that is wrong"}
	}
	if nbf, ok := numericDate(c["nbf"]); ok && nbf.After(now.Add(ClockSkew)) {
		return &Error{Code: CodeNBFFuture,
			Message: fmt.Sprintf("the ID token is not valid for another %s (nbf)", nbf.Sub(now).Round(time.Second)),
			Fix:     "this machine's clock and the IdP's are more than 60 s apart; fix the clock (NTP) on the one that is wrong"}
	}
	return nil
}

func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func quoteList(s []string) string {
	if len(s) == 0 {
		return "no audience"
	}
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

type jwtHeaderFields struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// jwtHeader reads a compact JWT's header, before anything is trusted, to
// name the algorithm and key in error messages.
func jwtHeader(raw string) (jwtHeaderFields, error) {
	var h jwtHeaderFields
	parts := strings.Split(raw, ".")
	bad := &Error{Code: CodeMalformedIDToken, Message: "the id_token in the token response is not a signed JWT",
		Fix: "ask the IdP admin to check the app's token settings (ID tokens must be signed JWTs, not encrypted)"}
	if len(parts) != 3 {
		return h, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(b, &h) != nil {
		return h, bad
	}
	return h, nil
}

// recordingKeySet passes signature checks to go-oidc's remote key set and
// records, for the one verification whose context carries a sigRecord, how
// it went: go-oidc reports failures only as text.
type recordingKeySet struct {
	remote *oidc.RemoteKeySet
}

type sigRecordKey struct{}

type sigRecord struct {
	payload []byte
	err     error
}

// VerifySignature implements oidc.KeySet.
func (k recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if rec, ok := ctx.Value(sigRecordKey{}).(*sigRecord); ok {
		rec.payload, rec.err = payload, err
	}
	return payload, err
}
