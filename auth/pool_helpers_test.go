package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The connection pool scenarios shared by NTLM (ntlm_pool_test.go) and
// Kerberos (kerberos_pool_test.go). Each scheme's test server embeds a
// poolHold and describes itself and its client as a poolFixture; the run*
// helpers drive a scenario and check what holds for every scheme, and the
// scheme's test then checks what is particular to it.

// deadlockGuard bounds a request that must not wait for another one: if
// it did (head-of-line blocking), the test fails instead of hanging.
const deadlockGuard = 30 * time.Second

// poolHold is the part of a pool test server that holds requests, and the
// client side counts of the connections of a client wrapping it.
type poolHold struct {
	// held receives the body of every request whose body starts with
	// "hold"; such requests wait until release is closed or their
	// connection goes away.
	held        chan string
	release     chan struct{}
	releaseOnce sync.Once
	// onRequest, if set, runs for every authenticated request first.
	onRequest func(r *http.Request, body string)

	// Client side: connections dialed and closed by the client transport.
	dials, clientCloses atomic.Int32

	mu        sync.Mutex
	served    []string // bodies of every authenticated request
	cancelled []string // bodies of held requests whose connection went away
}

func (h *poolHold) init() {
	h.held = make(chan string, 16)
	h.release = make(chan struct{})
}

// serve runs onRequest, then holds the request if its body starts with
// "hold".
func (h *poolHold) serve(r *http.Request, body string) {
	h.mu.Lock()
	h.served = append(h.served, body)
	h.mu.Unlock()
	if h.onRequest != nil {
		h.onRequest(r, body)
	}
	if !strings.HasPrefix(body, "hold") {
		return
	}
	h.held <- body
	select {
	case <-h.release:
	case <-r.Context().Done():
		h.mu.Lock()
		h.cancelled = append(h.cancelled, body)
		h.mu.Unlock()
		// Answer nothing (as a server whose client went away): otherwise
		// the answer can race the client's cancellation, and net/http then
		// returns the response.
		panic(http.ErrAbortHandler)
	}
}

// unblock releases every held request (idempotent).
func (h *poolHold) unblock() { h.releaseOnce.Do(func() { close(h.release) }) }

func (h *poolHold) cancelledCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.cancelled)
}

// countConns makes base count the connections it dials and closes.
func (h *poolHold) countConns(base *http.Transport) {
	dial := (&net.Dialer{}).DialContext
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			h.dials.Add(1)
			conn = &countingConn{Conn: conn, closes: &h.clientCloses}
		}
		return conn, err
	}
}

type countingConn struct {
	net.Conn
	once   sync.Once
	closes *atomic.Int32
}

func (c *countingConn) Close() error {
	c.once.Do(func() { c.closes.Add(1) })
	return c.Conn.Close()
}

// poolFixture is a scheme's pool test server and a client of it, as the
// shared scenarios see them.
type poolFixture struct {
	hold *poolHold
	url  string
	c    *http.Client
	// inUse is how many of the client's pooled connections are in use.
	inUse func() int
	// idleAuthed reports whether any idle pooled connection is marked
	// authenticated.
	idleAuthed func() bool
	// checkConns checks that the client used at most limit connections
	// (more only to replace ones it closed), each authenticated exactly
	// once, and returns how many authenticated.
	checkConns func(t testing.TB, limit int) int
	// totalAuths is how many times the server authenticated a connection.
	totalAuths func() int
	// drop closes every connection on the server side ("close") or makes
	// the server forget their authentication ("forget").
	drop func(how string)
}

// newPoolFixture describes a client c of srv whose pooled connections are
// pool; forget makes the server forget every connection's authentication.
func newPoolFixture[S any](h *poolHold, srv *httptest.Server, c *http.Client, pool *connPool[S],
	checkConns func(testing.TB, int) int, totalAuths func() int, forget func(),
) poolFixture {
	return poolFixture{
		hold:       h,
		url:        srv.URL,
		c:          c,
		inUse:      pool.inUse,
		idleAuthed: func() bool { return idleAuthed(pool) },
		checkConns: checkConns,
		totalAuths: totalAuths,
		drop: func(how string) {
			if how == "close" {
				srv.CloseClientConnections()
			} else {
				forget()
			}
		},
	}
}

