package psrptrace

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

var (
	testPool = uuid.MustParse("11111111-2222-3333-4444-555555555555")
	testPipe = uuid.MustParse("99999999-8888-7777-6666-555555555555")
)

// payload builds the base64 of the fragments of msgs (each given its own
// ObjectId from firstOID), split at maxFrag bytes.
func payload(t *testing.T, firstOID uint64, maxFrag int, msgs ...*psrp.Message) string {
	t.Helper()
	var b []byte
	for i, m := range msgs {
		raw := psrp.AppendMessage(nil, m, false)
		for _, f := range psrp.SplitMessage(firstOID+uint64(i), raw, maxFrag) {
			b = f.AppendTo(b)
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}

func msg(dest psrp.Destination, typ psrp.MessageType, pid uuid.UUID, data string) *psrp.Message {
	return &psrp.Message{Destination: dest, Type: typ, RunspacePoolID: testPool, PipelineID: pid, Data: []byte(data)}
}

const (
	actCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actConnect = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Connect"
	uriPS      = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
	uriCmd     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
)

func request(action, uri, shell, body string) string {
	h := `<s:Header><wsa:Action>` + action + `</wsa:Action><wsman:ResourceURI>` + uri + `</wsman:ResourceURI>`
	if shell != "" {
		h += `<wsman:SelectorSet><wsman:Selector Name="ShellId">` + shell + `</wsman:Selector></wsman:SelectorSet>`
	}
	return testEnvHead + h + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

func response(body string) string {
	return testEnvHead + `<s:Body>` + body + `</s:Body></s:Envelope>`
}

func streamEl(name, cmd, b64 string) string {
	s := `<rsp:Stream Name="` + name + `"`
	if cmd != "" {
		s += ` CommandId="` + cmd + `"`
	}
	return s + `>` + b64 + `</rsp:Stream>`
}

// Real message data (from test_psrp_disconnected_commands).
const (
	dataCapability = `<Obj RefId="0"><MS><Version N="protocolversion">2.3</Version><Version N="PSVersion">2.0</Version><Version N="SerializationVersion">1.1.0.1</Version></MS></Obj>`
	dataInit       = `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><Obj N="PSThreadOptions" RefId="1"><TN RefId="0"><T>System.Management.Automation.Runspaces.PSThreadOptions</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Default</ToString><I32>0</I32></Obj><Obj N="ApartmentState" RefId="2"><TN RefId="1"><T>System.Management.Automation.Runspaces.ApartmentState</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>UNKNOWN</ToString><I32>2</I32></Obj><Obj N="HostInfo" RefId="3"><MS><B N="_isHostNull">true</B><B N="_isHostUINull">true</B><B N="_isHostRawUINull">true</B><B N="_useRunspaceHost">true</B></MS></Obj><Nil N="ApplicationArguments" /></MS></Obj>`
	dataState      = `<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`
	dataInitData   = `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32></MS></Obj>`
)

func TestTracerShellsAndDirections(t *testing.T) {
	tr := NewTracer("synthetic")
	cap := msg(psrp.DestinationServer, psrp.MessageSessionCapability, uuid.Nil, dataCapability)
	init := msg(psrp.DestinationServer, psrp.MessageInitRunspacePool, uuid.Nil, dataInit)
	creation := `<rsp:Shell ShellId="SHELL-A"><creationXml xmlns="http://schemas.microsoft.com/powershell">` +
		payload(t, 1, 100, cap, init) + `</creationXml></rsp:Shell>`
	ms, err := tr.Exchange(0, []byte(request(actCreate, uriPS, "", creation)), []byte(response(`<rsp:Shell><rsp:ShellId>SHELL-A</rsp:ShellId></rsp:Shell>`)))
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, psrp.MessageSessionCapability, ms[0].Message.Type)
	assert.Equal(t, psrp.MessageInitRunspacePool, ms[1].Message.Type)
	assert.Equal(t, "Create", ms[1].Action)
	assert.Equal(t, Request, ms[1].Direction)
	assert.Equal(t, ElementCreationXML, ms[1].Element)
	assert.Equal(t, "SHELL-A", ms[1].ShellID)
	assert.Equal(t, uint64(2), ms[1].ObjectID)
	assert.Greater(t, ms[1].Fragments, 1)
	assert.Equal(t, dataInit, string(ms[1].Message.Data))
	require.IsType(t, &psrp.InitRunspacePool{}, ms[1].Object)
	require.IsType(t, &clixml.Object{}, ms[1].Value)

	// Server output of two shells, both using ObjectId 1, the first split
	// across two Receive responses: each shell reassembles on its own.
	out := msg(psrp.DestinationClient, psrp.MessagePipelineOutput, testPipe, "<S>"+strings.Repeat("y", 200)+"</S>")
	raw, err := base64.StdEncoding.DecodeString(payload(t, 1, 120, out))
	require.NoError(t, err)
	first, rest := raw[:120], raw[120:]
	other := payload(t, 1, 1000, msg(psrp.DestinationClient, psrp.MessagePipelineState, testPipe, dataState))

	ms, err = tr.Exchange(1, []byte(request(actReceive, uriPS, "SHELL-A", "")),
		[]byte(response(`<rsp:ReceiveResponse>`+streamEl("stdout", "CMD-1", base64.StdEncoding.EncodeToString(first))+`</rsp:ReceiveResponse>`)))
	require.NoError(t, err)
	assert.Empty(t, ms)
	ms, err = tr.Exchange(2, []byte(request(actReceive, uriPS, "shell-b", "")),
		[]byte(response(`<rsp:ReceiveResponse>`+streamEl("stdout", "CMD-2", other)+`</rsp:ReceiveResponse>`)))
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, psrp.MessagePipelineState, ms[0].Message.Type)
	assert.Equal(t, "CMD-2", ms[0].CommandID)
	require.ErrorIs(t, tr.Close(), ErrIncomplete, "SHELL-A's output is still partial")

	ms, err = tr.Exchange(3, []byte(request(actReceive, uriPS, "SHELL-A", "")),
		[]byte(response(`<rsp:ReceiveResponse>`+streamEl("stdout", "CMD-1", base64.StdEncoding.EncodeToString(rest))+`</rsp:ReceiveResponse>`)))
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, Response, ms[0].Direction)
	assert.Equal(t, "Receive", ms[0].Action)
	assert.Equal(t, "stdout", ms[0].Stream)
	frags, err := psrp.DecodeFragments(raw)
	require.NoError(t, err)
	require.Greater(t, len(frags), 1)
	assert.Equal(t, len(frags), ms[0].Fragments)
	assert.Equal(t, testPipe, ms[0].Message.PipelineID)
	require.NoError(t, tr.Close())
}

