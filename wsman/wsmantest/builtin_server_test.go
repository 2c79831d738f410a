package wsmantest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestBuiltinsOverPSRP runs scripts of the built-in subset through the
// whole server (WS-Management, PSRP, the psrp client state machine).
func TestBuiltinsOverPSRP(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("'registered'", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String("from the handler"))
	}))
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "builtins", 0)
	defer c.close()

	res := c.run(`Write-Output 'a'; Start-Sleep -Milliseconds 5; Write-Output 'b'`)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("a"), clixml.String("b")}, res.output)

	res = c.run("1..3 | Foreach-Object {\"Return $_\"; sleep -m 1}")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("Return 1"), clixml.String("Return 2"), clixml.String("Return 3")}, res.output)

	// The script of pypsrp's stream tests, as recorded against Windows.
	res = c.run("$DebugPreference = 'Continue'\n$VerbosePreference = 'Continue'\nWrite-Debug 'debug stream'\n" +
		"Write-Verbose 'verbose stream'\nWrite-Error 'error stream'\nWrite-Output 'output stream'\n" +
		"Write-Warning 'warning stream'\nWrite-Information 'information stream'\n")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("output stream")}, res.output)
	assert.Equal(t, []string{"debug stream"}, res.records[psrp.MessageDebugRecord])
	assert.Equal(t, []string{"verbose stream"}, res.records[psrp.MessageVerboseRecord])
	assert.Equal(t, []string{"warning stream"}, res.records[psrp.MessageWarningRecord])
	require.Len(t, res.errors, 1)
	assert.Equal(t, "error stream", res.errors[0].Message)
	assert.Equal(t, "Microsoft.PowerShell.Commands.WriteErrorException", res.errors[0].FullyQualifiedErrorID)
	require.Len(t, res.info, 1)
	assert.Equal(t, clixml.String("information stream"), res.info[0].MessageData)
	assert.Equal(t, "Write-Information", res.info[0].Source)

	// $ErrorActionPreference = 'Stop' (test_psrp_error_failed).
	res = c.run(`$ErrorActionPreference = 'Stop'; Write-Output before; Write-Error error; Write-Output after`)
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("before")}, res.output)
	require.NotNil(t, res.reason)
	assert.Equal(t, "error", res.reason.Message)
	assert.Empty(t, res.errors)

	// An unknown command is a non-terminating error naming the command.
	res = c.run(`Get-Nothing -Foo 1; 'after'`)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("after")}, res.output)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "CommandNotFoundException", res.errors[0].FullyQualifiedErrorID)
	assert.Contains(t, res.errors[0].Message, "'Get-Nothing' is not recognized")

	// A parse error fails the pipeline with a ParseException.
	res = c.run(`'unterminated`)
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	require.NotNil(t, res.reason)
	assert.Equal(t, "TerminatorExpectedAtEndOfString", res.reason.FullyQualifiedErrorID)

	res = c.run(`Write-Progress -Activity copying -Status half -PercentComplete 50; Get-Date`)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.progress, 1)
	assert.Equal(t, "copying", res.progress[0].Activity)
	assert.Equal(t, int32(50), res.progress[0].PercentComplete)
	require.Len(t, res.output, 1)
	d, ok := res.output[0].(*clixml.Object)
	require.True(t, ok, "%T", res.output[0])
	_, isDT := d.Inner.(clixml.DateTime)
	assert.True(t, isDT)

	// pypsrp's Client.execute_ps pipeline: Invoke-Expression -Command
	// <script> | Out-String -Stream, the switch sent with a null value.
	ctx := testCtx(t)
	id := uuid.New()
	pl, err := c.pool.NewPipeline(id, &psrp.CreatePipeline{NoInput: true, PowerShell: psrp.PowerShell{Cmds: []psrp.Command{
		{Cmd: "Invoke-Expression", Args: []psrp.CommandParameter{{Name: "Command", Value: clixml.String("Write-Output 'x'; 1..2 | % { \"n$_\" }")}}},
		{Cmd: "Out-String", Args: []psrp.CommandParameter{{Name: "Stream"}}},
	}}})
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	args, err := c.pool.NextPayload(pl.Target(), c.wc.MaxPayloadSize())
	require.NoError(t, err)
	cid, err := c.wc.Command(ctx, c.ref, &wsman.CommandLine{CommandID: strings.ToUpper(id.String()), Command: "Invoke-Expression",
		Arguments: wsman.PowerShellArguments(args)})
	require.NoError(t, err)
	c.flush(ctx, pl.Target(), cid)
	res = c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("x"), clixml.String("n1"), clixml.String("n2")}, res.output)

	// Client input: $input in a script, and the first command's input in
	// an AddCommand pipeline.
	pl = c.start(ctx, `$input | % { "in:$_" }`, true)
	require.NoError(t, pl.SendInput(clixml.String("a"), clixml.Int32(7)))
	require.NoError(t, pl.EndInput())
	c.flush(ctx, pl.Target(), upperID(pl))
	res = c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("in:a"), clixml.String("in:7")}, res.output)

	// The same with an operator outside the subset (pypsrp's
	// invoke(input=[1, 2, 3]) of "$input | ForEach-Object { $_ * 2 }"):
	// PowerShell would run it, so the answer is NotSupported, not
	// "The term 'ForEach-Object' is not recognized" as it once was.
	pl = c.start(ctx, `$input | ForEach-Object { $_ * 2 }`, true)
	require.NoError(t, pl.SendInput(clixml.Int32(1), clixml.Int32(2)))
	require.NoError(t, pl.EndInput())
	c.flush(ctx, pl.Target(), upperID(pl))
	res = c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	assert.Empty(t, res.output)
	assert.Empty(t, res.errors)
	require.NotNil(t, res.reason)
	assert.Equal(t, "NotSupportedByFakeServer", res.reason.FullyQualifiedErrorID)
	assert.NotContains(t, res.reason.Message, "is not recognized")

	res = c.run(`throw 'boom'`)
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	require.NotNil(t, res.reason)
	assert.Equal(t, "NotSupportedByFakeServer", res.reason.FullyQualifiedErrorID)

	id = uuid.New()
	pl, err = c.pool.NewPipeline(id, &psrp.CreatePipeline{PowerShell: psrp.PowerShell{Cmds: []psrp.Command{
		{Cmd: "ForEach-Object", Args: []psrp.CommandParameter{{Name: "Process", Value: clixml.ScriptBlock(`"cmd:$_"`)}}},
	}}})
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	args, err = c.pool.NextPayload(pl.Target(), c.wc.MaxPayloadSize())
	require.NoError(t, err)
	cid, err = c.wc.Command(ctx, c.ref, &wsman.CommandLine{CommandID: upperID(pl), Command: "ForEach-Object",
		Arguments: wsman.PowerShellArguments(args)})
	require.NoError(t, err)
	require.NoError(t, pl.SendInput(clixml.String("x"), clixml.String("y")))
	require.NoError(t, pl.EndInput())
	c.flush(ctx, pl.Target(), cid)
	res = c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("cmd:x"), clixml.String("cmd:y")}, res.output)

	// A registered handler wins over the built-ins.
	res = c.run(`'registered'`)
	assert.Equal(t, []clixml.Value{clixml.String("from the handler")}, res.output)
}

