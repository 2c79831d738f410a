package session

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// ResultKind says which stream a Result comes from.
type ResultKind int

// Result kinds (PowerShell's streams, plus command state changes).
const (
	// KindOutput is an output object (Result.Output).
	KindOutput ResultKind = iota + 1
	// KindError is an error record (Result.Error).
	KindError
	// KindWarning is a warning record (Result.Record).
	KindWarning
	// KindVerbose is a verbose record (Result.Record).
	KindVerbose
	// KindDebug is a debug record (Result.Record).
	KindDebug
	// KindInformation is an information record (Result.Information).
	KindInformation
	// KindProgress is a progress record (Result.Progress).
	KindProgress
	// KindState is a command state change (Result.State and
	// Result.StateReason); the last Result of a finished command.
	KindState
	// KindHostCall is a host call the session answered by its policy (see
	// HostHandler; Result.HostCall).
	KindHostCall
)

var kindNames = []string{"", "Output", "Error", "Warning", "Verbose", "Debug", "Information", "Progress", "State",
	"HostCall"}

// String names the kind.
func (k ResultKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ResultKind(" + strconv.Itoa(int(k)) + ")"
}

// Result is one item a command produced: exactly the field its Kind names
// is set. Source fields say where it came from (useful when results of
// several sessions are merged).
type Result struct {
	// Kind says which field is set.
	Kind ResultKind
	// ComputerName, SessionName and SessionInstanceID identify the session
	// (PowerShell's PSComputerName and RunspaceId).
	ComputerName, SessionName string
	// SessionInstanceID is the session's InstanceId.
	SessionInstanceID uuid.UUID
	// CommandID is the command (pipeline) id.
	CommandID uuid.UUID

	// Output is an output object (KindOutput).
	Output clixml.Value
	// Error is an error record (KindError).
	Error *psrp.ErrorRecord
	// Record is a warning, verbose or debug record.
	Record *psrp.InformationalRecord
	// Information is an information record (Write-Information).
	Information *psrp.InformationRecord
	// Progress is a progress record.
	Progress *psrp.ProgressRecord
	// State is the command's new state (KindState): Completed, Failed,
	// Stopped.
	State psrp.PSInvocationState
	// StateReason is the error record of a Failed or Stopped command, if
	// the server sent one.
	StateReason *psrp.ErrorRecord
	// OutputMayBeDropped (KindState) says the command ran disconnected in
	// a session whose OutputBufferingMode is Drop: the server may have
	// discarded its oldest output, which no Receive can recover (the
	// protocol does not say whether or how much it dropped).
	OutputMayBeDropped bool
	// HostCall is a host call (KindHostCall).
	HostCall *psrp.HostCall
}

// Stream is the results of one or more commands, as PowerShell writes them
// to the host (OutTarget Host): read them from C or All, then check Err.
// The stream is bounded: while its reader lags, the session stops
// receiving for its commands, so memory stays bounded and a server in
// Block mode suspends them. A Stream is safe for concurrent use.
type Stream struct {
	ch   chan Result
	quit chan struct{} // closed by Close: producers stop

	mu        sync.Mutex
	producers int
	err       error
	closed    bool
	detach    []func()
	quitOnce  sync.Once
	finalized chan struct{}
}

func newStream(buffer, producers int) *Stream {
	if buffer <= 0 {
		buffer = DefaultResultBuffer
	}
	st := &Stream{ch: make(chan Result, buffer), quit: make(chan struct{}), producers: producers,
		finalized: make(chan struct{})}
	if producers == 0 {
		st.closed = true
		close(st.ch)
		close(st.finalized)
	}
	return st
}

// C returns the results; it is closed when every command has ended (or the
// stream was closed). Then Err tells whether all went well.
func (st *Stream) C() <-chan Result { return st.ch }

// Err returns the error that ended the stream early (nil when every
// command's results arrived): a *SessionError matching ErrDisconnected when
// the session was disconnected, a *LimitError, a transport error, ... Join
// of several when several commands failed. Call it after C is closed.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// Done is closed when the stream has ended.
func (st *Stream) Done() <-chan struct{} { return st.finalized }

// All yields every result with a nil error, then, if the stream ended with
// an error, one zero Result with that error. Breaking out of the loop
// closes the stream (see Close).
func (st *Stream) All() iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		for r := range st.ch {
			if !yield(r, nil) {
				st.Close()
				return
			}
		}
		if err := st.Err(); err != nil {
			yield(Result{}, err)
		}
	}
}

// Collect reads every result until the stream ends or ctx ends.
func (st *Stream) Collect(ctx context.Context) ([]Result, error) {
	var out []Result
	for {
		select {
		case r, ok := <-st.ch:
			if !ok {
				return out, st.Err()
			}
			out = append(out, r)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}

// Close stops reading: the session stops receiving for the stream's
// commands, which keep running on the server, their further output left
// there (a later Receive gets it). Results not read yet are lost.
func (st *Stream) Close() {
	st.quitOnce.Do(func() {
		close(st.quit)
		st.mu.Lock()
		fs := st.detach
		st.detach = nil
		st.mu.Unlock()
		for _, f := range fs {
			f()
		}
	})
}

// onClose registers f to run when the reader closes the stream (at once
// if it already has).
func (st *Stream) onClose(f func()) {
	st.mu.Lock()
	select {
	case <-st.quit:
		st.mu.Unlock()
		f()
		return
	default:
	}
	st.detach = append(st.detach, f)
	st.mu.Unlock()
}

// emit delivers r, waiting while the reader lags. It returns false when
// the stream was closed or ctx ended.
func (st *Stream) emit(ctx context.Context, r Result) bool {
	select {
	case st.ch <- r:
		return true
	case <-st.quit:
		return false
	case <-ctx.Done():
		return false
	}
}

// end is called once by each producer; the last one closes C.
func (st *Stream) end(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		st.err = errors.Join(st.err, err)
	}
	st.producers--
	if st.producers == 0 && !st.closed {
		st.closed = true
		close(st.ch)
		close(st.finalized)
	}
}
