package psrp_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

var fuzzTypes = []psrp.MessageType{
	psrp.MessageSessionCapability, psrp.MessageInitRunspacePool, psrp.MessagePublicKey, psrp.MessageEncryptedSessionKey,
	psrp.MessagePublicKeyRequest, psrp.MessageConnectRunspacePool, psrp.MessageSetMaxRunspaces, psrp.MessageSetMinRunspaces,
	psrp.MessageRunspaceAvailability, psrp.MessageRunspacePoolState, psrp.MessageCreatePipeline,
	psrp.MessageGetAvailableRunspaces, psrp.MessageUserEvent, psrp.MessageApplicationPrivateData,
	psrp.MessageGetCommandMetadata, psrp.MessageRunspacePoolInitData, psrp.MessageResetRunspaceState,
	psrp.MessageRunspacePoolHostCall, psrp.MessageRunspacePoolHostResponse, psrp.MessagePipelineInput,
	psrp.MessageEndOfPipelineInput, psrp.MessagePipelineOutput, psrp.MessageErrorRecord, psrp.MessagePipelineState,
	psrp.MessageDebugRecord, psrp.MessageVerboseRecord, psrp.MessageWarningRecord, psrp.MessageProgressRecord,
	psrp.MessageInformationRecord, psrp.MessagePipelineHostCall, psrp.MessagePipelineHostResponse,
}

// FuzzDecodeMessageData feeds arbitrary CLIXML to the protocol-object
// decoders. They must not panic; whatever decodes must re-encode unchanged,
// and the object rebuilt from its fields alone must encode to data that
// decodes again.
func FuzzDecodeMessageData(f *testing.F) {
	index := map[psrp.MessageType]uint8{}
	for i, t := range fuzzTypes {
		index[t] = uint8(i)
	}
	if dir, err := recordings.Dir(); err == nil {
		// A few real messages of each type from two rich recordings.
		seen := map[psrp.MessageType]int{}
		for _, name := range []string{"test_psrp_merge_commands", "test_psrp_pshost_ui_mocked_methods",
			"test_psrp_set_runspaces", "test_psrp_disconnected_commands", "test_psrp_error_failed"} {
			rec, err := recordings.Load(filepath.Join(dir, "pypsrp", "responses", name+".yml"))
			if err != nil {
				continue
			}
			msgs, err := traceRecording(rec)
			if err != nil {
				continue
			}
			for _, m := range msgs {
				if seen[m.Type] < 3 {
					seen[m.Type]++
					f.Add(index[m.Type], m.Data)
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "error_record.xml")); err == nil {
			f.Add(index[psrp.MessageErrorRecord], b)
		}
	}
	f.Add(index[psrp.MessageRunspacePoolState], []byte(`<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>`))
	f.Add(index[psrp.MessageConnectRunspacePool], []byte(`<S />`))
	f.Add(index[psrp.MessageInitRunspacePool], []byte(`<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><I32 N="PSThreadOptions">0</I32><I32 N="ApartmentState">2</I32><Obj N="HostInfo" RefId="1"><MS><Obj N="_hostDefaultData" RefId="2"><MS><Obj N="data" RefId="3"><DCT><En><I64 N="Key">99999999999</I64><Obj N="Value" RefId="4"><MS><S N="T">x</S></MS></Obj></En></DCT></Obj></MS></Obj></MS></Obj></MS></Obj>`))
	f.Fuzz(func(t *testing.T, ti uint8, data []byte) {
		typ := fuzzTypes[int(ti)%len(fuzzTypes)]
		m := &psrp.Message{Destination: psrp.DestinationClient, Type: typ, Data: data}
		d, err := psrp.DecodeMessageData(m)
		if err != nil {
			return
		}
		if d.MessageType() != typ {
			t.Fatalf("decoded %s as %s", typ, d.MessageType())
		}
		m2, err := psrp.NewMessageFor(m.Destination, m.RunspacePoolID, m.PipelineID, d)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		if typ != psrp.MessageEndOfPipelineInput {
			orig, err := clixml.Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := clixml.Marshal(orig)
			if err == nil && string(want) != string(m2.Data) {
				t.Fatalf("unmodified object re-encoded differently:\n%s\n%s", want, m2.Data)
			}
		}
		// Rebuilt from its fields.
		stripRaw(reflect.ValueOf(d))
		m3, err := psrp.NewMessageFor(m.Destination, m.RunspacePoolID, m.PipelineID, d)
		if err != nil {
			t.Fatalf("encoding rebuilt object: %v", err)
		}
		if _, err := psrp.DecodeMessageData(m3); err != nil {
			t.Fatalf("rebuilt object does not decode: %v\n%s", err, m3.Data)
		}
	})
}
