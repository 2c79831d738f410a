package auth

import (
	"errors"
	"net/http"
)

// Basic is HTTP Basic authentication. WinRM accepts it only for local
// accounts, and only over HTTPS unless the server sets AllowUnencrypted.
// Over plain http:// the authenticator refuses to send anything unless
// WrapOptions.AllowUnencrypted is set.
type Basic struct {
	Username string // a local account name
	Password string // never logged nor printed (see String)
}

// Scheme returns "Basic".
func (b *Basic) Scheme() string { return "Basic" }

// Wrap returns a RoundTripper that adds the Authorization header. A 401
// response is returned as an *AuthError (matching ErrUnauthorized).
func (b *Basic) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if next == nil {
		next = http.DefaultTransport
	}
	if b.Username == "" {
		return nil, errors.New("auth: Basic needs a user name")
	}
	return &basicTransport{next: next, user: b.Username, password: b.Password, opts: opts}, nil
}

type basicTransport struct {
	next           http.RoundTripper
	user, password string
	opts           WrapOptions
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport (http.Client.CloseIdleConnections reaches it through this).
func (t *basicTransport) CloseIdleConnections() { closeIdle(t.next) }

// closeIdle calls rt.CloseIdleConnections when rt has it.
func closeIdle(rt http.RoundTripper) {
	if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// RoundTrip adds the credentials and sends req. A failure is logged at
// debug level (without credentials) when WrapOptions.Logger is set.
func (t *basicTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil {
		logFailure(t.opts.Logger, req, "Basic", err)
	}
	return resp, err
}

func (t *basicTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if err := checkRedirect(req, t.opts); err != nil {
		return nil, err
	}
	if !isHTTPS(req) && !t.opts.AllowUnencrypted {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &AuthError{Scheme: "Basic", Reason: "not sent", Err: ErrInsecureTransport}
	}
	r := req.Clone(req.Context())
	r.SetBasicAuth(t.user, t.password)
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drain(resp)
		return nil, &AuthError{Scheme: "Basic", StatusCode: resp.StatusCode, Reason: "credentials rejected"}
	}
	return resp, nil
}