// postConcurrently posts perG requests from each of goroutines goroutines
// through c, with bodies fmt.Sprintf(format, g, i), and reports every error
// or answer other than want(body).
func postConcurrently(t testing.TB, c *http.Client, url string, goroutines, perG int, format string, want func(body string) string) {
	t.Helper()
	sendConcurrently(t, goroutines, perG, format, func(body string) (string, error) {
		return post(context.Background(), c, url, body)
	}, want)
}

// sendConcurrently is postConcurrently with send posting a body.
func sendConcurrently(t testing.TB, goroutines, perG int, format string, send func(body string) (string, error), want func(body string) string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				body := fmt.Sprintf(format, g, i)
				got, err := send(body)
				if err == nil && got != want(body) {
					err = fmt.Errorf("got %q for %q", got, body)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func echo(body string) string { return "echo:" + body }

// runLongPollDoesNotBlock holds a long poll on the server and checks that
// three other requests of the same client go through meanwhile (so on
// another connection), then releases it. The caller checks the connections.
func runLongPollDoesNotBlock(t *testing.T, f poolFixture) {
	t.Helper()
	type result struct {
		body string
		err  error
	}
	first := make(chan result, 1)
	go func() {
		got, err := post(context.Background(), f.c, f.url, "hold-receive")
		first <- result{got, err}
	}()
	require.Equal(t, "hold-receive", <-f.hold.held)

	ctx, cancel := context.WithTimeout(context.Background(), deadlockGuard)
	defer cancel()
	for i := range 3 {
		body := fmt.Sprintf("<command%d/>", i)
		got, err := post(ctx, f.c, f.url, body)
		require.NoError(t, err, "a request while the long poll is held")
		assert.Equal(t, "echo:"+body, got)
	}
	select {
	case r := <-first:
		t.Fatalf("the long poll finished before it was released: %v %q", r.err, r.body)
	default:
	}
	assert.Equal(t, 1, f.inUse(), "only the long poll holds a connection")
	f.hold.unblock()
	r := <-first
	require.NoError(t, r.err)
	assert.Equal(t, "echo:hold-receive", r.body)
}

// runPoolLimit sends perCaller requests from each of callers goroutines
// through a client whose MaxConnections is limit, and checks that exactly
// limit requests were in flight at once (the first limit requests wait in
// the handler until all of them are there: the connections are used in
// parallel) and that no connection is left in use. It returns checkConns.
func runPoolLimit(t *testing.T, f poolFixture, limit, callers, perCaller int) int {
	t.Helper()
	var inflight, maxInflight atomic.Int32
	all := make(chan struct{})
	var closeAll sync.Once
	f.hold.onRequest = func(r *http.Request, _ string) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			m := maxInflight.Load()
			if n <= m || maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		if n == int32(limit) {
			closeAll.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(deadlockGuard):
			t.Errorf("only %d requests ever in flight, want %d", maxInflight.Load(), limit)
			closeAll.Do(func() { close(all) })
		}
	}
	postConcurrently(t, f.c, f.url, callers, perCaller, "<g%d i%d/>", echo)
	assert.Equal(t, int32(limit), maxInflight.Load(), "requests in flight at once")
	assert.Zero(t, f.inUse())
	return f.checkConns(t, limit)
}

// runWaitHonoursContext checks, with a client whose MaxConnections is 1,
// that a request waiting for the pooled connection (held by a long poll)
// gives up when its context ends, without sending anything, and that the
// pool then serves the next request on the same connection.
func runWaitHonoursContext(t *testing.T, f poolFixture) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := post(context.Background(), f.c, f.url, "hold-poll")
		done <- err
	}()
	<-f.hold.held
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := post(ctx, f.c, f.url, "<waits/>")
		waiting <- err
	}()
	// The only connection is held: the request waits (or has not started
	// yet) until its context ends.
	assert.Equal(t, 1, f.inUse())
	cancel()
	select {
	case err := <-waiting:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(deadlockGuard):
		t.Fatal("the request waiting for a connection did not return when its context ended")
	}
	assert.Equal(t, int32(1), f.hold.dials.Load(), "the waiting request dialed nothing")
	f.hold.unblock()
	require.NoError(t, <-done)
	got, err := post(context.Background(), f.c, f.url, "<next/>")
	require.NoError(t, err)
	assert.Equal(t, "echo:<next/>", got)
	f.hold.mu.Lock()
	assert.NotContains(t, f.hold.served, "<waits/>")
	f.hold.mu.Unlock()
	assert.Equal(t, 1, f.checkConns(t, 1))
}

