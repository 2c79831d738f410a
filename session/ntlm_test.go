package session_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// The lifecycle over NTLM with message encryption on plain HTTP (what a
// default Windows server requires): the session's long polls share the
// NTLM transport's pooled connections with its other requests.
func TestLifecycleOverNTLM(t *testing.T) {
	srv := newServer(t, wsmantest.Options{Users: map[string]string{"alice": "alice-pw"}})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	co := conn(srv)
	co.Authentication = session.AuthNTLM
	co.Credential = session.Credential{Username: "alice", Password: "alice-pw"}
	a, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Name: "Sealed", Table: &session.Table{},
		MaxRunspaces: 8})
	require.NoError(t, err)
	var streams []*session.Stream
	for i := 0; i < 8; i++ { // more commands than long-poll slots
		st, err := a.Invoke(ctx, session.Pipeline{Script: "numbers"})
		require.NoError(t, err)
		streams = append(streams, st)
	}
	g.release <- 2
	require.NoError(t, a.Disconnect(ctx, session.DisconnectOptions{}))
	before := 0
	for _, st := range streams {
		rs, err := st.Collect(ctx)
		assert.ErrorIs(t, err, session.ErrDisconnected)
		before += len(outputs(rs))
	}
	require.NoError(t, a.Close(ctx))
	close(g.release)

	// Another user cannot see it; the owner from a new client receives it.
	other := co
	other.Credential = session.Credential{Username: "mallory", Password: "x"}
	_, err = session.Receive(ctx, session.OnComputerByName(other, "Sealed"), session.ReceiveOptions{Table: &session.Table{}})
	require.Error(t, err)
	rec, err := session.Receive(ctx, session.OnComputerByName(co, "Sealed"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	done := 0
	for _, r := range rs {
		if r.Kind == session.KindState {
			done++
		}
	}
	assert.Equal(t, 8, done, "every command ends and is received")
	assert.Equal(t, 2, before+len(outputs(rs)), "each output once, before or after the disconnect")
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}
