package wsmantest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// gate is a handler that writes numbered outputs, pausing until the test
// releases each batch.
type gate struct {
	release chan int // number of outputs to write next
}

func (g *gate) handler() wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		n := 0
		for {
			select {
			case k, ok := <-g.release:
				if !ok {
					return nil
				}
				for i := 0; i < k; i++ {
					if err := inv.WriteOutput(clixml.String(fmt.Sprintf("item %d", n))); err != nil {
						return err
					}
					n++
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// flood is a handler that writes items(0, total) one output at a time,
// once start is closed (nil: at once).
func flood(total int, start <-chan struct{}) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		if start != nil {
			<-start
		}
		for i := 0; i < total; i++ {
			if err := inv.WriteOutput(clixml.String(fmt.Sprintf("item %d", i))); err != nil {
				return err
			}
		}
		return nil
	})
}

func items(from, to int) []clixml.Value {
	var out []clixml.Value
	for i := from; i < to; i++ {
		out = append(out, clixml.String(fmt.Sprintf("item %d", i)))
	}
	return out
}

// waitFor polls cond (bounded) for a state the server reaches on its own
// goroutines.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDisconnectConnectFromNewClient(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	g := &gate{release: make(chan int)}
	srv.HandleScript("numbers", g.handler())

	wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wcA, "job1", 0)
	ctx := testCtx(t)
	pl := a.start(ctx, "numbers", false)
	cid := upperID(pl)

	// Some output is received while connected.
	g.release <- 3
	waitFor(t, "3 items buffered", func() bool {
		st, _ := srv.Shell(a.ref.ShellID)
		return len(st.Commands) == 1 && st.Commands[0].Buffered > 0
	})
	rr, err := wcA.Receive(ctx, a.ref, &wsman.Receive{CommandID: cid})
	require.NoError(t, err)
	_, err = a.pool.ReceiveData(rr.StreamData("stdout", cid))
	require.NoError(t, err)

	// Disconnect; the command keeps running and its output is buffered.
	a.disconnect(0, "")
	g.release <- 4
	st, ok := srv.Shell(a.ref.ShellID)
	require.True(t, ok)
	assert.Equal(t, "Disconnected", st.State)

	// Operations other than Reconnect/Connect are refused while disconnected.
	_, err = wcA.Receive(ctx, a.ref, &wsman.Receive{CommandID: cid})
	require.Error(t, err)

	// A new client (other SessionId) of the same user finds the shell.
	wcB := newWSManClient(t, srv, "alice", "alice-pw", "")
	require.NotEqual(t, wcA.SessionID(), wcB.SessionID())
	shells, err := wcB.EnumerateShells(ctx)
	require.NoError(t, err)
	require.Len(t, shells, 1)
	assert.Equal(t, a.ref.ShellID, shells[0].ShellID)
	assert.Equal(t, "Disconnected", shells[0].State)
	assert.Equal(t, "job1", shells[0].Name)
	assert.Equal(t, 2*time.Hour, shells[0].IdleTimeOut)
	assert.Equal(t, "Block", shells[0].BufferMode)
	cmds, err := wcB.EnumerateCommands(ctx, a.ref.ShellID)
	require.NoError(t, err)
	require.Len(t, cmds, 1)
	assert.Equal(t, cid, cmds[0].CommandID)
	assert.Equal(t, "Running", cmds[0].CommandState)
	assert.Equal(t, "numbers", cmds[0].CommandLine)

	// Another user sees nothing.
	wcBob := newWSManClient(t, srv, "bob", "bob-pw", "")
	bobShells, err := wcBob.EnumerateShells(ctx)
	require.NoError(t, err)
	assert.Empty(t, bobShells)

	b, err := connectNew(t, wcB, a.ref.ShellID)
	require.NoError(t, err)
	// The first pool message after connect is APPLICATION_PRIVATE_DATA.
	ev := b.receivePool(ctx)
	require.NotEmpty(t, ev)
	_, isAPD := ev[0].(psrp.ApplicationPrivateDataReceived)
	assert.True(t, isAPD, "first pool event after connect: %T", ev[0])

	// The shell is now busy for everyone else, including the old client.
	_, err = connectNew(t, newWSManClient(t, srv, "alice", "alice-pw", ""), a.ref.ShellID)
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellBusy), "connect to a busy shell: %v", err)
	err = wcA.Reconnect(ctx, a.ref, "")
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellBusy), "reconnect to a shell taken by another client: %v", err)

	bpl := b.adopt(cid)
	g.release <- 2
	close(g.release)
	res := b.collect(ctx, bpl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	// Items 0..2 went to client A; B gets the buffered and later ones, in
	// order, each exactly once.
	assert.Equal(t, items(3, 9), res.output)
	b.terminate(ctx, bpl)
	b.close()
	_, ok = srv.Shell(a.ref.ShellID)
	assert.False(t, ok)
}

