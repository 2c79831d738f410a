package wsman

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDurationFormatParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT7200.000S", 2 * time.Hour, true},
		{"PT2147483.647S", 2147483647 * time.Millisecond, true},
		{"P0DT0H0M9S", 9 * time.Second, true},
		{"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second, true},
		{"PT20S", 20 * time.Second, true},
		{"PT0.5S", 500 * time.Millisecond, true},
		{"PT1H30M", 90 * time.Minute, true},
		{"P2D", 48 * time.Hour, true},
		{"P0Y0M1D", 24 * time.Hour, true},
		{"-PT60S", -time.Minute, true},
		{" PT60S ", time.Minute, true},
		{"PT-1S", 0, false},
		{"P1M", 0, false},
		{"P1Y", 0, false},
		{"PT", 0, false},
		{"P", 0, false},
		{"", 0, false},
		{"60", 0, false},
		{"PT1.2.3S", 0, false},
		{"P1.5D", 0, false},
		{"PT1S2", 0, false},
		{"PTTS", 0, false},
		{"PT99999999999999999S", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if !tc.ok {
			var de *DurationError
			assert.True(t, errors.As(err, &de), "%q should fail", tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, "PT7200.000S", FormatDuration(2*time.Hour))
	assert.Equal(t, "PT2147483.647S", FormatDuration(2147483647*time.Millisecond))
	assert.Equal(t, "PT0.250S", FormatDuration(250*time.Millisecond))
	assert.Equal(t, "PT60S", FormatDurationSeconds(time.Minute))
	assert.Equal(t, "PT1S", FormatDurationSeconds(time.Millisecond))
	assert.Equal(t, "P0DT0H0M9S", FormatDayTime(9*time.Second))
	assert.Equal(t, "P1DT1H1M1S", FormatDayTime(25*time.Hour+61*time.Second))
	for _, d := range []time.Duration{0, time.Millisecond, 90 * time.Minute, 2147483647 * time.Millisecond} {
		back, err := ParseDuration(FormatDuration(d))
		require.NoError(t, err)
		assert.Equal(t, d, back)
		back, err = ParseDuration(FormatDayTime(d))
		require.NoError(t, err)
		assert.Equal(t, d.Truncate(time.Second), back)
	}
}

func TestParseConnectionURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"server", "http://server:5985/wsman"},
		{"server:5986", "https://server:5986/wsman"},
		{"server:8080", "http://server:8080/wsman"},
		{"https://server", "https://server:5986/wsman"},
		{"http://server/", "http://server:5985/wsman"},
		{"HTTPS://Server:443/wsman", "https://Server:443/wsman"},
		{"https://server:5986/custom", "https://server:5986/custom"},
		{"http://[::1]/wsman", "http://[::1]:5985/wsman"},
		{"[fe80::1]:5986", "https://[fe80::1]:5986/wsman"},
		{"http://[fe80::1%25eth0]/wsman", "http://[fe80::1%25eth0]:5985/wsman"},
		{"http://127.0.0.1:55985/wsman?PSVersion=7.4.10", "http://127.0.0.1:55985/wsman?PSVersion=7.4.10"},
	} {
		u, err := ParseConnectionURI(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, u.String(), tc.in)
	}
	for _, bad := range []string{"", "ftp://server", "http://user:pw@server/wsman", "http://:5985", "http://server:99999", "http://server:x", "0::", "fe80::1", "http://fe80::1/wsman", "http://[zz::1]/wsman"} {
		_, err := ParseConnectionURI(bad)
		var ee *EndpointError
		require.ErrorAs(t, err, &ee, bad)
		assert.NotContains(t, err.Error(), "pw@", "credentials never in errors")
	}
}

func TestBuildURL(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		ssl  bool
		app  string
		want string
	}{
		{"server", 0, false, "", "http://server:5985/wsman"},
		{"server", 0, true, "", "https://server:5986/wsman"},
		{"server", 443, true, "wsman", "https://server:443/wsman"},
		{"::1", 0, false, "/psapp/", "http://[::1]:5985/psapp"},
		{"[::1]", 5986, true, "", "https://[::1]:5986/wsman"},
	} {
		got, err := BuildURL(tc.host, tc.port, tc.ssl, tc.app)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"", "a/b", "u@h"} {
		_, err := BuildURL(bad, 0, false, "")
		assert.Error(t, err, bad)
	}
	_, err := BuildURL("h", 70000, false, "")
	assert.Error(t, err)
}

