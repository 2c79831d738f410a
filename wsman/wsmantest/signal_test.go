package wsmantest_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

var reSignalCode = regexp.MustCompile(`<rsp:Code>([^<]*)</rsp:Code>`)

// TestStopSignalIsPowerShellsCodeExactly mirrors how Windows treats a
// Signal to a PowerShell command: only PowerShell's own stop code,
// "powershell/signal/crtl_c" (MS-PSRP 3.1.5.3.9), stops the pipeline and
// keeps the command; any other code, such as the "powershell/signal/ctrl_c"
// pypsrp sent in test_psrp_nested_command (exchange 6, answered with a
// SignalResponse), closes the command, so the next Receive for it gets
// fault 2150858843.
func TestStopSignalIsPowerShellsCodeExactly(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_nested_command")
	m := reSignalCode.FindStringSubmatch(rec.Messages[6].Request)
	require.NotNil(t, m, "exchange 6 is a Signal")
	recordedCode := m[1]
	require.Contains(t, rec.Messages[6].Response, "SignalResponse")

	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("wait", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		if err := inv.WriteOutput(clixml.String("started")); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}))
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	c := openPool(t, wc, "", 0)
	ctx := testCtx(t)

	// started runs "wait" and receives until its first output, so the
	// pipeline is running when the signal arrives.
	started := func() (*psrp.ClientPipeline, *result) {
		pl := c.start(ctx, "wait", false)
		res := &result{records: map[psrp.MessageType][]string{}}
		c.collectUntil(ctx, pl, res, func(r *result) bool { return len(r.output) == 1 })
		return pl, res
	}

	for _, code := range []string{wsman.SignalPowerShellStop, "http://schemas.microsoft.com/powershell/signal/crtl_c"} {
		pl, _ := started()
		require.NoError(t, wc.Signal(ctx, c.ref, upperID(pl), code), code)
		res := c.collect(ctx, pl, nil)
		assert.Equal(t, psrp.PSInvocationStopped, res.state, "%s stops the pipeline", code)
		cmds, err := wc.EnumerateCommands(ctx, c.ref.ShellID)
		require.NoError(t, err)
		require.Len(t, cmds, 1, "%s keeps the command until it is terminated", code)
		c.terminate(ctx, pl)
	}

	for _, code := range []string{recordedCode, "POWERSHELL/SIGNAL/CRTL_C", "x/powershell/signal/crtl_c", wsman.SignalCtrlC} {
		pl, _ := started()
		require.NoError(t, wc.Signal(ctx, c.ref, upperID(pl), code), "%s: a SignalResponse, as recorded", code)
		_, err := wc.Receive(ctx, c.ref, &wsman.Receive{CommandID: upperID(pl)})
		require.Error(t, err, "%s closes the command", code)
		assert.True(t, errors.Is(err, wsman.ErrShellNotFound), "%s: %v", code, err)
		var f *wsman.Fault
		require.True(t, errors.As(err, &f), "%T", err)
		assert.Equal(t, wsman.CodeUnexpectedSelectors, f.WSManCode(), code)
		cmds, err := wc.EnumerateCommands(ctx, c.ref.ShellID)
		require.NoError(t, err)
		assert.Empty(t, cmds, "%s: the command is gone", code)
	}
}
