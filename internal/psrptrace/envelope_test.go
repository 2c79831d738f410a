package psrptrace

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testEnvHead = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">`

func TestScanEnvelope(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Envelope
	}{
		{
			name: "create with creationXml",
			in: testEnvHead + `<s:Header><wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</wsa:Action>` +
				`<wsman:ResourceURI>http://schemas.microsoft.com/powershell/Microsoft.PowerShell</wsman:ResourceURI></s:Header>` +
				`<s:Body><rsp:Shell ShellId="AB-1"><rsp:InputStreams>stdin pr</rsp:InputStreams>` +
				`<creationXml xmlns="http://schemas.microsoft.com/powershell">QUJD</creationXml></rsp:Shell></s:Body></s:Envelope>`,
			want: Envelope{
				Action:      "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
				ResourceURI: "http://schemas.microsoft.com/powershell/Microsoft.PowerShell",
				ShellID:     "AB-1",
				Payloads:    []Payload{{Element: ElementCreationXML, Text: "QUJD"}},
			},
		},
		{
			name: "command with arguments and selector",
			in: testEnvHead + `<s:Header><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command</wsa:Action>` +
				`<wsman:SelectorSet><wsman:Selector Name="Other">x</wsman:Selector><wsman:Selector Name="ShellId">S-2</wsman:Selector></wsman:SelectorSet></s:Header>` +
				`<s:Body><rsp:CommandLine CommandId="C-1"><rsp:Command>Invoke-Expression</rsp:Command><rsp:Arguments>QU&#x4A;D</rsp:Arguments></rsp:CommandLine></s:Body></s:Envelope>`,
			want: Envelope{
				Action:   "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
				ShellID:  "S-2",
				Payloads: []Payload{{Element: ElementArguments, CommandID: "C-1", Text: "QUJD"}},
			},
		},
		{
			name: "receive response streams in order",
			in: testEnvHead + `<s:Header><wsa:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse</wsa:Action></s:Header>` +
				`<s:Body><rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C-9">AAAA</rsp:Stream>` +
				`<rsp:Stream Name="stdout">BBBB</rsp:Stream><rsp:Stream Name="stdout" End="true"></rsp:Stream>` +
				`<rsp:CommandState CommandId="C-9" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"/></rsp:ReceiveResponse></s:Body></s:Envelope>`,
			want: Envelope{
				Action: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse",
				Payloads: []Payload{
					{Element: ElementStream, Stream: "stdout", CommandID: "C-9", Text: "AAAA"},
					{Element: ElementStream, Stream: "stdout", Text: "BBBB"},
					{Element: ElementStream, Stream: "stdout", Text: ""},
				},
			},
		},
		{
			name: "connect and connect response",
			in: testEnvHead + `<s:Body><rsp:ConnectResponse><rsp:InputStreams>stdin pr</rsp:InputStreams>` +
				`<connectResponseXml xmlns="http://schemas.microsoft.com/powershell">Q0Q=</connectResponseXml>` +
				`<p:connectXml xmlns:p="http://schemas.microsoft.com/powershell">Q0E=</p:connectXml></rsp:ConnectResponse></s:Body></s:Envelope>`,
			want: Envelope{Payloads: []Payload{
				{Element: ElementConnectResponseXML, Text: "Q0Q="},
				{Element: ElementConnectXML, Text: "Q0E="},
			}},
		},
		{
			name: "elements in the wrong namespace are ignored",
			in: testEnvHead + `<s:Body><rsp:Shell><creationXml>QUJD</creationXml></rsp:Shell>` +
				`<Stream xmlns="urn:other">AAAA</Stream></s:Body></s:Envelope>`,
			want: Envelope{},
		},
		{
			name: "fault",
			in: testEnvHead + `<s:Header><wsa:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</wsa:Action></s:Header>` +
				`<s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault></s:Body></s:Envelope>`,
			want: Envelope{Action: "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", Fault: true},
		},
		{
			name: "create response shell id",
			in:   testEnvHead + `<s:Body><rsp:Shell><rsp:ShellId> S-3 </rsp:ShellId></rsp:Shell></s:Body></s:Envelope>`,
			want: Envelope{ShellID: "S-3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScanEnvelope([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, *got)
		})
	}
}

func TestScanEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no root element"},
		{"not soap", `<a/>`, "not a SOAP 1.2 Envelope"},
		{"unclosed", testEnvHead + `<s:Body>`, "unexpected EOF"},
		{"mismatched", testEnvHead + `<s:Body></s:Header></s:Envelope>`, "element <Body> closed by </Header>"},
		{"two roots", testEnvHead + `</s:Envelope>` + testEnvHead + `</s:Envelope>`, "more than one root"},
		{"too deep", testEnvHead + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</s:Envelope>`, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ScanEnvelope([]byte(tt.in))
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrEnvelope), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestPayloadBytes(t *testing.T) {
	b, err := Payload{Text: " QU\nJD\r\n"}.Bytes()
	require.NoError(t, err)
	assert.Equal(t, []byte("ABC"), b)
	_, err = Payload{Element: ElementStream, Text: "!!"}.Bytes()
	require.ErrorIs(t, err, ErrEnvelope)
}

func TestShortActionAndIsPowerShell(t *testing.T) {
	assert.Equal(t, "Create", ShortAction("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"))
	assert.Equal(t, "ReceiveResponse", ShortAction("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse"))
	assert.Equal(t, "", ShortAction(""))
	assert.True(t, IsPowerShell("http://schemas.microsoft.com/powershell/Microsoft.PowerShell"))
	assert.True(t, IsPowerShell(""))
	assert.False(t, IsPowerShell("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"))
	assert.False(t, IsPowerShell("http://schemas.microsoft.com/wbem/wsman/1/config"))
}
