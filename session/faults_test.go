package session_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// An HTTP error without a fault on a Receive (the server did not handle
// it) is retried: nothing is lost.
func TestReceiveHTTPErrorRetried(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(20, nil))
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.ReconnectInterval = 1
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", HTTPStatus: 503, Times: 3})
	defer remove()
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 20), outputs(rs))
	assert.Equal(t, session.StateOpened, s.State())
}

// A fault on a command's Receive ends that command's results with a typed
// error carrying the fault; the session stays usable.
func TestReceiveFaultEndsTheCommand(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	s := newSession(t, srv, "", &session.Table{})
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	cmd := s.Commands()[0]
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", CommandID: cmd.ID().String(), Fault: wsmantest.FaultAccessDenied()})
	defer remove()
	_, err = res.Collect(ctx)
	require.Error(t, err)
	var se *session.SessionError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "receive", se.Op)
	assert.ErrorIs(t, err, wsman.ErrAccessDenied)
	close(g.release)
	remove()

	res, err = s.Invoke(ctx, session.Pipeline{Script: `"still usable"`})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"still usable"}, outputs(rs))
}

// A New that fails after the shell was created removes it: no orphan.
func TestNewFailureLeavesNoShell(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	check := goroutineBaseline(t)
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", Fault: wsmantest.FaultAccessDenied(), Times: 1})
	defer remove()
	_, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{}})
	require.Error(t, err)
	assert.ErrorIs(t, err, wsman.ErrAccessDenied)
	assert.Empty(t, srv.Shells(), "the half-opened shell was deleted")
	check()
}

// A connect that fails after the server accepted it gives the session back
// (Disconnected on the server, free for a later Receive).
func TestConnectFailureGivesTheSessionBack(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(3, nil))
	ctx := testCtx(t)
	a := newSession(t, srv, "Flaky", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
	require.NoError(t, err)
	tab := &session.Table{}
	b, err := session.FromToken(a.Token(), session.NewOptions{ConnectionOptions: conn(srv), Table: tab})
	require.NoError(t, err)
	remove := srv.Inject(wsmantest.Injection{Action: "Enumerate", Fault: wsmantest.FaultAccessDenied(), Times: 1})
	_, err = session.Receive(ctx, session.BySession(b), session.ReceiveOptions{Table: tab})
	remove()
	require.Error(t, err)
	assert.ErrorIs(t, err, wsman.ErrAccessDenied)
	assert.Equal(t, session.StateDisconnected, b.State())
	st, _ := srv.Shell(a.InstanceID().String())
	assert.Equal(t, "Disconnected", st.State)

	rec, err := session.Receive(ctx, session.BySession(b), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 3), outputs(rs))
}

// A Disconnect answered "already disconnected" leaves the session
// Disconnected; the IdleTimeout asked for was not applied, and the error
// says so.
func TestDisconnectAlreadyDisconnected(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	tab := &session.Table{}
	s := newSession(t, srv, "Gone", tab)
	remove := srv.Inject(wsmantest.Injection{Action: "Disconnect", Fault: wsmantest.FaultInvalidState("Disconnect"), Times: 1})
	defer remove()
	err := s.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: 3 * time.Hour})
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrDisconnected)
	assert.Contains(t, err.Error(), "not changed")
	assert.Equal(t, session.StateDisconnected, s.State())
	_, err = session.Receive(ctx, session.ByName("Gone"), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	assert.Equal(t, session.StateOpened, s.State())
}

// A Receive response lost after the server sent it is retransmitted by the
// transport with the same OperationID (MS-WSMV robust connections): the
// server answers with the response it kept, so no output is lost and none
// is duplicated.
func TestLostReceiveResponseLosesNothing(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.ReconnectInterval = 5 * time.Millisecond
	var mu sync.Mutex
	var events []string
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{},
		Hooks: session.Hooks{Retry: func(_ *session.Session, ev wsman.RetryEvent) {
			mu.Lock()
			events = append(events, ev.Kind.String())
			mu.Unlock()
		}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	cmd := s.Commands()[0]
	remove := srv.Inject(wsmantest.Injection{Action: "Receive", CommandID: cmd.ID().String(), DropAfter: true, Times: 2})
	defer remove()
	g.release <- 3
	g.release <- 2
	close(g.release)
	rs, err := res.Collect(ctx)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("events %v outputs %v", events, outputs(rs))
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), outputs(rs))
	assert.Contains(t, events, "ConnectionRetrySucceeded")
}

// lossyTransport loses the response of the first command Receive after the
// server sent it, and hides that request's OperationID from the server, so
// that the retransmission is run as a new Receive: the output of the lost
// response is gone, as with a server that forgot the response.
type lossyTransport struct {
	base  http.RoundTripper
	armed atomic.Bool
}

var operationID = regexp.MustCompile(`<[A-Za-z]+:OperationID[^>]*>[^<]*</[A-Za-z]+:OperationID>`)

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	lose := bytes.Contains(body, []byte("/windows/shell/Receive<")) && bytes.Contains(body, []byte("CommandId=")) &&
		l.armed.CompareAndSwap(true, false)
	if lose {
		body = operationID.ReplaceAll(body, nil)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := l.base.RoundTrip(r)
	if err != nil || !lose {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by the test")}
}

// Output lost in transit is never silently missing: the results that
// arrived are delivered and the stream ends with a *psrp.GapError.
func TestLostOutputIsReported(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	lt := &lossyTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	co := conn(srv)
	co.SessionOption.Transport = lt
	co.SessionOption.ReconnectInterval = 5 * time.Millisecond
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	lt.armed.Store(true)
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	g.release <- 3 // taken by the server into the response that is lost
	waitFor(t, "the lost response", func() bool { return !lt.armed.Load() })
	g.release <- 2
	close(g.release)
	rs, err := res.Collect(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, psrp.ErrObjectIDGap)
	var gap *psrp.GapError
	require.ErrorAs(t, err, &gap)
	assert.Equal(t, items(3, 5), outputs(rs), "what arrived is delivered")
	assert.Equal(t, session.KindState, rs[len(rs)-1].Kind)
}
