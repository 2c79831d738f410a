package wsman

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/psremoting/psremoting/auth"
)

// NetworkError is a request that failed for a network reason: the
// connection was refused, reset or closed (also in the middle of the
// response body), the HTTP deadline of one exchange passed (Config.HTTPTimeout
// or OperationTimeout plus DefaultHTTPGrace; never the caller's context), a
// proxy or gateway could not reach the server (a proxy CONNECT failure, or an
// HTTP 502 or 504 without a SOAP body), or the TLS handshake was cut.
// Authentication failures (*AuthError), certificate errors, SOAP faults
// (*Fault), other HTTP statuses (*HTTPError), malformed responses and
// ErrResponseTooLarge are not network errors.
//
// Client methods return it (errors.As) for every such failure; Unwrap gives
// the cause (typically a *url.Error wrapping a *net.OpError). With
// Config.Retry it is also what is returned once the retry window ends, with
// Attempts set.
type NetworkError struct {
	// Action is the short action name ("Receive", "Command", …).
	Action string
	// MaybeSent is false only when the request certainly did not reach the
	// server (the connection, the proxy tunnel or the TLS handshake failed
	// before anything of the request was written) in every attempt made.
	MaybeSent bool
	// Retransmittable reports that the request carried a wsmv:OperationID
	// and the server echoed OperationIDs before (it supports MS-WSMV robust
	// connections), so it can be retransmitted with Config.Retry without
	// being run twice.
	Retransmittable bool
	// Attempts is the number of retransmissions made within
	// Config.Retry.Window (0 when none was made).
	Attempts int
	// Err is the cause.
	Err error

	reading bool // failed while reading the response body
}

// Error implements the error interface.
func (e *NetworkError) Error() string {
	s := "wsman: " + e.Action + ": "
	if e.reading {
		s += "reading response: "
	}
	s += e.Err.Error()
	if e.Attempts > 0 {
		s += fmt.Sprintf(" (after %d retransmissions)", e.Attempts)
	}
	return s
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// IsNetworkError reports whether err (or an error it wraps) is a network
// failure as described on NetworkError: a *NetworkError, or an *HTTPError
// with status 502 or 504 (a gateway or proxy that could not reach the
// server). A context cancellation or deadline of the caller is not one.
func IsNetworkError(err error) bool {
	if err == nil {
		return false
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return true
	}
	var he *HTTPError
	return errors.As(err, &he) && gatewayStatus(he.StatusCode)
}

func gatewayStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusGatewayTimeout
}

// SafeToRetry reports whether the failed request may be sent again as a new
// request (a plain repeat of the method call) without risking a second
// execution that changes the outcome: true when err is a network error and
// either the request certainly did not reach the server
// (NetworkError.MaybeSent false), or its action is safe to repeat:
//
//   - Get, Enumerate: read-only (a repeated Enumerate leaves at most an
//     unused enumeration context that expires on the server).
//   - Release, Delete, Disconnect, Reconnect: the effect is idempotent; a
//     repeat of one that was executed may fail with a fault saying so
//     (a Delete repeated after success gets ErrShellNotFound, a Release
//     an invalid enumeration context, a Disconnect or Reconnect an
//     ErrInvalidState), which the caller treats as done.
//
// Not safe without a retransmission id (wsmv:OperationID on a server that
// supports it, see Config.Retry): Create (a second shell), Command (a
// second pipeline), Send (input delivered twice), Signal, Receive (the
// output of the lost response is gone; a repeat returns the next output),
// Pull (the same, for enumeration items) and Connect (its response carries
// the pool's connect data, and the shell is connected by the first one).
// Such requests are retransmitted only by the Client's retry policy, with
// the same OperationID, and only on a server that echoes OperationIDs.
func SafeToRetry(err error) bool {
	if !IsNetworkError(err) {
		return false
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return !ne.MaybeSent || idempotentAction(ne.Action)
	}
	return false // a gateway status: the request may have been delivered; no action known
}

// idempotentAction reports whether repeating a request of this (short)
// action is safe; see SafeToRetry.
func idempotentAction(action string) bool {
	switch shortAction(action) {
	case "Get", "Enumerate", "Release", "Delete", "Disconnect", "Reconnect":
		return true
	}
	return false
}

// networkCause reports whether err, returned by an HTTP round trip or a
// body read, is a network failure, and whether the request may have
// reached the server.
func networkCause(err error) (network, maybeSent bool) {
	if err == nil {
		return false, false
	}
	var ae *auth.AuthError
	if errors.As(err, &ae) || errors.Is(err, auth.ErrResponseTooLarge) || errors.Is(err, auth.ErrCrossHostRedirect) {
		return false, false
	}
	var (
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidCert) ||
		errors.As(err, &verifyErr) || errors.As(err, &recordErr) {
		return false, false // a configuration problem, not an outage
	}
	var op *net.OpError
	if errors.As(err, &op) {
		// A failed dial (also to a proxy) or proxy tunnel: nothing was sent.
		return true, op.Op != "dial" && op.Op != "proxyconnect"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, true
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true, true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH):
		return true, false
	}
	return false, false
}
