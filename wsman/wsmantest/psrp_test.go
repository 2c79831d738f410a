package wsmantest_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func newPSServer(t *testing.T, opts wsmantest.Options) *wsmantest.Server {
	t.Helper()
	if opts.Users == nil {
		opts.Users = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}
	}
	// The tests log users in with Basic over plain HTTP (newWSManClient).
	opts.AllowUnencrypted = true
	srv := wsmantest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func TestPowerShellAllStreams(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("all streams", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		require.NoError(t, inv.WriteOutput(clixml.String("one"), clixml.Int32(2)))
		require.NoError(t, inv.WriteError(&wsmantest.ErrorRecord{Message: "bad thing", FullyQualifiedErrorID: "Bad,Thing"}))
		require.NoError(t, inv.WriteWarning("careful"))
		require.NoError(t, inv.WriteVerbose("chatty"))
		require.NoError(t, inv.WriteDebug("bug?"))
		require.NoError(t, inv.WriteInformation(&wsmantest.InformationRecord{MessageData: clixml.String("fyi"), Source: "test", Tags: []string{"t1"}}))
		require.NoError(t, inv.WriteProgress(&wsmantest.ProgressRecord{Activity: "working", ActivityID: 1, ParentActivityID: -1, PercentComplete: 50, SecondsRemaining: -1, StatusDescription: "half"}))
		return nil
	}))
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "s1", 0)
	defer c.close()
	res := c.run("all streams")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("one"), clixml.Int32(2)}, res.output)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "bad thing", res.errors[0].Message)
	assert.Equal(t, "Bad,Thing", res.errors[0].FullyQualifiedErrorID)
	assert.Equal(t, []string{"careful"}, res.records[psrp.MessageWarningRecord])
	assert.Equal(t, []string{"chatty"}, res.records[psrp.MessageVerboseRecord])
	assert.Equal(t, []string{"bug?"}, res.records[psrp.MessageDebugRecord])
	require.Len(t, res.info, 1)
	assert.Equal(t, clixml.String("fyi"), res.info[0].MessageData)
	assert.Equal(t, []string{"t1"}, res.info[0].Tags)
	require.Len(t, res.progress, 1)
	assert.Equal(t, "working", res.progress[0].Activity)
	assert.Equal(t, int32(50), res.progress[0].PercentComplete)
}

func TestPowerShellFailureAndNotFound(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{DisableBuiltins: true})
	srv.HandleScript("fail", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return &wsmantest.ErrorRecord{Message: "it failed", FullyQualifiedErrorID: "Failed"}
	}))
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "", 0)
	defer c.close()
	res := c.run("fail")
	assert.Equal(t, psrp.PSInvocationFailed, res.state)
	require.NotNil(t, res.reason)
	assert.Equal(t, "it failed", res.reason.Message)

	res = c.run("Get-Nothing -Foo")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "CommandNotFoundException", res.errors[0].FullyQualifiedErrorID)
	// PowerShell names the command, not the whole script.
	assert.Contains(t, res.errors[0].Message, "The term 'Get-Nothing' is not recognized")
	assert.Equal(t, "Get-Nothing", res.errors[0].TargetName)
	assert.Equal(t, "ObjectNotFound: (Get-Nothing:String) [], CommandNotFoundException", res.errors[0].CategoryMessage)

	res = c.run("$x = 1\nif ($x) { Invoke-Missing -Now }")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.errors, 1)
	assert.Equal(t, "Invoke-Missing", res.errors[0].TargetName)
}

func TestPowerShellInputAndHostCall(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("echo-input", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		for {
			v, err := inv.ReadInput()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := inv.WriteOutput(clixml.String(fmt.Sprintf("got %v", v))); err != nil {
				return err
			}
		}
	}))
	srv.HandleScript("ask", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		v, err := inv.HostCall(wsmantest.HostCall{MethodID: int32(psrp.HostReadLine), MethodName: "ReadLine"})
		if err != nil {
			return err
		}
		return inv.WriteOutput(v)
	}))
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "", 0)
	defer c.close()

	ctx := testCtx(t)
	pl := c.start(ctx, "echo-input", true)
	require.NoError(t, pl.SendInput(clixml.String("a"), clixml.Int32(7)))
	require.NoError(t, pl.EndInput())
	c.flush(ctx, pl.Target(), upperID(pl))
	res := c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("got a"), clixml.String("got 7")}, res.output)

	pl = c.start(ctx, "ask", false)
	res = c.collect(ctx, pl, func(hc *psrp.HostCall) *psrp.HostResponse {
		return &psrp.HostResponse{Pipeline: true, CallID: hc.CallID, MethodID: hc.MethodID, Return: clixml.String("typed answer")}
	})
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.Len(t, res.hostCall, 1)
	assert.Equal(t, psrp.HostReadLine, res.hostCall[0].MethodID)
	assert.Equal(t, []clixml.Value{clixml.String("typed answer")}, res.output)
}