func TestEscapingRoundTrip(t *testing.T) {
	nasty := `_-(){}[]<>*+-/\?"!@#$^&|;:i,.` + "`~0 'quote' \t tab\nline é ✓"
	s := &Shell{
		InputStreams: "stdin", OutputStreams: "stdout stderr", WorkingDirectory: `C:\a&b<c>`,
		Environment: []EnvVar{{Name: nasty, Value: nasty}},
	}
	env := &Envelope{Header: Header{Action: ActionCreate, MessageID: NewMessageID(), ResourceURI: ResourceCmd,
		Options: []Option{{Name: "X", Value: `a"b<c&d`}}}, Body: []*Element{s.CreateElement()}}
	out := env.Marshal()
	back, err := ParseEnvelope(out)
	require.NoError(t, err)
	v, err := back.DecodeRequestBody()
	require.NoError(t, err)
	got := v.(*Shell)
	assert.Equal(t, s.Environment, got.Environment)
	assert.Equal(t, s.WorkingDirectory, got.WorkingDirectory)
	o, _ := back.Header.Option("x")
	assert.Equal(t, `a"b<c&d`, o.Value)
}

func TestEnvironmentMatchesRecordedBytes(t *testing.T) {
	// The recorded pypsrp request escapes exactly as encoding/xml does for
	// the characters Windows received.
	rec := recordings.LoadNamed(t, "test_winrs_environment")
	want, err := ParseEnvelope([]byte(rec.Messages[0].Request))
	require.NoError(t, err)
	s, err := ParseShell(want.BodyElement())
	require.NoError(t, err)
	require.Len(t, s.Environment, 3)
	assert.Equal(t, `_-(){}[]<>*+-/\?"!@#$^&|;:i,.`+"`~0", s.Environment[2].Name)
	assert.Equal(t, canonical(want.BodyElement()), canonical(s.CreateElement()))
}

func TestResponseUsesWindowsPrefixes(t *testing.T) {
	req := &Envelope{Header: Header{Action: ActionCreate, MessageID: "uuid:C1519696-D50B-4157-9225-8B94ECC82FE8"}}
	cr := &CreateResponse{
		ResourceCreated: &ResourceCreated{Address: "http://x:5985/wsman", ResourceURI: PowerShellResourceURI(""),
			Selectors: []Selector{{Name: SelectorShellID, Value: "B6631D8E-65A0-49F2-9053-A1B156C95777"}}},
		Shell: &Shell{ShellID: "B6631D8E-65A0-49F2-9053-A1B156C95777", ResourceURI: PowerShellResourceURI(""),
			IdleTimeOut: 2 * time.Hour, State: ShellStateConnected, ShellRunTime: 2 * time.Second},
	}
	resp := NewResponse(req, cr.Elements()...)
	resp.Header.OperationID = "uuid:9178A378-F1B0-4EDE-9EE2-52E43056AA28"
	resp.Header.SequenceID = "1"
	out := string(resp.Marshal())
	for _, frag := range []string{
		`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">`,
		`<a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse</a:Action>`,
		`<a:RelatesTo>uuid:C1519696-D50B-4157-9225-8B94ECC82FE8</a:RelatesTo>`,
		`<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>`,
		`<p:OperationID s:mustUnderstand="false">uuid:9178A378-F1B0-4EDE-9EE2-52E43056AA28</p:OperationID><p:SequenceId>1</p:SequenceId>`,
		`<w:Selector Name="ShellId">B6631D8E-65A0-49F2-9053-A1B156C95777</w:Selector>`,
		`<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>`,
		`<rsp:ShellRunTime>P0DT0H0M2S</rsp:ShellRunTime>`,
	} {
		assert.Contains(t, out, frag)
	}
	assert.NotContains(t, out, "mustUnderstand=\"true\"")
	back, err := ParseEnvelope([]byte(out))
	require.NoError(t, err)
	got, err := ParseCreateResponse(back.Body)
	require.NoError(t, err)
	assert.Equal(t, cr.Shell, got.Shell)
	assert.Equal(t, cr.ResourceCreated, got.ResourceCreated)
}

