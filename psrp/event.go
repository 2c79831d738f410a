package psrp

import (
	"github.com/google/uuid"
)

// Event is something a state machine learned from received data or from a
// transport-level transition the caller reported. The concrete types are the
// structs of this file; switch on them.
//
// Messages the state machine must understand (capabilities, states, init
// data, availability answers, keys) arrive decoded into their protocol
// objects. Messages it only routes (output, records, host calls and
// responses, input, user events, CREATE_PIPELINE) carry the *Message, whose
// Data is the CLIXML body: decode it with clixml.Unmarshal and the matching
// DecodeXxx function only when needed, which keeps the hot output path free
// of work the caller may not want. Message.Data may alias the payload given
// to ReceiveData: decode or copy it before reusing that buffer.
type Event interface {
	event()
}

// Client-side events.

// SessionCapabilityReceived: the peer's SESSION_CAPABILITY arrived (on both
// sides).
type SessionCapabilityReceived struct {
	Capability *SessionCapability
}

// ApplicationPrivateDataReceived: the server's APPLICATION_PRIVATE_DATA. After
// a connect from a new client it is the first pool message, in place of a
// RUNSPACEPOOL_STATE.
type ApplicationPrivateDataReceived struct {
	Data *ApplicationPrivateData
}

// RunspacePoolStateChanged: the runspace pool moved from Old to New. Info is
// the RUNSPACEPOOL_STATE that caused it (with the server's error record on
// Broken), nil for local or transport transitions. Reason is the error the
// caller reported with Broken or DisconnectFailed, if any.
type RunspacePoolStateChanged struct {
	Old, New RunspacePoolState
	Info     *RunspacePoolStateInfo
	Reason   error
}

// RunspacePoolInitDataReceived: RUNSPACEPOOL_INIT_DATA, the server's answer to
// CONNECT_RUNSPACEPOOL, with the pool's runspace counts.
type RunspacePoolInitDataReceived struct {
	Data *RunspacePoolInitData
}

// RunspaceAvailabilityReceived: the answer (matched by Data.CallID) to
// SET_MAX_RUNSPACES, SET_MIN_RUNSPACES, GET_AVAILABLE_RUNSPACES or
// RESET_RUNSPACE_STATE.
type RunspaceAvailabilityReceived struct {
	Data *RunspaceAvailability
}

// UserEventReceived: a USER_EVENT forwarded by the server (decode Message with
// DecodeUserEvent).
type UserEventReceived struct {
	Message *Message
}

// HostCallReceived: the server calls a host method (RUNSPACEPOOL_HOST_CALL
// when Pipeline is uuid.Nil, PIPELINE_HOST_CALL otherwise). CallID and Method
// are read from the message; the parameters are in Message. Answer methods
// that return a value with HostResponse on the pool or the pipeline.
type HostCallReceived struct {
	Pipeline uuid.UUID
	CallID   int64
	Method   HostMethodID
	Message  *Message
}

// PipelineOutputReceived: one PIPELINE_OUTPUT object.
type PipelineOutputReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// ErrorRecordReceived: an ERROR_RECORD from a pipeline.
type ErrorRecordReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// InformationalRecordReceived: a DEBUG_RECORD, VERBOSE_RECORD, WARNING_RECORD,
// INFORMATION_RECORD or PROGRESS_RECORD (Message.Type says which). A
// WARNING_RECORD may come from the pool, with Pipeline uuid.Nil.
type InformationalRecordReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// PipelineStateChanged: a pipeline moved from Old to New. Info is the
// PIPELINE_STATE that caused it (with the error record of a Failed
// pipeline), nil for local transitions. Reason is set when the client itself
// ended the pipeline, for example because the pool broke or closed.
type PipelineStateChanged struct {
	Pipeline uuid.UUID
	Old, New PSInvocationState
	Info     *PipelineStateInfo
	Reason   error
}

// PublicKeyRequested: the server sent PUBLIC_KEY_REQUEST; answer with
// ClientPool.RequestSessionKey.
type PublicKeyRequested struct{}

