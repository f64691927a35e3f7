package flow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"time"
)

// RunOptions say how RunLogin reaches the IdP and the person.
type RunOptions struct {
	// Client is the guarded HTTP client for every call to the IdP.
	Client *http.Client
	// Callback configures the callback server on the Redirect URI.
	Callback CallbackOptions
	// Progress receives the authorization URL, notes and warnings.
	Progress io.Writer
	// Open opens the authorization URL in a browser; nil only prints it.
	Open func(url string) error
}

// RunLogin runs one test login as `login` does, from start to verified ID
// token: it starts the callback server on cfg's Redirect URI, discovers the
// provider at discoveryURL, shows the authorization URL (and opens it),
// and waits up to cfg.Wait for the browser to come back.
func RunLogin(ctx context.Context, discoveryURL string, cfg LoginConfig, opts RunOptions) (*LoginResult, LoginOutput, error) {
	srv, err := StartCallbackServer(cfg.RedirectURI, opts.Callback)
	if err != nil {
		return nil, LoginOutput{}, err
	}
	defer func() {
		// Let the browser get its result page before the process ends.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	cfg.RedirectURI = srv.RedirectURI()
	provider, err := DiscoverProvider(ctx, opts.Client, discoveryURL)
	if err != nil {
		return nil, LoginOutput{}, err
	}
	login, err := provider.StartLogin(srv, cfg)
	if err != nil {
		return nil, LoginOutput{}, err
	}
	w := opts.Progress
	for _, n := range login.Notes() {
		fmt.Fprintf(w, "Note: %s.\n", Display(n))
	}
	// The URL is built on the IdP's authorization_endpoint: shown through Display.
	fmt.Fprintf(w, "Open this URL in a browser and sign in:\n\n  %s\n\n", Display(login.AuthURL()))
	if opts.Open != nil {
		if err := opts.Open(login.AuthURL()); err != nil {
			fmt.Fprintf(w, "Note: could not open a browser (%v); open the URL yourself.\n", err)
		}
	}
	fmt.Fprintf(w, "Waiting up to %s for the browser to return to %s (Ctrl-C to cancel)...\n", cfg.Wait, login.RedirectURI())
	res, err := login.Wait(ctx)
	if err != nil {
		return nil, LoginOutput{}, err
	}
	out := res.Output(provider.Metadata().Issuer, login.AuthMethod(), cfg.Claims)
	for _, warning := range out.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", Display(warning))
	}
	return res, out, nil
}

// OpenBrowser asks the desktop to open url, without waiting for it.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
