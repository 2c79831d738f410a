package psrp_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
)

// The GUID layout of MS-PSRP 2.2.1 (.NET Guid.ToByteArray): ShellId/RPID
// B6631D8E-65A0-49F2-9053-A1B156C95777 travels as
// 8E 1D 63 B6 A0 65 F2 49 90 53 A1 B1 56 C9 57 77.
func TestGUIDByteOrderWorkedExample(t *testing.T) {
	id := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	want, _ := hex.DecodeString("8E1D63B6A065F2499053A1B156C95777")
	var got [16]byte
	psrp.EncodeGUID(got[:], id)
	assert.Equal(t, want, got[:])
	assert.Equal(t, id, psrp.DecodeGUID(want))
}

func TestMessageHeaderRoundTrip(t *testing.T) {
	rpid := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	pid := uuid.MustParse("29608395-4BEF-4F4D-B90D-A17D275F12F3")
	tests := []struct {
		name string
		m    psrp.Message
		bom  bool
	}{
		{"pool message with data", psrp.Message{Destination: psrp.DestinationServer, Type: psrp.MessageSessionCapability,
			RunspacePoolID: rpid, Data: []byte(`<Obj RefId="0"><MS /></Obj>`)}, false},
		{"server message with BOM", psrp.Message{Destination: psrp.DestinationClient, Type: psrp.MessagePipelineOutput,
			RunspacePoolID: rpid, PipelineID: pid, Data: []byte(`<S>a</S>`)}, true},
		{"empty data", psrp.Message{Destination: psrp.DestinationServer, Type: psrp.MessageEndOfPipelineInput,
			RunspacePoolID: rpid, PipelineID: pid}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := psrp.AppendMessage(nil, &tc.m, tc.bom)
			wantLen := psrp.MessageHeaderSize + len(tc.m.Data)
			if tc.bom && len(tc.m.Data) > 0 {
				wantLen += 3
				assert.Equal(t, []byte{0xEF, 0xBB, 0xBF}, b[40:43])
			}
			require.Len(t, b, wantLen)
			// Destination and type are little-endian.
			assert.Equal(t, byte(tc.m.Destination), b[0])
			assert.Equal(t, byte(uint32(tc.m.Type)), b[4])
			assert.Equal(t, byte(uint32(tc.m.Type)>>16), b[6])
			got, err := psrp.DecodeMessage(b)
			require.NoError(t, err)
			assert.Equal(t, tc.m.Destination, got.Destination)
			assert.Equal(t, tc.m.Type, got.Type)
			assert.Equal(t, tc.m.RunspacePoolID, got.RunspacePoolID)
			assert.Equal(t, tc.m.PipelineID, got.PipelineID)
			assert.Equal(t, string(tc.m.Data), string(got.Data))
		})
	}
}

func TestDecodeMessageShort(t *testing.T) {
	for _, n := range []int{0, 1, 39} {
		_, err := psrp.DecodeMessage(make([]byte, n))
		require.Error(t, err)
		assert.True(t, errors.Is(err, psrp.ErrShortMessage))
	}
}

func TestMessageTypeNames(t *testing.T) {
	assert.Equal(t, "PIPELINE_OUTPUT", psrp.MessagePipelineOutput.String())
	assert.Equal(t, "RUNSPACEPOOL_HOST_RESPONSE", psrp.MessageRunspacePoolHostResponse.String())
	assert.True(t, psrp.MessageInformationRecord.Known())
	assert.False(t, psrp.MessageType(0x00041012).Known())
	assert.Equal(t, "MessageType(0x00041012)", psrp.MessageType(0x00041012).String())
	assert.Equal(t, "Server", psrp.DestinationServer.String())
	assert.Equal(t, "Destination(0x00000007)", psrp.Destination(7).String())
}

func FuzzDecodeMessage(f *testing.F) {
	rpid := uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")
	f.Add(psrp.AppendMessage(nil, &psrp.Message{Destination: psrp.DestinationClient, Type: psrp.MessagePipelineOutput,
		RunspacePoolID: rpid, Data: []byte("<S>a</S>")}, true))
	f.Add(psrp.AppendMessage(nil, &psrp.Message{Destination: psrp.DestinationServer, Type: psrp.MessageEndOfPipelineInput,
		RunspacePoolID: rpid}, false))
	f.Add([]byte{})
	f.Add(make([]byte, 39))
	f.Add(append(make([]byte, 40), 0xEF, 0xBB))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := psrp.DecodeMessage(b)
		if err != nil {
			if len(b) >= psrp.MessageHeaderSize {
				t.Fatalf("error on %d bytes: %v", len(b), err)
			}
			return
		}
		// Re-encoding reproduces the input, except for a stripped BOM.
		hasBOM := len(b) > 40 && bytes.HasPrefix(b[40:], []byte{0xEF, 0xBB, 0xBF})
		out := psrp.AppendMessage(nil, m, hasBOM)
		if hasBOM && len(m.Data) == 0 {
			out = append(out, 0xEF, 0xBB, 0xBF)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
		if m.Type.Known() && m.Type.String() == "" {
			t.Fatal("known type without a name")
		}
	})
}
