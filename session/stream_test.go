package session_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// Breaking out of All closes the stream: the command keeps running and a
// later Receive of the session returns the rest.
func TestStreamCloseLeavesTheRestOnTheServer(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	tab := &session.Table{}
	s := newSession(t, srv, "Partial", tab)
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"}, session.InvokeOptions{ResultBuffer: 1})
	require.NoError(t, err)
	g.release <- 1
	for r, err := range res.All() {
		require.NoError(t, err)
		assert.Equal(t, []string{"item 0"}, outputs([]session.Result{r}))
		break
	}
	// The command is free at once: Receive takes it over.
	rec, err := session.Receive(ctx, session.ByName("Partial"), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	g.release <- 2
	close(g.release)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(1, 3), outputs(rs), "nothing received from the server is lost")
}

// Hooks report session state changes and command ends.
func TestHooks(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	var mu sync.Mutex
	type change struct {
		st session.State
		av session.Availability
	}
	var states []change
	var ended []psrp.PSInvocationState
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{},
		Hooks: session.Hooks{
			StateChanged: func(s *session.Session, st session.State, av session.Availability, _ error) {
				_ = s.Availability() // hooks may call back into the session
				_ = s.Commands()
				mu.Lock()
				states = append(states, change{st, av})
				mu.Unlock()
			},
			CommandStateChanged: func(_ *session.RunningCommand, st psrp.PSInvocationState) {
				mu.Lock()
				ended = append(ended, st)
				mu.Unlock()
			},
		}})
	require.NoError(t, err)
	res, err := s.Invoke(ctx, session.Pipeline{Script: `"x"`})
	require.NoError(t, err)
	_, err = res.Collect(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	require.NoError(t, s.Connect(ctx))
	require.NoError(t, s.Close(ctx))
	mu.Lock()
	defer mu.Unlock()
	none, avail, busy := session.AvailabilityNone, session.AvailabilityAvailable, session.AvailabilityBusy
	assert.Equal(t, []change{{session.StateOpening, none}, {session.StateOpened, avail}, {session.StateOpened, busy},
		{session.StateOpened, avail}, {session.StateDisconnecting, none}, {session.StateDisconnected, none},
		{session.StateConnecting, none}, {session.StateOpened, avail}, {session.StateClosing, none},
		{session.StateClosed, none}}, states)
	assert.Equal(t, []psrp.PSInvocationState{psrp.PSInvocationCompleted}, ended)
}

// Refresh re-reads the server's view of the session and reports it to the
// ServerInfo hook (ShellInactivity, IdleTimeOut: how long until the server
// reaps a disconnected session).
func TestRefreshReportsServerInfo(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	var mu sync.Mutex
	var seen []string
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{},
		Hooks: session.Hooks{ServerInfo: func(_ *session.Session, sh *wsman.Shell) {
			mu.Lock()
			seen = append(seen, sh.State)
			mu.Unlock()
		}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: 5 * time.Minute}))
	require.NoError(t, s.Refresh(ctx))
	info := s.ServerInfo()
	require.NotNil(t, info)
	assert.Equal(t, "Disconnected", info.State)
	assert.Equal(t, 5*time.Minute, info.IdleTimeOut)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Connected", "Disconnected"}, seen, "Create's report, then Refresh's")
}
