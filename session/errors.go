package session

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psremoting/psremoting/wsman"
)

// Sentinel errors; the typed errors below match them with errors.Is.
var (
	// ErrBusy: the session is connected to another client (its
	// Availability is Busy); it cannot be connected, received or removed
	// from here until that client disconnects. It also matches
	// wsman.ErrShellBusy.
	ErrBusy = errors.New("session: the session is connected to another client (Availability Busy)")
	// ErrExpired: the session is gone from the server, typically because
	// its IdleTimeout elapsed while it was disconnected. It also matches
	// wsman.ErrShellNotFound.
	ErrExpired = errors.New("session: the session no longer exists on the server (idle timeout expired or removed)")
	// ErrDisconnected: the operation needs a connected session, or a
	// synchronous result stream ended because the session was
	// disconnected (the command keeps running; Receive gets the rest).
	ErrDisconnected = errors.New("session: the session is disconnected")
	// ErrClosed: the session was closed or removed.
	ErrClosed = errors.New("session: the session is closed")
	// ErrBroken: the session broke (the server or the transport failed).
	ErrBroken = errors.New("session: the session is broken")
	// ErrNotFound: no session matches a Receive or Connect selector.
	ErrNotFound = errors.New("session: no matching session")
	// ErrUnsupported: a feature this package does not offer.
	ErrUnsupported = errors.New("session: not supported")
	// ErrLimit: a client-side limit (MaximumReceivedObjectSize,
	// MaximumReceivedDataSizePerCommand) was exceeded.
	ErrLimit = errors.New("session: received data exceeds a configured limit")
	// ErrInvalidOption: an option is invalid or not allowed here.
	ErrInvalidOption = errors.New("session: invalid option")
	// ErrDeclined: the Confirm callback declined the operation.
	ErrDeclined = errors.New("session: declined by the Confirm callback")
)

// SessionError is the error of an operation on one session. It carries the
// session's identity (never credentials) and wraps the cause; errors.Is
// matches ErrBusy, ErrExpired, ... through it.
type SessionError struct {
	// Op is the operation: "new", "invoke", "disconnect", "connect",
	// "receive", "remove", "get".
	Op string
	// ComputerName and Name identify the session ("" when unknown).
	ComputerName, Name string
	// InstanceID is the session's InstanceId (the shell id), "" when
	// unknown.
	InstanceID string
	// Kind is ErrBusy, ErrExpired, ErrDisconnected, ... or nil.
	Kind error
	// Err is the underlying error (often a *wsman.Fault).
	Err error
}

// Error implements error.
func (e *SessionError) Error() string {
	s := "session: " + e.Op
	if e.Name != "" {
		s += fmt.Sprintf(" %q", e.Name)
	}
	if e.ComputerName != "" {
		s += " on " + e.ComputerName
	}
	if e.InstanceID != "" {
		s += " (" + e.InstanceID + ")"
	}
	// The kinds and causes of this package say "session: " themselves:
	// once at the start is enough.
	if e.Kind != nil {
		s += ": " + strings.TrimPrefix(e.Kind.Error(), "session: ")
	}
	if e.Err != nil && e.Err != e.Kind {
		s += ": " + strings.TrimPrefix(e.Err.Error(), "session: ")
	}
	return s
}

// Unwrap returns the kind and the cause.
func (e *SessionError) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// classify maps a wsman error to a kind: busy, expired, disconnected.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wsman.ErrShellBusy):
		return ErrBusy
	case errors.Is(err, wsman.ErrShellNotFound):
		return ErrExpired
	case errors.Is(err, wsman.ErrShellDisconnected):
		return ErrDisconnected
	}
	return nil
}

// OptionError is an invalid or misplaced option.
type OptionError struct {
	// Field names the option.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *OptionError) Error() string { return "session: option " + e.Field + ": " + e.Msg }

// Is matches ErrInvalidOption.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

// UnsupportedError is a feature this package does not offer (CredSSP and
// Digest authentication, for example).
type UnsupportedError struct {
	// What is not supported.
	What string
}

// Error implements error.
func (e *UnsupportedError) Error() string { return "session: " + e.What + " is not supported" }

// Is matches ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// IdleTimeoutError is an IdleTimeout outside the server's range (60 s to
// the MaxIdleTimeOut the server reported), refused before it is sent.
type IdleTimeoutError struct {
	// Requested is the value asked for.
	Requested time.Duration
	// Min and Max are the server's range (Max 0 when the server did not
	// report one).
	Min, Max time.Duration
}

// Error implements error.
func (e *IdleTimeoutError) Error() string {
	if e.Max > 0 {
		return fmt.Sprintf("session: IdleTimeout %s is outside the server's range %s to %s", e.Requested, e.Min, e.Max)
	}
	return fmt.Sprintf("session: IdleTimeout %s is below the minimum %s", e.Requested, e.Min)
}

// Is matches ErrInvalidOption.
func (e *IdleTimeoutError) Is(target error) bool { return target == ErrInvalidOption }

// LimitError is a client-side limit exceeded while receiving.
type LimitError struct {
	// Limit names the SessionOption field.
	Limit string
	// Max is its value.
	Max int64
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *LimitError) Error() string {
	s := fmt.Sprintf("session: %s (%d bytes) exceeded", e.Limit, e.Max)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Unwrap returns the cause.
func (e *LimitError) Unwrap() error { return e.Err }
