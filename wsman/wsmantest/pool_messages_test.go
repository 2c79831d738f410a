package wsmantest_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A client's RUNSPACEPOOL_STATE Closed addressed to the server (go-psrp
// sends one before it deletes the shell, though addressed to the client,
// which Windows refuses with RemotingDestinationNotForMe). Windows drops a
// runspace pool message it has no case for
// (ServerRunspacePoolDataStructureHandler.ProcessReceivedData in the
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

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The debug log (fakeserver -v) says why a request got a fault, so that the
// user of an independent client sees what the server refused: here go-psrp's
// RUNSPACEPOOL_STATE addressed to the client.
func TestDebugLogGivesFaultReason(t *testing.T) {
	var log syncBuffer
	srv := newPSServer(t, wsmantest.Options{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := openPool(t, newWSManClient(t, srv, "alice", "alice-pw", ""), "logged", 0)
	defer c.close()
	m, err := psrp.NewMessage(psrp.DestinationClient, psrp.MessageRunspacePoolState, uuid.MustParse(c.ref.ShellID), uuid.Nil,
		&psrp.RunspacePoolStateInfo{State: psrp.RunspacePoolClosed})
	require.NoError(t, err)
	frag := psrp.Fragment{ObjectID: 1000, Start: true, End: true, Blob: psrp.AppendMessage(nil, m, false)}
	err = c.wc.Send(testCtx(t), c.ref, wsman.Stream{Name: wsman.StreamStdin, Data: frag.AppendTo(nil)})
	require.Error(t, err)
	assert.Contains(t, log.String(), `msg="wsmantest: fault" action=Send`)
	assert.Contains(t, log.String(), "message addressed to Client")
}
