package examplecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// ExitStatus prints err on stderr and returns the exit status, by the flag
// package's convention: 0 on success and for -h (the usage is already
// printed), 2 for a usage error, 1 for any other failure.
func ExitStatus(err error, stderr io.Writer) int {
	var ue UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if !ue.Reported {
			fmt.Fprintln(stderr, "error:", err)
			fmt.Fprintln(stderr, "Run with -h for the usage.")
		}
		return 2
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
}

// Main runs p with the process's arguments and standard streams, cancels
// its context on an interrupt, and exits with ExitStatus.
func Main(p Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	status := ExitStatus(Run(ctx, p, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(status)
}
