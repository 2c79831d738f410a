package auth

import (
	"log/slog"
	"net/http"
)

// Authenticator adds one HTTP authentication method, and where the method
// supports it WinRM message encryption, to an HTTP transport.
//
// The wsman transport calls Wrap once per client. The RoundTripper it
// returns takes plain SOAP requests and returns plain SOAP responses: any
// handshake, retry of the request body, sealing and unsealing happen inside
// it, so the layers above never see them.
type Authenticator interface {
	// Scheme names the method for errors and logs: "Basic", "NTLM",
	// "Negotiate", "Kerberos", "Certificate", ...
	Scheme() string
	// Wrap returns a RoundTripper that authenticates the requests it sends
	// through next.
	Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error)
}

// WrapOptions are the transport facts an Authenticator needs.
type WrapOptions struct {
	// AllowUnencrypted permits sending credentials or messages without
	// protection over plain HTTP: Basic over http://, or NTLM and Kerberos
	// over http:// without message encryption. It mirrors WinRM's
	// AllowUnencrypted setting and is off by default.
	AllowUnencrypted bool
	// MaxResponseBytes is the caller's limit on a response body (the
	// wsman client passes its Config.MaxResponseBytes). Transports that
	// buffer responses (NTLM, Kerberos) apply the smaller of it and their
	// own MaxResponseBytes, to the plaintext and (with a few KiB for the
	// framing) to a sealed body as received; 0 leaves their own limit.
	MaxResponseBytes int64
	// AllowCrossHostRedirect lets the authenticator send credentials on a
	// redirect that net/http follows (http.Request.Response set) to
	// another origin (scheme, host and port) than the request that began
	// the chain. Off by default: such a request fails with
	// ErrCrossHostRedirect before anything is sent (net/http itself drops
	// the Authorization header there, which an authenticator would
	// otherwise put back). The wsman client follows redirects itself and
	// refuses cross-host ones on its own (wsman.Config.AllowCrossHostRedirection,
	// which it passes on here).
	AllowCrossHostRedirect bool
	// Logger receives debug logs, including every failed request and
	// failed authentication (scheme, URL without user info, error); nil
	// means no logging. Credentials are never logged.
	Logger *slog.Logger
}
