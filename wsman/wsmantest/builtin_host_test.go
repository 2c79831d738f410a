package wsmantest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// recordedHostCall returns the first recorded PIPELINE_HOST_CALL of a
// method in a recording, and the client's response to it.
func recordedHostCall(t *testing.T, name string, method psrp.HostMethodID) (*psrp.HostCall, *psrp.HostResponse) {
	t.Helper()
	msgs, err := psrptrace.Recording(recordings.LoadNamed(t, name))
	require.NoError(t, err)
	var call *psrp.HostCall
	for _, m := range msgs {
		switch x := m.Object.(type) {
		case *psrp.HostCall:
			if call == nil && x.MethodID == method {
				call = x
			}
		case *psrp.HostResponse:
			if call != nil && x.CallID == call.CallID {
				return call, x
			}
		}
	}
	t.Fatalf("%s: no answered %v host call", name, method)
	return nil, nil
}

// propertyNames returns the <MS> property names of a value.
func propertyNames(v clixml.Value) []string {
	var out []string
	if o, ok := v.(*clixml.Object); ok {
		for _, p := range o.Extended {
			out = append(out, p.Name)
		}
	}
	return out
}

// TestReadHostRecorded mirrors the recorded host calls of
// test_psrp_pshost_ui_mocked_methods: Read-Host sends a ReadLine host call
// (method 11, call id 1, no parameters) as $host.UI.ReadLine() did on
// Windows, and writes the line the client's host answers; Read-Host -Prompt
// sends a Prompt call (23) with the recorded parameter shape (caption,
// message, a list of field descriptions with the recorded properties) and
// writes the values of the answered dictionary.
func TestReadHostRecorded(t *testing.T) {
	wantLine, lineResp := recordedHostCall(t, "test_psrp_pshost_ui_mocked_methods", psrp.HostReadLine)
	wantPrompt, promptResp := recordedHostCall(t, "test_psrp_pshost_ui_mocked_methods", psrp.HostPrompt)

	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1})
	defer srv.Close()
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	ctx := testCtx(t)

	answer := func(hc *psrp.HostCall) *psrp.HostResponse {
		r := &psrp.HostResponse{Pipeline: true, CallID: hc.CallID, MethodID: hc.MethodID}
		switch hc.MethodID {
		case psrp.HostReadLine:
			r.Return = lineResp.Return
		case psrp.HostPrompt:
			r.Return = promptResp.Return
		}
		return r
	}

	pl := c.start(ctx, "Read-Host", false)
	res := c.collect(ctx, pl, answer)
	c.terminate(ctx, pl)
	require.Len(t, res.hostCall, 1)
	got := res.hostCall[0]
	assert.Equal(t, wantLine.MethodID, got.MethodID)
	assert.Equal(t, wantLine.CallID, got.CallID)
	assert.Empty(t, wantLine.Params)
	assert.Empty(t, got.Params)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("ReadLine response")}, res.output)

	pl = c.start(ctx, "Read-Host -Prompt 'prompt', 'field'", false)
	res = c.collect(ctx, pl, answer)
	c.terminate(ctx, pl)
	require.Len(t, res.hostCall, 1)
	got = res.hostCall[0]
	assert.Equal(t, wantPrompt.MethodID, got.MethodID)
	require.Len(t, got.Params, len(wantPrompt.Params))
	assert.Equal(t, clixml.String(""), got.Params[0], "PowerShell's Read-Host prompts with an empty caption")
	assert.Equal(t, clixml.String(""), got.Params[1], "and an empty message")
	wantFields, gotFields := wantPrompt.Params[2].(*clixml.Object), got.Params[2].(*clixml.Object)
	assert.Equal(t, wantFields.TypeNames, gotFields.TypeNames)
	require.Len(t, gotFields.Items, 1)
	assert.Equal(t, propertyNames(wantFields.Items[0]), propertyNames(gotFields.Items[0]))
	name, _ := gotFields.Items[0].(*clixml.Object).Property("name")
	assert.Equal(t, clixml.String("prompt field"), name)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("prompt response")}, res.output)
}

// TestReadHostHostError checks that a host call the client's host fails
// (PIPELINE_HOST_RESPONSE with an exception) ends Read-Host's statement
// with an error record, and the script goes on.
func TestReadHostHostError(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1})
	defer srv.Close()
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	ctx := testCtx(t)
	pl := c.start(ctx, "Read-Host; 'after'", false)
	res := c.collect(ctx, pl, func(hc *psrp.HostCall) *psrp.HostResponse {
		rec := &psrp.ErrorRecord{Message: "no console", FullyQualifiedErrorID: "NoConsole"}
		return &psrp.HostResponse{Pipeline: true, CallID: hc.CallID, MethodID: hc.MethodID, Exception: rec.ToCLIXML()}
	})
	c.terminate(ctx, pl)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "no console", res.errors[0].Message)
	assert.Equal(t, []clixml.Value{clixml.String("after")}, res.output)
}

// TestNullStatementWritesNull checks that a bare $null statement writes
// $null, as PowerShell does (@(& {$null}).Count is 1), while a variable
// assigned from a pipeline that wrote nothing enumerates to nothing.
func TestNullStatementWritesNull(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1})
	defer srv.Close()
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	for _, tc := range []struct {
		script string
		want   []clixml.Value
	}{
		{"$null", []clixml.Value{clixml.Nil{}}},
		{"$null; 'a'", []clixml.Value{clixml.Nil{}, clixml.String("a")}},
		{"$null | ForEach-Object { 'x' }", []clixml.Value{clixml.String("x")}},
		{"$x = Write-Output; $x", nil},
		{"$x = Write-Output; $y = $x; $y; $x = 1; $x", []clixml.Value{clixml.Int32(1)}},
	} {
		res := c.run(tc.script)
		assert.Equal(t, psrp.PSInvocationCompleted, res.state, tc.script)
		assert.Equal(t, tc.want, res.output, tc.script)
	}
}
