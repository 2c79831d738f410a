package psrp

import (
	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// ClientPipeline is the client side of one pipeline (a PowerShell instance)
// of a ClientPool. Its outgoing data is queued on Target{Pipeline: ID()} (and
// the "pr" stream for host responses) and taken with ClientPool.NextPayload;
// its incoming data arrives through ClientPool.ReceiveData.
type ClientPipeline struct {
	pool        *ClientPool
	id          uuid.UUID
	state       PSInvocationState
	out, outPR  Fragmenter
	create      MessageData // CREATE_PIPELINE or GET_COMMAND_METADATA, until Invoke
	inputClosed bool
	adopted     bool // AdoptPipeline: another client may have received its earlier messages
}

// NewPipeline registers a pipeline that Invoke will create on the server
// with CREATE_PIPELINE. id is its PID (the WSMan CommandId); uuid.Nil picks
// a random one. The pool must be Opened.
func (p *ClientPool) NewPipeline(id uuid.UUID, create *CreatePipeline) (*ClientPipeline, error) {
	return p.newPipeline("NewPipeline", id, create)
}

// NewCommandMetadataPipeline registers a pipeline that Invoke starts with
// GET_COMMAND_METADATA (the Get-Command of a remote session; set
// req.CommandType, usually int32(CommandTypeAll) as clients send it). Its
// PIPELINE_OUTPUT values, in order, decode with DecodeCommandMetadataResult.
func (p *ClientPool) NewCommandMetadataPipeline(id uuid.UUID, req *GetCommandMetadata) (*ClientPipeline, error) {
	return p.newPipeline("NewCommandMetadataPipeline", id, req)
}

func (p *ClientPool) newPipeline(op string, id uuid.UUID, create MessageData) (*ClientPipeline, error) {
	if err := p.requireOpened(op); err != nil {
		return nil, err
	}
	if id == uuid.Nil {
		id = uuid.New()
	}
	if p.pipes[id] != nil {
		return nil, &StateError{Op: op, PoolState: p.state, Pipeline: id, PipelineState: p.pipes[id].state,
			Detail: "a pipeline with this id exists"}
	}
	pl := &ClientPipeline{pool: p, id: id, create: create}
	pl.out = *NewFragmenter(p.maxFrag, &p.ids)
	pl.outPR = *NewFragmenter(p.maxFrag, &p.ids)
	p.pipes[id] = pl
	p.order = append(p.order, pl)
	return pl, nil
}

// AdoptPipeline registers a pipeline that already runs on the server, for
// example one found by enumerating the commands of a pool this client
// connected to (Connect-PSSession / Receive-PSSession): no CREATE_PIPELINE
// is sent. The pipeline is Running when the pool is Opened (connect the
// command, then Receive with its CommandId) and Disconnected while the pool
// is Disconnected or Connecting (it resumes with the pool).
func (p *ClientPool) AdoptPipeline(id uuid.UUID) (*ClientPipeline, error) {
	if id == uuid.Nil {
		return nil, p.stateErr("AdoptPipeline", 0, "a pipeline id is required")
	}
	var st PSInvocationState
	switch p.state {
	case RunspacePoolOpened:
		st = PSInvocationRunning
	case RunspacePoolDisconnected, RunspacePoolConnecting:
		st = PSInvocationDisconnected
	default:
		return nil, p.stateErr("AdoptPipeline", 0, "the pool is neither Opened nor Disconnected")
	}
	if p.pipes[id] != nil {
		return nil, &StateError{Op: "AdoptPipeline", PoolState: p.state, Pipeline: id, PipelineState: p.pipes[id].state,
			Detail: "a pipeline with this id exists"}
	}
	pl := &ClientPipeline{pool: p, id: id, state: st, adopted: true}
	pl.out = *NewFragmenter(p.maxFrag, &p.ids)
	pl.outPR = *NewFragmenter(p.maxFrag, &p.ids)
	p.pipes[id] = pl
	p.order = append(p.order, pl)
	return pl, nil
}

// ID returns the pipeline id (PID, the WSMan CommandId).
func (pl *ClientPipeline) ID() uuid.UUID { return pl.id }

// State returns the pipeline's state.
func (pl *ClientPipeline) State() PSInvocationState { return pl.state }

// Target returns the pipeline's stdin queue.
func (pl *ClientPipeline) Target() Target { return Target{Pipeline: pl.id} }

func (pl *ClientPipeline) stateErr(op, detail string) *StateError {
	return &StateError{Op: op, PoolState: pl.pool.state, Pipeline: pl.id, PipelineState: pl.state, Detail: detail}
}

func (pl *ClientPipeline) setState(next PSInvocationState, info *PipelineStateInfo, reason error) Event {
	old := pl.state
	pl.state = next
	if next.Terminal() {
		delete(pl.pool.pipes, pl.id)
		for i, x := range pl.pool.order {
			if x == pl {
				pl.pool.order = append(pl.pool.order[:i:i], pl.pool.order[i+1:]...)
				break
			}
		}
	}
	return PipelineStateChanged{Pipeline: pl.id, Old: old, New: next, Info: info, Reason: reason}
}

// Invoke queues CREATE_PIPELINE (or GET_COMMAND_METADATA): NotStarted →
// Running. Send the first payload of Target() as the WSMan Command's
// Arguments and the rest with Send, then Receive with the CommandId.
func (pl *ClientPipeline) Invoke() error {
	if pl.state != PSInvocationNotStarted || pl.create == nil {
		return pl.stateErr("Invoke", "the pipeline was already started")
	}
	if pl.pool.state != RunspacePoolOpened {
		return pl.stateErr("Invoke", "the pool is not Opened")
	}
	if err := pl.pool.queue(&pl.out, pl.id, pl.create); err != nil {
		return err
	}
	pl.create = nil
	pl.state = PSInvocationRunning
	pl.pool.invoked(pl.id)
	return nil
}

func (pl *ClientPipeline) requireRunning(op string) error {
	if pl.state != PSInvocationRunning {
		return pl.stateErr(op, "the pipeline is not Running")
	}
	if pl.pool.state != RunspacePoolOpened {
		return pl.stateErr(op, "the pool is not Opened")
	}
	return nil
}

// SendInput queues one PIPELINE_INPUT per value (nil sends <Nil/>).
func (pl *ClientPipeline) SendInput(values ...clixml.Value) error {
	if err := pl.requireRunning("SendInput"); err != nil {
		return err
	}
	if pl.inputClosed {
		return pl.stateErr("SendInput", "EndInput was called")
	}
	for _, v := range values {
		data, err := encodeValueOrNil(v)
		if err != nil {
			return err
		}
		pl.pool.queueRaw(&pl.out, MessagePipelineInput, pl.id, data)
	}
	return nil
}

// EndInput queues END_OF_PIPELINE_INPUT.
func (pl *ClientPipeline) EndInput() error {
	if err := pl.requireRunning("EndInput"); err != nil {
		return err
	}
	if pl.inputClosed {
		return pl.stateErr("EndInput", "EndInput was already called")
	}
	pl.inputClosed = true
	pl.pool.queueRaw(&pl.out, MessageEndOfPipelineInput, pl.id, nil)
	return nil
}

// HostResponse queues a PIPELINE_HOST_RESPONSE on the pipeline's "pr"
// stream (it sets r.Pipeline).
func (pl *ClientPipeline) HostResponse(r *HostResponse) error {
	if err := pl.requireRunning("HostResponse"); err != nil {
		return err
	}
	r.Pipeline = true
	return pl.pool.queue(&pl.outPR, pl.id, r)
}

// BeginStop: Running → Stopping, before the WSMan Signal (ctrl_c) is sent.
// The server answers with PIPELINE_STATE Stopped.
func (pl *ClientPipeline) BeginStop() ([]Event, error) {
	if pl.state != PSInvocationRunning && pl.state != PSInvocationDisconnected {
		return nil, pl.stateErr("BeginStop", "the pipeline is not running")
	}
	return []Event{pl.setState(PSInvocationStopping, nil, nil)}, nil
}

// Abandon ends a pipeline locally, without the server's word (for example
// after a Signal terminate, or when the command has vanished on the server):
// it moves to Stopped with Reason err and is forgotten.
func (pl *ClientPipeline) Abandon(err error) []Event {
	if pl.state.Terminal() {
		return nil
	}
	return []Event{pl.setState(PSInvocationStopped, nil, err)}
}
