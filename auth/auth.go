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
	// Logger receives debug logs; nil means no logging. Credentials are
	// never logged.
	Logger *slog.Logger
}