func TestTracerWinRSHasNoMessages(t *testing.T) {
	tr := NewTracer("winrs")
	ms, err := tr.Exchange(0, []byte(request(actCreate, uriCmd, "", `<rsp:Shell ShellId="W1"/>`)), []byte(response(`<rsp:Shell><rsp:ShellId>W1</rsp:ShellId></rsp:Shell>`)))
	require.NoError(t, err)
	assert.Empty(t, ms)
	// Raw stdout bytes, not fragments: ignored because the shell is WinRS.
	ms, err = tr.Exchange(1, []byte(request(actCommand, uriCmd, "W1", `<rsp:CommandLine><rsp:Command>echo</rsp:Command><rsp:Arguments>hi there</rsp:Arguments></rsp:CommandLine>`)),
		[]byte(response(`<rsp:ReceiveResponse>`+streamEl("stdout", "C", base64.StdEncoding.EncodeToString([]byte("hi there\r\n")))+`</rsp:ReceiveResponse>`)))
	require.NoError(t, err)
	assert.Empty(t, ms)
	require.NoError(t, tr.Close())
}

func TestTracerConnectRestartsClientObjectIDs(t *testing.T) {
	tr := NewTracer("connect")
	input := msg(psrp.DestinationServer, psrp.MessagePipelineInput, testPipe, "<S>"+strings.Repeat("i", 100)+"</S>")
	raw, _ := base64.StdEncoding.DecodeString(payload(t, 1, 60, input))
	// The old client leaves a partial message with ObjectId 1 ...
	_, err := tr.Exchange(0, []byte(request(actSend, uriPS, "S", `<rsp:Send>`+streamEl("stdin", "C", base64.StdEncoding.EncodeToString(raw[:60]))+`</rsp:Send>`)), nil)
	require.NoError(t, err)
	// ... then a new client connects, restarting at ObjectId 1.
	connect := `<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">` +
		payload(t, 1, 32<<10, msg(psrp.DestinationServer, psrp.MessageSessionCapability, uuid.Nil, dataCapability),
			msg(psrp.DestinationServer, psrp.MessageConnectRunspacePool, uuid.Nil, "<S />")) + `</connectXml></rsp:Connect>`
	connectResp := `<rsp:ConnectResponse><connectResponseXml xmlns="http://schemas.microsoft.com/powershell">` +
		payload(t, 5, 32<<10, msg(psrp.DestinationClient, psrp.MessageSessionCapability, uuid.Nil, dataCapability),
			msg(psrp.DestinationClient, psrp.MessageRunspacePoolInitData, uuid.Nil, dataInitData)) + `</connectResponseXml></rsp:ConnectResponse>`
	ms, err := tr.Exchange(1, []byte(request(actConnect, uriPS, "S", connect)), []byte(response(connectResp)))
	require.NoError(t, err)
	require.Len(t, ms, 4)
	assert.Equal(t, []psrp.MessageType{psrp.MessageSessionCapability, psrp.MessageConnectRunspacePool, psrp.MessageSessionCapability, psrp.MessageRunspacePoolInitData},
		[]psrp.MessageType{ms[0].Message.Type, ms[1].Message.Type, ms[2].Message.Type, ms[3].Message.Type})
	assert.Equal(t, ElementConnectResponseXML, ms[3].Element)
	assert.Equal(t, Response, ms[3].Direction)
	// The new client's ObjectId 1 starts afresh.
	ms, err = tr.Exchange(2, []byte(request(actSend, uriPS, "S", `<rsp:Send>`+streamEl("stdin", "C", payload(t, 1, 1000, input))+`</rsp:Send>`)), nil)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.NoError(t, tr.Close())
}

