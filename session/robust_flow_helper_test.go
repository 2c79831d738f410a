package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// The flow of the robust-connection proof (issue 11) at the session API
// level: New, Invoke a pipeline writing n numbered objects with pauses,
// read some, Disconnect, then a new client (another table, another
// wsman client: what another process does) receives the rest by computer
// and name, and removes the session. Every client goes through a tcpProxy
// that breaks what its plan says.

// robustServer is a fake server whose "numbers" script writes n numbered
// objects, pausing between them, the second half only once the run's gate
// opens. Its inactivity window is short, so that a session whose client
// vanished turns Disconnected quickly (Windows: about four minutes).
type robustServer struct {
	*wsmantest.Server
	mu   sync.Mutex
	gate chan struct{}
}

func newRobustServer(t testing.TB, n int, pause time.Duration) *robustServer {
	rs := &robustServer{gate: make(chan struct{})}
	rs.Server = newServer(t, wsmantest.Options{InactivityWindow: 500 * time.Millisecond})
	rs.HandleScript("numbers", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		rs.mu.Lock()
		g := rs.gate
		rs.mu.Unlock()
		for i := range n {
			if i == n/2 {
				select {
				case <-g:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if pause > 0 && i%4 == 3 {
				select {
				case <-time.After(pause):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := inv.WriteOutput(clixml.String(numberedItem(i))); err != nil {
				return err
			}
		}
		return nil
	}))
	return rs
}

// open lets the second half of the output be written.
func (rs *robustServer) open() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	select {
	case <-rs.gate:
	default:
		close(rs.gate)
	}
}

func numberedItem(i int) string { return fmt.Sprintf("item %04d", i) }

// proxyConn returns connection options through the proxy: no keep-alive
// (one exchange per TCP connection), retries every few milliseconds for
// window.
func proxyConn(t testing.TB, p *tcpProxy, window time.Duration) session.ConnectionOptions {
	// No keep-alive: the transport keeps no idle connection, so there is
	// nothing to close when the test ends (and no t.Cleanup holding it:
	// the soak test measures the heap).
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	return session.ConnectionOptions{ConnectionURI: "http://" + p.addr + "/wsman",
		SessionOption: session.SessionOption{OperationTimeout: 2 * time.Second, Transport: tr,
			ReconnectTimeout: window, ReconnectInterval: 5 * time.Millisecond}}
}

func hostOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

// flowRun is what one run of the flow saw.
type flowRun struct {
	got      []string // outputs, in the order the caller saw them, over every client
	err      error    // the first error a step returned (nil: every step succeeded)
	step     string   // the step that returned err
	events   []wsman.RetryEventKind
	lost     *session.ConnectionLostError // the typed error of a window that ended
	complete bool                         // the flow got the whole output without recovery
	created  bool                         // New succeeded
}

type flowConfig struct {
	srv     *robustServer
	proxy   *tcpProxy
	n       int
	name    string
	window  time.Duration
	windowB time.Duration // of the clients that receive the rest (window when zero)
	during  func()        // called once the first output has been read (e.g. to cut the network)
	recover bool          // after an error, receive the rest from a clean client
}

// runFlow runs the flow; it returns instead of failing the test on a
// protocol or network error (those are the run's outcome).
func runFlow(t testing.TB, ctx context.Context, fc flowConfig) (r flowRun) {
	var mu sync.Mutex
	hooks := session.Hooks{Retry: func(_ *session.Session, ev wsman.RetryEvent) {
		mu.Lock()
		r.events = append(r.events, ev.Kind)
		mu.Unlock()
	}}
	defer func() {
		mu.Lock()
		r.events = append([]wsman.RetryEventKind(nil), r.events...)
		mu.Unlock()
	}()
	fail := func(step string, err error) {
		if r.err == nil {
			r.step, r.err = step, err
		}
		var lost *session.ConnectionLostError
		if r.lost == nil && errors.As(err, &lost) {
			r.lost = lost
		}
	}
	collect := func(rs []session.Result) {
		for _, x := range rs {
			if x.Kind == session.KindOutput {
				r.got = append(r.got, fmt.Sprint(clixml.ToGo(x.Output)))
			}
		}
	}
	connA := proxyConn(t, fc.proxy, fc.window)
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: connA, Name: fc.name,
		Table: &session.Table{}, Hooks: hooks})
	if err != nil {
		fail("new", err)
		fc.srv.open()
		return r
	}
	r.created = true
	defer s.Close(context.WithoutCancel(ctx))
	st, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	if err != nil {
		fail("invoke", err)
		fc.srv.open()
		r.recoverRest(t, ctx, fc, hooks)
		return r
	}
	// Read the first half (or until the stream ends).
	for len(r.got) < fc.n/2 {
		x, ok := <-st.C()
		if !ok {
			break
		}
		collect([]session.Result{x})
		if len(r.got) == 1 && fc.during != nil {
			fc.during()
		}
	}
	if s.State() == session.StateOpened {
		if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
			fail("disconnect", err)
		}
	}
	rest, err := st.Collect(ctx) // ends with ErrDisconnected
	collect(rest)
	if err != nil && !errors.Is(err, session.ErrDisconnected) {
		fail("first stream", err)
	} else if err != nil {
		var lost *session.ConnectionLostError
		if errors.As(err, &lost) {
			fail("first stream", err)
		}
	}
	fc.srv.open()
	// Another client: what another process does with the computer and
	// the name.
	if fc.windowB == 0 {
		fc.windowB = fc.window
	}
	connB := proxyConn(t, fc.proxy, fc.windowB)
	if r.receiveByName(ctx, connB, fc.name, hooks, collect, fail) {
		r.complete = r.err == nil
		return r
	}
	r.recoverRest(t, ctx, fc, hooks)
	return r
}

