// Package flagexit is the command-line convention every example program
// follows, the flag package's: -h prints the usage and exits 0, a usage
// error exits 2, any other failure exits 1.
//
// It depends on the standard library only, so that the small programs
// (fakeserver, psrpdump) follow the convention without linking what
// package examplecli needs (the session layer, the fake server).
package flagexit

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is a command-line mistake: the exit status is 2. When
// Reported is set, the flag package has already printed it with the usage.
type UsageError struct {
	Err      error
	Reported bool
}

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

// Parse parses args with fs (which must be flag.ContinueOnError) and
// accepts no argument after the flags: -h is flag.ErrHelp, a bad flag a
// reported UsageError (the flag package has printed it with the usage), a
// stray argument a UsageError.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{Err: err, Reported: true}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %q", fs.Args())
	}
	return nil
}

// Code is the exit status for err: 0 for nil and for flag.ErrHelp (the
// usage is already printed), 2 for a UsageError, 1 for any other failure.
func Code(err error) int {
	var ue UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// Reported says err is a UsageError the flag package has already printed.
func Reported(err error) bool {
	var ue UsageError
	return errors.As(err, &ue) && ue.Reported
}

// Status prints err on stderr, after prefix (such as "error:" or the
// program's name and a colon), unless it is already printed, and returns
// its exit status (Code). A usage error the flag package has not printed
// is followed by the line hint when hint is not empty.
func Status(err error, stderr io.Writer, prefix, hint string) int {
	code := Code(err)
	if code == 0 || Reported(err) {
		return code
	}
	fmt.Fprintln(stderr, prefix, err)
	if code == 2 && hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	return code
}
