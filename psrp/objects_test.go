package psrp_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

var xmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
var interElementSpace = regexp.MustCompile(`>\s+<`)

// specExample returns the example XML of a file in recordings/spec, with the
// source comment and the indentation removed.
func specExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordings.DirOrSkip(t), "spec", name))
	require.NoError(t, err)
	s := xmlComment.ReplaceAllString(string(b), "")
	return interElementSpace.ReplaceAllString(strings.TrimSpace(s), "><")
}

func decodeText(t *testing.T, typ psrp.MessageType, text string) psrp.MessageData {
	t.Helper()
	d, err := psrp.DecodeMessageData(&psrp.Message{Type: typ, Data: []byte(text)})
	require.NoError(t, err, text)
	return d
}

func TestSpecExamples(t *testing.T) {
	sc := decodeText(t, psrp.MessageSessionCapability,
		specExample(t, "MS-PSRP_2.2.2.1_SESSION_CAPABILITY_example.xml")).(*psrp.SessionCapability)
	assert.Equal(t, "2.2", sc.ProtocolVersion)
	require.Len(t, sc.TimeZone, 501)
	assert.Equal(t, []byte{0x00, 0x01, 0x00, 0x00, 0x00, 0xff}, sc.TimeZone[:6])
	// Rebuilt from fields, the TimeZone is kept and written last.
	sc2 := *sc
	sc2.Raw = nil
	v := sc2.ToCLIXML().(*clixml.Object)
	require.Len(t, v.Extended, 4)
	assert.Equal(t, "TimeZone", v.Extended[3].Name)

	pk := decodeText(t, psrp.MessagePublicKey, specExample(t, "MS-PSRP_2.2.2.3_PUBLIC_KEY_example.xml")).(*psrp.PublicKey)
	assert.Len(t, pk.Key, 276)
	assert.Equal(t, "RSA1", string(pk.Key[8:12]))

	esk := decodeText(t, psrp.MessageEncryptedSessionKey,
		specExample(t, "MS-PSRP_2.2.2.4_ENCRYPTED_SESSION_KEY_example.xml")).(*psrp.EncryptedSessionKey)
	assert.Len(t, esk.Key, 268)
	assert.Equal(t, []byte{0x01, 0x02, 0x00, 0x00, 0x10, 0x66, 0x00, 0x00}, esk.Key[:8])

	pkr := decodeText(t, psrp.MessagePublicKeyRequest, specExample(t, "MS-PSRP_2.2.2.5_PUBLIC_KEY_REQUEST_example.xml"))
	assert.Equal(t, clixml.String(""), pkr.ToCLIXML())

	init := decodeText(t, psrp.MessageRunspacePoolInitData,
		specExample(t, "MS-PSRP_2.2.2.30_RUNSPACEPOOL_INIT_DATA_example.xml")).(*psrp.RunspacePoolInitData)
	assert.Equal(t, int32(1), init.MinRunspaces)
	assert.Equal(t, int32(1), init.MaxRunspaces)

	// CONNECT_RUNSPACEPOOL: both examples of the specification.
	examples := specExample(t, "MS-PSRP_2.2.2.29_CONNECT_RUNSPACEPOOL_examples.xml")
	examples = strings.TrimSuffix(strings.TrimPrefix(examples, "<examples>"), "</examples>")
	i := strings.Index(examples, "</Obj>") + len("</Obj>")
	c1 := decodeText(t, psrp.MessageConnectRunspacePool, examples[:i]).(*psrp.ConnectRunspacePool)
	assert.True(t, c1.HasCounts)
	assert.Equal(t, int32(1), c1.MinRunspaces)
	assert.Equal(t, int32(5), c1.MaxRunspaces)
	v2, err := clixml.Unmarshal([]byte(examples[i:]))
	if err == nil { // an unnamed <S> inside <MS> may be rejected by the CLIXML decoder
		c2, err := psrp.DecodeConnectRunspacePool(v2)
		require.NoError(t, err)
		assert.False(t, c2.HasCounts)
	}
}

func marshalData(t *testing.T, d psrp.MessageData) string {
	t.Helper()
	m, err := psrp.NewMessageFor(psrp.DestinationClient, uuid.Nil, uuid.Nil, d)
	require.NoError(t, err)
	return string(m.Data)
}

