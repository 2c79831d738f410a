package psrp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Destination says which side a PSRP message is addressed to (MS-PSRP 2.2.1).
type Destination uint32

// Destinations defined by MS-PSRP 2.2.1.
const (
	DestinationClient Destination = 0x00000001
	DestinationServer Destination = 0x00000002
)

// String returns "Client", "Server" or the number in hexadecimal.
func (d Destination) String() string {
	switch d {
	case DestinationClient:
		return "Client"
	case DestinationServer:
		return "Server"
	}
	return fmt.Sprintf("Destination(0x%08X)", uint32(d))
}

// MessageType is the MS-PSRP 2.2.1 message type code.
type MessageType uint32

// Message types of MS-PSRP 2.2.1, named as in the specification.
const (
	MessageSessionCapability        MessageType = 0x00010002
	MessageInitRunspacePool         MessageType = 0x00010004
	MessagePublicKey                MessageType = 0x00010005
	MessageEncryptedSessionKey      MessageType = 0x00010006
	MessagePublicKeyRequest         MessageType = 0x00010007
	MessageConnectRunspacePool      MessageType = 0x00010008
	MessageSetMaxRunspaces          MessageType = 0x00021002
	MessageSetMinRunspaces          MessageType = 0x00021003
	MessageRunspaceAvailability     MessageType = 0x00021004
	MessageRunspacePoolState        MessageType = 0x00021005
	MessageCreatePipeline           MessageType = 0x00021006
	MessageGetAvailableRunspaces    MessageType = 0x00021007
	MessageUserEvent                MessageType = 0x00021008
	MessageApplicationPrivateData   MessageType = 0x00021009
	MessageGetCommandMetadata       MessageType = 0x0002100A
	MessageRunspacePoolInitData     MessageType = 0x0002100B
	MessageResetRunspaceState       MessageType = 0x0002100C
	MessageRunspacePoolHostCall     MessageType = 0x00021100
	MessageRunspacePoolHostResponse MessageType = 0x00021101
	MessagePipelineInput            MessageType = 0x00041002
	MessageEndOfPipelineInput       MessageType = 0x00041003
	MessagePipelineOutput           MessageType = 0x00041004
	MessageErrorRecord              MessageType = 0x00041005
	MessagePipelineState            MessageType = 0x00041006
	MessageDebugRecord              MessageType = 0x00041007
	MessageVerboseRecord            MessageType = 0x00041008
	MessageWarningRecord            MessageType = 0x00041009
	MessageProgressRecord           MessageType = 0x00041010
	MessageInformationRecord        MessageType = 0x00041011
	MessagePipelineHostCall         MessageType = 0x00041100
	MessagePipelineHostResponse     MessageType = 0x00041101
)

var messageTypeNames = map[MessageType]string{
	MessageSessionCapability:        "SESSION_CAPABILITY",
	MessageInitRunspacePool:         "INIT_RUNSPACEPOOL",
	MessagePublicKey:                "PUBLIC_KEY",
	MessageEncryptedSessionKey:      "ENCRYPTED_SESSION_KEY",
	MessagePublicKeyRequest:         "PUBLIC_KEY_REQUEST",
	MessageConnectRunspacePool:      "CONNECT_RUNSPACEPOOL",
	MessageSetMaxRunspaces:          "SET_MAX_RUNSPACES",
	MessageSetMinRunspaces:          "SET_MIN_RUNSPACES",
	MessageRunspaceAvailability:     "RUNSPACE_AVAILABILITY",
	MessageRunspacePoolState:        "RUNSPACEPOOL_STATE",
	MessageCreatePipeline:           "CREATE_PIPELINE",
	MessageGetAvailableRunspaces:    "GET_AVAILABLE_RUNSPACES",
	MessageUserEvent:                "USER_EVENT",
	MessageApplicationPrivateData:   "APPLICATION_PRIVATE_DATA",
	MessageGetCommandMetadata:       "GET_COMMAND_METADATA",
	MessageRunspacePoolInitData:     "RUNSPACEPOOL_INIT_DATA",
	MessageResetRunspaceState:       "RESET_RUNSPACE_STATE",
	MessageRunspacePoolHostCall:     "RUNSPACEPOOL_HOST_CALL",
	MessageRunspacePoolHostResponse: "RUNSPACEPOOL_HOST_RESPONSE",
	MessagePipelineInput:            "PIPELINE_INPUT",
	MessageEndOfPipelineInput:       "END_OF_PIPELINE_INPUT",
	MessagePipelineOutput:           "PIPELINE_OUTPUT",
	MessageErrorRecord:              "ERROR_RECORD",
	MessagePipelineState:            "PIPELINE_STATE",
	MessageDebugRecord:              "DEBUG_RECORD",
	MessageVerboseRecord:            "VERBOSE_RECORD",
	MessageWarningRecord:            "WARNING_RECORD",
	MessageProgressRecord:           "PROGRESS_RECORD",
	MessageInformationRecord:        "INFORMATION_RECORD",
	MessagePipelineHostCall:         "PIPELINE_HOST_CALL",
	MessagePipelineHostResponse:     "PIPELINE_HOST_RESPONSE",
}

