package wsman

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
)

// flakyServer answers requests by a plan: for request n, reset[n] resets
// the connection after reading the request (the request reached the
// server, the response is lost). echo makes it echo the OperationID, as a
// server with robust connections does.
type flakyServer struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []*Envelope
	reset func(n int) bool
	echo  bool
}

func newFlakyServer(t *testing.T, echo bool, reset func(n int) bool) *flakyServer {
	t.Helper()
	fs := &flakyServer{reset: reset, echo: echo}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fs.mu.Lock()
		n := len(fs.reqs)
		fs.reqs = append(fs.reqs, req)
		reset := fs.reset
		fs.mu.Unlock()
		if reset(n) {
			resetConn(w)
			return
		}
		var resp *Envelope
		switch req.Header.Action {
		case ActionReceive:
			resp = NewResponse(req, (&ReceiveResponse{}).Element())
		case ActionCommand:
			resp = NewResponse(req, CommandResponseElement("5C8C3D9B-1B0E-4E4A-9E39-7E6C0E3C1A11"))
		default:
			resp = NewResponse(req)
		}
		if fs.echo {
			resp.Header.OperationID, resp.Header.SequenceID = req.Header.OperationID, req.Header.SequenceID
		}
		w.Header().Set("Content-Type", auth.SOAPContentType)
		_, _ = w.Write(resp.Marshal())
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *flakyServer) requests() []*Envelope {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]*Envelope(nil), fs.reqs...)
}

func resetConn(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// refusedURL returns a loopback URL nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/wsman"
}

func retryCfg(events *[]RetryEvent, mu *sync.Mutex) Config {
	return Config{Retry: RetryPolicy{Window: 30 * time.Second, Interval: time.Millisecond, OnEvent: func(ev RetryEvent) {
		mu.Lock()
		*events = append(*events, ev)
		mu.Unlock()
	}}}
}

func kinds(evs []RetryEvent) []RetryEventKind {
	var k []RetryEventKind
	for _, e := range evs {
		k = append(k, e.Kind)
	}
	return k
}

func TestClassifyNetworkErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("refused: not sent, safe to retry", func(t *testing.T) {
		c := newTestClient(t, refusedURL(t), Config{})
		_, err := c.Receive(ctx, testRef, &Receive{})
		require.Error(t, err)
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, "Receive", ne.Action)
		assert.False(t, ne.MaybeSent)
		assert.True(t, IsNetworkError(err))
		assert.True(t, SafeToRetry(err), "a request that never left can be sent again")
		var opErr *net.OpError
		assert.ErrorAs(t, err, &opErr, "the cause is kept")
	})

	t.Run("reset after the request: maybe sent", func(t *testing.T) {
		fs := newFlakyServer(t, false, func(int) bool { return true })
		c := newTestClient(t, fs.URL, Config{})
		_, err := c.Receive(ctx, testRef, &Receive{})
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.MaybeSent)
		assert.False(t, SafeToRetry(err), "a Receive whose response was lost is not repeated blindly")
		err = c.Delete(ctx, testRef)
		require.ErrorAs(t, err, &ne)
		assert.True(t, SafeToRetry(err), "Delete is idempotent")
	})

	t.Run("HTTP deadline (not the caller's) is a network timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		c := newTestClient(t, srv.URL, Config{HTTPTimeout: 50 * time.Millisecond})
		_, err := c.Receive(ctx, testRef, &Receive{})
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.MaybeSent)
	})

	t.Run("the caller's context is not a network error", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		c := newTestClient(t, refusedURL(t), Config{})
		_, err := c.Receive(cctx, testRef, &Receive{})
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, IsNetworkError(err))
		assert.False(t, SafeToRetry(err))
	})

	answers := []struct {
		name    string
		status  int
		fault   bool
		network bool
	}{
		{"fault", 500, true, false},
		{"HTTP 500", 500, false, false},
		{"HTTP 401", 401, false, false},
		{"HTTP 502 from a gateway", 502, false, true},
		{"HTTP 504 from a gateway", 504, false, true},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if a.fault {
					req, _ := ParseEnvelope(body)
					w.WriteHeader(a.status)
					_, _ = w.Write(NewFaultResponse(req, &Fault{Code: "s:Receiver", Subcode: "w:InternalError", Reason: "x"}).Marshal())
					return
				}
				w.WriteHeader(a.status)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, Config{})
			_, err := c.Receive(ctx, testRef, &Receive{})
			require.Error(t, err)
			assert.Equal(t, a.network, IsNetworkError(err), "%v", err)
			assert.False(t, SafeToRetry(err), "%v", err)
		})
	}

	t.Run("unknown certificate authority", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		c := newTestClient(t, srv.URL, Config{})
		_, err := c.Receive(ctx, testRef, &Receive{})
		require.Error(t, err)
		assert.False(t, IsNetworkError(err), "%v", err)
	})
}

