package demoidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	scopeGroups = "groups"
	claimGroups = "groups"

	// authRequestTTL bounds how long a sign-in may take, login page included.
	authRequestTTL = 10 * time.Minute
	// accessTokenTTL is the lifetime of access tokens; ID tokens live as long.
	accessTokenTTL = time.Hour
)

// errNotFound is what the storage answers for an unknown or expired ID.
var errNotFound = errors.New("not found or expired")

// storage is the op.Storage of one IdP: one client, one user, one signing
// key, and the auth requests and access tokens in memory.
type storage struct {
	client client
	user   User
	key    signingKey

	mu           sync.Mutex
	authRequests map[string]*authRequest // by ID
	codes        map[string]string       // auth request ID by code
	tokens       map[string]accessToken  // by ID
}

type accessToken struct {
	subject, clientID string
	scopes            []string
	expires           time.Time
}

func newStorage(opts Options, user User, key *rsa.PrivateKey) *storage {
	return &storage{
		client: client{
			id:             opts.ClientID,
			secret:         opts.ClientSecret,
			redirectURIs:   opts.RedirectURIs,
			allowLoopbacks: opts.AllowLoopbackRedirects,
			authMethod:     oidc.AuthMethod(opts.AuthMethod),
		},
		user:         user,
		key:          signingKey{id: randomID(), key: key},
		authRequests: make(map[string]*authRequest),
		codes:        make(map[string]string),
		tokens:       make(map[string]accessToken),
	}
}

// randomID returns 128 random bits, URL-safe.
func randomID() string {
	return rand.Text()
}

// CreateAuthRequest stores a validated auth request. Beyond what op checks,
// the demo IdP insists on what the login engine must send: PKCE S256 and a nonce.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("the demo IdP requires PKCE with code_challenge_method=S256")
	}
	if req.Nonce == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("the demo IdP requires a nonce")
	}
	ar := &authRequest{
		id:            randomID(),
		created:       time.Now(),
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		scopes:        slices.Clone(req.Scopes),
		state:         req.State,
		nonce:         req.Nonce,
		responseType:  req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(ar.created)
	s.authRequests[ar.id] = ar
	return ar.snapshot(), nil
}

// pruneLocked forgets expired auth requests and access tokens, so an IdP
// left running for a long demo does not grow. Call it with s.mu held.
func (s *storage) pruneLocked(now time.Time) {
	for id, ar := range s.authRequests {
		if now.Sub(ar.created) > authRequestTTL {
			delete(s.codes, ar.code)
			delete(s.authRequests, id)
		}
	}
	for id, tok := range s.tokens {
		if now.After(tok.expires) {
			delete(s.tokens, id)
		}
	}
}

// AuthRequestByID returns a copy of a live auth request.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	var snap op.AuthRequest
	err := s.withAuthRequest(id, func(ar *authRequest) { snap = ar.snapshot() })
	return snap, err
}

// AuthRequestByCode returns a copy of the auth request a code was issued for.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, err := s.liveAuthRequest(s.codes[code])
	if err != nil {
		return nil, err
	}
	return ar.snapshot(), nil
}

// liveAuthRequest must be called with s.mu held.
func (s *storage) liveAuthRequest(id string) (*authRequest, error) {
	ar, ok := s.authRequests[id]
	if !ok || time.Since(ar.created) > authRequestTTL {
		return nil, fmt.Errorf("auth request: %w", errNotFound)
	}
	return ar, nil
}

// withAuthRequest calls f with the live auth request id, s.mu held.
func (s *storage) withAuthRequest(id string, f func(*authRequest)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, err := s.liveAuthRequest(id)
	if err != nil {
		return err
	}
	f(ar)
	return nil
}

// SaveAuthCode links a code to its auth request.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	return s.withAuthRequest(id, func(ar *authRequest) {
		ar.code = code
		s.codes[code] = id
	})
}

// DeleteAuthRequest forgets an auth request and its code: codes are single-use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ar, ok := s.authRequests[id]; ok {
		delete(s.codes, ar.code)
		delete(s.authRequests, id)
	}
	return nil
}

// completeAuthRequest marks an auth request as signed in by subject.
func (s *storage) completeAuthRequest(id, subject string) error {
	return s.withAuthRequest(id, func(ar *authRequest) {
		ar.subject = subject
		ar.authTime = time.Now()
		ar.done = true
	})
}

