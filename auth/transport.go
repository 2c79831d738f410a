package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Errors shared by the Basic and NTLM authenticators.
var (
	// ErrUnauthorized matches every *AuthError: the server refused the
	// credentials or the handshake failed.
	ErrUnauthorized = errors.New("auth: authentication failed")
	// ErrInsecureTransport means the authenticator refused to send
	// credentials or unencrypted messages over plain http:// because
	// WrapOptions.AllowUnencrypted is off.
	ErrInsecureTransport = errors.New("auth: refusing to send credentials or unencrypted messages over plain http:// (use https://, message encryption, or set AllowUnencrypted)")
	// ErrResponseTooLarge means a response body exceeded the configured
	// limit (WrapOptions.MaxResponseBytes, or the authenticator's own
	// MaxResponseBytes when smaller). It is the one sentinel for this at
	// every layer: wsman.ErrResponseTooLarge is the same value.
	ErrResponseTooLarge = errors.New("auth: response body exceeds the configured limit")
)

// AuthError is an authentication failure: an authenticator's refusal or
// failed handshake, or an HTTP 401 that reached the wsman client (which
// returns this same type as wsman.AuthError), so one errors.As finds
// either. It never contains credentials.
type AuthError struct {
	// Scheme is the authentication method ("Basic", "NTLM", ...); empty
	// when none was configured.
	Scheme string
	// StatusCode is the HTTP status of the last response, 0 if none.
	StatusCode int
	// Reason says what failed.
	Reason string
	// Offered lists the schemes of the server's WWW-Authenticate headers
	// (never their tokens), when known.
	Offered []string
	// Err is an underlying cause, if any.
	Err error
}

// Error describes the failure without credentials.
func (e *AuthError) Error() string {
	s := "auth: authentication failed"
	if e.Scheme != "" {
		s = "auth: " + e.Scheme + " authentication failed"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.StatusCode != 0 {
		s += " (HTTP " + strconv.Itoa(e.StatusCode) + ")"
	}
	if len(e.Offered) > 0 {
		s += "; server offers " + strings.Join(e.Offered, ", ")
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Err }

// Is matches ErrUnauthorized.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

// DefaultMaxResponseBytes bounds the responses the NTLM and Kerberos
// transports buffer when neither WrapOptions.MaxResponseBytes nor their own
// MaxResponseBytes is set.
const DefaultMaxResponseBytes = 64 << 20

// maxReserve bounds the buffer reserved for a response before its bytes
// arrive: a server that announces a large Content-Length and then stalls
// holds no more than this per request (the buffer grows as bytes arrive).
const maxReserve = 1 << 20

// encryptedFraming is the room allowed for the multipart/encrypted framing
// (MIME headers, boundaries, signature) around a sealed body of at most the
// response limit: the caller's limit applies to the plaintext.
const encryptedFraming = 4 << 10

// responseLimit returns the limit a transport applies to a response: the
// smaller of its own setting and the caller's (WrapOptions), whichever are
// set, else DefaultMaxResponseBytes.
func responseLimit(own, caller int64) int64 {
	switch {
	case own > 0 && caller > 0:
		return min(own, caller)
	case own > 0:
		return own
	case caller > 0:
		return caller
	}
	return DefaultMaxResponseBytes
}

// readLimitedSize reads at most limit bytes of rc and closes it. size is
// the expected size (a Content-Length; negative when unknown): a size above
// limit fails before reading, and up
// to maxReserve of it is reserved at once; beyond that the buffer grows as
// bytes arrive, so a Content-Length alone reserves little.
func readLimitedSize(rc io.ReadCloser, limit, size int64) ([]byte, error) {
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	var b []byte
	if size >= 0 {
		var buf bytes.Buffer
		buf.Grow(int(min(size, maxReserve)) + bytes.MinRead) // room for the read that sees EOF
		if _, err := buf.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
			return nil, err
		}
		b = buf.Bytes()
	} else {
		var err error
		if b, err = io.ReadAll(io.LimitReader(rc, limit+1)); err != nil {
			return nil, err
		}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return b, nil
}

// drain discards a bounded amount of a body so the connection can be
// reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// readRequestBody buffers and closes a request body.
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	if req.ContentLength > 0 && req.ContentLength <= DefaultMaxResponseBytes {
		var buf bytes.Buffer
		buf.Grow(int(req.ContentLength) + bytes.MinRead)
		_, err := buf.ReadFrom(req.Body)
		return buf.Bytes(), err
	}
	return io.ReadAll(req.Body)
}

// cloneWithBody clones req for ctx with a fresh body and Content-Length.
func cloneWithBody(ctx context.Context, req *http.Request, body []byte) *http.Request {
	r := req.Clone(ctx)
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r.Header.Del("Content-Length")
	return r
}

// replaceBody gives resp a buffered body.
func replaceBody(resp *http.Response, body []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Uncompressed = false
}

// challengeToken finds scheme in the WWW-Authenticate headers and returns
// its base64-decoded token (nil when the scheme is offered without one).
func challengeToken(h http.Header, scheme string) (token []byte, offered bool, err error) {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			name, rest, _ := strings.Cut(part, " ")
			if !strings.EqualFold(name, scheme) {
				continue
			}
			rest = strings.TrimSpace(rest)
			if rest == "" {
				return nil, true, nil
			}
			tok, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, true, fmt.Errorf("bad base64 in the %s challenge", scheme)
			}
			return tok, true, nil
		}
	}
	return nil, false, nil
}

// offeredSchemes lists the scheme names of the WWW-Authenticate headers
// (never their tokens), for error messages.
func offeredSchemes(h http.Header) string {
	var names []string
	for _, v := range h.Values("WWW-Authenticate") {
		for _, part := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if name != "" && !strings.Contains(name, "=") {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// semaphore is a mutex whose Lock honours a context.
type semaphore chan struct{}

func (s semaphore) lock(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s semaphore) unlock() { <-s }

// isHTTPS reports whether the request goes over TLS.
func isHTTPS(req *http.Request) bool { return strings.EqualFold(req.URL.Scheme, "https") }
