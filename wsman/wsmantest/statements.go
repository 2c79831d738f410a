package wsmantest

import (
	"context"
	"errors"
	"io"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// actionPreferenceStopType is the exception of a failure caused by an
// action preference of Stop.
const actionPreferenceStopType = "System.Management.Automation.ActionPreferenceStopException"

// stopError is a failure caused by an action preference of Stop (what
// PowerShell throws as ActionPreferenceStopException): it ends a pipeline
// of several statements, where another failure of a statement only writes
// its error record before the next statement runs. The pipeline's reason is
// rec.
type stopError struct{ rec *ErrorRecord }

func (e *stopError) Error() string { return e.rec.Message }

func (e *stopError) Unwrap() error { return e.rec }

// isStop reports whether a statement's failure ends a pipeline of several
// statements.
func isStop(err error) bool {
	var se *stopError
	if errors.As(err, &se) {
		return true
	}
	var rec *ErrorRecord
	return errors.As(err, &rec) && rec.ExceptionType == actionPreferenceStopType
}

// runStatements runs the statements of a PowerShell pipeline one after the
// other, as PowerShell runs a batch of statements (see
// Invocation.Statements): each statement gets its own handler; a failed
// statement's error goes to the error stream and the next one runs, except
// for a stop (action preference Stop, or the command being stopped), which
// ends the pipeline with that error.
func (s *Server) runStatements(ctx context.Context, inv *Invocation) error {
	for i, stmt := range inv.Statements {
		sub := *inv
		sub.Pipeline = stmt
		sub.Statements = [][]Command{stmt}
		if i > 0 {
			// Only the first statement reads the pipeline input.
			sub.NoInput = true
			sub.sink = noInputSink{inv.sink}
		}
		err := runHandler(s.resolve(&sub), ctx, &sub)
		if err == nil {
			continue
		}
		if ctx.Err() != nil || isStop(err) {
			return err
		}
		var rec *ErrorRecord
		if !errors.As(err, &rec) {
			rec = &ErrorRecord{Message: err.Error(), ExceptionType: "System.Management.Automation.RuntimeException",
				FullyQualifiedErrorID: "RuntimeException", CategoryReason: "RuntimeException"}
		}
		if werr := inv.WriteError(rec); werr != nil {
			return werr
		}
	}
	return nil
}

// noInputSink is the sink of a statement after the first: it has no
// pipeline input.
type noInputSink struct{ invocationSink }

func (noInputSink) readInput(context.Context) (clixml.Value, error) { return nil, io.EOF }
