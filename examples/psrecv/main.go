package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdinFd:   int(os.Stdin.Fd()),
	}
	status := exitStatus(run(ctx, e, os.Args[1:]), e.stderr)
	stop()
	os.Exit(status)
}

// env is what a run of the program sees of the world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrTTY says stderr is a terminal (progress bars); stdinTTY says
	// stdin is one (no-echo password prompt, -confirm).
	stderrTTY, stdinTTY bool
	stdinFd             int
	// prompted is the password typed at the prompt, asked once per run.
	prompted string
}

// A subcommand of psrecv.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func subcommands() []subcommand {
	return []subcommand{
		{"get", "list the sessions on one or more computers (Get-PSSession -ComputerName)", runGet},
		{"receive", "connect a disconnected session and receive its results (Receive-PSSession)", runReceive},
		{"connect", "connect a disconnected session (Connect-PSSession)", runConnect},
		{"disconnect", "disconnect a session, setting its idle timeout or buffering mode (Disconnect-PSSession)", runDisconnect},
		{"invoke", "run a script, in a disconnected session or as a job (Invoke-Command)", runInvoke},
		{"remove", "delete a session on the server (Remove-PSSession)", runRemove},
		{"job", "list, receive, wait for, stop or remove jobs kept through reattach tokens (Get-Job, Receive-Job, Wait-Job, Stop-Job, Remove-Job)", runJob},
		{"fake-server", "run the embedded fake WinRM server, to try psrecv without Windows", runFakeServer},
	}
}

// run dispatches args to a subcommand.
func run(ctx context.Context, e *env, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprint(w, "Usage: psrecv SUBCOMMAND [flags]\n\nSubcommands:\n")
		for _, c := range subcommands() {
			fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
		}
		fmt.Fprint(w, "\nRun 'psrecv SUBCOMMAND -h' for the flags of a subcommand.\n\n"+exitCodesHelp)
	}
	if len(args) == 0 {
		usage(e.stderr)
		return flagexit.UsageError{Err: errors.New("no subcommand"), Reported: true}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if args[0] == "help" && len(args) > 1 {
			return run(ctx, e, []string{args[1], "-h"})
		}
		usage(e.stderr)
		return flag.ErrHelp
	}
	for _, c := range subcommands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	names := make([]string, 0, 8)
	for _, c := range subcommands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return flagexit.Usagef("unknown subcommand %q (want one of %s)", args[0], strings.Join(names, ", "))
}