func TestRequestHeaderMatchesWindowsForm(t *testing.T) {
	env := &Envelope{Header: Header{
		Action: ActionReceive, DataLocale: "en-US", Locale: "en-US", MaxEnvelopeSize: 153600,
		MessageID: "uuid:ADF95F21-FAB6-4B66-9B57-F983D1623851", OperationTimeout: 20 * time.Second,
		ReplyTo: AnonymousAddress, ResourceURI: PowerShellResourceURI(""),
		SessionID: "uuid:96676D7F-B39C-41F1-9C6C-02F79AE9C9B5", To: "https://127.0.0.1:55986/wsman",
		Options:   []Option{{Name: OptionKeepAlive, Value: "True"}},
		Selectors: []Selector{{Name: SelectorShellID, Value: "B6631D8E-65A0-49F2-9053-A1B156C95777"}},
	}, Body: []*Element{(&Receive{}).Element()}}
	out := string(env.Marshal())
	for _, frag := range []string{
		`<a:Action s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive</a:Action>`,
		`<p:DataLocale s:mustUnderstand="false" xml:lang="en-US"/>`,
		`<w:Locale s:mustUnderstand="false" xml:lang="en-US"/>`,
		`<w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>`,
		`<w:OperationTimeout>PT20S</w:OperationTimeout>`,
		`<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>`,
		`<p:SessionId s:mustUnderstand="false">uuid:96676D7F-B39C-41F1-9C6C-02F79AE9C9B5</p:SessionId>`,
		`<w:OptionSet s:mustUnderstand="true"><w:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">True</w:Option></w:OptionSet>`,
		`<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>`,
	} {
		assert.Contains(t, out, frag)
	}
}

func TestSignalCodes(t *testing.T) {
	assert.Equal(t, "powershell/signal/crtl_c", SignalPowerShellStop)
	el := (&Signal{CommandID: "C", Code: SignalPowerShellStop}).Element()
	assert.Equal(t, `<rsp:Signal xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" CommandId="C"><rsp:Code>powershell/signal/crtl_c</rsp:Code></rsp:Signal>`, el.String())
}

func TestUnknownNamespacesAndDefaults(t *testing.T) {
	el := NewElement(NSShell, "Connect").Add(
		NewElement(NSPowerShell, "connectXml").SetText("AAA").Add(NewElement("", "plain").SetAttr("urn:x", "a", "1")))
	out := el.String()
	assert.Contains(t, out, `<connectXml xmlns="http://schemas.microsoft.com/powershell">AAA<plain xmlns="" ns1:a="1" xmlns:ns1="urn:x"/></connectXml>`)
	back, err := ParseElement([]byte(out), Limits{})
	require.NoError(t, err)
	assert.Equal(t, canonical(el), canonical(back))
}

