package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func TestNewInvokeClose(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	tab := &session.Table{}
	ctx := testCtx(t)
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Name: "ITTask", Table: tab})
	require.NoError(t, err)
	assert.Equal(t, session.StateOpened, s.State())
	assert.Equal(t, session.AvailabilityAvailable, s.Availability())
	assert.Equal(t, "ITTask", s.Name())
	assert.Equal(t, "Microsoft.PowerShell", s.ConfigurationName())
	assert.Positive(t, s.Id())
	assert.Equal(t, []*session.Session{s}, tab.List())
	st, ok := srv.Shell(s.InstanceID().String())
	require.True(t, ok)
	assert.Equal(t, "Connected", st.State)

	res, err := s.Invoke(ctx, session.Pipeline{Script: `1..3 | ForEach-Object { "Return $_" }`})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Return 1", "Return 2", "Return 3"}, outputs(rs))
	last := rs[len(rs)-1]
	assert.Equal(t, session.KindState, last.Kind)
	assert.Equal(t, psrp.PSInvocationCompleted, last.State)

	require.NoError(t, s.Close(ctx))
	assert.Equal(t, session.StateClosed, s.State())
	assert.Empty(t, tab.List())
	_, ok = srv.Shell(s.InstanceID().String())
	assert.False(t, ok, "Close removes an open session from the server")
}

func TestInvokeCommandWithParametersAndInput(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleFunc("Echo-Input", func(ctx context.Context, inv *wsmantest.Invocation) error {
		for {
			v, err := inv.ReadInput()
			if err != nil {
				return nil
			}
			if err := inv.WriteOutput(v); err != nil {
				return err
			}
		}
	})
	s := newSession(t, srv, "", &session.Table{})
	ctx := testCtx(t)
	res, err := s.Invoke(ctx, session.Pipeline{Command: "Echo-Input",
		Input: []clixml.Value{clixml.String("a"), clixml.String("b")}})
	require.NoError(t, err)
	var got []string
	for r, err := range res.All() {
		require.NoError(t, err)
		if r.Kind == session.KindOutput {
			got = append(got, string(r.Output.(clixml.String)))
		}
	}
	assert.Equal(t, []string{"a", "b"}, got)
}

func TestStreamsAreTyped(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleFunc("Mixed", func(ctx context.Context, inv *wsmantest.Invocation) error {
		_ = inv.WriteOutput(clixml.Int32(1))
		_ = inv.WriteWarning("careful")
		_ = inv.WriteVerbose("chatty")
		_ = inv.WriteDebug("bug")
		return errors.New("boom")
	})
	s := newSession(t, srv, "", &session.Table{})
	ctx := testCtx(t)
	res, err := s.Invoke(ctx, session.Pipeline{Command: "Mixed"})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	kinds := map[session.ResultKind]int{}
	for _, r := range rs {
		kinds[r.Kind]++
	}
	assert.Equal(t, 1, kinds[session.KindOutput])
	assert.Equal(t, 1, kinds[session.KindWarning])
	assert.Equal(t, 1, kinds[session.KindVerbose])
	assert.Equal(t, 1, kinds[session.KindDebug])
	last := rs[len(rs)-1]
	require.Equal(t, session.KindState, last.Kind)
	assert.Equal(t, psrp.PSInvocationFailed, last.State)
	require.NotNil(t, last.StateReason)
	assert.Contains(t, last.StateReason.Message, "boom")
}

func TestNoGoroutineLeftAfterClose(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	check := goroutineBaseline(t)
	ctx := testCtx(t)
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{}})
	require.NoError(t, err)
	_, err = s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	g.release <- 2 // the stream is never read: its pump blocks on it
	require.NoError(t, s.Close(ctx))
	close(g.release)
	check()
}

func TestUnsupportedAuthentication(t *testing.T) {
	for _, a := range []session.Authentication{session.AuthCredSSP, session.AuthDigest} {
		_, err := session.New(context.Background(), session.NewOptions{ConnectionOptions: session.ConnectionOptions{
			ComputerName: "server01", Authentication: a, Credential: session.Credential{Username: "u", Password: "p"}}})
		require.Error(t, err)
		assert.ErrorIs(t, err, session.ErrUnsupported)
		var ue *session.UnsupportedError
		assert.ErrorAs(t, err, &ue)
		assert.NotContains(t, err.Error(), "p\"")
	}
}
