package examplecli

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
)

// ExitStatus prints err on stderr and returns the exit status, by the flag
// package's convention (package flagexit): 0 on success and for -h (the
// usage is already printed), 2 for a usage error (with a hint to run -h),
// 1 for any other failure.
func ExitStatus(err error, stderr io.Writer) int {
	return flagexit.Status(err, stderr, "error:", "Run with -h for the usage.")
}

// Main runs p with the process's arguments and standard streams, cancels
// its context on an interrupt, and exits with ExitStatus.
func Main(p Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	status := ExitStatus(Run(ctx, p, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(status)
}