func TestReconnectSameClient(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	g := &gate{release: make(chan int)}
	srv.HandleScript("numbers", g.handler())
	wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wcA, "", 0)
	ctx := testCtx(t)
	pl := a.start(ctx, "numbers", false)
	a.disconnect(5*time.Minute, "")
	st, _ := srv.Shell(a.ref.ShellID)
	assert.Equal(t, "Disconnected", st.State)
	g.release <- 5

	// Reconnect from another client session is refused ...
	other := newWSManClient(t, srv, "alice", "alice-pw", "")
	err := other.Reconnect(ctx, a.ref, "")
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrSessionIDMismatch), "reconnect from another session: %v", err)
	// ... but works from the same one, even from a new process that knows
	// the SessionId.
	wcA2 := newWSManClient(t, srv, "alice", "alice-pw", wcA.SessionID())
	a.wc = wcA2
	require.NoError(t, a.reconnect())
	require.NoError(t, wcA2.Reconnect(ctx, a.ref, upperID(pl)))
	close(g.release)
	res := a.collect(ctx, pl, nil)
	assert.Equal(t, items(0, 5), res.output)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	// Reconnect while connected to the same client is ignored.
	require.NoError(t, wcA2.Reconnect(ctx, a.ref, ""))
	a.close()
}

func TestBufferModeBlockSuspendsAndResumes(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{OutputBufferSize: 4096})
	const total = 200
	srv.HandleScript("flood", flood(total, nil))
	wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wcA, "", 0)
	ctx := testCtx(t)
	pl := a.start(ctx, "flood", false)
	a.disconnect(0, "Block")
	waitFor(t, "the pipeline to block on its full buffer", func() bool {
		st, _ := srv.Shell(a.ref.ShellID)
		return len(st.Commands) == 1 && st.Commands[0].Blocked
	})
	st, _ := srv.Shell(a.ref.ShellID)
	assert.True(t, st.Commands[0].Running)
	assert.LessOrEqual(t, st.Commands[0].Buffered, 4096+200)
	assert.Zero(t, st.Commands[0].Dropped)

	b, err := connectNew(t, newWSManClient(t, srv, "alice", "alice-pw", ""), a.ref.ShellID)
	require.NoError(t, err)
	bpl := b.adopt(upperID(pl))
	res := b.collect(ctx, bpl, nil)
	assert.Equal(t, items(0, total), res.output, "Block loses nothing")
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
}

func TestBufferModeDropDiscardsOldest(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{OutputBufferSize: 4096})
	const total = 200
	started := make(chan struct{})
	srv.HandleScript("flood", flood(total, started))
	wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wcA, "", 0)
	ctx := testCtx(t)
	pl := a.start(ctx, "flood", false)
	a.disconnect(0, "Drop")
	close(started)
	waitFor(t, "the pipeline to finish", func() bool {
		st, _ := srv.Shell(a.ref.ShellID)
		return len(st.Commands) == 1 && !st.Commands[0].Running
	})
	st, _ := srv.Shell(a.ref.ShellID)
	assert.Equal(t, "Drop", st.BufferMode)
	assert.Positive(t, st.Commands[0].Dropped)

	b, err := connectNew(t, newWSManClient(t, srv, "alice", "alice-pw", ""), a.ref.ShellID)
	require.NoError(t, err)
	bpl := b.adopt(upperID(pl))
	res := b.collect(ctx, bpl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	require.NotEmpty(t, res.output)
	assert.Less(t, len(res.output), total)
	// What is left is the newest output, in order.
	assert.Equal(t, items(total-len(res.output), total), res.output)
	assert.Equal(t, total-len(res.output), st.Commands[0].Dropped)
}
