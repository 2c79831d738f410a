package session

import (
	"errors"
	"testing"
)

// A SessionError says "session: " once, names only what it knows, and
// still matches its kind and cause.
func TestSessionErrorMessage(t *testing.T) {
	cause := errors.New("wsman: Enumerate: connection refused")
	for _, tc := range []struct {
		err  *SessionError
		want string
	}{
		{&SessionError{Op: "receive", Kind: ErrNotFound}, "session: receive: no matching session"},
		{&SessionError{Op: "get", ComputerName: "server01", Err: cause},
			"session: get on server01: wsman: Enumerate: connection refused"},
		{&SessionError{Op: "connect", Name: "ITTask", ComputerName: "server01", InstanceID: "ABC", Kind: ErrBusy},
			`session: connect "ITTask" on server01 (ABC): the session is connected to another client (Availability Busy)`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if tc.err.Kind != nil && !errors.Is(tc.err, tc.err.Kind) {
			t.Errorf("%v does not match its kind", tc.err)
		}
		if tc.err.Err != nil && !errors.Is(tc.err, tc.err.Err) {
			t.Errorf("%v does not match its cause", tc.err)
		}
	}
}