// receiveHandler answers every request with an empty ReceiveResponse.
func receiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := ParseEnvelope(body)
		_, _ = w.Write(NewResponse(req, (&ReceiveResponse{}).Element()).Marshal())
	})
}

// A request that never reached a server this Client has reached before
// (refused) is retried whatever its action, until the server is back.
func TestRetryRefusedUntilListening(t *testing.T) {
	first := httptest.NewServer(receiveHandler())
	addr := first.Listener.Addr().String()
	var mu sync.Mutex
	var evs []RetryEvent
	cfg := retryCfg(&evs, &mu)
	started := make(chan struct{})
	var once sync.Once
	var srv *httptest.Server
	cfg.Retry.OnEvent = func(ev RetryEvent) {
		mu.Lock()
		evs = append(evs, ev)
		n := len(evs)
		mu.Unlock()
		if n == 3 { // the server comes back after two refused retransmissions
			once.Do(func() {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					panic(err)
				}
				srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: receiveHandler()}}
				srv.Start()
				close(started)
			})
		}
	}
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c := newTestClient(t, "http://"+addr+"/wsman", cfg)
	_, err := c.Receive(context.Background(), testRef, &Receive{})
	require.NoError(t, err, "the first exchange reaches the server")
	c.CloseIdleConnections()
	first.Close() // the server goes away: its port now refuses
	_, err = c.Receive(context.Background(), testRef, &Receive{})
	require.NoError(t, err)
	<-started
	t.Cleanup(srv.Close)
	mu.Lock()
	defer mu.Unlock()
	k := kinds(evs)
	require.GreaterOrEqual(t, len(k), 4)
	assert.Equal(t, NetworkFailureDetected, k[0])
	assert.Equal(t, ConnectionRetryAttempt, k[1])
	assert.Equal(t, ConnectionRetrySucceeded, k[len(k)-1])
	assert.Equal(t, "Receive", evs[0].Action)
	assert.Contains(t, logs.String(), "event=NetworkFailureDetected")
	assert.Contains(t, logs.String(), "event=ConnectionRetrySucceeded")
}

// A Client that has never reached its server does not retry a request
// that certainly did not reach it: a host that refuses connections fails
// the first call at once, as New-PSSession does, instead of after the
// window.
func TestRetryNotBeforeFirstContact(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var mu sync.Mutex
	var evs []RetryEvent
	cfg := retryCfg(&evs, &mu)
	cfg.Retry.Window = time.Hour // a retry would make the test hang: it must not start
	c := newTestClient(t, "http://"+addr+"/wsman", cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard only
	defer cancel()
	_, err = c.Receive(ctx, testRef, &Receive{})
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.False(t, ne.MaybeSent)
	assert.Zero(t, ne.Attempts)
	assert.NoError(t, ctx.Err(), "failed at once, not at the hang guard")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, evs, "no retry events")
}

// On a server that echoes OperationIDs, a lost response is retransmitted:
// same MessageID, OperationID and SequenceId, marked as a retransmission.
func TestRetransmissionHeaders(t *testing.T) {
	fs := newFlakyServer(t, true, func(n int) bool { return n == 1 || n == 2 })
	var mu sync.Mutex
	var evs []RetryEvent
	c := newTestClient(t, fs.URL, retryCfg(&evs, &mu))
	ctx := context.Background()
	_, err := c.Receive(ctx, testRef, &Receive{}) // learns that the server supports it
	require.NoError(t, err)
	assert.True(t, c.RobustConnections(testRef.ResourceURI))
	assert.False(t, c.RobustConnections("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service"), "per ResourceURI")
	_, err = c.Command(ctx, testRef, &CommandLine{CommandID: "5C8C3D9B-1B0E-4E4A-9E39-7E6C0E3C1A11", Command: "x"})
	require.NoError(t, err, "the lost Command response is fetched again")
	reqs := fs.requests()
	require.Len(t, reqs, 4)
	first, cmd := reqs[0].Header, reqs[1].Header
	assert.NotEqual(t, first.OperationID, cmd.OperationID, "a new OperationID per request")
	assert.Regexp(t, `^uuid:[0-9A-F-]{36}$`, cmd.OperationID)
	assert.Equal(t, "1", cmd.SequenceID)
	assert.False(t, cmd.Retransmission)
	for _, r := range reqs[2:] {
		assert.Equal(t, cmd.OperationID, r.Header.OperationID)
		assert.Equal(t, cmd.SequenceID, r.Header.SequenceID)
		assert.Equal(t, cmd.MessageID, r.Header.MessageID)
		assert.True(t, r.Header.Retransmission, "s:mustUnderstand=true on OperationID")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []RetryEventKind{NetworkFailureDetected, ConnectionRetryAttempt, ConnectionRetryAttempt,
		ConnectionRetrySucceeded}, kinds(evs))
	assert.Equal(t, 2, evs[3].Attempt)
}