// Objects built in Go encode to the shapes Windows and PowerShell write, and
// decode back to the same fields. This covers the message types that do
// not occur in the recordings.
func TestEncodeShapes(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		d    psrp.MessageData
		want string
	}{
		{"session capability", &psrp.SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"},
			`<Obj RefId="0"><MS><Version N="protocolversion">2.3</Version><Version N="PSVersion">2.0</Version><Version N="SerializationVersion">1.1.0.1</Version></MS></Obj>`},
		{"connect with counts", &psrp.ConnectRunspacePool{HasCounts: true, MinRunspaces: 1, MaxRunspaces: 5},
			`<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">5</I32></MS></Obj>`},
		{"connect without counts", &psrp.ConnectRunspacePool{}, `<S></S>`},
		{"pool state", &psrp.RunspacePoolStateInfo{State: psrp.RunspacePoolOpened},
			`<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>`},
		{"availability bool", &psrp.RunspaceAvailability{CallID: 3, Success: true},
			`<Obj RefId="0"><MS><B N="SetMinMaxRunspacesResponse">true</B><I64 N="ci">3</I64></MS></Obj>`},
		{"availability count", &psrp.RunspaceAvailability{CallID: 2, IsCount: true, Count: 5},
			`<Obj RefId="0"><MS><I32 N="SetMinMaxRunspacesResponse">5</I32><I64 N="ci">2</I64></MS></Obj>`},
		{"pool host call", &psrp.HostCall{CallID: 7, MethodID: psrp.HostGetName, Params: []clixml.Value{}},
			`<Obj RefId="0"><MS><I64 N="ci">7</I64><Obj N="mi" RefId="1"><TN RefId="0"><T>System.Management.Automation.Remoting.RemoteHostMethodId</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>GetName</ToString><I32>1</I32></Obj><Obj N="mp" RefId="2"><TN RefId="1"><T>System.Collections.ArrayList</T><T>System.Object</T></TN><LST /></Obj></MS></Obj>`},
		{"pool host response", &psrp.HostResponse{CallID: 7, MethodID: psrp.HostGetName, Return: clixml.String("host")},
			`<Obj RefId="0"><MS><I64 N="ci">7</I64><Obj N="mi" RefId="1"><TN RefId="0"><T>System.Management.Automation.Remoting.RemoteHostMethodId</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>GetName</ToString><I32>1</I32></Obj><S N="mr">host</S></MS></Obj>`},
		{"progress", &psrp.ProgressRecord{Activity: "a", ActivityID: 1, StatusDescription: "s", ParentActivityID: -1,
			PercentComplete: 50, RecordType: psrp.ProgressProcessing, SecondsRemaining: -1},
			`<Obj RefId="0"><MS><S N="Activity">a</S><I32 N="ActivityId">1</I32><S N="StatusDescription">s</S><Nil N="CurrentOperation" /><I32 N="ParentActivityId">-1</I32><I32 N="PercentComplete">50</I32><Obj N="Type" RefId="1"><TN RefId="0"><T>System.Management.Automation.ProgressRecordType</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Processing</ToString><I32>0</I32></Obj><I32 N="SecondsRemaining">-1</I32></MS></Obj>`},
		{"warning", &psrp.InformationalRecord{Type: psrp.MessageWarningRecord, Message: "careful"},
			`<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.WarningRecord</T><T>System.Management.Automation.InformationalRecord</T><T>System.Object</T></TN><ToString>careful</ToString><MS><S N="InformationalRecord_Message">careful</S><B N="InformationalRecord_SerializeInvocationInfo">false</B></MS></Obj>`},
		{"output", &psrp.PipelineOutput{Value: clixml.String("a")}, `<S>a</S>`},
		{"input nil", &psrp.PipelineInput{Value: clixml.Nil{}}, `<Nil />`},
		{"public key request", &psrp.PublicKeyRequest{}, `<S></S>`},
		{"command", &psrp.CreatePipeline{NoInput: true, ApartmentState: psrp.ApartmentUnknown, RemoteStreamOptions: psrp.RemoteStreamAddInvocationInfo,
			HostInfo: psrp.NoHost(), PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "Get-Item", UseLocalScope: &yes,
				Args: []psrp.CommandParameter{{Name: "Path", Value: clixml.String("C:\\")}, {Value: clixml.Int32(1)}}}}}},
			`<Obj RefId="0"><MS><B N="NoInput">true</B><Obj N="ApartmentState" RefId="1"><TN RefId="0"><T>System.Threading.ApartmentState</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Unknown</ToString><I32>2</I32></Obj>` +
				`<Obj N="RemoteStreamOptions" RefId="2"><TN RefId="1"><T>System.Management.Automation.RemoteStreamOptions</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>AddInvocationInfo</ToString><I32>15</I32></Obj><B N="AddToHistory">false</B>` +
				`<Obj N="HostInfo" RefId="3"><MS><B N="_isHostUINull">true</B><B N="_isHostRawUINull">true</B><B N="_isHostNull">true</B><B N="_useRunspaceHost">true</B></MS></Obj>` +
				`<Obj N="PowerShell" RefId="4"><MS><B N="IsNested">false</B><Nil N="ExtraCmds" /><Obj N="Cmds" RefId="5"><TN RefId="2"><T>System.Collections.Generic.List` + "`" + `1[[System.Management.Automation.PSObject, System.Management.Automation, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]</T><T>System.Object</T></TN><LST>` +
				`<Obj RefId="6"><MS><S N="Cmd">Get-Item</S><B N="IsScript">false</B><B N="UseLocalScope">true</B>` +
				`<Obj N="MergeMyResult" RefId="7"><TN RefId="3"><T>System.Management.Automation.Runspaces.PipelineResultTypes</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>None</ToString><I32>0</I32></Obj>` +
				`<Obj N="MergeToResult" RefId="8"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj><Obj N="MergePreviousResults" RefId="9"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj>` +
				`<Obj N="Args" RefId="10"><TNRef RefId="2" /><LST><Obj RefId="11"><MS><S N="N">Path</S><S N="V">C:\</S></MS></Obj><Obj RefId="12"><MS><Nil N="N" /><I32 N="V">1</I32></MS></Obj></LST></Obj>` +
				`<Obj N="MergeError" RefId="13"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj><Obj N="MergeWarning" RefId="14"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj><Obj N="MergeVerbose" RefId="15"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj><Obj N="MergeDebug" RefId="16"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj><Obj N="MergeInformation" RefId="17"><TNRef RefId="3" /><ToString>None</ToString><I32>0</I32></Obj>` +
				`</MS></Obj></LST></Obj><Nil N="History" /><B N="RedirectShellErrorOutputPipe">false</B></MS></Obj><B N="IsNested">false</B></MS></Obj>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := marshalData(t, tc.d)
			assert.Equal(t, tc.want, got)
			back := decodeText(t, tc.d.MessageType(), got)
			stripRawValue(back)
			assert.Equal(t, tc.d, back)
		})
	}
}

// Round trips of objects with every field set, including the message types
// no recording contains.
func TestRoundTripAllFields(t *testing.T) {
	no := false
	details := ""
	dt, err := clixml.Unmarshal([]byte(`<DT>2024-01-02T03:04:05.1234567+00:00</DT>`))
	require.NoError(t, err)
	tests := []psrp.MessageData{
		&psrp.UserEvent{EventIdentifier: 3, SourceIdentifier: "src", TimeGenerated: dt,
			Sender: clixml.String("sender"), SourceArgs: clixml.Int32(1), MessageData: clixml.Bool(true), ComputerName: "host",
			RunspaceID: clixml.GUID(uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777"))},
		&psrp.HostCall{Pipeline: true, CallID: -100, MethodID: psrp.HostSetShouldExit, Params: []clixml.Value{clixml.Int32(1)}},
		&psrp.HostResponse{Pipeline: false, CallID: 9, MethodID: psrp.HostPromptForChoice, Exception: clixml.String("failed")},
		&psrp.InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 4, ThreadOptions: psrp.PSThreadOptionsReuseThread,
			ApartmentState: psrp.ApartmentMTA, ApartmentStateType: psrp.TypeApartmentStateOld,
			HostInfo: psrp.HostInfo{DefaultData: []psrp.HostDefaultValue{{Key: psrp.HostDataWindowTitle, Type: "System.String",
				Value: clixml.String("t")}}},
			ApplicationArguments: psrp.NewPSPrimitiveDictionary(clixml.DictEntry{Key: clixml.String("k"), Value: clixml.String("v")})},
		&psrp.SetMaxRunspaces{MaxRunspaces: 9, CallID: 1},
		&psrp.SetMinRunspaces{MinRunspaces: 2, CallID: 2},
		&psrp.GetAvailableRunspaces{CallID: 3},
		&psrp.ResetRunspaceState{CallID: 4},
		&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary(clixml.DictEntry{Key: clixml.String("DebugMode"), Value: clixml.Int32(1)})},
		&psrp.RunspacePoolInitData{MinRunspaces: 1, MaxRunspaces: 2},
		&psrp.PublicKey{Key: []byte{6, 2, 0, 0}},
		&psrp.EncryptedSessionKey{Key: []byte{1, 2, 0, 0}},
		&psrp.GetCommandMetadata{Name: []string{"Get-*"}, CommandType: 8, Namespace: []string{"ns"}, ArgumentList: []clixml.Value{clixml.Int32(1)}},
		&psrp.PipelineStateInfo{State: psrp.PSInvocationFailed, Error: &psrp.ErrorRecord{Message: "boom",
			Exception: &psrp.ExceptionInfo{TypeNames: []string{"System.Management.Automation.RuntimeException", "System.Exception", "System.Object"},
				Message: "boom", ToString: "System.Management.Automation.RuntimeException: boom", HResult: -2146233087},
			FullyQualifiedErrorID: "Boom", Category: psrp.ErrorCategoryInvalidOperation, Activity: "act", Reason: "RuntimeException",
			TargetName: "tn", TargetType: "tt", CategoryMessage: "InvalidOperation: (:) [], RuntimeException",
			ErrorDetailsMessage: "details", ErrorDetailsRecommendedAction: "fix it", ErrorDetailsScriptStackTrace: "at <ScriptBlock>",
			TargetObject: clixml.String("target"), WriteErrorStream: &no, PSMessageDetails: &details}},
		&psrp.RunspacePoolStateInfo{State: psrp.RunspacePoolBroken, Error: &psrp.ErrorRecord{Message: "broken", FullyQualifiedErrorID: "X"}},
		&psrp.InformationRecord{MessageData: clixml.String("m"), Source: "s", Tags: []string{"a", "b"}, User: "u", Computer: "c",
			ProcessID: 1, NativeThreadID: 2, ManagedThreadID: 3},
		&psrp.InformationalRecord{Type: psrp.MessageDebugRecord, Message: "dbg"},
		&psrp.InformationalRecord{Type: psrp.MessageVerboseRecord, Message: "vrb"},
		&psrp.CreatePipeline{PowerShell: psrp.PowerShell{IsNested: true, History: "h", RedirectShellErrorOutputPipe: true,
			Cmds: []psrp.Command{{Cmd: "a", MergeMyResult: psrp.PipelineResultError, MergeToResult: psrp.PipelineResultOutput}},
			ExtraCmds: [][]psrp.Command{{{Cmd: "a", MergeMyResult: psrp.PipelineResultError, MergeToResult: psrp.PipelineResultOutput}},
				{{Cmd: "b", IsScript: true, MergePreviousResults: psrp.PipelineResultOutput | psrp.PipelineResultError}}}},
			AddToHistory: true, IsNested: true, HostInfo: psrp.NoHost()},
	}
	for _, d := range tests {
		t.Run(d.MessageType().String(), func(t *testing.T) {
			text := marshalData(t, d)
			back := decodeText(t, d.MessageType(), text)
			stripRawValue(back)
			assert.Equal(t, d, back, text)
		})
	}
}

// A decoded object that is changed re-encodes with the change and keeps the
// properties it does not model.
func TestModifiedObjectKeepsUnknownProperties(t *testing.T) {
	text := `<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32><S N="Extra">kept</S></MS></Obj>`
	d := decodeText(t, psrp.MessageRunspacePoolState, text).(*psrp.RunspacePoolStateInfo)
	assert.Equal(t, text, marshalData(t, d), "unmodified: identical")
	d.State = psrp.RunspacePoolClosed
	assert.Equal(t, `<Obj RefId="0"><MS><I32 N="RunspaceState">3</I32><S N="Extra">kept</S></MS></Obj>`, marshalData(t, d))
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  psrp.MessageType
		text string
		prop string
	}{
		{"not an object", psrp.MessageRunspacePoolState, `<S>x</S>`, ""},
		{"missing property", psrp.MessageRunspacePoolState, `<Obj RefId="0"><MS /></Obj>`, "RunspaceState"},
		{"wrong type", psrp.MessageRunspacePoolState, `<Obj RefId="0"><MS><S N="RunspaceState">2</S></MS></Obj>`, "RunspaceState"},
		{"int32 overflow", psrp.MessageSetMaxRunspaces, `<Obj RefId="0"><MS><I64 N="MaxRunspaces">4294967296</I64><I64 N="CI">1</I64></MS></Obj>`, "MaxRunspaces"},
		{"bool expected", psrp.MessageCreatePipeline, `<Obj RefId="0"><MS><S N="NoInput">yes</S></MS></Obj>`, "NoInput"},
		{"bad base64", psrp.MessagePublicKey, `<Obj RefId="0"><MS><S N="PublicKey">!!</S></MS></Obj>`, "PublicKey"},
		{"list expected", psrp.MessageGetCommandMetadata, `<Obj RefId="0"><MS><Obj N="Name" RefId="1"><MS /></Obj></MS></Obj>`, "Name"},
		{"bad host info", psrp.MessageInitRunspacePool, `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><I32 N="PSThreadOptions">0</I32><I32 N="ApartmentState">2</I32><S N="HostInfo">x</S></MS></Obj>`, "HostInfo"},
		{"bad command", psrp.MessageCreatePipeline, `<Obj RefId="0"><MS><Obj N="PowerShell" RefId="1"><MS><Obj N="Cmds" RefId="2"><LST><S>x</S></LST></Obj></MS></Obj></MS></Obj>`, "Cmds"},
		{"availability", psrp.MessageRunspaceAvailability, `<Obj RefId="0"><MS><S N="SetMinMaxRunspacesResponse">x</S><I64 N="ci">1</I64></MS></Obj>`, "SetMinMaxRunspacesResponse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := psrp.DecodeMessageData(&psrp.Message{Type: tc.typ, Data: []byte(tc.text)})
			require.Error(t, err)
			assert.ErrorIs(t, err, psrp.ErrInvalidMessageData)
			var de *psrp.DataError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.prop, de.Property)
		})
	}
	_, err := psrp.DecodeMessageData(&psrp.Message{Type: psrp.MessageType(0x00041012), Data: []byte(`<S />`)})
	assert.ErrorIs(t, err, psrp.ErrInvalidMessageData)
	_, err = psrp.DecodeMessageData(&psrp.Message{Type: psrp.MessagePipelineOutput, Data: []byte(`<S>unclosed`)})
	require.Error(t, err)
	assert.False(t, errors.Is(err, psrp.ErrInvalidMessageData), "a CLIXML syntax error is not a shape error")
	_, err = psrp.NewMessage(psrp.DestinationServer, psrp.MessagePipelineInput, uuid.Nil, uuid.Nil, 42)
	assert.Error(t, err)
}

func TestNewMessage(t *testing.T) {
	rpid := uuid.New()
	pid := uuid.New()
	m, err := psrp.NewMessage(psrp.DestinationServer, psrp.MessageEndOfPipelineInput, rpid, pid, nil)
	require.NoError(t, err)
	assert.Empty(t, m.Data)
	assert.Len(t, psrp.AppendMessage(nil, m, true), 40)
	m, err = psrp.NewMessage(psrp.DestinationServer, psrp.MessagePipelineInput, rpid, pid, clixml.Int32(2))
	require.NoError(t, err)
	assert.Equal(t, "<I32>2</I32>", string(m.Data))
	m, err = psrp.NewMessageFor(psrp.DestinationClient, rpid, pid, &psrp.PipelineStateInfo{State: psrp.PSInvocationCompleted})
	require.NoError(t, err)
	assert.Equal(t, psrp.MessagePipelineState, m.Type)
	assert.Equal(t, rpid, m.RunspacePoolID)
	assert.Equal(t, pid, m.PipelineID)
}

func TestNewErrorRecord(t *testing.T) {
	er := psrp.NewErrorRecord("boom", "BoomId", psrp.ErrorCategoryInvalidOperation, "")
	assert.Equal(t, "boom", er.Error())
	assert.Equal(t, "InvalidOperation: (:) [], RuntimeException", er.CategoryMessage)
	assert.Equal(t, "System.Management.Automation.RuntimeException", er.Exception.TypeName())
	back := decodeText(t, psrp.MessagePipelineState, marshalData(t, &psrp.PipelineStateInfo{State: psrp.PSInvocationFailed, Error: er}))
	ps := back.(*psrp.PipelineStateInfo)
	require.NotNil(t, ps.Error)
	assert.Equal(t, "BoomId", ps.Error.FullyQualifiedErrorID)
	assert.Equal(t, psrp.ErrorCategoryInvalidOperation, ps.Error.Category)
	assert.Equal(t, "boom", ps.Error.Exception.Message)
	assert.Equal(t, "ArgumentException", psrp.NewErrorRecord("x", "y", 0, "System.ArgumentException").Reason)
}
