package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// ConnectionUri parameter sets: -AllowRedirection follows a redirect to
// the server holding the session; without it the redirect is an error.
func TestReceiveConnectionURIAllowRedirection(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(2, nil))
	ctx := testCtx(t)
	a := newSession(t, srv, "Moved", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
	require.NoError(t, err)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	c := session.ConnectionOptions{ConnectionURI: redirector.URL + "/wsman"}
	sel := session.OnComputerByName(c, "Moved")
	assert.Equal(t, "ConnectionUriSessionName", sel.ParameterSet())
	_, err = session.Receive(ctx, sel, session.ReceiveOptions{Table: &session.Table{}})
	require.Error(t, err, "a redirect is not followed without AllowRedirection")

	c.SessionOption.AllowRedirection = true
	_, err = session.Receive(ctx, session.OnComputerByName(c, "Moved"), session.ReceiveOptions{Table: &session.Table{}})
	require.Error(t, err, "credentials go to another host only when that is allowed too")

	c.SessionOption.AllowCrossHostRedirection = true
	rec, err := session.Receive(ctx, session.OnComputerByName(c, "Moved"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 2), outputs(rs))
}