// A non-idempotent request whose response was lost is not sent again when
// the server has not shown robust-connection support.
func TestNoBlindResend(t *testing.T) {
	for _, echo := range []bool{false, true} {
		fs := newFlakyServer(t, echo, func(n int) bool { return n == 0 })
		var mu sync.Mutex
		var evs []RetryEvent
		c := newTestClient(t, fs.URL, retryCfg(&evs, &mu))
		_, err := c.Command(context.Background(), testRef, &CommandLine{Command: "x"})
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.MaybeSent)
		assert.False(t, ne.Retransmittable, "support is unknown before a first answer")
		assert.Len(t, fs.requests(), 1, "sent once")
		assert.Empty(t, evs)
	}
	// A server that does not echo: a later lost Signal is not resent either.
	fs := newFlakyServer(t, false, func(n int) bool { return n == 1 })
	var mu sync.Mutex
	var evs []RetryEvent
	c := newTestClient(t, fs.URL, retryCfg(&evs, &mu))
	ctx := context.Background()
	require.NoError(t, c.Delete(ctx, testRef))
	assert.False(t, c.RobustConnections(testRef.ResourceURI))
	err := c.Signal(ctx, testRef, "5C8C3D9B-1B0E-4E4A-9E39-7E6C0E3C1A11", SignalTerminate)
	require.Error(t, err)
	assert.Len(t, fs.requests(), 2)
	// An idempotent one is.
	fs.mu.Lock()
	fs.reset = func(n int) bool { return n == 2 }
	fs.mu.Unlock()
	require.NoError(t, c.Delete(ctx, testRef))
	assert.Len(t, fs.requests(), 4)
}

// The window ends with the last NetworkError, Attempts set; cancelling the
// context ends the retries at once.
func TestRetryWindowAndCancel(t *testing.T) {
	fs := newFlakyServer(t, false, func(int) bool { return true })
	c := newTestClient(t, fs.URL, Config{Retry: RetryPolicy{Window: 30 * time.Millisecond, Interval: time.Millisecond}})
	err := c.Delete(context.Background(), testRef)
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Positive(t, ne.Attempts)
	assert.Contains(t, err.Error(), "retransmissions")

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	c = newTestClient(t, fs.URL, Config{Retry: RetryPolicy{Window: time.Hour, Interval: time.Millisecond,
		OnEvent: func(ev RetryEvent) {
			if n++; n == 3 {
				cancel()
			}
		}}})
	err = c.Delete(ctx, testRef)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.As(err, &ne), "the caller's cancellation wins")
}

func TestRetransmissionHeaderRoundTrip(t *testing.T) {
	env := &Envelope{Header: Header{Action: ActionReceive, MessageID: NewMessageID(), OperationID: NewMessageID(),
		SequenceID: "1", Retransmission: true}}
	b := env.Marshal()
	assert.Contains(t, string(b), `mustUnderstand="true">`+env.Header.OperationID)
	back, err := ParseEnvelope(b)
	require.NoError(t, err)
	assert.True(t, back.Header.Retransmission)
	env.Header.Retransmission = false
	back, err = ParseEnvelope(env.Marshal())
	require.NoError(t, err)
	assert.False(t, back.Header.Retransmission)
}

// AssumeSupported makes a new Client's first request retransmittable (a
// Connect after a disconnect, on a server another Client saw echo
// OperationIDs).
func TestAssumeSupported(t *testing.T) {
	fs := newFlakyServer(t, true, func(n int) bool { return n == 0 })
	c := newTestClient(t, fs.URL, Config{Retry: RetryPolicy{Window: 30 * time.Second, Interval: time.Millisecond,
		AssumeSupported: true}})
	_, err := c.Command(context.Background(), testRef, &CommandLine{Command: "x"})
	require.NoError(t, err)
	reqs := fs.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Header.OperationID, reqs[1].Header.OperationID)
	assert.True(t, reqs[1].Header.Retransmission)
	assert.True(t, c.RobustConnections(testRef.ResourceURI))
}