// sleepGate is a Clock whose 30-second timers (the script's "sleep 30")
// fire only when the test releases them; other timers (Receive long polls)
// run on the real clock.
type sleepGate struct {
	wsmantest.RealClock
	sleeps chan chan time.Time
}

type gateTimer struct{ ch chan time.Time }

func (g gateTimer) C() <-chan time.Time { return g.ch }
func (g gateTimer) Stop() bool          { return true }

func (g *sleepGate) NewTimer(d time.Duration) wsmantest.Timer {
	if d != 30*time.Second {
		return g.RealClock.NewTimer(d)
	}
	ch := make(chan time.Time, 1)
	g.sleeps <- ch
	return gateTimer{ch}
}

// TestBuiltinReferenceExample runs the Receive-PSSession reference's job
// script; each "sleep 30" waits on the server's clock, released by the test
// once per output, and a stop ends the loop while it sleeps.
func TestBuiltinReferenceExample(t *testing.T) {
	clk := &sleepGate{sleeps: make(chan chan time.Time, 1500)}
	srv := newPSServer(t, wsmantest.Options{Clock: clk})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	c := openPool(t, wc, "Test", 0)
	defer c.close()

	ctx := testCtx(t)
	pl := c.start(ctx, `1..1500 | Foreach-Object {"Return $_"; sleep 30}`, false)
	cid := strings.ToUpper(pl.ID().String())
	res := &result{records: map[psrp.MessageType][]string{}}
	for n := 1; n <= 3; n++ {
		c.collectUntil(ctx, pl, res, func(r *result) bool { return len(r.output) >= n })
		select {
		case sleep := <-clk.sleeps: // the script now sleeps after "Return n"
			if n < 3 {
				sleep <- time.Now()
			}
		case <-ctx.Done():
			t.Fatal("the script never slept")
		}
	}
	require.NoError(t, wc.Signal(ctx, c.ref, cid, wsman.SignalPowerShellStop))
	rest := c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationStopped, rest.state)
	assert.Equal(t, []clixml.Value{clixml.String("Return 1"), clixml.String("Return 2"), clixml.String("Return 3")},
		append(res.output, rest.output...))
}
