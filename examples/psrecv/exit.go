package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

// Exit codes (documented in the usage and the README).
const (
	exitOK          = 0   // success
	exitFailed      = 1   // a remote command failed or wrote error records; any other failure
	exitUsage       = 2   // a command-line mistake (the flag package's convention)
	exitConnection  = 3   // the server could not be reached
	exitAuth        = 4   // the server refused the credentials
	exitNotFound    = 5   // no such session or job (or it expired on the server)
	exitBusy        = 6   // the session is connected to another client
	exitInterrupted = 130 // interrupted (Ctrl+C): the session was left disconnected, its token saved
)

const exitCodesHelp = `Exit codes:
  0    success
  1    a remote command failed or wrote error records; any other failure
  2    usage error
  3    connection failed (the server could not be reached)
  4    authentication failed
  5    not found (no such session or job, or it expired)
  6    busy (the session is connected to another client)
  130  interrupted (Ctrl+C): the session was left disconnected and its token
       saved; receive gets the rest
`

// errCommandFailed says a remote command failed or wrote error records,
// which psrecv has already printed on stderr.
var errCommandFailed = errors.New("the remote command failed or wrote errors")

// errInterrupted says psrecv was interrupted and left the session
// disconnected (finishSessions said so on stderr).
var errInterrupted = errors.New("interrupted")

// errNotFound is a name or id that the token store does not hold.
var errNotFound = errors.New("not found")

// exitCode classifies err: first as every example program does (package
// flagexit: 0 for success and -h, 2 for a usage error), then by psrecv's
// own codes.
func exitCode(err error) int {
	if code := flagexit.Code(err); code == exitOK || code == exitUsage {
		return code
	}
	var ne net.Error
	switch {
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, auth.ErrUnauthorized):
		return exitAuth
	case errors.Is(err, session.ErrBusy):
		return exitBusy
	case errors.Is(err, session.ErrNotFound), errors.Is(err, session.ErrExpired), errors.Is(err, errNotFound):
		return exitNotFound
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &ne) && !errors.Is(err, context.Canceled):
		return exitConnection
	default:
		return exitFailed
	}
}

// exitStatus prints err on stderr (unless it was printed already) and
// returns the exit status.
func exitStatus(err error, stderr io.Writer) int {
	code := exitCode(err)
	switch {
	case code == exitOK:
	case flagexit.Reported(err):
	case errors.Is(err, errCommandFailed) && !hasOther(err):
		// the error records are on stderr already
	default:
		fmt.Fprintln(stderr, "psrecv:", err)
	}
	return code
}

// hasOther says err holds more than errCommandFailed.
func hasOther(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasOther(e) {
				return true
			}
		}
		return false
	}
	return err != errCommandFailed
}