// String returns the MS-PSRP name of the type (for example "PIPELINE_OUTPUT"),
// or "MessageType(0x...)" for a code the specification does not define.
func (t MessageType) String() string {
	if n, ok := messageTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("MessageType(0x%08X)", uint32(t))
}

// Known reports whether t is a message type defined by MS-PSRP.
func (t MessageType) Known() bool {
	_, ok := messageTypeNames[t]
	return ok
}

// MessageHeaderSize is the size of the fixed PSRP message header (MS-PSRP 2.2.1).
const MessageHeaderSize = 40

// utf8BOM is the byte order mark Windows servers put before the CLIXML data.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Message is one PSRP message: the 40-byte header and its CLIXML data.
//
// RunspacePoolID and PipelineID are ordinary RFC 4122 UUIDs in memory; on the
// wire they use the .NET Guid.ToByteArray layout (see EncodeGUID).
type Message struct {
	Destination    Destination // the side the message is addressed to
	Type           MessageType // what the data is
	RunspacePoolID uuid.UUID   // RPID: the runspace pool (the WS-Management ShellId)
	PipelineID     uuid.UUID   // PID: the pipeline (CommandId); uuid.Nil for runspace-pool messages
	// Data is the UTF-8 CLIXML body without a byte order mark. It may be empty
	// (END_OF_PIPELINE_INPUT has no data).
	Data []byte
}

// ErrShortMessage is returned by DecodeMessage when the input is shorter than
// the 40-byte header.
var ErrShortMessage = errors.New("psrp: message shorter than its 40-byte header")

// DecodeMessage parses a reassembled PSRP message. A UTF-8 byte order mark
// before the data is removed. The returned Data aliases b.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) < MessageHeaderSize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrShortMessage, len(b))
	}
	m := &Message{
		Destination:    Destination(binary.LittleEndian.Uint32(b[0:4])),
		Type:           MessageType(binary.LittleEndian.Uint32(b[4:8])),
		RunspacePoolID: DecodeGUID(b[8:24]),
		PipelineID:     DecodeGUID(b[24:40]),
	}
	data := b[MessageHeaderSize:]
	if len(data) >= 3 && data[0] == utf8BOM[0] && data[1] == utf8BOM[1] && data[2] == utf8BOM[2] {
		data = data[3:]
	}
	m.Data = data
	return m, nil
}

// AppendMessage appends the wire form of m to dst and returns the result. When
// bom is true the data is prefixed with a UTF-8 byte order mark, as Windows
// servers do; clients normally send none.
func AppendMessage(dst []byte, m *Message, bom bool) []byte {
	var hdr [MessageHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(m.Destination))
	binary.LittleEndian.PutUint32(hdr[4:8], uint32(m.Type))
	EncodeGUID(hdr[8:24], m.RunspacePoolID)
	EncodeGUID(hdr[24:40], m.PipelineID)
	dst = append(dst, hdr[:]...)
	if bom && len(m.Data) > 0 {
		dst = append(dst, utf8BOM...)
	}
	return append(dst, m.Data...)
}

// EncodeGUID writes id into dst (at least 16 bytes) in the .NET
// Guid.ToByteArray layout: the first three fields little-endian, the last
// eight bytes as they are.
func EncodeGUID(dst []byte, id uuid.UUID) {
	_ = dst[15]
	dst[0], dst[1], dst[2], dst[3] = id[3], id[2], id[1], id[0]
	dst[4], dst[5] = id[5], id[4]
	dst[6], dst[7] = id[7], id[6]
	copy(dst[8:16], id[8:16])
}

// DecodeGUID reads a GUID stored in the .NET Guid.ToByteArray layout from the
// first 16 bytes of b.
func DecodeGUID(b []byte) uuid.UUID {
	_ = b[15]
	var id uuid.UUID
	id[0], id[1], id[2], id[3] = b[3], b[2], b[1], b[0]
	id[4], id[5] = b[5], b[4]
	id[6], id[7] = b[7], b[6]
	copy(id[8:16], b[8:16])
	return id
}
