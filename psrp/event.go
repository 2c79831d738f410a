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
	// Capability is the peer's SESSION_CAPABILITY, decoded.
	Capability *SessionCapability
}

// ApplicationPrivateDataReceived: the server's APPLICATION_PRIVATE_DATA. After
// a connect from a new client Windows sends it as the first pool message
// when the pool has pipelines; for a pool without, it sends
// RUNSPACEPOOL_STATE Opened again instead, which changes nothing (the
// connect response's RUNSPACEPOOL_INIT_DATA already opened the pool).
type ApplicationPrivateDataReceived struct {
	// Data is the APPLICATION_PRIVATE_DATA, decoded.
	Data *ApplicationPrivateData
}

// RunspacePoolStateChanged: the runspace pool moved from Old to New. Info is
// the RUNSPACEPOOL_STATE that caused it (with the server's error record on
// Broken), nil for local or transport transitions. Reason is the error the
// caller reported with Broken or DisconnectFailed, if any.
type RunspacePoolStateChanged struct {
	// Old and New are the pool's states before and after the transition.
	Old, New RunspacePoolState
	// Info is the RUNSPACEPOOL_STATE received, nil for a local or
	// transport transition.
	Info *RunspacePoolStateInfo
	// Reason is the error the caller reported, nil if none.
	Reason error
}

// RunspacePoolInitDataReceived: RUNSPACEPOOL_INIT_DATA, the server's answer to
// CONNECT_RUNSPACEPOOL, with the pool's runspace counts.
type RunspacePoolInitDataReceived struct {
	// Data is the RUNSPACEPOOL_INIT_DATA, decoded.
	Data *RunspacePoolInitData
}

// RunspaceAvailabilityReceived: the answer (matched by Data.CallID) to
// SET_MAX_RUNSPACES, SET_MIN_RUNSPACES, GET_AVAILABLE_RUNSPACES or
// RESET_RUNSPACE_STATE.
type RunspaceAvailabilityReceived struct {
	// Data is the RUNSPACE_AVAILABILITY, decoded.
	Data *RunspaceAvailability
}

// UserEventReceived: a USER_EVENT forwarded by the server (decode Message with
// DecodeUserEvent).
type UserEventReceived struct {
	// Message is the USER_EVENT message, its data not yet decoded.
	Message *Message
}

// HostCallReceived: the server calls a host method (RUNSPACEPOOL_HOST_CALL
// when Pipeline is uuid.Nil, PIPELINE_HOST_CALL otherwise). CallID and Method
// are read from the message; the parameters are in Message. Answer methods
// that return a value with HostResponse on the pool or the pipeline.
type HostCallReceived struct {
	// Pipeline is the calling pipeline's id, uuid.Nil for a pool host call.
	Pipeline uuid.UUID
	// CallID is the call's ci, to be echoed in the HostResponse.
	CallID int64
	// Method is the host method called (mi).
	Method HostMethodID
	// Message is the host call message; its mp holds the parameters.
	Message *Message
}

// PipelineOutputReceived: one PIPELINE_OUTPUT object.
type PipelineOutputReceived struct {
	// Pipeline is the pipeline's id.
	Pipeline uuid.UUID
	// Message is the PIPELINE_OUTPUT message; its Data is the object.
	Message *Message
}

// ErrorRecordReceived: an ERROR_RECORD from a pipeline.
type ErrorRecordReceived struct {
	// Pipeline is the pipeline's id.
	Pipeline uuid.UUID
	// Message is the ERROR_RECORD message (decode with DecodeErrorRecord).
	Message *Message
}

// InformationalRecordReceived: a DEBUG_RECORD, VERBOSE_RECORD, WARNING_RECORD,
// INFORMATION_RECORD or PROGRESS_RECORD (Message.Type says which). A
// WARNING_RECORD may come from the pool, with Pipeline uuid.Nil.
type InformationalRecordReceived struct {
	// Pipeline is the pipeline's id, uuid.Nil for a pool WARNING_RECORD.
	Pipeline uuid.UUID
	// Message is the record's message; Message.Type says which record.
	Message *Message
}

// PipelineStateChanged: a pipeline moved from Old to New. Info is the
// PIPELINE_STATE that caused it (with the error record of a Failed
// pipeline), nil for local transitions. Reason is set when the client itself
// ended the pipeline, for example because the pool broke or closed.
type PipelineStateChanged struct {
	// Pipeline is the pipeline's id.
	Pipeline uuid.UUID
	// Old and New are the pipeline's states before and after the
	// transition.
	Old, New PSInvocationState
	// Info is the PIPELINE_STATE received, nil for a local transition.
	Info *PipelineStateInfo
	// Reason is why the client ended the pipeline itself, nil otherwise.
	Reason error
}

// PublicKeyRequested: the server sent PUBLIC_KEY_REQUEST; answer with
// ClientPool.RequestSessionKey.
type PublicKeyRequested struct{}

