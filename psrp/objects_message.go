package psrp

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// DecodeMessageData decodes the CLIXML data of m and returns the protocol
// object of its type: *SessionCapability, *InitRunspacePool, *PublicKey,
// *EncryptedSessionKey, *PublicKeyRequest, *ConnectRunspacePool,
// *SetMaxRunspaces, *SetMinRunspaces, *RunspaceAvailability,
// *RunspacePoolStateInfo, *CreatePipeline, *GetAvailableRunspaces,
// *UserEvent, *ApplicationPrivateData, *GetCommandMetadata,
// *RunspacePoolInitData, *ResetRunspaceState, *HostCall, *HostResponse,
// *PipelineInput, *EndOfPipelineInput, *PipelineOutput, *ErrorRecord,
// *PipelineStateInfo, *InformationalRecord (debug, verbose, warning),
// *ProgressRecord or *InformationRecord. Every result implements
// MessageData.
//
// A message type this package does not know is an error wrapping
// ErrInvalidMessageData; so is data that does not have the shape of its
// type. CLIXML syntax errors come from clixml.Unmarshal.
func DecodeMessageData(m *Message) (MessageData, error) {
	if m.Type == MessageEndOfPipelineInput {
		return &EndOfPipelineInput{}, nil
	}
	if !m.Type.Known() {
		return nil, dataErr(m.Type.String(), "", "unknown message type")
	}
	v, err := clixml.Unmarshal(m.Data)
	if err != nil {
		return nil, fmt.Errorf("psrp: %s data: %w", m.Type, err)
	}
	return DecodeValue(m.Type, v)
}

// DecodeValue returns the protocol object of message type t from its
// already decoded CLIXML value. See DecodeMessageData.
func DecodeValue(t MessageType, v clixml.Value) (MessageData, error) {
	var (
		d   MessageData
		err error
	)
	// Each case assigns through a typed variable so that a nil result is a
	// nil interface.
	switch t {
	case MessageSessionCapability:
		x, e := DecodeSessionCapability(v)
		d, err = nilOr(x, e)
	case MessageInitRunspacePool:
		x, e := DecodeInitRunspacePool(v)
		d, err = nilOr(x, e)
	case MessagePublicKey:
		x, e := DecodePublicKey(v)
		d, err = nilOr(x, e)
	case MessageEncryptedSessionKey:
		x, e := DecodeEncryptedSessionKey(v)
		d, err = nilOr(x, e)
	case MessagePublicKeyRequest:
		x, e := DecodePublicKeyRequest(v)
		d, err = nilOr(x, e)
	case MessageConnectRunspacePool:
		x, e := DecodeConnectRunspacePool(v)
		d, err = nilOr(x, e)
	case MessageSetMaxRunspaces:
		x, e := DecodeSetMaxRunspaces(v)
		d, err = nilOr(x, e)
	case MessageSetMinRunspaces:
		x, e := DecodeSetMinRunspaces(v)
		d, err = nilOr(x, e)
	case MessageRunspaceAvailability:
		x, e := DecodeRunspaceAvailability(v)
		d, err = nilOr(x, e)
	case MessageRunspacePoolState:
		x, e := DecodeRunspacePoolStateInfo(v)
		d, err = nilOr(x, e)
	case MessageCreatePipeline:
		x, e := DecodeCreatePipeline(v)
		d, err = nilOr(x, e)
	case MessageGetAvailableRunspaces:
		x, e := DecodeGetAvailableRunspaces(v)
		d, err = nilOr(x, e)
	case MessageUserEvent:
		x, e := DecodeUserEvent(v)
		d, err = nilOr(x, e)
	case MessageApplicationPrivateData:
		x, e := DecodeApplicationPrivateData(v)
		d, err = nilOr(x, e)
	case MessageGetCommandMetadata:
		x, e := DecodeGetCommandMetadata(v)
		d, err = nilOr(x, e)
	case MessageRunspacePoolInitData:
		x, e := DecodeRunspacePoolInitData(v)
		d, err = nilOr(x, e)
	case MessageResetRunspaceState:
		x, e := DecodeResetRunspaceState(v)
		d, err = nilOr(x, e)
	case MessageRunspacePoolHostCall, MessagePipelineHostCall:
		x, e := decodeHostCallKeep(t == MessagePipelineHostCall)(v)
		d, err = nilOr(x, e)
	case MessageRunspacePoolHostResponse, MessagePipelineHostResponse:
		x, e := decodeHostResponseKeep(t == MessagePipelineHostResponse)(v)
		d, err = nilOr(x, e)
	case MessagePipelineInput:
		d = &PipelineInput{Value: v}
	case MessageEndOfPipelineInput:
		d = &EndOfPipelineInput{}
	case MessagePipelineOutput:
		d = &PipelineOutput{Value: v}
	case MessageErrorRecord:
		x, e := DecodeErrorRecord(v)
		d, err = nilOr(x, e)
	case MessagePipelineState:
		x, e := DecodePipelineStateInfo(v)
		d, err = nilOr(x, e)
	case MessageDebugRecord, MessageVerboseRecord, MessageWarningRecord:
		x, e := decodeInformationalKeep(t)(v)
		d, err = nilOr(x, e)
	case MessageProgressRecord:
		x, e := DecodeProgressRecord(v)
		d, err = nilOr(x, e)
	case MessageInformationRecord:
		x, e := DecodeInformationRecord(v)
		d, err = nilOr(x, e)
	default:
		return nil, dataErr(t.String(), "", "unknown message type")
	}
	return d, err
}

func nilOr[T any, P interface {
	*T
	MessageData
}](x P, err error) (MessageData, error) {
	if x == nil {
		return nil, err
	}
	return x, err
}

// NewMessage builds a message of type t from data: a MessageData (its
// ToCLIXML is encoded), a clixml.Value (encoded as is), or nil for no data.
// The data is encoded with clixml.Marshal.
func NewMessage(dest Destination, t MessageType, rpid, pid uuid.UUID, data any) (*Message, error) {
	m := &Message{Destination: dest, Type: t, RunspacePoolID: rpid, PipelineID: pid}
	var v clixml.Value
	switch d := data.(type) {
	case nil:
	case MessageData:
		v = d.ToCLIXML()
	case clixml.Value:
		v = d
	default:
		return nil, fmt.Errorf("psrp: NewMessage: cannot encode %T", data)
	}
	if v != nil {
		b, err := clixml.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("psrp: encoding %s data: %w", t, err)
		}
		m.Data = b
	}
	return m, nil
}

// NewMessageFor builds a message of the type of d (see NewMessage).
func NewMessageFor(dest Destination, rpid, pid uuid.UUID, d MessageData) (*Message, error) {
	return NewMessage(dest, d.MessageType(), rpid, pid, d)
}
