package wsmantest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// firstPoolMessages does one pool Receive and returns the types of the
// messages it carried, after giving them to the client's pool.
func firstPoolMessages(t *testing.T, c *psClient) []psrp.MessageType {
	t.Helper()
	rr, err := c.wc.Receive(testCtx(t), c.ref, &wsman.Receive{})
	require.NoError(t, err)
	require.False(t, rr.TimedOut, "the first pool Receive after a connect timed out")
	data := rr.StreamData(wsman.StreamStdout, "")
	msgs, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(data)
	require.NoError(t, err)
	var out []psrp.MessageType
	for _, m := range msgs {
		out = append(out, m.Type)
	}
	_, err = c.pool.ReceiveData(data)
	require.NoError(t, err)
	return out
}

// echoServer is a server without authentication whose "echo" script
// writes "hello".
func echoServer(t *testing.T) *wsmantest.Server {
	srv := newPSServer(t, wsmantest.Options{Users: map[string]string{}})
	srv.HandleScript("echo", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String("hello"))
	}))
	return srv
}

// TestConnectNewClientPoolWithoutPipelines is the flow independent clients
// failed: a new client connects to a disconnected pool that has no
// pipelines, and Windows answers its first pool Receive with
// RUNSPACEPOOL_STATE Opened (test_psrp_disconnect_runspaces.yml, exchanges
// 15 and 17); the client then runs a new pipeline.
func TestConnectNewClientPoolWithoutPipelines(t *testing.T) {
	srv := echoServer(t)
	a := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	a.disconnect(0, "")

	b, err := connectNew(t, newWSManClient(t, srv, "", "", ""), a.ref.ShellID)
	require.NoError(t, err)
	defer b.close()
	assert.Equal(t, []psrp.MessageType{psrp.MessageRunspacePoolState}, firstPoolMessages(t, b))
	require.Equal(t, psrp.RunspacePoolOpened, b.pool.State())

	res := b.run("echo")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("hello")}, res.output)
}

// TestConnectNewClientPoolWithDisconnectedPipeline: with a pipeline still
// running in the disconnected pool, the first pool Receive of the new client
// gets APPLICATION_PRIVATE_DATA (test_psrp_disconnected_commands.yml,
// exchanges 14 and 19); the client adopts the pipeline, receives the rest of
// its output, and runs a new pipeline.
func TestConnectNewClientPoolWithDisconnectedPipeline(t *testing.T) {
	srv := echoServer(t)
	g := &gate{release: make(chan int)}
	srv.HandleScript("numbers", g.handler())
	a := openPool(t, newWSManClient(t, srv, "", "", ""), "", 0)
	ctx := testCtx(t)
	pl := a.start(ctx, "numbers", false)
	cid := upperID(pl)
	a.disconnect(0, "")
	g.release <- 2

	b, err := connectNew(t, newWSManClient(t, srv, "", "", ""), a.ref.ShellID)
	require.NoError(t, err)
	defer b.close()
	assert.Equal(t, []psrp.MessageType{psrp.MessageApplicationPrivateData}, firstPoolMessages(t, b))
	require.Equal(t, psrp.RunspacePoolOpened, b.pool.State())

	adopted := b.adopt(cid)
	close(g.release)
	res := b.collect(ctx, adopted, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, items(0, 2), res.output)
	b.terminate(ctx, adopted)

	res = b.run("echo")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("hello")}, res.output)
}