// SessionKeyReceived: ENCRYPTED_SESSION_KEY arrived and was decrypted; the
// pool's SecureStringCipher is now usable.
type SessionKeyReceived struct {
	// Cipher encrypts and decrypts SecureStrings with the session key.
	Cipher *SecureStringCipher
}

// Server-side events.

// InitRunspacePoolReceived: the client's INIT_RUNSPACEPOOL (open). Answer
// with ServerPool.SendApplicationPrivateData and ServerPool.SetState(Opened).
type InitRunspacePoolReceived struct {
	// Data is the INIT_RUNSPACEPOOL, decoded.
	Data *InitRunspacePool
}

// ConnectRunspacePoolReceived: a new client connects with
// CONNECT_RUNSPACEPOOL, already validated (RPID, counts). Answer with
// ServerPool.ConnectResponse.
type ConnectRunspacePoolReceived struct {
	// Data is the CONNECT_RUNSPACEPOOL, decoded.
	Data *ConnectRunspacePool
}

// CreatePipelineReceived: CREATE_PIPELINE for a new pipeline, whose
// ServerPipeline is ServerPool.Pipeline(Pipeline). Decode Message with
// DecodeCreatePipeline.
type CreatePipelineReceived struct {
	// Pipeline is the new pipeline's id (the WSMan CommandId).
	Pipeline uuid.UUID
	// Message is the CREATE_PIPELINE message, its data not yet decoded.
	Message *Message
}

// GetCommandMetadataReceived: GET_COMMAND_METADATA, a pipeline that lists
// commands. Answer as Windows does with ServerPipeline.WriteOutput of a
// CommandMetadataCount and of one CommandMetadata per command, then
// SetState(Completed).
type GetCommandMetadataReceived struct {
	// Pipeline is the new pipeline's id (the WSMan CommandId).
	Pipeline uuid.UUID
	// Message is the GET_COMMAND_METADATA message (decode with
	// DecodeGetCommandMetadata).
	Message *Message
}

// PipelineInputReceived: one PIPELINE_INPUT object.
type PipelineInputReceived struct {
	// Pipeline is the pipeline's id.
	Pipeline uuid.UUID
	// Message is the PIPELINE_INPUT message; its Data is the object.
	Message *Message
}

// EndOfPipelineInputReceived: END_OF_PIPELINE_INPUT.
type EndOfPipelineInputReceived struct {
	// Pipeline is the pipeline's id.
	Pipeline uuid.UUID
}

// HostResponseReceived: the client's answer to a host call (Pipeline
// uuid.Nil for RUNSPACEPOOL_HOST_RESPONSE). CallID and Method are read from
// the message.
type HostResponseReceived struct {
	// Pipeline is the pipeline's id, uuid.Nil for a pool host response.
	Pipeline uuid.UUID
	// CallID is the ci of the host call answered.
	CallID int64
	// Method is the host method answered (mi).
	Method HostMethodID
	// Message is the host response message (decode with
	// DecodeHostResponse).
	Message *Message
}

// SetRunspacesReceived: SET_MAX_RUNSPACES (Max true) or SET_MIN_RUNSPACES.
// Answer with ServerPool.SendRunspaceAvailability.
type SetRunspacesReceived struct {
	// Max is true for SET_MAX_RUNSPACES, false for SET_MIN_RUNSPACES.
	Max bool
	// Count is the runspace count asked for.
	Count int32
	// CallID is the ci to answer in the RUNSPACE_AVAILABILITY.
	CallID int64
}

// GetAvailableRunspacesReceived: GET_AVAILABLE_RUNSPACES. Answer with
// ServerPool.SendRunspaceAvailability (a count).
type GetAvailableRunspacesReceived struct {
	// CallID is the ci to answer in the RUNSPACE_AVAILABILITY.
	CallID int64
}

// ResetRunspaceStateReceived: RESET_RUNSPACE_STATE. Answer with
// ServerPool.SendRunspaceAvailability.
type ResetRunspaceStateReceived struct {
	// CallID is the ci to answer in the RUNSPACE_AVAILABILITY.
	CallID int64
}

// PublicKeyReceived: the client's PUBLIC_KEY. Blob is the PUBLICKEYBLOB,
// already validated. Answer with ServerPool.SendSessionKey.
type PublicKeyReceived struct {
	// Blob is the client's RSA public key as a PUBLICKEYBLOB.
	Blob []byte
}

// MessageIgnored: a well-formed message for the runspace pool (message
// type 0x0002xxxx) that a server does not act on, such as a client's
// RUNSPACEPOOL_STATE. Windows drops such messages without an error; the
// event lets the caller log it.
type MessageIgnored struct {
	// Type is the type of the message dropped.
	Type MessageType
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
func (MessageIgnored) event()                 {}