// receiveByName receives the rest from a new client and removes the
// session; it reports whether the command's results ended normally.
func (r *flowRun) receiveByName(ctx context.Context, c session.ConnectionOptions, name string, hooks session.Hooks,
	collect func([]session.Result), fail func(string, error)) bool {
	tab := &session.Table{}
	var rec *session.Received
	var err error
	for attempt := 0; ; attempt++ {
		rec, err = session.Receive(ctx, session.OnComputerByName(c, name),
			session.ReceiveOptions{Table: tab, OutTarget: session.OutTargetHost, Hooks: hooks})
		// The server keeps a session whose client vanished Connected for
		// its inactivity window: wait (bounded) until it is free.
		if wsman.IsNetworkError(err) && attempt < 50 && ctx.Err() == nil {
			// The network is still down (a new client does not wait for
			// a server it never reached): a caller tries again later.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if errors.Is(err, session.ErrBusy) && attempt < 20 && ctx.Err() == nil {
			for _, s := range tab.List() {
				_ = s.Close(ctx)
			}
			// Longer than the inactivity window: the fake server counts
			// any request about the shell as activity.
			time.Sleep(600 * time.Millisecond)
			continue
		}
		break
	}
	ok := false
	if rec != nil {
		defer func() {
			for _, s := range rec.Sessions {
				if s.State() == session.StateClosed {
					continue
				}
				if !ok {
					// Leave the work on the server for a later Receive.
					_ = s.Disconnect(context.WithoutCancel(ctx), session.DisconnectOptions{})
					_ = s.Close(context.WithoutCancel(ctx))
					continue
				}
				if err := s.Remove(context.WithoutCancel(ctx)); err != nil {
					_ = s.Close(context.WithoutCancel(ctx))
				}
			}
		}()
	}
	if err != nil {
		fail("receive", err)
		return false
	}
	if rec.Stream == nil {
		fail("receive", errors.New("no stream"))
		return false
	}
	rs, err := rec.Stream.Collect(ctx)
	collect(rs)
	if err != nil {
		fail("second stream", err)
		return false
	}
	ok = true
	return true
}

// recoverRest receives what is left from a clean client (faults off), as
// a caller does after a typed error: the work must have survived.
func (r *flowRun) recoverRest(t testing.TB, ctx context.Context, fc flowConfig, hooks session.Hooks) {
	if !fc.recover {
		return
	}
	fc.proxy.setPlan(func(exchange) pfault { return pNone })
	collect := func(rs []session.Result) {
		for _, x := range rs {
			if x.Kind == session.KindOutput {
				r.got = append(r.got, fmt.Sprint(clixml.ToGo(x.Output)))
			}
		}
	}
	var rerr error
	r.receiveByName(ctx, proxyConn(t, fc.proxy, max(fc.windowB, fc.window)), fc.name, hooks, collect,
		func(_ string, err error) { rerr = errors.Join(rerr, err) })
	if rerr != nil {
		r.err = errors.Join(r.err, fmt.Errorf("recovery: %w", rerr))
	}
}

// checkFlow asserts the outcome rules of the proof and classifies the run:
// what the caller saw is in order, without duplicates and invented
// objects; a run that lost nothing ends with every object; an object
// missing is only allowed with an error that says so (a *psrp.GapError,
// or ErrExpired: the server lost the session). Every error is typed.
func checkFlow(t testing.TB, name string, n int, r flowRun, mustComplete bool) string {
	t.Helper()
	prev := -1
	for _, o := range r.got {
		var i int
		_, err := fmt.Sscanf(o, "item %d", &i)
		require.NoError(t, err, "%s: %q", name, o)
		require.Equal(t, numberedItem(i), o, name)
		require.Greater(t, i, prev, "%s: %q after item %d: a duplicate or out of order (got %v)", name, o, prev, r.got)
		require.Equal(t, prev+1, i, "%s: item %d missing (got %v; err %v)", name, prev+1, r.got, r.err)
		prev = i
	}
	if r.err == nil {
		require.Len(t, r.got, n, "%s: a success delivers every object", name)
		return "complete"
	}
	typed := false
	var (
		se   *session.SessionError
		ne   *wsman.NetworkError
		lost *session.ConnectionLostError
		gap  *psrp.GapError
	)
	switch {
	case errors.As(r.err, &lost):
		typed = true
	case errors.As(r.err, &se), errors.As(r.err, &ne), errors.As(r.err, &gap):
		typed = true
	}
	require.True(t, typed, "%s: untyped error %T: %v", name, r.err, r.err)
	if mustComplete || r.created {
		// The work survives a typed error: recovery got the rest.
		require.Len(t, r.got, n, "%s: %s failed (%v) and the rest was not recovered", name, r.step, r.err)
	}
	kind := "typed error at " + r.step
	if lost != nil {
		kind = "ConnectionLostError at " + r.step
	}
	if len(r.got) == n {
		kind += ", recovered"
	}
	return kind
}

// shellsLeft waits (bounded) for the server to have no shell and returns
// the ones left.
func shellsLeft(srv *wsmantest.Server) []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := srv.Shells()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func flowCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // hang guard
	t.Cleanup(cancel)
	return ctx
}
