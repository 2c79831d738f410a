package wsmantest_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestCommandNotFoundAsCommandRecorded replays
// test_client_execute_ps_failure: "Invoke-Expression -Command
// 'Get-ServiceTypo -Name winrm' | Out-String -Stream" sent as commands.
// Windows sends no ERROR_RECORD, only PIPELINE_STATE Failed carrying the
// CommandNotFoundException; the fake server (built-in subset) must do the
// same, so that a client's "had errors" check gives Windows's answer.
func TestCommandNotFoundAsCommandRecorded(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1, MaxOperationTimeout: time.Second})
	defer srv.Close()
	r := replayPipeline(t, "test_client_execute_ps_failure", srv, nil)
	require.False(t, r.create.PowerShell.Cmds[0].IsScript, "sent as a command")
	assert.Equal(t, []string{psrp.MessagePipelineState.String()}, types(r.recorded))
	assert.Equal(t, types(r.recorded), types(r.fake))

	want, got := finalState(t, r.recorded), finalState(t, r.fake)
	require.Equal(t, psrp.PSInvocationFailed, want.State)
	require.Equal(t, psrp.PSInvocationFailed, got.State)
	require.NotNil(t, got.Error)
	w, g := want.Error, got.Error
	assert.Equal(t, w.Exception.TypeNames[0], g.Exception.TypeNames[0])
	assert.Equal(t, w.Message, g.Message)
	assert.Equal(t, w.FullyQualifiedErrorID, g.FullyQualifiedErrorID)
	assert.Equal(t, w.Category, g.Category)
	assert.Equal(t, w.Activity, g.Activity)
	assert.Equal(t, w.Reason, g.Reason)
	assert.Equal(t, w.TargetName, g.TargetName)
	assert.Equal(t, w.TargetType, g.TargetType)
	assert.Equal(t, w.CategoryMessage, g.CategoryMessage)
}

// commandsPipeline runs a pipeline of commands (AddCommand) on a fresh
// server and returns its result.
func commandsPipeline(t *testing.T, statements ...[]psrp.Command) *result {
	t.Helper()
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1})
	t.Cleanup(srv.Close)
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	pl, err := c.pool.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true, PowerShell: psrp.NewPowerShell(statements...)})
	require.NoError(t, err)
	return c.invoke(testCtx(t), pl)
}

// TestParameterBindingAsCommandFails mirrors a command added as a command
// with a parameter that does not bind (-Bogus): on Windows that is a
// terminating ParameterBindingException, so the pipeline fails with it and
// no error record is written.
func TestParameterBindingAsCommandFails(t *testing.T) {
	res := commandsPipeline(t, []psrp.Command{{Cmd: "Write-Output", Args: []psrp.CommandParameter{
		{Name: "InputObject", Value: clixml.String("x")}, {Name: "Bogus", Value: clixml.Int32(1)}}}})
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	assert.Empty(t, res.errors)
	assert.Empty(t, res.output)
	require.NotNil(t, res.reason)
	assert.Equal(t, "System.Management.Automation.ParameterBindingException", res.reason.Exception.TypeNames[0])
	assert.Equal(t, "NamedParameterNotFound,Microsoft.PowerShell.Commands.WriteOutputCommand", res.reason.FullyQualifiedErrorID)
	assert.Equal(t, "A parameter cannot be found that matches parameter name 'Bogus'.", res.reason.Message)
}

// TestUnknownLaterCommandNamesIt checks that an unknown command after the
// first of an AddCommand pipeline fails the pipeline naming that command
// (PowerShell resolves every command before running any).
func TestUnknownLaterCommandNamesIt(t *testing.T) {
	res := commandsPipeline(t, []psrp.Command{{Cmd: "Write-Output", Args: []psrp.CommandParameter{{Value: clixml.String("x")}}},
		{Cmd: "Get-Nothing"}})
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	assert.Empty(t, res.errors)
	require.NotNil(t, res.reason)
	assert.Equal(t, "Get-Nothing", res.reason.TargetName)
	assert.Equal(t, "CommandNotFoundException", res.reason.FullyQualifiedErrorID)
}

// TestCommandNotFoundInScriptIsNonTerminating checks that the same errors
// inside a script stay non-terminating, as in PowerShell: the record is
// written, the script goes on and the pipeline completes.
func TestCommandNotFoundInScriptIsNonTerminating(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{InactivityWindow: -1})
	defer srv.Close()
	c := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	defer c.close()
	for _, script := range []string{
		"Get-ServiceTypo -Name winrm; 'after'",
		"Invoke-Expression 'Get-ServiceTypo -Name winrm'; 'after'",
		"Write-Output x -Bogus 1; 'after'",
	} {
		res := c.run(script)
		assert.Equal(t, psrp.PSInvocationCompleted, res.state, script)
		assert.Len(t, res.errors, 1, script)
		assert.Equal(t, []clixml.Value{clixml.String("after")}, res.output, script)
	}
}

// TestStatementFailureWritesAndGoesOn checks a pipeline of several
// statements where one fails: as PowerShell runs a batch of statements, the
// failure's record is written and the next statement runs; the pipeline
// completes. A failure under -ErrorAction Stop ends the pipeline.
func TestStatementFailureWritesAndGoesOn(t *testing.T) {
	res := commandsPipeline(t,
		[]psrp.Command{{Cmd: "Get-Nothing"}},
		[]psrp.Command{{Cmd: "Write-Output", Args: []psrp.CommandParameter{{Value: clixml.String("second")}}}})
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "Get-Nothing", res.errors[0].TargetName)
	assert.Equal(t, []clixml.Value{clixml.String("second")}, res.output)

	res = commandsPipeline(t,
		[]psrp.Command{{Cmd: "Write-Error", Args: []psrp.CommandParameter{{Name: "Message", Value: clixml.String("boom")},
			{Name: "ErrorAction", Value: clixml.String("Stop")}}}},
		[]psrp.Command{{Cmd: "Write-Output", Args: []psrp.CommandParameter{{Value: clixml.String("second")}}}})
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	assert.Empty(t, res.output)
	require.NotNil(t, res.reason)
	assert.Equal(t, "boom", res.reason.Message)
}
