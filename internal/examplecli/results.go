package examplecli

import (
	"fmt"

	"github.com/psremoting/psremoting/session"
)

// PrintStream prints a command's results as they arrive, as PowerShell
// shows them on the command line: output objects on stdout, errors and
// warnings marked, progress as a bar on stderr. It returns the stream's
// error, or the reason a command failed.
func (e *Env) PrintStream(st *session.Stream) error {
	bar := NewProgress(e.Stderr)
	defer bar.Done()
	for r, err := range st.All() {
		if err != nil {
			return err
		}
		if err := e.PrintResult(bar, r); err != nil {
			return err
		}
	}
	return nil
}

// PrintResults prints results already received (a job's), as PrintStream
// does.
func (e *Env) PrintResults(results []session.Result) error {
	bar := NewProgress(e.Stderr)
	defer bar.Done()
	for _, r := range results {
		if err := e.PrintResult(bar, r); err != nil {
			return err
		}
	}
	return nil
}

// PrintResult prints one result; it returns an error for a command that
// failed.
func (e *Env) PrintResult(bar *Progress, r session.Result) error {
	switch r.Kind {
	case session.KindProgress:
		bar.Show(r.Progress)
	case session.KindOutput:
		bar.Above(func() { e.Printf("%s\n", Display(r.Output)) })
	case session.KindError:
		bar.Above(func() { e.Printf("error: %s\n", r.Error) })
	case session.KindWarning:
		bar.Above(func() { e.Printf("WARNING: %s\n", r.Record.Message) })
	case session.KindState:
		if r.StateReason != nil {
			return fmt.Errorf("the command in %s on %s ended %s: %s", r.SessionName, r.ComputerName, r.State, r.StateReason)
		}
	}
	return nil
}