// runCancelledLongPoll cancels a held long poll (the client has
// MaxConnections 2) and checks that its connection is closed (the server
// sees the request go away) and given back, and that the pool stays usable:
// later requests, concurrent ones included, succeed on at most two more
// connections.
func runCancelledLongPoll(t *testing.T, f poolFixture) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := post(ctx, f.c, f.url, "hold-poll")
		done <- err
	}()
	<-f.hold.held
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Zero(t, f.inUse(), "the cancelled request gave its connection back")
	require.Eventually(t, func() bool { return f.hold.cancelledCount() == 1 },
		10*time.Second, time.Millisecond, "the server saw the long poll's connection close")

	postConcurrently(t, f.c, f.url, 4, 5, "<after g%d i%d/>", echo)
	// The cancelled connection was closed; at most two more.
	f.checkConns(t, 3)
}

// runServerDropsAll opens limit connections (the client's MaxConnections)
// by holding limit requests at once, makes the server drop them all (drop
// "close") or forget their authentication ("forget"), and checks that
// 2*limit concurrent requests then succeed, authenticating again. It
// returns how many times the server authenticated in all.
func runServerDropsAll(t *testing.T, f poolFixture, limit int, drop string) int {
	t.Helper()
	var wg sync.WaitGroup
	for i := range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := post(context.Background(), f.c, f.url, fmt.Sprintf("hold%d", i))
			assert.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("echo:hold%d", i), got)
		}()
	}
	for range limit {
		<-f.hold.held
	}
	f.hold.unblock()
	wg.Wait()
	require.Equal(t, limit, f.checkConns(t, limit))

	f.drop(drop)
	sendConcurrently(t, 2*limit, 1, "<after g%d i%d/>", func(body string) (got string, err error) {
		// A POST written to a connection the server has just closed may
		// fail without a retry (it may have been processed); the layers
		// above retry. Here: once the client has noticed the close, it
		// works.
		for range 200 {
			if got, err = post(context.Background(), f.c, f.url, body); err == nil || errors.Is(err, ErrUnauthorized) || drop == "forget" {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		return got, err
	}, echo)
	n := f.totalAuths()
	assert.Greater(t, n, limit, "authenticated again")
	return n
}

// assertReauthenticatedOnce checks, after runServerDropsAll with "forget",
// that each of the limit connections authenticated at most once more, and
// new ones (net/http replacements, rare) once.
func assertReauthenticatedOnce(t *testing.T, f poolFixture, limit, auths int) {
	t.Helper()
	assert.LessOrEqual(t, auths, 2*limit+int(f.hold.dials.Load())-limit)
}

// runCloseIdleConnections opens two pooled connections (the client's
// MaxConnections), closes them with CloseIdleConnections and checks that
// they are closed, their goroutines end and the pool forgets their
// authentication; the next request succeeds. The caller checks how it
// authenticated.
func runCloseIdleConnections(t *testing.T, f poolFixture) {
	t.Helper()
	before := persistConnGoroutines()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := post(context.Background(), f.c, f.url, fmt.Sprintf("hold%d", i))
			assert.NoError(t, err)
		}()
	}
	<-f.hold.held
	<-f.hold.held
	f.hold.unblock()
	wg.Wait()
	require.Equal(t, int32(2), f.hold.dials.Load())
	assert.Zero(t, f.hold.clientCloses.Load())
	// net/http returns a connection to its idle pool just after the
	// response body's EOF, so the first call may come too early for one.
	require.Eventually(t, func() bool {
		f.c.CloseIdleConnections()
		return f.hold.clientCloses.Load() == 2
	}, 10*time.Second, 5*time.Millisecond, "both pooled connections closed")
	require.Eventually(t, func() bool { return persistConnGoroutines() <= before }, 10*time.Second, 5*time.Millisecond,
		"the pooled connections' goroutines ended")
	assert.False(t, f.idleAuthed(), "an idle connection is still marked authenticated")
	got, err := post(context.Background(), f.c, f.url, "<again/>")
	require.NoError(t, err)
	assert.Equal(t, "echo:<again/>", got)
}

// persistConnGoroutines counts the goroutines of net/http client
// connections.
func persistConnGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), "net/http.(*persistConn).readLoop")
}

// idleAuthed reports whether any of pool's idle slots is marked
// authenticated.
func idleAuthed[S any](pool *connPool[S]) bool {
	for _, pc := range pool.idle {
		if pc.authed {
			return true
		}
	}
	return false
}
