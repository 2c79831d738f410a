package session_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// eventLog records the robust-connection events of a session.
type eventLog struct {
	mu  sync.Mutex
	evs []wsman.RetryEvent
}

func (l *eventLog) hook(_ *session.Session, ev wsman.RetryEvent) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) find(k wsman.RetryEventKind) (wsman.RetryEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.evs {
		if ev.Kind == k {
			return ev, true
		}
	}
	return wsman.RetryEvent{}, false
}

// When the Receives keep failing for the whole window but the server can
// be reached, the session is disconnected on the server
// (AutoDisconnectSucceeded with no error), the stream ends with a
// *ConnectionLostError (OnServer) that says how to receive the rest, the
// log has the events, and another client receives the rest at once.
func TestAutoDisconnectOnServer(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	rec := &recorder{}
	co := conn(srv)
	co.Logger = slog.New(rec)
	co.SessionOption.ReconnectInterval = 2 * time.Millisecond
	co.SessionOption.ReconnectTimeout = 50 * time.Millisecond
	var log eventLog
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Name: "Lost", Table: &session.Table{},
		Hooks: session.Hooks{Retry: log.hook}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	g.release <- 2
	var got []session.Result
	for len(outputs(got)) < 2 {
		got = append(got, <-res.C())
	}
	// Every Receive of this client is lost from now on; the rest of the
	// service answers.
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", SessionID: s.WSManSessionID(), DropBefore: true})
	g.release <- 3
	rest, err := res.Collect(ctx)
	remove()
	got = append(got, rest...)
	var lost *session.ConnectionLostError
	require.ErrorAs(t, err, &lost)
	assert.ErrorIs(t, err, session.ErrDisconnected)
	assert.True(t, lost.OnServer, "the server was reached: %v", lost)
	assert.Equal(t, "Lost", lost.Name)
	assert.Equal(t, s.InstanceID().String(), strings.ToLower(lost.InstanceID))
	assert.Equal(t, s.Token().ShellID, lost.Token.ShellID)
	assert.Contains(t, lost.Error(), `Name "Lost"`)
	assert.Equal(t, session.StateDisconnected, s.State())
	sh, ok := srv.Shell(s.Token().ShellID)
	require.True(t, ok)
	assert.Equal(t, "Disconnected", sh.State, "disconnected on the server")
	start, ok := log.find(wsman.AutoDisconnectStarting)
	require.True(t, ok, "AutoDisconnectStarting")
	assert.Error(t, start.Err)
	done, ok := log.find(wsman.AutoDisconnectSucceeded)
	require.True(t, ok, "AutoDisconnectSucceeded")
	assert.NoError(t, done.Err)
	_, ok = log.find(wsman.NetworkFailureDetected)
	assert.True(t, ok, "NetworkFailureDetected")
	assert.Positive(t, rec.count("session robust connection"), "the logger has the events")

	close(g.release)
	r, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Lost"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := r.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), outputs(append(got, rs...)))
	require.NoError(t, r.Sessions[0].Remove(ctx))
}

// When the window ends and the server no longer has the session, the
// session reports InternalErrorAbort and breaks; its results end with
// ErrExpired.
func TestAutoDisconnectInternalErrorAbort(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.ReconnectInterval = 2 * time.Millisecond
	co.SessionOption.ReconnectTimeout = 50 * time.Millisecond
	var log eventLog
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{},
		Hooks: session.Hooks{Retry: log.hook}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", SessionID: s.WSManSessionID(), DropBefore: true})
	defer remove()
	// The long polls outstanding fail too (else the Delete below would
	// answer them with a fault: the server is reached, the session Broken
	// at once, without an auto-disconnect).
	srv.DropConnections()
	// Meanwhile the shell goes away (removed by its owner from elsewhere).
	wc, err := wsman.NewClient(srv.URL, wsman.Config{})
	require.NoError(t, err)
	require.NoError(t, wc.Delete(ctx, wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: s.Token().ShellID}))
	_, err = res.Collect(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, session.ErrExpired) || errors.Is(err, session.ErrBroken), "%v", err)
	waitFor(t, "the session to break", func() bool { return s.State() == session.StateBroken })
	abort, ok := log.find(wsman.InternalErrorAbort)
	require.True(t, ok, "InternalErrorAbort")
	assert.ErrorIs(t, abort.Err, wsman.ErrShellNotFound)
	close(g.release)
}

// Cancelling the context of a Disconnect that waits for an unreachable
// server ends it at once with the context's error: no retry outlives it.
func TestRetryEndsWithTheContext(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.ReconnectInterval = 2 * time.Millisecond
	check := goroutineBaseline(t)
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{}})
	require.NoError(t, err)
	remove := srv.Inject(wsmantest.Injection{Action: "Disconnect", DropBefore: true})
	defer remove()
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = s.Disconnect(dctx, session.DisconnectOptions{}) // the window is 4 minutes
	require.ErrorIs(t, err, context.DeadlineExceeded)
	remove()
	require.NoError(t, s.Close(ctx))
	check()
}
