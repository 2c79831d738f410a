package psrp

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// The transition tables of the runspace pool and pipeline state machines
// (MS-PSRP 3.1.1.3 and 3.2.1.3, .NET RunspacePoolState and
// PSInvocationState). Both the client and the server machines consult them,
// so that an illegal step is reported as a *StateError instead of being
// applied.

// poolTransitions lists, for each pool state, the states it may move to.
var poolTransitions = [...][]RunspacePoolState{
	RunspacePoolBeforeOpen:    {RunspacePoolOpening, RunspacePoolConnecting, RunspacePoolBroken, RunspacePoolClosed},
	RunspacePoolOpening:       {RunspacePoolOpened, RunspacePoolBroken, RunspacePoolClosing, RunspacePoolClosed},
	RunspacePoolOpened:        {RunspacePoolDisconnecting, RunspacePoolClosing, RunspacePoolBroken, RunspacePoolClosed},
	RunspacePoolClosed:        nil,
	RunspacePoolClosing:       {RunspacePoolClosed, RunspacePoolBroken},
	RunspacePoolBroken:        nil,
	RunspacePoolDisconnecting: {RunspacePoolDisconnected, RunspacePoolBroken, RunspacePoolClosed},
	RunspacePoolDisconnected:  {RunspacePoolConnecting, RunspacePoolClosing, RunspacePoolBroken, RunspacePoolClosed},
	RunspacePoolConnecting:    {RunspacePoolOpened, RunspacePoolDisconnected, RunspacePoolBroken, RunspacePoolClosing, RunspacePoolClosed},
}

// CanTransition reports whether a runspace pool may move from s to next.
func (s RunspacePoolState) CanTransition(next RunspacePoolState) bool {
	if s < 0 || int(s) >= len(poolTransitions) {
		return false
	}
	for _, t := range poolTransitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// Final reports whether s is Closed or Broken: the pool accepts nothing more.
func (s RunspacePoolState) Final() bool {
	return s == RunspacePoolClosed || s == RunspacePoolBroken
}

// pipelineTransitions lists, for each pipeline state, the states it may move to.
var pipelineTransitions = [...][]PSInvocationState{
	PSInvocationNotStarted:   {PSInvocationRunning, PSInvocationDisconnected, PSInvocationStopped, PSInvocationFailed},
	PSInvocationRunning:      {PSInvocationStopping, PSInvocationStopped, PSInvocationCompleted, PSInvocationFailed, PSInvocationDisconnected},
	PSInvocationStopping:     {PSInvocationStopped, PSInvocationCompleted, PSInvocationFailed, PSInvocationDisconnected},
	PSInvocationStopped:      nil,
	PSInvocationCompleted:    nil,
	PSInvocationFailed:       nil,
	PSInvocationDisconnected: {PSInvocationRunning, PSInvocationStopping, PSInvocationStopped, PSInvocationCompleted, PSInvocationFailed},
}

// CanTransition reports whether a pipeline may move from s to next.
func (s PSInvocationState) CanTransition(next PSInvocationState) bool {
	if s < 0 || int(s) >= len(pipelineTransitions) {
		return false
	}
	for _, t := range pipelineTransitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// ErrInvalidState is wrapped by every *StateError: test with errors.Is.
var ErrInvalidState = errors.New("psrp: invalid state")

// StateError reports an operation or message that the state machine does not
// accept in its current state: an illegal transition, a message of a type the
// current state does not expect, a message for an unknown pipeline, or a
// message addressed to the wrong side or pool. Nothing is changed when a
// StateError is returned.
type StateError struct {
	// Op is the operation ("Open", "Invoke", "ReceiveData", ...).
	Op string
	// PoolState is the runspace pool's state when the error happened.
	PoolState RunspacePoolState
	// Pipeline is the pipeline concerned, uuid.Nil for the pool.
	Pipeline uuid.UUID
	// PipelineState is the pipeline's state when Pipeline is set.
	PipelineState PSInvocationState
	// Message is the type of the offending message, 0 for a local operation.
	Message MessageType
	// Detail says what was wrong.
	Detail string
}

// Error implements error.
func (e *StateError) Error() string {
	s := "psrp: " + e.Op
	if e.Message != 0 {
		s += " " + e.Message.String()
	}
	s += fmt.Sprintf(": runspace pool %s", e.PoolState)
	if e.Pipeline != uuid.Nil {
		s += fmt.Sprintf(", pipeline %s %s", e.Pipeline, e.PipelineState)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns ErrInvalidState.
func (e *StateError) Unwrap() error { return ErrInvalidState }

// ErrMessageData is wrapped by errors about the CLIXML data of a message the
// state machine must read (a state, a capability, a key): the data does not
// have the expected shape.
var ErrMessageData = errors.New("psrp: unexpected message data")

// Stream names the WS-Management input stream client data travels on.
type Stream uint8

// Client input streams (MS-PSRP 3.1.5.3.5: host responses go on "pr").
const (
	// StreamStdin is the default input stream "stdin".
	StreamStdin Stream = iota
	// StreamPromptResponse is the "pr" stream used for RUNSPACEPOOL_HOST_RESPONSE
	// and PIPELINE_HOST_RESPONSE.
	StreamPromptResponse
)

// String returns the WS-Management stream name.
func (s Stream) String() string {
	if s == StreamPromptResponse {
		return "pr"
	}
	return "stdin"
}

// Target identifies one outgoing queue of a state machine: the runspace pool
// (Pipeline == uuid.Nil) or one pipeline, and on the client the input stream.
// A server's queues always use StreamStdin: its data goes to the client's
// "stdout" Receive, with or without a CommandId.
type Target struct {
	Pipeline uuid.UUID
	Stream   Stream
}

// PoolTarget is the runspace pool's default queue.
var PoolTarget = Target{}

// String returns "pool/stdin", "<pipeline id>/pr" and so on.
func (t Target) String() string {
	if t.Pipeline == uuid.Nil {
		return "pool/" + t.Stream.String()
	}
	return t.Pipeline.String() + "/" + t.Stream.String()
}
