package wsman

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/psremoting/psremoting/auth"
)

// maxErrorBody bounds how much of an HTTP error body is kept in HTTPError.
const maxErrorBody = 1024

// HTTPError is a non-2xx HTTP response that did not carry a SOAP fault
// (a fault becomes a *Fault instead).
type HTTPError struct {
	StatusCode int    // e.g. 500
	Status     string // e.g. "500 Internal Server Error"
	// Location is the redirect target of a 3xx response, if any.
	Location string
	// Body is at most the first 1 KiB of the response body, as text.
	Body string
}

// Error implements the error interface.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsman: HTTP %d", e.StatusCode)
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		b.WriteString(" redirect not followed")
		if e.Location != "" {
			b.WriteString(" (Location: " + truncate(e.Location, 256) + ")")
		}
		b.WriteString("; enable Config.AllowRedirection to follow it")
	}
	if e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	return b.String()
}

// boundedBody returns a printable prefix of body for error messages.
func boundedBody(body []byte) string {
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// ErrUnauthorized is matched (errors.Is) by an *AuthError and by the
// authenticators' own *auth.AuthError: it is auth.ErrUnauthorized.
var ErrUnauthorized = auth.ErrUnauthorized

// AuthError is an authentication failure: an HTTP 401 from the server
// (the credentials or the authentication method were refused; Offered
// lists the schemes the server offers) or an authenticator's own refusal or
// failed handshake. It is auth.AuthError, so one errors.As finds both. It
// never contains credentials.
type AuthError = auth.AuthError

// ErrResponseTooLarge is returned when a response body exceeds
// Config.MaxResponseBytes, whether the client or an authenticator (which
// buffers and unseals encrypted bodies) found it: it is
// auth.ErrResponseTooLarge.
var ErrResponseTooLarge = auth.ErrResponseTooLarge

// ErrCrossHostRedirect is returned for a redirect to another origin
// (scheme, host or port) than the endpoint's, which is followed only with
// Config.AllowCrossHostRedirection: it is auth.ErrCrossHostRedirect.
var ErrCrossHostRedirect = auth.ErrCrossHostRedirect

// ErrTooManyRedirects is returned when a request was redirected more than
// Config.MaxRedirects times.
var ErrTooManyRedirects = errors.New("wsman: stopped after too many redirects")

// ErrInsecureRedirect is returned for a redirect from https to http, which
// is never followed.
var ErrInsecureRedirect = errors.New("wsman: refusing a redirect from https to http")

// ErrRelatesTo is returned when a response's RelatesTo does not match the
// request's MessageID.
var ErrRelatesTo = errors.New("wsman: response RelatesTo does not match the request MessageID")

// UnexpectedResponseError reports a well-formed response of the wrong kind
// (for example a GetResponse to a Receive).
type UnexpectedResponseError struct {
	Want string // the expected response action (short form)
	Got  string // the action received
}

// Error implements the error interface.
func (e *UnexpectedResponseError) Error() string {
	return fmt.Sprintf("wsman: expected %s, got %s", e.Want, truncate(e.Got, 200))
}
