package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
)

// TestRunPowerShellBuiltins is the demo a new user tries first: a
// PowerShell client authenticating with NTLM (WinRM message encryption over
// plain HTTP, as a default Windows server requires) runs a script of the
// built-in subset on the program, with no handler.
func TestRunPowerShellBuiltins(t *testing.T) {
	url, stop := startServer(t, "-user", "demo", "-auth", "ntlm")
	defer func() { require.NoError(t, stop()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wc, err := wsman.NewClient(url, wsman.Config{Auth: &auth.NTLM{Username: "demo", Password: "demo-pw"},
		OperationTimeout: 5 * time.Second})
	require.NoError(t, err)
	defer wc.CloseIdleConnections()

	// Open a runspace pool.
	poolID := uuid.New()
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: poolID})
	require.NoError(t, err)
	require.NoError(t, pool.Open())
	creation, err := pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize())
	require.NoError(t, err)
	resp, err := wc.CreatePowerShell(ctx, wsman.PowerShellShell{ShellID: strings.ToUpper(poolID.String()), CreationXML: creation})
	require.NoError(t, err)
	ref := wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: resp.ShellID()}
	defer func() { _ = wc.Delete(context.Background(), ref) }()
	for pool.State() != psrp.RunspacePoolOpened {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{})
		require.NoError(t, err)
		_, err = pool.ReceiveData(rr.StreamData(wsman.StreamStdout, ""))
		require.NoError(t, err)
	}

	// Run a script of the built-in subset, with an unknown command in it.
	script := `1..3 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 1 }; Get-Nothing`
	plID := uuid.New()
	pl, err := pool.NewPipeline(plID, &psrp.CreatePipeline{NoInput: true,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: script, IsScript: true}}}})
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	args, err := pool.NextPayload(pl.Target(), wc.MaxPayloadSize())
	require.NoError(t, err)
	cid, err := wc.Command(ctx, ref, &wsman.CommandLine{CommandID: strings.ToUpper(plID.String()), Command: script,
		Arguments: wsman.PowerShellArguments(args)})
	require.NoError(t, err)

	var output []clixml.Value
	var errs []*psrp.ErrorRecord
	var state psrp.PSInvocationState
	for done := false; !done; {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: cid})
		require.NoError(t, err)
		ev, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, cid))
		require.NoError(t, err)
		for _, e := range ev {
			switch e := e.(type) {
			case psrp.PipelineOutputReceived:
				v, err := clixml.Unmarshal(e.Message.Data)
				require.NoError(t, err)
				output = append(output, v)
			case psrp.ErrorRecordReceived:
				v, err := clixml.Unmarshal(e.Message.Data)
				require.NoError(t, err)
				r, err := psrp.DecodeErrorRecord(v)
				require.NoError(t, err)
				errs = append(errs, r)
			case psrp.PipelineStateChanged:
				state = e.New
			}
		}
		done = rr.CommandState.Done()
	}
	assert.Equal(t, []clixml.Value{clixml.String("Return 1"), clixml.String("Return 2"), clixml.String("Return 3")}, output)
	assert.Equal(t, psrp.PSInvocationCompleted, state)
	require.Len(t, errs, 1)
	assert.Equal(t, "CommandNotFoundException", errs[0].FullyQualifiedErrorID)
	assert.Contains(t, errs[0].Message, "'Get-Nothing'")
}
