package session_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestRobustSessionMatrix is the fault-injection matrix of issue 11 at the
// session API level (see runFlow): for every WS-Management action the
// flow uses, and each of its first exchanges, the TCP connection is reset
// before the request reaches the server, after the server handled it
// (the response is lost), or in the middle of the response. Every run must
// end with exactly the objects in order, never a loss, a duplicate, a hang
// or a panic; a step that fails returns a typed error and the rest is
// received afterwards (the work survives), and no shell is left on the
// server.
func TestRobustSessionMatrix(t *testing.T) {
	const n = 16
	perAction := 12 // every exchange of the flow (Receive has about 9)
	// A clean run first: which actions the flow uses, how often.
	srv := newRobustServer(t, n, time.Millisecond)
	p := newTCPProxy(t, hostOf(t, srv.URL), nil)
	r := runFlow(t, flowCtx(t), flowConfig{srv: srv, proxy: p, n: n, name: "clean", window: 5 * time.Second})
	require.NoError(t, r.err, "step %s", r.step)
	checkFlow(t, "clean", n, r, true)
	counts := p.counts()
	p.Close()
	require.Empty(t, shellsLeft(srv.Server))
	var actions []string
	for a := range counts {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	t.Logf("clean flow: exchanges per action %v", counts)
	for _, a := range []string{"Create", "Command", "Receive", "Disconnect", "Connect", "Delete", "Enumerate"} {
		require.Contains(t, counts, a, "the flow uses %s", a)
	}

	outcomes := map[string]int{}
	runs, retried := 0, 0
	for _, action := range actions {
		for nth := range min(counts[action], perAction) {
			for _, f := range []pfault{pDropBefore, pDropAfter, pMidResponse} {
				name := fmt.Sprintf("%s #%d %s", action, nth, f)
				if only := os.Getenv("ROBUST_ONLY"); only != "" && only != name {
					continue
				}
				srv := newRobustServer(t, n, time.Millisecond)
				p := newTCPProxy(t, hostOf(t, srv.URL), func(ex exchange) pfault {
					if ex.action == action && ex.nth == nth {
						return f
					}
					return pNone
				})
				r := runFlow(t, flowCtx(t), flowConfig{srv: srv, proxy: p, n: n, name: fmt.Sprintf("m%d", runs),
					window: 5 * time.Second, recover: true})
				outcome := checkFlow(t, name, n, r, false)
				if len(r.events) > 0 {
					retried++
					assert.Equal(t, wsman.NetworkFailureDetected, r.events[0], name)
				}
				if r.err != nil {
					t.Errorf("%s: step %s failed: %v", name, r.step, r.err)
				}
				outcomes[outcome]++
				runs++
				p.Close()
				assert.Empty(t, shellsLeft(srv.Server), "%s: shells left on the server", name)
				srv.Close()
			}
		}
	}
	t.Logf("matrix: %d runs (%d retransmitted), outcomes %v", runs, retried, outcomes)
}

// TestRobustSessionOutages cuts the network (the proxy closes its listener
// and listens on the same port again later: a restarted listener) while
// output flows: shorter than the reconnect window (ridden out, nothing
// lost, the session stays Opened), and longer (the session is
// auto-disconnected, the stream ends with a *ConnectionLostError saying
// how to receive the rest, and a new client receives it); and adds latency
// and jitter to every exchange.
func TestRobustSessionOutages(t *testing.T) {
	const n = 16
	cases := []struct {
		name    string
		outage  time.Duration
		window  time.Duration
		latency bool
	}{
		{name: "outage shorter than the window", outage: 100 * time.Millisecond, window: 5 * time.Second},
		{name: "outage longer than the window", outage: 1500 * time.Millisecond, window: 200 * time.Millisecond},
		{name: "latency and jitter", latency: true, window: 5 * time.Second},
	}
	for _, tc := range cases {
		for rep := range 3 {
			name := fmt.Sprintf("%s/%d", tc.name, rep)
			srv := newRobustServer(t, n, time.Millisecond)
			p := newTCPProxy(t, hostOf(t, srv.URL), func(exchange) pfault {
				if tc.latency {
					return pLatency
				}
				return pNone
			})
			p.outage = tc.outage
			fc := flowConfig{srv: srv, proxy: p, n: n, name: fmt.Sprintf("o%d", rep), window: tc.window, windowB: 5 * time.Second, recover: true}
			if tc.outage > 0 {
				fc.during = func() { p.cut(tc.outage) }
			}
			r := runFlow(t, flowCtx(t), fc)
			outcome := checkFlow(t, name, n, r, true)
			t.Logf("%s: %s; events %v", name, outcome, kinds(r.events))
			switch {
			case tc.latency:
				require.NoError(t, r.err, name)
			case tc.outage < tc.window:
				require.NoError(t, r.err, "%s: an outage within the window is ridden out", name)
			default:
				// The stream ends with a ConnectionLostError, or the
				// Disconnect does when the outage begins after the stream
				// had what the flow reads before disconnecting.
				require.NotNil(t, r.lost, "%s: a ConnectionLostError: %v", name, r.err)
				assert.Contains(t, []string{"first stream", "disconnect"}, r.step, name)
				assert.Contains(t, r.lost.Error(), "receive the rest")
				assert.Equal(t, fc.name, r.lost.Name)
				assert.Equal(t, fc.name, r.lost.Token.Name)
				if r.step == "first stream" {
					assert.Contains(t, kinds(r.events), "AutoDisconnectStarting")
					assert.Contains(t, kinds(r.events), "AutoDisconnectSucceeded")
				}
				assert.Len(t, r.got, n, "%s: a new client received the rest", name)
			}
			p.Close()
			assert.Empty(t, shellsLeft(srv.Server), "%s: shells left on the server", name)
			srv.Close()
		}
	}
}

func kinds(evs []wsman.RetryEventKind) string {
	var s []string
	for _, e := range evs {
		if len(s) == 0 || !strings.HasSuffix(s[len(s)-1], e.String()) {
			s = append(s, e.String())
		}
	}
	return strings.Join(s, ",")
}

// TestRobustSessionServerRestart: the server restarts on the same port and
// forgets its shells (the work really is lost). The session's stream ends
// with a typed error matching ErrExpired, the session is Broken, and a
// new client looking for the session by name gets ErrNotFound: typed
// errors, never a hang or a silent success.
func TestRobustSessionServerRestart(t *testing.T) {
	const n = 16
	srv := newRobustServer(t, n, time.Millisecond)
	addr := srv.Addr()
	ctx := flowCtx(t)
	co := session.ConnectionOptions{ConnectionURI: srv.URL, SessionOption: session.SessionOption{
		OperationTimeout: 2 * time.Second, ReconnectInterval: 5 * time.Millisecond, ReconnectTimeout: 5 * time.Second}}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Name: "Restarted", Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	st, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	var got []session.Result
	for len(outputs(got)) < n/2 {
		got = append(got, <-st.C())
	}
	srv.Close()
	again, err := wsmantest.Listen(wsmantest.Options{Addr: addr}, false)
	require.NoError(t, err)
	t.Cleanup(again.Close)
	srv.open()
	rest, err := st.Collect(ctx)
	got = append(got, rest...)
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrExpired, "%v", err)
	assert.Equal(t, items4(n)[:len(outputs(got))], outputs(got), "what arrived is in order")
	waitFor(t, "the session to break", func() bool { return s.State() == session.StateBroken })
	_, err = session.Receive(ctx, session.OnComputerByName(co, "Restarted"), session.ReceiveOptions{Table: &session.Table{}})
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.Empty(t, again.Shells())
}
