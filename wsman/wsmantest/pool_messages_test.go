package wsmantest_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// go-psrp sends RUNSPACEPOOL_STATE Closed on the pool's stdin before it
// deletes the shell. Windows drops a runspace pool message it has no case
// for (ServerRunspacePoolDataStructureHandler.ProcessReceivedData in the
// PowerShell source) and the Send succeeds; the fake server once answered
// it with an InternalError fault. The pool stays usable.
func TestSendOfClientRunspacePoolStateIsDropped(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "dropped", 0)
	defer c.close()
	ctx := testCtx(t)

	id := uuid.MustParse(c.ref.ShellID)
	m, err := psrp.NewMessage(psrp.DestinationServer, psrp.MessageRunspacePoolState, id, uuid.Nil,
		&psrp.RunspacePoolStateInfo{State: psrp.RunspacePoolClosed})
	require.NoError(t, err)
	frag := psrp.Fragment{ObjectID: 1000, Start: true, End: true, Blob: psrp.AppendMessage(nil, m, false)}
	require.NoError(t, c.wc.Send(ctx, c.ref, wsman.Stream{Name: wsman.StreamStdin, Data: frag.AppendTo(nil)}))

	sh, ok := srv.Shell(c.ref.ShellID)
	require.True(t, ok)
	assert.Equal(t, "Connected", sh.State)
	res := c.run(`'still open'`)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("still open")}, res.output)
}