// checkCredentials reports whether username and password are the demo user's.
func (s *storage) checkCredentials(username, password string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(username), []byte(s.user.Username)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(password), []byte(s.user.Password)) == 1
	return userOK && passOK
}

// CreateAccessToken stores an opaque access token's data; op encrypts its ID.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	var clientID string
	if ar, ok := req.(*authRequest); ok {
		clientID = ar.clientID
	}
	tok := accessToken{
		subject:  req.GetSubject(),
		clientID: clientID,
		scopes:   slices.Clone(req.GetScopes()),
		expires:  time.Now().Add(accessTokenTTL),
	}
	id := randomID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = tok
	return id, tok.expires, nil
}

// CreateAccessAndRefreshTokens is never reached: the client has no refresh_token grant.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("the demo IdP issues no refresh tokens")
}

// TokenRequestByRefreshToken refuses: there are no refresh tokens.
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

// GetRefreshTokenInfo refuses: there are no refresh tokens.
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession has nothing to do: the demo IdP keeps no sessions.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken forgets an access token.
func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := s.tokens[tokenID]; ok && tok.clientID == clientID {
		delete(s.tokens, tokenID)
	}
	return nil
}

// SigningKey returns the key generated at Start.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms lists the one algorithm used: RS256.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet publishes the public half of the signing key.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// GetClientByClientID returns the client, with the requested redirect URI
// added when it is an accepted loopback one (see loopbackRedirectFrom).
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if clientID != s.client.id {
		return nil, fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	c := s.client
	c.redirectURIs = slices.Clone(c.redirectURIs)
	if uri, ok := loopbackRedirectFrom(ctx); ok && c.allowLoopbacks {
		c.redirectURIs = append(c.redirectURIs, uri)
	}
	return &c, nil
}

// AuthorizeClientIDSecret checks the client's credentials.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	idOK := subtle.ConstantTimeCompare([]byte(clientID), []byte(s.client.id)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) == 1
	if !idOK || !secretOK {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes sets the ID token's user claims.
func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, userID, _ string, scopes []string) error {
	return s.setUserinfo(info, userID, scopes)
}

// SetUserinfoFromToken sets the userinfo endpoint's answer for an access token.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	tok, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(tok.expires) || tok.subject != subject {
		return fmt.Errorf("access token: %w", errNotFound)
	}
	return s.setUserinfo(info, tok.subject, tok.scopes)
}

// SetIntrospectionFromToken answers token introspection for the client's own tokens.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	tok, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(tok.expires) || tok.subject != subject || tok.clientID != clientID {
		return fmt.Errorf("access token: %w", errNotFound)
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(info, tok.subject, tok.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = tok.scopes
	resp.ClientID = tok.clientID
	resp.Audience = []string{tok.clientID}
	resp.Expiration = oidc.FromTime(tok.expires)
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID refuses: JWT profile grants are not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("the demo IdP does not support JWT profile grants")
}

// ValidateJWTProfileScopes refuses: JWT profile grants are not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the demo IdP does not support JWT profile grants")
}

// Health always answers healthy: everything is in memory.
func (s *storage) Health(context.Context) error { return nil }

// setUserinfo fills info with the user's claims for scopes; groups are
// always included.
func (s *storage) setUserinfo(info *oidc.UserInfo, userID string, scopes []string) error {
	if userID != s.user.Subject {
		return fmt.Errorf("user %q: %w", userID, errNotFound)
	}
	u := s.user
	info.Subject = u.Subject
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerified)
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.GivenName + " " + u.FamilyName
		info.PreferredUsername = u.Username
		info.GivenName = u.GivenName
		info.FamilyName = u.FamilyName
	}
	info.AppendClaims(claimGroups, slices.Clone(u.Groups))
	return nil
}

// loopbackRedirectKey carries an accepted loopback redirect URI in a request context.
type loopbackRedirectKey struct{}

func withLoopbackRedirect(ctx context.Context, uri string) context.Context {
	return context.WithValue(ctx, loopbackRedirectKey{}, uri)
}

func loopbackRedirectFrom(ctx context.Context) (string, bool) {
	uri, ok := ctx.Value(loopbackRedirectKey{}).(string)
	return uri, ok
}

// isLoopbackRedirect reports whether raw is http://localhost|127.0.0.1|[::1]:<port>/<path>,
// with an explicit port and neither user info nor fragment.
func isLoopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || u.Fragment != "" || u.Port() == "" {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }
