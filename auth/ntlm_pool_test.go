package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/psremoting/psremoting/auth/ntlm"
)

// poolServer is NTLMServer in front of an echo handler that can hold
// requests, recording the connections it saw and the NEGOTIATE messages on
// each.
type poolServer struct {
	srv *httptest.Server
	ns  *NTLMServer

	// held receives the body of every request whose body starts with
	// "hold"; such requests wait until release is closed or their
	// connection goes away.
	held        chan string
	release     chan struct{}
	releaseOnce sync.Once
	// onRequest, if set, runs for every authenticated request.
	onRequest func(r *http.Request, body string)

	// Client side: connections dialed and closed by the client transport.
	dials, clientCloses atomic.Int32

	mu         sync.Mutex
	opened     int            // connections opened
	open       int            // connections open now
	negotiates map[string]int // NEGOTIATE messages per connection
	cancelled  []string       // bodies of held requests whose connection went away
}

func newPoolServer(t testing.TB, tlsOn bool, cfg NTLMServerConfig) *poolServer {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{`CORP\alice`: "s3cret!"}
	}
	p := &poolServer{
		ns:         NewNTLMServer(cfg),
		held:       make(chan string, 16),
		release:    make(chan struct{}),
		negotiates: map[string]int{},
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		if p.onRequest != nil {
			p.onRequest(r, body)
		}
		if strings.HasPrefix(body, "hold") {
			p.held <- body
			select {
			case <-p.release:
			case <-r.Context().Done():
				p.mu.Lock()
				p.cancelled = append(p.cancelled, body)
				p.mu.Unlock()
				// Answer nothing (as a server whose client went away):
				// otherwise the answer can race the client's cancellation,
				// and net/http then returns the response.
				panic(http.ErrAbortHandler)
			}
		}
		w.Header().Set("Content-Type", SOAPContentType)
		_, _ = w.Write([]byte("echo:" + body))
	})
	wrapped := p.ns.Handler(inner)
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Negotiate "); ok && strings.HasPrefix(tok, "TlRMTVNTUAAB") {
			p.mu.Lock()
			p.negotiates[r.RemoteAddr]++
			p.mu.Unlock()
		}
		wrapped.ServeHTTP(w, r)
	}))
	p.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		p.ns.ConnState(c, st)
		p.mu.Lock()
		defer p.mu.Unlock()
		switch st {
		case http.StateNew:
			p.opened++
			p.open++
		case http.StateClosed, http.StateHijacked:
			p.open--
		}
	}
	if tlsOn {
		p.srv.StartTLS()
		p.ns.SetServerCertificate(p.srv.Certificate())
	} else {
		p.srv.Start()
	}
	t.Cleanup(func() {
		p.unblock()
		p.srv.Close()
	})
	return p
}

// unblock releases every held request (idempotent).
func (p *poolServer) unblock() { p.releaseOnce.Do(func() { close(p.release) }) }

// client wraps the server's transport (a fresh *http.Transport trusting its
// certificate) with an NTLM authenticator.
func (p *poolServer) client(t testing.TB, n *NTLM) (*http.Client, *ntlmTransport) {
	t.Helper()
	base := p.srv.Client().Transport.(*http.Transport).Clone()
	dial := (&net.Dialer{}).DialContext
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			p.dials.Add(1)
			conn = &countingConn{Conn: conn, closes: &p.clientCloses}
		}
		return conn, err
	}
	rt, err := n.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	t.Cleanup(c.CloseIdleConnections)
	return c, rt.(*ntlmTransport)
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

// checkConns checks that the client used at most limit connections, each
// authenticated exactly once, and returns how many authenticated. net/http
// may replace a kept-alive connection (it closes it, for example, when it
// cannot tell within 50 ms that the previous request was fully written,
// which happens under heavy load); a replacement is authenticated anew and
// counted as such: every connection beyond the limit must follow a close.
func (p *poolServer) checkConns(t testing.TB, limit int) int {
	t.Helper()
	n := p.authenticatedOnce(t)
	dials, closes := int(p.dials.Load()), int(p.clientCloses.Load())
	assert.LessOrEqual(t, dials, limit+closes, "connections beyond the limit replace closed ones")
	assert.LessOrEqual(t, n, dials)
	if closes > 0 {
		t.Logf("the client closed %d connection(s) and dialed %d", closes, dials)
	}
	return n
}

// authenticatedOnce checks that every connection that authenticated did so
// exactly once, and returns how many did.
func (p *poolServer) authenticatedOnce(t testing.TB) int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, n := range p.negotiates {
		assert.Equal(t, 1, n, "connection %s authenticated %d times", addr, n)
	}
	return len(p.negotiates)
}

func (p *poolServer) openedConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

func (p *poolServer) totalNegotiates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.negotiates {
		n += v
	}
	return n
}

var poolModes = []struct {
	name    string
	tls     bool
	encrypt Encryption
}{
	{"http-sealed", false, EncryptionAuto},
	{"https-azure", true, EncryptionAuto},
	{"https-sealed", true, EncryptionAlways},
}

// deadlockGuard bounds a request that must not wait for another one: if
// it did (head-of-line blocking), the test fails instead of hanging.
const deadlockGuard = 30 * time.Second

// A long poll held by the server does not block a second request on the
// same client: it gets its own authenticated connection.
func TestNTLMLongPollDoesNotBlockOtherRequests(t *testing.T) {
	for _, m := range poolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newPoolServer(t, m.tls, NTLMServerConfig{})
			c, _ := p.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt})

			type result struct {
				body string
				err  error
			}
			first := make(chan result, 1)
			go func() {
				_, got, err := postSOAP(context.Background(), c, p.srv.URL, "hold-receive")
				first <- result{got, err}
			}()
			require.Equal(t, "hold-receive", <-p.held)

			ctx, cancel := context.WithTimeout(context.Background(), deadlockGuard)
			defer cancel()
			for i := range 3 {
				body := fmt.Sprintf("<command%d/>", i)
				_, got, err := postSOAP(ctx, c, p.srv.URL, body)
				require.NoError(t, err, "a request while the long poll is held")
				assert.Equal(t, "echo:"+body, got)
			}
			select {
			case r := <-first:
				t.Fatalf("the long poll finished before it was released: %v %q", r.err, r.body)
			default:
			}
			p.unblock()
			r := <-first
			require.NoError(t, r.err)
			assert.Equal(t, "echo:hold-receive", r.body)
			assert.GreaterOrEqual(t, p.checkConns(t, 2), 2, "two connections, each authenticated once")
		})
	}
}

// Many concurrent callers share at most MaxConnections connections, each
// authenticated exactly once, and all of them are used at the same time.
func TestNTLMPoolLimit(t *testing.T) {
	const limit, callers, perCaller = 3, 12, 6
	for _, m := range poolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newPoolServer(t, m.tls, NTLMServerConfig{})
			// The first `limit` requests wait in the handler until all of
			// them are there: proves the connections are used in parallel.
			var inflight, maxInflight atomic.Int32
			all := make(chan struct{})
			var closeAll sync.Once
			p.onRequest = func(r *http.Request, _ string) {
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for {
					m := maxInflight.Load()
					if n <= m || maxInflight.CompareAndSwap(m, n) {
						break
					}
				}
				if n == limit {
					closeAll.Do(func() { close(all) })
				}
				select {
				case <-all:
				case <-time.After(deadlockGuard):
					t.Errorf("only %d requests ever in flight, want %d", maxInflight.Load(), limit)
					closeAll.Do(func() { close(all) })
				}
			}
			c, tr := p.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: limit})

			var wg sync.WaitGroup
			errs := make(chan error, callers*perCaller)
			for g := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perCaller {
						body := fmt.Sprintf("<g%d i%d/>", g, i)
						_, got, err := postSOAP(context.Background(), c, p.srv.URL, body)
						if err == nil && got != "echo:"+body {
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
			assert.Equal(t, int32(limit), maxInflight.Load(), "requests in flight at once")
			assert.GreaterOrEqual(t, p.checkConns(t, limit), limit, "authenticated connections")
			assert.LessOrEqual(t, p.openedConns(), int(p.dials.Load()), "connections the server saw")
			assert.Zero(t, tr.pool.inUse())
		})
	}
}

// Cancelling a held long poll closes its connection (the server sees the
// request go away) and leaves the pool usable: later requests, concurrent
// ones included, succeed.
func TestNTLMPoolCancelledLongPoll(t *testing.T) {
	for _, m := range poolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newPoolServer(t, m.tls, NTLMServerConfig{})
			c, tr := p.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: 2})

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, _, err := postSOAP(ctx, c, p.srv.URL, "hold-poll")
				done <- err
			}()
			<-p.held
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			assert.Zero(t, tr.pool.inUse(), "the cancelled request gave its connection back")
			require.Eventually(t, func() bool {
				p.mu.Lock()
				defer p.mu.Unlock()
				return len(p.cancelled) == 1
			}, 10*time.Second, time.Millisecond, "the server saw the long poll's connection close")

			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						body := fmt.Sprintf("<after g%d i%d/>", g, i)
						_, got, err := postSOAP(context.Background(), c, p.srv.URL, body)
						if err == nil && got != "echo:"+body {
							err = fmt.Errorf("got %q", got)
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
			// The cancelled connection was closed; at most two more.
			p.checkConns(t, 3)
		})
	}
}

// When the server drops every connection (or forgets their
// authentication), the pooled connections authenticate again.
func TestNTLMPoolServerDropsAll(t *testing.T) {
	const limit = 3
	for _, m := range poolModes {
		for _, drop := range []string{"close", "forget"} {
			t.Run(m.name+"/"+drop, func(t *testing.T) {
				p := newPoolServer(t, m.tls, NTLMServerConfig{})
				c, _ := p.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: limit})
				// Open all connections: hold `limit` requests at once.
				var wg sync.WaitGroup
				for i := range limit {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, got, err := postSOAP(context.Background(), c, p.srv.URL, fmt.Sprintf("hold%d", i))
						assert.NoError(t, err)
						assert.Equal(t, fmt.Sprintf("echo:hold%d", i), got)
					}()
				}
				for range limit {
					<-p.held
				}
				p.unblock()
				wg.Wait()
				require.Equal(t, limit, p.authenticatedOnce(t))

				if drop == "close" {
					p.srv.CloseClientConnections()
				} else {
					p.ns.Forget()
				}
				errs := make(chan error, 4*limit)
				for g := range 2 * limit {
					wg.Add(1)
					go func() {
						defer wg.Done()
						body := fmt.Sprintf("<after%d/>", g)
						var got string
						var err error
						// A POST written to a connection the server has just
						// closed fails without a retry (it may have been
						// processed); the layers above retry. Here: once
						// the client has noticed the close, it works.
						for range 200 {
							if _, got, err = postSOAP(context.Background(), c, p.srv.URL, body); err == nil || errors.Is(err, ErrUnauthorized) || drop == "forget" {
								break
							}
							time.Sleep(5 * time.Millisecond)
						}
						if err == nil && got != "echo:"+body {
							err = fmt.Errorf("got %q", got)
						}
						if err != nil {
							errs <- err
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				n := p.totalNegotiates()
				assert.Greater(t, n, limit, "authenticated again")
				if drop == "close" {
					p.checkConns(t, 2*limit) // new connections, each authenticated once
				} else {
					// Each connection at most once more; new ones (net/http
					// replacements, rare) once.
					assert.LessOrEqual(t, n, 2*limit+int(p.dials.Load())-limit)
				}
			})
		}
	}
}

// Closing idle connections ends the pooled connections' goroutines; the
// next request authenticates again.
func TestNTLMPoolCloseIdleConnections(t *testing.T) {
	p := newPoolServer(t, false, NTLMServerConfig{})
	before := persistConnGoroutines()
	c, tr := p.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxConnections: 2})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := postSOAP(context.Background(), c, p.srv.URL, fmt.Sprintf("hold%d", i))
			assert.NoError(t, err)
		}()
	}
	<-p.held
	<-p.held
	p.unblock()
	wg.Wait()
	require.Equal(t, int32(2), p.dials.Load())
	assert.Zero(t, p.clientCloses.Load())
	// net/http returns a connection to its idle pool just after the
	// response body's EOF, so the first call may come too early for one.
	require.Eventually(t, func() bool {
		c.CloseIdleConnections()
		return p.clientCloses.Load() == 2
	}, 10*time.Second, 5*time.Millisecond, "both pooled connections closed")
	require.Eventually(t, func() bool { return persistConnGoroutines() <= before }, 10*time.Second, 5*time.Millisecond,
		"the pooled connections' goroutines ended")
	for _, pc := range tr.pool.idle {
		assert.False(t, pc.authed)
	}
	_, got, err := postSOAP(context.Background(), c, p.srv.URL, "<again/>")
	require.NoError(t, err)
	assert.Equal(t, "echo:<again/>", got)
	assert.Equal(t, 3, p.totalNegotiates())
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

// A transport that is not an *http.Transport cannot be pinned: requests are
// serialized on it and still work.
func TestNTLMPoolOpaqueTransport(t *testing.T) {
	p := newPoolServer(t, false, NTLMServerConfig{})
	base := p.srv.Client().Transport
	rt, err := (&NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxConnections: 4}).Wrap(roundTripperFunc(base.RoundTrip), WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, got, err := postSOAP(context.Background(), c, p.srv.URL, fmt.Sprintf("<%d/>", i))
			assert.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("echo:<%d/>", i), got)
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, p.authenticatedOnce(t))
	_, err = (&NTLM{Username: "u", MaxConnections: -1}).Wrap(nil, WrapOptions{})
	require.Error(t, err)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A pooled connection authenticated for one server is authenticated again
// (on a new connection) when the next request goes to another server.
func TestNTLMPoolSwitchesHosts(t *testing.T) {
	p1 := newPoolServer(t, false, NTLMServerConfig{})
	p2 := newPoolServer(t, false, NTLMServerConfig{})
	c, tr := p1.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxConnections: 1})
	for i, p := range []*poolServer{p1, p2, p1, p1} {
		body := fmt.Sprintf("<req%d/>", i)
		_, got, err := postSOAP(context.Background(), c, p.srv.URL, body)
		require.NoError(t, err)
		assert.Equal(t, "echo:"+body, got)
	}
	assert.Equal(t, 2, p1.totalNegotiates(), "p1: before and after the switch")
	assert.Equal(t, 1, p2.totalNegotiates())
	require.Len(t, tr.pool.idle, 1)
	assert.True(t, tr.pool.idle[0].matches(p1.srv.Listener.Addr().String(), true))
}

// The pooled connections speak HTTP/1.1 even when the wrapped transport and
// the server would agree on HTTP/2 (NTLM cannot authenticate HTTP/2
// streams).
func TestNTLMPoolForcesHTTP1(t *testing.T) {
	ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}, ChannelBinding: ntlm.ChannelBindingStrict})
	var protos sync.Map
	srv := httptest.NewUnstartedServer(ns.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		_, _ = w.Write([]byte("ok"))
	})))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = ns.ConnState
	srv.StartTLS()
	defer srv.Close()
	ns.SetServerCertificate(srv.Certificate())
	base := srv.Client().Transport.(*http.Transport)
	direct, err := (&http.Client{Transport: base}).Get(srv.URL)
	require.NoError(t, err)
	drain(direct)
	require.Equal(t, 2, direct.ProtoMajor, "on its own the wrapped transport uses HTTP/2")
	rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(base, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	defer c.CloseIdleConnections()
	resp, got, err := postSOAP(context.Background(), c, srv.URL, "<x/>")
	require.NoError(t, err)
	assert.Equal(t, "ok", got)
	assert.Equal(t, 1, resp.ProtoMajor)
	_, h2 := protos.Load("HTTP/2.0")
	assert.False(t, h2)
}