func TestTracerErrors(t *testing.T) {
	good := payload(t, 1, 1000, msg(psrp.DestinationClient, psrp.MessagePipelineOutput, testPipe, "<S>a</S>"))
	raw, _ := base64.StdEncoding.DecodeString(good)
	tests := []struct {
		name   string
		body   string
		target error
	}{
		{"truncated fragment", streamEl("stdout", "", base64.StdEncoding.EncodeToString(raw[:10])), nil},
		{"not base64", streamEl("stdout", "", "%%%"), ErrEnvelope},
		{"missing start", streamEl("stdout", "", payload(t, 1, 10, msg(psrp.DestinationClient, psrp.MessagePipelineOutput, testPipe, "<S>abcdefghijklmnopqrstuvwxyz</S>"))[28:]), nil},
		{"bad CLIXML", streamEl("stdout", "", payload(t, 1, 1000, msg(psrp.DestinationClient, psrp.MessagePipelineOutput, testPipe, "<S>a</X>"))), nil},
		{"bad protocol object", streamEl("stdout", "", payload(t, 1, 1000, msg(psrp.DestinationClient, psrp.MessagePipelineState, testPipe, "<S>a</S>"))), psrp.ErrInvalidMessageData},
		{"short message", streamEl("stdout", "", func() string {
			f := psrp.SplitMessage(1, []byte("tiny"), 100)
			return base64.StdEncoding.EncodeToString(f[0].AppendTo(nil))
		}()), psrp.ErrShortMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracer("bad")
			_, err := tr.Exchange(7, []byte(request(actReceive, uriPS, "S", "")), []byte(response(`<rsp:ReceiveResponse>`+tt.body+`</rsp:ReceiveResponse>`)))
			require.Error(t, err)
			var te *Error
			require.True(t, errors.As(err, &te), "%T", err)
			assert.Equal(t, 7, te.Exchange)
			assert.Equal(t, Response, te.Direction)
			assert.Contains(t, err.Error(), "bad: exchange 7 response")
			if tt.target != nil {
				assert.ErrorIs(t, err, tt.target)
			}
		})
	}
	_, err := NewTracer("x").Exchange(0, []byte("<broken"), nil)
	require.ErrorIs(t, err, ErrEnvelope)
}

