package wsmantest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func TestIdleTimeoutExpiryRemovesShell(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := newPSServer(t, wsmantest.Options{Clock: clock, InactivityWindow: -1})
	stopped := make(chan struct{})
	srv.HandleScript("forever", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		<-ctx.Done()
		close(stopped)
		return ctx.Err()
	}))
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wc, "", 90*time.Second)
	ctx := testCtx(t)
	a.start(ctx, "forever", false)
	a.disconnect(0, "")

	clock.Advance(89 * time.Second)
	sh, err := wc.GetShell(ctx, a.ref.ShellID)
	require.NoError(t, err)
	assert.Equal(t, "Disconnected", sh.State)
	assert.Equal(t, 90*time.Second, sh.IdleTimeOut)
	assert.Equal(t, 89*time.Second, sh.ShellInactivity)

	clock.Advance(2 * time.Second)
	_, err = wc.GetShell(ctx, a.ref.ShellID)
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellNotFound), "%v", err)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler of an expired shell was not cancelled")
	}
}

func TestIdleTimeoutClamped(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{MaxIdleTimeout: 10 * time.Minute})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	a := openPool(t, wc, "", 10*time.Second) // below the 60 s minimum
	sh, err := wc.GetShell(ctx, a.ref.ShellID)
	require.NoError(t, err)
	assert.Equal(t, 60*time.Second, sh.IdleTimeOut)
	assert.Equal(t, 10*time.Minute, sh.MaxIdleTimeOut)
	b := openPool(t, wc, "", 3*time.Hour) // above MaxIdleTimeout
	sh, err = wc.GetShell(ctx, b.ref.ShellID)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, sh.IdleTimeOut)
	// Disconnect can change it, clamped the same way.
	b.disconnect(5*time.Hour, "")
	sh, err = wc.GetShell(ctx, b.ref.ShellID)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, sh.IdleTimeOut)
	c := openPool(t, wc, "", 0) // the default
	sh, err = wc.GetShell(ctx, c.ref.ShellID)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, sh.IdleTimeOut, "default 2 h clamped to MaxIdleTimeout")
}

func TestInactivityWindowDisconnectsIdleShell(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := newPSServer(t, wsmantest.Options{Clock: clock, InactivityWindow: 30 * time.Second})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	idle := openPool(t, wc, "", 0)
	busy := openPool(t, wc, "", 0)

	// Keep a Receive outstanding on one shell (as a live client does).
	recvCtx, cancelRecv := context.WithCancel(ctx)
	defer cancelRecv()
	created := clock.TimerCreated()
	done := make(chan error, 1)
	go func() {
		_, err := wc.Receive(recvCtx, busy.ref, &wsman.Receive{})
		done <- err
	}()
	<-created // the Receive is waiting on the server clock
	waitFor(t, "the Receive to be outstanding", func() bool { return clock.Pending() >= 2 })

	clock.Advance(31 * time.Second)
	st, _ := srv.Shell(idle.ref.ShellID)
	assert.Equal(t, "Disconnected", st.State, "no Receive for 31 s: Disconnected")
	st, _ = srv.Shell(busy.ref.ShellID)
	assert.Equal(t, "Connected", st.State, "outstanding Receive keeps it Connected")

	// The same client can reconnect to the auto-disconnected shell.
	require.NoError(t, wc.Reconnect(ctx, idle.ref, ""))
	st, _ = srv.Shell(idle.ref.ShellID)
	assert.Equal(t, "Connected", st.State)
	cancelRecv()
	<-done
}

func TestReceiveTimesOutAfterOperationTimeout(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := newPSServer(t, wsmantest.Options{Clock: clock, InactivityWindow: -1})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	a := openPool(t, wc, "", 0)
	ctx := testCtx(t)
	created := clock.TimerCreated()
	type out struct {
		rr  *wsman.ReceiveResponse
		err error
	}
	done := make(chan out, 1)
	go func() {
		rr, err := wc.Receive(ctx, a.ref, &wsman.Receive{})
		done <- out{rr, err}
	}()
	<-created
	waitFor(t, "the Receive to wait", func() bool { return clock.Pending() >= 1 })
	clock.Advance(wc.OperationTimeout())
	r := <-done
	require.NoError(t, r.err)
	assert.True(t, r.rr.TimedOut, "w:TimedOut fault after OperationTimeout")
	found := false
	for _, rec := range srv.Requests() {
		if rec.Action == "Receive" && rec.FaultCode == wsmantest.CodeOperationTimedOut {
			found = true
			assert.Equal(t, 500, rec.Status)
		}
	}
	assert.True(t, found)
}

func TestManualClockTimers(t *testing.T) {
	c := wsmantest.NewManualClock(time.Time{})
	start := c.Now()
	t1 := c.NewTimer(10 * time.Second)
	t2 := c.NewTimer(5 * time.Second)
	assert.Equal(t, 2, c.Pending())
	c.Advance(6 * time.Second)
	select {
	case at := <-t2.C():
		assert.Equal(t, start.Add(6*time.Second), at)
	default:
		t.Fatal("t2 did not fire")
	}
	select {
	case <-t1.C():
		t.Fatal("t1 fired early")
	default:
	}
	assert.True(t, t1.Stop())
	assert.False(t, t1.Stop())
	assert.Equal(t, 0, c.Pending())
	t3 := c.NewTimer(0)
	<-t3.C()
}
