package wsmantest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// waitHandler writes "started" and then waits for its context, reporting
// the cancellation on done.
func waitHandler(done chan<- error) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		_ = inv.WriteOutput(clixml.String("started")) // fails once cancelled
		<-ctx.Done()
		done <- ctx.Err()
		return ctx.Err()
	})
}

func waitCancelled(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatalf("the handler's context was not cancelled on %s", what)
	}
}

func TestHandlerContextCancelledOnDeleteAndTerminate(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	done := make(chan error, 1)
	srv.HandleScript("wait", waitHandler(done))
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)

	// Delete of the shell cancels its running commands.
	a := openPool(t, wc, "", 0)
	a.start(ctx, "wait", false)
	require.NoError(t, wc.Delete(ctx, a.ref))
	waitCancelled(t, "shell delete", done)
	_, ok := srv.Shell(a.ref.ShellID)
	assert.False(t, ok)

	// The terminate signal (what a client sends after a pipeline) cancels it
	// too.
	b := openPool(t, wc, "", 0)
	pl := b.start(ctx, "wait", false)
	waitFor(t, "the command to run", func() bool {
		st, _ := srv.Shell(b.ref.ShellID)
		return len(st.Commands) == 1 && st.Commands[0].Running
	})
	b.terminate(ctx, pl)
	waitCancelled(t, "terminate", done)
	b.close()

	// Close cancels the commands of every shell.
	c := openPool(t, wc, "", 0)
	c.start(ctx, "wait", false)
	waitFor(t, "the command to run", func() bool {
		st, _ := srv.Shell(c.ref.ShellID)
		return len(st.Commands) == 1 && st.Commands[0].Running
	})
	srv.Close()
	waitCancelled(t, "server close", done)
}

func TestDropConnectionsKeepsState(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := newPSServer(t, wsmantest.Options{Clock: clock, InactivityWindow: -1})
	g := &gate{release: make(chan int)}
	srv.HandleScript("numbers", g.handler())
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	a := openPool(t, wc, "", 0)
	pl := a.start(ctx, "numbers", false)
	cid := upperID(pl)

	// A Receive long poll is outstanding (waiting on the server clock) when
	// the network fails.
	created := clock.TimerCreated()
	recvErr := make(chan error, 1)
	go func() {
		_, err := wc.Receive(ctx, a.ref, &wsman.Receive{CommandID: cid})
		recvErr <- err
	}()
	<-created
	assert.Positive(t, srv.DropConnections())
	select {
	case err := <-recvErr:
		require.Error(t, err, "the long poll's connection was dropped")
	case <-time.After(10 * time.Second):
		t.Fatal("the outstanding Receive did not fail when its connection was dropped")
	}

	// Nothing was lost on the server: the command still runs and the client
	// collects all of its output on a new connection.
	st, ok := srv.Shell(a.ref.ShellID)
	require.True(t, ok)
	require.Len(t, st.Commands, 1)
	assert.True(t, st.Commands[0].Running)
	g.release <- 3
	close(g.release)
	wc.CloseIdleConnections()
	res := a.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	assert.Equal(t, items(0, 3), res.output)
}

func TestRefuseConnectionsForAWhile(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := newPSServer(t, wsmantest.Options{Clock: clock})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	a := openPool(t, wc, "", 0)
	before := len(srv.Requests())

	// New connections are reset (a new client has no kept-alive one).
	srv.RefuseConnections(30 * time.Second)
	wc = newWSManClient(t, srv, "alice", "alice-pw", wc.SessionID())
	_, err := wc.GetShell(ctx, a.ref.ShellID)
	require.Error(t, err, "new connections are refused")
	assert.Len(t, srv.Requests(), before, "a refused connection carries no request")
	clock.Advance(29 * time.Second)
	_, err = wc.GetShell(ctx, a.ref.ShellID)
	require.Error(t, err, "still refused before the period ends")

	clock.Advance(2 * time.Second)
	sh, err := wc.GetShell(ctx, a.ref.ShellID)
	require.NoError(t, err, "accepted again after the period")
	assert.Equal(t, "Connected", sh.State, "state kept")
}

func TestShellOfAnotherClientIsBusy(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	wcA := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	a := openPool(t, wcA, "", 0)

	// Another client session of the same user: shell operations are
	// refused with the busy fault while A holds the shell. (Delete is not
	// checked: Windows's behaviour there is not recorded.)
	wcB := newWSManClient(t, srv, "alice", "alice-pw", "")
	_, err := wcB.Receive(ctx, a.ref, &wsman.Receive{})
	assert.ErrorIs(t, err, wsman.ErrShellBusy)
	assert.ErrorIs(t, wcB.Disconnect(ctx, a.ref, &wsman.Disconnect{}), wsman.ErrShellBusy)
	assert.ErrorIs(t, wcB.Signal(ctx, a.ref, "", wsman.SignalTerminate), wsman.ErrShellBusy)
	st, _ := srv.Shell(a.ref.ShellID)
	assert.Equal(t, "Connected", st.State)
	assert.Equal(t, wcA.SessionID(), st.SessionID)

	// Another user does not even find it.
	wcBob := newWSManClient(t, srv, "bob", "bob-pw", "")
	_, err = wcBob.Receive(ctx, a.ref, &wsman.Receive{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, wsman.ErrShellBusy)

	// The holder is unaffected.
	res := a.run("'still mine'")
	assert.Equal(t, []clixml.Value{clixml.String("still mine")}, res.output)
	busy := 0
	for _, r := range srv.Requests() {
		if r.SessionID == wcB.SessionID() {
			assert.Equal(t, wsmantest.CodeShellConnectedToOtherClient, r.FaultCode, r.Action)
			busy++
		}
	}
	assert.Equal(t, 3, busy)
}
