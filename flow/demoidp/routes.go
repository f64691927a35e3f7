package demoidp

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginPath is where /authorize sends the browser to sign in.
const loginPath = "/login"

//go:embed login.html
var loginHTML string

// loginPage renders login.html; parsed once, never modified.
var loginPage = template.Must(template.New("login").Parse(loginHTML))

// routes is the IdP's HTTP handler: the sign-in page, the discovery document
// and the token endpoint's auth method check in front of op's handlers.
type routes struct {
	issuer   string
	provider *op.Provider
	store    *storage
	opts     Options
	mux      *http.ServeMux
}

func newRoutes(issuer string, provider *op.Provider, store *storage, opts Options) http.Handler {
	rt := &routes{issuer: issuer, provider: provider, store: store, opts: opts, mux: http.NewServeMux()}
	rt.mux.HandleFunc(loginPath, rt.login)
	rt.mux.HandleFunc(oidc.DiscoveryEndpoint, rt.discovery)
	rt.mux.HandleFunc(provider.AuthorizationEndpoint().Relative(), rt.authorize)
	rt.mux.HandleFunc(provider.TokenEndpoint().Relative(), rt.token)
	rt.mux.Handle("/", provider)
	return rt.mux
}

// discovery serves op's document narrowed to what this IdP really does:
// the code flow, and one client authentication method.
func (rt *routes) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), rt.issuer)
	config := op.CreateDiscoveryConfig(ctx, rt.provider, rt.store)
	config.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	config.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode}
	config.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethod(rt.opts.AuthMethod)}
	config.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	config.DeviceAuthorizationEndpoint = "" // no device flow
	op.Discover(w, config)
}

// authorize lets op see the requested redirect URI as registered when
// loopback redirects are allowed and it is one.
func (rt *routes) authorize(w http.ResponseWriter, r *http.Request) {
	if rt.opts.AllowLoopbackRedirects {
		if err := r.ParseForm(); err == nil {
			if uri := r.Form.Get("redirect_uri"); isLoopbackRedirect(uri) {
				r = r.WithContext(withLoopbackRedirect(r.Context(), uri))
			}
		}
	}
	rt.provider.ServeHTTP(w, r)
}

// token refuses client authentication by any method but the configured
// one (op on its own accepts both basic and post), and a wrong client ID
// or secret, before op sees the request. NOTE: op answers errors through
// slog.Default, which would write over the wizard's screen (its
// WithLogger does nothing in v3.52); the mistakes a person makes in the
// demo are answered here instead, as op would.
func (rt *routes) token(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		msg := rt.wrongAuthMethod(r)
		if msg == "" {
			msg = rt.wrongClient(r)
		}
		if msg != "" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": string(oidc.InvalidClient), "error_description": msg})
			return
		}
	}
	rt.provider.ServeHTTP(w, r)
}

// wrongClient says what is wrong with the client's ID or secret, or "".
func (rt *routes) wrongClient(r *http.Request) string {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: form-encoded inside the Basic header.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case id != rt.opts.ClientID:
		return "no client with this ID is registered"
	case subtle.ConstantTimeCompare([]byte(secret), []byte(rt.opts.ClientSecret)) != 1:
		return "invalid client credentials"
	}
	return ""
}

func (rt *routes) wrongAuthMethod(r *http.Request) string {
	_, _, basic := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		return "" // op answers the malformed request itself
	}
	inForm := r.PostForm.Get("client_secret") != ""
	switch {
	case rt.opts.AuthMethod == AuthMethodBasic && inForm:
		return "this client authenticates with client_secret_basic (HTTP Basic), not client_secret_post"
	case rt.opts.AuthMethod == AuthMethodPost && basic:
		return "this client authenticates with client_secret_post (form fields), not client_secret_basic"
	}
	return ""
}

// loginView is what login.html shows.
type loginView struct {
	ID, Username, Password, Error string
}

// login shows the sign-in form (GET) and checks it (POST).
func (rt *routes) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		rt.showLogin(w, r)
	case http.MethodPost:
		rt.submitLogin(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (rt *routes) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if _, err := rt.store.AuthRequestByID(r.Context(), id); err != nil {
		unknownRequest(w)
		return
	}
	u := rt.store.user
	render(w, http.StatusOK, loginView{ID: id, Username: u.Username, Password: u.Password})
}

func (rt *routes) submitLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the sign-in form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	if _, err := rt.store.AuthRequestByID(r.Context(), id); err != nil {
		unknownRequest(w)
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	if !rt.store.checkCredentials(username, r.PostForm.Get("password")) {
		render(w, http.StatusOK, loginView{ID: id, Username: username,
			Error: "Wrong username or password. The demo user is " + rt.store.user.Username + " / " + rt.store.user.Password + "."})
		return
	}
	if err := rt.store.completeAuthRequest(id, rt.store.user.Subject); err != nil {
		unknownRequest(w)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), rt.issuer)
	http.Redirect(w, r, op.AuthCallbackURL(rt.provider)(ctx, id), http.StatusFound)
}

func unknownRequest(w http.ResponseWriter) {
	render(w, http.StatusBadRequest, loginView{
		Error: "This sign-in request is unknown or has expired. Start the test login again from oidc-onboard."})
}

func render(w http.ResponseWriter, status int, view loginView) {
	var buf bytes.Buffer
	if err := loginPage.Execute(&buf, view); err != nil {
		http.Error(w, "cannot render the sign-in page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
