package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A reattach token carries no credential and lets another "process" (new
// client, new table) receive every result.
func TestReattachToken(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	o := session.NewOptions{ConnectionOptions: conn(srv), Name: "Nightly", Table: &session.Table{}}
	o.Credential = session.Credential{Username: "someone", Password: "s3cret-pw"}
	o.Authentication = session.AuthBasic
	o.SessionOption.AllowUnencrypted = true // the server asks for no authentication; Basic is never challenged
	a, c, err := session.InvokeInDisconnectedSession(ctx, o, session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
	require.NoError(t, err)
	tok := a.Token()
	assert.Equal(t, []string{c.ID().String()}, lower(tok.CommandIDs))
	assert.Equal(t, "2.3", tok.ProtocolVersion)
	str := tok.String()
	assert.NotContains(t, str, "s3cret")
	require.NoError(t, a.Close(ctx))
	g.release <- 4
	close(g.release)

	parsed, err := session.ParseToken(str)
	require.NoError(t, err)
	assert.Equal(t, tok, parsed)
	tab := &session.Table{}
	b, err := session.FromToken(parsed, session.NewOptions{ConnectionOptions: conn(srv), Table: tab})
	require.NoError(t, err)
	assert.Equal(t, session.StateDisconnected, b.State())
	assert.Equal(t, "Nightly", b.Name())
	rec, err := session.Receive(ctx, session.ByInstanceID(a.InstanceID()), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 4), outputs(rs))
	require.NoError(t, b.Remove(ctx))

	_, err = session.ParseToken("!!")
	assert.ErrorIs(t, err, session.ErrInvalidOption)
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = toLower(s)
	}
	return out
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// Keep-alive: an idle open session keeps a Receive outstanding, so the
// server does not turn it Disconnected after its inactivity window, while
// a shell nobody polls does.
func TestKeepAlive(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	srv := newServer(t, wsmantest.Options{Clock: clock, InactivityWindow: 4 * time.Minute,
		MaxOperationTimeout: time.Hour})
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.OperationTimeout = 30 * time.Minute
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	wc, err := wsman.NewClient(srv.URL, wsman.Config{})
	require.NoError(t, err)
	t.Cleanup(wc.CloseIdleConnections)
	raw, err := wc.CreateCmd(ctx, wsman.CmdShell{})
	require.NoError(t, err)

	// Timers on the fake clock: at most one of the server's janitor, the
	// others Receive long polls: two or more means the keep-alive poll is
	// outstanding.
	waitFor(t, "the keep-alive poll", func() bool { return clock.Pending() >= 2 })
	for i := 0; i < 10; i++ {
		clock.Advance(time.Minute)
	}
	waitFor(t, "the unpolled shell to turn Disconnected", func() bool {
		st, _ := srv.Shell(raw.ShellID())
		return st.State == "Disconnected"
	})
	st, ok := srv.Shell(s.InstanceID().String())
	require.True(t, ok)
	assert.Equal(t, "Connected", st.State)
	assert.Equal(t, session.StateOpened, s.State())
	res, err := s.Invoke(ctx, session.Pipeline{Script: `"still here"`})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"still here"}, outputs(rs))
}

// Host calls: the default policy answers at once with an error (never a
// hang); a HostHandler answers with a value.
func TestHostCalls(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleFunc("Ask", func(ctx context.Context, inv *wsmantest.Invocation) error {
		v, err := inv.HostCall(wsmantest.HostCall{MethodID: int32(psrp.HostReadLine), MethodName: "ReadLine"})
		if err != nil {
			return inv.WriteOutput(clixml.String("error: " + err.Error()))
		}
		return inv.WriteOutput(v)
	})
	ctx := testCtx(t)
	s := newSession(t, srv, "", &session.Table{})
	res, err := s.Invoke(ctx, session.Pipeline{Command: "Ask"})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	out := outputs(rs)
	require.Len(t, out, 1)
	assert.Contains(t, out[0], "error:")

	s2, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{},
		Host: func(ctx context.Context, call *psrp.HostCall) (clixml.Value, error) {
			return clixml.String("typed answer"), nil
		}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close(context.Background()) })
	res, err = s2.Invoke(ctx, session.Pipeline{Command: "Ask"})
	require.NoError(t, err)
	rs, err = res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"typed answer"}, outputs(rs))
}

// A host call made while the session is disconnected waits on the server;
// the client that connects and receives answers it (no hang, nothing lost).
func TestHostCallBufferedWhileDisconnected(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleFunc("Ask", func(ctx context.Context, inv *wsmantest.Invocation) error {
		v, err := inv.HostCall(wsmantest.HostCall{MethodID: int32(psrp.HostReadLine), MethodName: "ReadLine"})
		if err != nil {
			return err
		}
		return inv.WriteOutput(v)
	})
	ctx := testCtx(t)
	a := newSession(t, srv, "Asker", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Command: "Ask"}, session.DisconnectOptions{})
	require.NoError(t, err)
	var calls []psrp.HostMethodID
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Asker"), session.ReceiveOptions{
		Table: &session.Table{},
		Host: func(ctx context.Context, call *psrp.HostCall) (clixml.Value, error) {
			calls = append(calls, call.MethodID)
			return clixml.String("answered later"), nil
		}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"answered later"}, outputs(rs))
	assert.Equal(t, []psrp.HostMethodID{psrp.HostReadLine}, calls)
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}