func TestTraceFormats(t *testing.T) {
	out := msg(psrp.DestinationClient, psrp.MessagePipelineOutput, testPipe, "<S>a</S>")
	in := msg(psrp.DestinationServer, psrp.MessagePipelineInput, testPipe, "<S>b</S>")
	b64 := payload(t, 1, 1000, out)
	wrapped := payload(t, 3, 1000, in, in, in)
	var lines []string
	for len(wrapped) > 76 {
		lines = append(lines, wrapped[:76])
		wrapped = wrapped[76:]
	}
	lines = append(lines, wrapped)
	envelope := testEnvHead + `<s:Header><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse</wsa:Action></s:Header>` +
		`<s:Body><rsp:ReceiveResponse>` + streamEl("stdout", "", b64) + `</rsp:ReceiveResponse></s:Body></s:Envelope>`
	tests := []struct {
		name   string
		in     string
		format Format
		detect Format
		n      int
		dir    Direction
	}{
		{"base64 one payload", b64 + "\n", FormatAuto, FormatBase64, 1, Response},
		{"base64 wrapped", strings.Join(lines, "\n"), FormatAuto, FormatBase64, 3, Request},
		{"base64 one payload per line", b64 + "\n\n" + payload(t, 2, 1000, out) + "\n", FormatBase64, FormatBase64, 2, Response},
		{"envelope", "\xef\xbb\xbf\n" + envelope, FormatAuto, FormatEnvelope, 1, Response},
		{"yaml", "# comment\nmessages:\n- request: '" + request(actReceive, uriPS, "S", "") + "'\n  response: '" + envelope + "'\n", FormatAuto, FormatYAML, 1, Response},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.detect, DetectFormat([]byte(tt.in)))
			ms, err := Trace("in", []byte(tt.in), tt.format)
			require.NoError(t, err)
			require.Len(t, ms, tt.n)
			for _, m := range ms {
				assert.Equal(t, "in", m.File)
				assert.Equal(t, tt.dir, m.Direction)
			}
		})
	}
	_, err := Trace("in", []byte("not base64 at all!"), FormatAuto)
	require.Error(t, err)
	_, err = ParseFormat("json")
	require.Error(t, err)
	for _, s := range []string{"", "auto", "yaml", "xml", "base64"} {
		_, err := ParseFormat(s)
		require.NoError(t, err, s)
	}
}

// TestTraceIronPoshCreationXML reads the genuine pwsh 7.4.10 creationXml
// (a raw base64 payload; BOM-prefixed client messages).
func TestTraceIronPoshCreationXML(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	b, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml"))
	require.NoError(t, err)
	ms, err := Trace("creationXml", b, FormatAuto)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, psrp.MessageSessionCapability, ms[0].Message.Type)
	assert.Equal(t, psrp.MessageInitRunspacePool, ms[1].Message.Type)
	for _, m := range ms {
		assert.Equal(t, Request, m.Direction)
		assert.NotEqual(t, byte(0xEF), m.Message.Data[0], "the BOM is stripped")
	}
}

// TestMalformedEnvelopes reads ironPosh's hand-made malformed envelopes:
// each gives a clear error or, when the envelope is well formed but carries
// nothing, no message.
func TestMalformedEnvelopes(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	tests := []struct {
		file   string
		target error // nil: no error and no message
	}{
		{"empty_body.xml", nil},
		{"missing_body.xml", nil},
		{"invalid_xml_syntax.xml", ErrEnvelope},
		{"truncated_mid_tag.xml", ErrEnvelope},
		{"missing_envelope.xml", ErrEnvelope},
		{"wrong_namespace.xml", ErrEnvelope},
		{"extra_unknown_elements.xml", psrp.ErrTruncatedFragment},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "ironposh", "winrm", "malformed", tt.file))
			require.NoError(t, err)
			ms, err := Trace(tt.file, b, FormatEnvelope)
			assert.Empty(t, ms)
			if tt.target == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.target)
			assert.Contains(t, err.Error(), "psrptrace: "+tt.file+": exchange 0")
			assert.Equal(t, 1, strings.Count(err.Error(), "psrptrace:"), err.Error())
		})
	}
}
