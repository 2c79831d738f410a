package psrp

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// ServerPipeline is the server side of one pipeline of a ServerPool. Its
// writers queue messages on Target{Pipeline: ID()}, which a WSMan Receive
// with that CommandId takes with ServerPool.NextPayload. A pipeline is
// Running from its CREATE_PIPELINE until SetState ends it; its queued output
// stays available after that until ServerPool.RemovePipeline.
type ServerPipeline struct {
	pool        *ServerPool
	id          uuid.UUID
	state       PSInvocationState
	out         Fragmenter
	inputClosed bool
	metadata    bool // started by GET_COMMAND_METADATA
}

// ID returns the pipeline id (PID, the WSMan CommandId).
func (pl *ServerPipeline) ID() uuid.UUID { return pl.id }

// State returns the pipeline's state.
func (pl *ServerPipeline) State() PSInvocationState { return pl.state }

// InputClosed reports whether END_OF_PIPELINE_INPUT has arrived.
func (pl *ServerPipeline) InputClosed() bool { return pl.inputClosed }

// IsCommandMetadata reports whether the pipeline was started by
// GET_COMMAND_METADATA rather than CREATE_PIPELINE.
func (pl *ServerPipeline) IsCommandMetadata() bool { return pl.metadata }

// Target returns the pipeline's output queue.
func (pl *ServerPipeline) Target() Target { return Target{Pipeline: pl.id} }

func (pl *ServerPipeline) stateErr(op, detail string) *StateError {
	return &StateError{Op: op, PoolState: pl.pool.state, Pipeline: pl.id, PipelineState: pl.state, Detail: detail}
}

func (pl *ServerPipeline) writable(op string) error {
	if pl.state != PSInvocationRunning && pl.state != PSInvocationStopping {
		return pl.stateErr(op, "the pipeline has finished")
	}
	if pl.pool.state.Final() {
		return pl.stateErr(op, "the pool is closed or broken")
	}
	return nil
}

func (pl *ServerPipeline) write(op string, d MessageData) error {
	if err := pl.writable(op); err != nil {
		return err
	}
	return pl.pool.queueOn(&pl.out, pl.pool.id, pl.id, d)
}

// WriteOutput queues one PIPELINE_OUTPUT object (nil writes <Nil/>).
func (pl *ServerPipeline) WriteOutput(v clixml.Value) error {
	if err := pl.writable("WriteOutput"); err != nil {
		return err
	}
	data, err := encodeValueOrNil(v)
	if err != nil {
		return err
	}
	pl.pool.queueRaw(&pl.out, MessagePipelineOutput, pl.pool.id, pl.id, data)
	return nil
}

// WriteError queues an ERROR_RECORD.
func (pl *ServerPipeline) WriteError(r *ErrorRecord) error { return pl.write("WriteError", r) }

// WriteDebug queues a DEBUG_RECORD (it sets r.Type).
func (pl *ServerPipeline) WriteDebug(r *InformationalRecord) error {
	r.Type = MessageDebugRecord
	return pl.write("WriteDebug", r)
}

// WriteVerbose queues a VERBOSE_RECORD (it sets r.Type).
func (pl *ServerPipeline) WriteVerbose(r *InformationalRecord) error {
	r.Type = MessageVerboseRecord
	return pl.write("WriteVerbose", r)
}

// WriteWarning queues a WARNING_RECORD (it sets r.Type).
func (pl *ServerPipeline) WriteWarning(r *InformationalRecord) error {
	r.Type = MessageWarningRecord
	return pl.write("WriteWarning", r)
}

// WriteInformation queues an INFORMATION_RECORD (protocol 2.3 and later).
func (pl *ServerPipeline) WriteInformation(r *InformationRecord) error {
	return pl.write("WriteInformation", r)
}

// WriteProgress queues a PROGRESS_RECORD.
func (pl *ServerPipeline) WriteProgress(r *ProgressRecord) error { return pl.write("WriteProgress", r) }

// HostCall queues a PIPELINE_HOST_CALL (it sets c.Pipeline).
func (pl *ServerPipeline) HostCall(c *HostCall) error {
	c.Pipeline = true
	return pl.write("HostCall", c)
}

// BeginStop: Running → Stopping, when the client signals ctrl_c. Finish
// with SetState(PSInvocationStopped, ...).
func (pl *ServerPipeline) BeginStop() error {
	if pl.state == PSInvocationStopping {
		return nil
	}
	if pl.state != PSInvocationRunning {
		return pl.stateErr("BeginStop", "the pipeline is not running")
	}
	pl.state = PSInvocationStopping
	return nil
}

// SetState ends the pipeline: it queues PIPELINE_STATE with the state
// (Completed, Stopped or Failed) and the error record, if any (Failed and
// Stopped carry one on Windows).
func (pl *ServerPipeline) SetState(state PSInvocationState, errRecord *ErrorRecord) error {
	if !state.Terminal() {
		return pl.stateErr("SetState", fmt.Sprintf("servers only send terminal states, not %s", state))
	}
	if !pl.state.CanTransition(state) {
		return pl.stateErr("SetState", fmt.Sprintf("cannot move to %s", state))
	}
	if pl.pool.state.Final() {
		return pl.stateErr("SetState", "the pool is closed or broken")
	}
	if err := pl.pool.queueOn(&pl.out, pl.pool.id, pl.id, &PipelineStateInfo{State: state, Error: errRecord}); err != nil {
		return err
	}
	pl.state = state
	return nil
}