// SessionKeyReceived: ENCRYPTED_SESSION_KEY arrived and was decrypted; the
// pool's SecureStringCipher is now usable.
type SessionKeyReceived struct {
	Cipher *SecureStringCipher
}

// Server-side events.

// InitRunspacePoolReceived: the client's INIT_RUNSPACEPOOL (open). Answer
// with ServerPool.SendApplicationPrivateData and ServerPool.SetState(Opened).
type InitRunspacePoolReceived struct {
	Data *InitRunspacePool
}

// ConnectRunspacePoolReceived: a new client connects with
// CONNECT_RUNSPACEPOOL, already validated (RPID, counts). Answer with
// ServerPool.ConnectResponse.
type ConnectRunspacePoolReceived struct {
	Data *ConnectRunspacePool
}

// CreatePipelineReceived: CREATE_PIPELINE for a new pipeline, whose
// ServerPipeline is ServerPool.Pipeline(Pipeline). Decode Message with
// DecodeCreatePipeline.
type CreatePipelineReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// GetCommandMetadataReceived: GET_COMMAND_METADATA, a pipeline that lists
// commands.
type GetCommandMetadataReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// PipelineInputReceived: one PIPELINE_INPUT object.
type PipelineInputReceived struct {
	Pipeline uuid.UUID
	Message  *Message
}

// EndOfPipelineInputReceived: END_OF_PIPELINE_INPUT.
type EndOfPipelineInputReceived struct {
	Pipeline uuid.UUID
}

// HostResponseReceived: the client's answer to a host call (Pipeline
// uuid.Nil for RUNSPACEPOOL_HOST_RESPONSE). CallID and Method are read from
// the message.
type HostResponseReceived struct {
	Pipeline uuid.UUID
	CallID   int64
	Method   HostMethodID
	Message  *Message
}

// SetRunspacesReceived: SET_MAX_RUNSPACES (Max true) or SET_MIN_RUNSPACES.
// Answer with ServerPool.SendRunspaceAvailability.
type SetRunspacesReceived struct {
	Max    bool
	Count  int32
	CallID int64
}

// GetAvailableRunspacesReceived: GET_AVAILABLE_RUNSPACES. Answer with
// ServerPool.SendRunspaceAvailability (a count).
type GetAvailableRunspacesReceived struct {
	CallID int64
}

// ResetRunspaceStateReceived: RESET_RUNSPACE_STATE. Answer with
// ServerPool.SendRunspaceAvailability.
type ResetRunspaceStateReceived struct {
	CallID int64
}

// PublicKeyReceived: the client's PUBLIC_KEY. Blob is the PUBLICKEYBLOB,
// already validated. Answer with ServerPool.SendSessionKey.
type PublicKeyReceived struct {
	Blob []byte
}

func (SessionCapabilityReceived) event()      {}
func (ApplicationPrivateDataReceived) event() {}
func (RunspacePoolStateChanged) event()       {}
func (RunspacePoolInitDataReceived) event()   {}
func (RunspaceAvailabilityReceived) event()   {}
func (UserEventReceived) event()              {}
func (HostCallReceived) event()               {}
func (PipelineOutputReceived) event()         {}
func (ErrorRecordReceived) event()            {}
func (InformationalRecordReceived) event()    {}
func (PipelineStateChanged) event()           {}
func (PublicKeyRequested) event()             {}
func (SessionKeyReceived) event()             {}
func (InitRunspacePoolReceived) event()       {}
func (ConnectRunspacePoolReceived) event()    {}
func (CreatePipelineReceived) event()         {}
func (GetCommandMetadataReceived) event()     {}
func (PipelineInputReceived) event()          {}
func (EndOfPipelineInputReceived) event()     {}
func (HostResponseReceived) event()           {}
func (SetRunspacesReceived) event()           {}
func (GetAvailableRunspacesReceived) event()  {}
func (ResetRunspaceStateReceived) event()     {}
func (PublicKeyReceived) event()              {}