func TestParserLimitsAndMalformed(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	_, err := ParseElement([]byte(deep), Limits{MaxDepth: 50})
	assert.ErrorIs(t, err, ErrLimit)
	many := "<r>" + strings.Repeat("<a/>", 1000) + "</r>"
	_, err = ParseElement([]byte(many), Limits{MaxElements: 100})
	assert.ErrorIs(t, err, ErrLimit)
	_, err = ParseElement([]byte(many), Limits{MaxBytes: 100})
	assert.ErrorIs(t, err, ErrLimit)
	for _, bad := range []string{"", "   ", "<a>", "<a></b>", "<a/><b/>", "text", "<x:a/>", "<a>&bogus;</a>", "<a/>trailing"} {
		_, err := ParseElement([]byte(bad), Limits{})
		var xe *XMLError
		assert.ErrorAs(t, err, &xe, "%q", bad)
	}
	for _, bad := range []string{
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`,
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>`,
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/><s:Body/></s:Envelope>`,
	} {
		_, err := ParseEnvelope([]byte(bad))
		var xe *XMLError
		assert.ErrorAs(t, err, &xe, bad)
	}
}

func TestIronPoshFiles(t *testing.T) {
	dir := filepath.Join(recordings.DirOrSkip(t), "ironposh", "winrm")
	b, err := os.ReadFile(filepath.Join(dir, "resource_created.xml"))
	require.NoError(t, err)
	env, err := ParseEnvelope(b)
	require.NoError(t, err)
	assert.Equal(t, "uuid:9178a378-f1b0-4ede-9ee2-52e43056aa28", env.Header.OperationID)
	assert.Equal(t, "1", env.Header.SequenceID)
	cr, err := ParseCreateResponse(env.Body)
	require.NoError(t, err)
	assert.Equal(t, "07936B27-7752-4325-8B0D-E7A1E9448320", cr.ShellID())
	assert.Equal(t, "Runspace1", cr.Shell.Name)

	b, err = os.ReadFile(filepath.Join(dir, "error_response.xml"))
	require.NoError(t, err)
	env, err = ParseEnvelope(b)
	require.NoError(t, err)
	f, err := ParseFault(env.BodyElement())
	require.NoError(t, err)
	assert.NotEmpty(t, f.Error())

	b, err = os.ReadFile(filepath.Join(dir, "receive_response.xml"))
	require.NoError(t, err)
	env, err = ParseEnvelope(b)
	require.NoError(t, err)
	rr, err := ParseReceiveResponse(env.BodyElement())
	require.NoError(t, err)
	assert.NotEmpty(t, rr.Streams)

	malformed, _ := filepath.Glob(filepath.Join(dir, "malformed", "*.xml"))
	require.NotEmpty(t, malformed)
	for _, m := range malformed {
		b, err := os.ReadFile(m)
		require.NoError(t, err)
		env, err := ParseEnvelope(b)
		name := filepath.Base(m)
		switch name {
		case "extra_unknown_elements.xml", "empty_body.xml":
			// Well-formed SOAP: parses; unknown elements are ignored.
			require.NoError(t, err, name)
			_ = env
		default:
			var xe *XMLError
			assert.ErrorAs(t, err, &xe, name)
		}
	}
}

func TestFaultParsing(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_is_alive_invalid_selectors")
	var found bool
	for _, m := range rec.Messages {
		env, err := ParseEnvelope([]byte(m.Response))
		require.NoError(t, err)
		if !env.IsFault() {
			continue
		}
		found = true
		f := FaultFromEnvelope(env)
		require.NotNil(t, f)
		assert.Equal(t, "s:Sender", f.Code)
		assert.Equal(t, "w:InvalidSelectors", f.Subcode)
		assert.Equal(t, "InvalidSelectors", f.SubcodeLocal())
		assert.Equal(t, CodeUnexpectedSelectors, f.WSManCode())
		assert.Equal(t, "127.0.0.1", f.WSManFault.Machine)
		require.NotNil(t, f.WSManFault.ProviderFault)
		assert.Equal(t, "Shell provider", f.WSManFault.ProviderFault.Provider)
		assert.Equal(t, CodeUnexpectedSelectors, f.WSManFault.ProviderFault.Fault.Code)
		assert.ErrorIs(t, f, ErrShellNotFound)
		assert.NotErrorIs(t, f, ErrOperationTimeout)
		assert.Contains(t, f.Error(), "2150858843")
		// Our builder produces the same shape.
		built := ShellNotFoundFault("127.0.0.1")
		assert.Equal(t, canonical(env.BodyElement()), canonical(built.Element()))
	}
	assert.True(t, found)

	// Subcode fallback without a WSManFault detail, and negative HRESULTs.
	f := &Fault{Subcode: "w:TimedOut"}
	assert.ErrorIs(t, f, ErrOperationTimeout)
	el, err := ParseElement([]byte(`<s:Fault xmlns:s="`+NSSoap+`" xmlns:f="`+NSWSManFault+`"><s:Detail><f:WSManFault Code="-2141974624"/></s:Detail></s:Fault>`), Limits{})
	require.NoError(t, err)
	f, err = ParseFault(el)
	require.NoError(t, err)
	assert.Equal(t, CodeIncorrectProtocolVersion, f.WSManCode())
	assert.ErrorIs(t, f, ErrProtocolVersion)
}
