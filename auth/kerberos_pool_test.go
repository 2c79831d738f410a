package auth

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/krbtest"
)

// The pool of authenticated connections with Kerberos (the NTLM
// counterparts are in ntlm_pool_test.go): over plain HTTP with message
// encryption (krbEncServer: one sealing context per connection) and over
// HTTPS (krbServer: a connection stays authenticated after a token, as with
// HTTP.sys).

var krbPoolModes = []struct {
	name       string
	tls        bool
	perRequest bool // HTTPS server that wants a token with every request
}{
	{"http-sealed", false, false},
	{"https", true, false},
	{"https-per-request", true, true},
}

// krbPool is a Kerberos test server with requests that can be held
// (poolHold).
type krbPool struct {
	poolHold
	srv *httptest.Server
	k   *krbtest.KDC
	enc *krbEncServer // http-sealed
	tls *krbServer    // https
}

// The principal of the pool tests (its own, so that KDC log lines can be
// counted).
const (
	poolUser = "polly"
	poolPass = "Polly-Pass-1"
)

func newKRBPool(t testing.TB, tlsOn, perRequest bool) *krbPool {
	t.Helper()
	k := testKDC(t)
	testPrincipal(t, k, poolUser, poolPass)
	kt := testServiceKeytab(t, k)
	p := &krbPool{k: k}
	p.init()
	if tlsOn {
		p.tls = newKRBServer(t, kt, true, func(s *krbServer) {
			s.perRequest = perRequest
			s.onRequest = p.serve
		})
		p.srv = p.tls.Server
	} else {
		p.enc = newKRBEncServer(t, kt)
		p.enc.onRequest = p.serve
		p.srv = p.enc.Server
	}
	t.Cleanup(p.unblock) // before the server's Close (cleanups run last first)
	return p
}

// client returns a Kerberos authenticator for poolUser with cfg changed by
// configure, wrapping a fresh *http.Transport (trusting the server's
// certificate) whose connections are counted.
func (p *krbPool) client(t testing.TB, configure func(*KerberosConfig)) (*http.Client, *kerberosTransport) {
	t.Helper()
	cfg := krbConfig(t, p.k)
	if configure != nil {
		configure(&cfg)
	}
	a, err := NewKerberosWithPassword(poolUser, "", poolPass, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	base := p.srv.Client().Transport.(*http.Transport).Clone()
	p.countConns(base)
	rt, err := a.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	t.Cleanup(c.CloseIdleConnections)
	return c, rt.(*kerberosTransport)
}

// fixture returns a client of the server (see client), as the shared pool
// scenarios see it, and its transport.
func (p *krbPool) fixture(t testing.TB, configure func(*KerberosConfig)) (poolFixture, *kerberosTransport) {
	t.Helper()
	c, tr := p.client(t, configure)
	return newPoolFixture(&p.poolHold, p.srv, c, tr.pool, p.checkConns, p.totalAuths, p.forgetAll), tr
}

// maxConns configures a client's MaxConnections.
func maxConns(n int) func(*KerberosConfig) {
	return func(cfg *KerberosConfig) { cfg.MaxConnections = n }
}

// authsPerConn returns, per server-side connection, how many times it
// authenticated (contexts set up, or tokens accepted).
func (p *krbPool) authsPerConn() map[string]int {
	if p.enc != nil {
		p.enc.mu.Lock()
		defer p.enc.mu.Unlock()
		return maps.Clone(p.enc.contextsOn)
	}
	p.tls.mu.Lock()
	defer p.tls.mu.Unlock()
	return maps.Clone(p.tls.tokensOn)
}

// checkConns checks that the client used at most limit connections (more
// only to replace ones it closed, as net/http may do under load), each
// authenticated exactly once, and returns how many authenticated.
func (p *krbPool) checkConns(t testing.TB, limit int) int {
	t.Helper()
	auths := p.authsPerConn()
	for addr, n := range auths {
		assert.Equal(t, 1, n, "connection %s authenticated %d times", addr, n)
	}
	dials, closes := int(p.dials.Load()), int(p.clientCloses.Load())
	assert.LessOrEqual(t, dials, limit+closes, "connections beyond the limit replace closed ones")
	assert.LessOrEqual(t, len(auths), dials)
	if closes > 0 {
		t.Logf("the client closed %d connection(s) and dialed %d", closes, dials)
	}
	return len(auths)
}

func (p *krbPool) totalAuths() int {
	n := 0
	for _, v := range p.authsPerConn() {
		n += v
	}
	return n
}

// A long poll held by the server does not block other requests of the
// same client: they get their own authenticated connection.
func TestKerberosLongPollDoesNotBlockOtherRequests(t *testing.T) {
	for _, m := range krbPoolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, m.perRequest)
			f, tr := p.fixture(t, nil)
			runLongPollDoesNotBlock(t, f)
			if m.perRequest {
				// A token with every request: 1 (the long poll's) + 3, over
				// at most two connections.
				assert.Equal(t, 4, p.totalAuths())
				assert.LessOrEqual(t, int(p.dials.Load()), 2+int(p.clientCloses.Load()))
				return
			}
			assert.Equal(t, 2, p.checkConns(t, 2), "two connections, each authenticated once")
			mode, _ := tr.state()
			assert.Equal(t, krbModeConnection, mode, "a second connection is not a server asking for a token per request")
		})
	}
}

// Many concurrent callers share at most MaxConnections connections, each
// authenticated exactly once, all of them used at the same time, with one
// login and one service ticket.
func TestKerberosPoolLimit(t *testing.T) {
	const limit, callers, perCaller = 3, 12, 6
	for _, m := range krbPoolModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, false)
			mark := kdcLogMark(t, p.k)
			f, _ := p.fixture(t, maxConns(limit))
			assert.Equal(t, limit, runPoolLimit(t, f, limit, callers, perCaller), "authenticated connections")
			assert.Equal(t, 1, countKDCLog(t, p.k, mark, "AS_REQ", "ISSUE", poolUser+"@"), "one login")
			assert.Equal(t, 1, countKDCLog(t, p.k, mark, "TGS_REQ", "ISSUE", poolUser+"@", testSPN), "one service ticket for all connections")
		})
	}
}

// Cancelling a held long poll closes its connection (the server sees the
// request go away) and leaves the pool usable: later requests, concurrent
// ones included, succeed.
func TestKerberosPoolCancelledLongPoll(t *testing.T) {
	for _, m := range krbPoolModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, false)
			f, tr := p.fixture(t, maxConns(2))
			runCancelledLongPoll(t, f)
			mode, _ := tr.state()
			assert.Equal(t, krbModeConnection, mode)
		})
	}
}

// Over HTTPS, a server that dropped the authenticated connection makes the
// client authenticate the new one, and does not make it send a token with
// every later request (it did not ask twice on one connection).
func TestKerberosPoolReconnectHTTPS(t *testing.T) {
	p := newKRBPool(t, true, false)
	c, tr := p.client(t, nil)
	got, err := post(context.Background(), c, p.srv.URL, "<one/>")
	require.NoError(t, err)
	assert.Equal(t, "echo:<one/>", got)
	p.srv.CloseClientConnections()
	// A POST written to a connection the server has just closed may fail
	// without a retry (it may have been processed); once the client has
	// noticed the close, it works.
	for range 200 {
		if got, err = post(context.Background(), c, p.srv.URL, "<two/>"); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, err)
	assert.Equal(t, "echo:<two/>", got)
	mode, _ := tr.state()
	assert.Equal(t, krbModeConnection, mode)
	tokens := p.tls.tokens.Load()
	for i := range 3 {
		_, err := post(context.Background(), c, p.srv.URL, fmt.Sprint(i))
		require.NoError(t, err)
	}
	assert.Equal(t, tokens, p.tls.tokens.Load(), "no token on an authenticated connection")
	assert.Equal(t, 2, p.checkConns(t, 1), "two connections one after the other, each authenticated once")
}

// Closing idle connections closes the pooled connections; the next
// request authenticates again.
func TestKerberosPoolCloseIdleConnections(t *testing.T) {
	for _, m := range krbPoolModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, false)
			f, _ := p.fixture(t, maxConns(2))
			runCloseIdleConnections(t, f)
			assert.Equal(t, 3, p.checkConns(t, 3))
		})
	}
}

// A transport that is not an *http.Transport cannot be pinned: sealed
// requests are serialized on one context, and HTTPS requests go through it
// concurrently, as before the pool.
func TestKerberosPoolOpaqueTransport(t *testing.T) {
	for _, m := range krbPoolModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, false)
			a, err := NewKerberosWithPassword(poolUser, "", poolPass, krbConfig(t, p.k))
			require.NoError(t, err)
			defer a.Close()
			base := p.srv.Client().Transport.(*http.Transport).Clone()
			defer base.CloseIdleConnections()
			rt, err := a.Wrap(roundTripperFunc(base.RoundTrip), WrapOptions{})
			require.NoError(t, err)
			c := &http.Client{Transport: rt}
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, err := post(context.Background(), c, p.srv.URL, fmt.Sprintf("<%d/>", i))
					assert.NoError(t, err)
					assert.Equal(t, fmt.Sprintf("echo:<%d/>", i), got)
				}()
			}
			wg.Wait()
			assert.False(t, rt.(*kerberosTransport).pool.pinned)
			if !m.tls {
				assert.Equal(t, 1, p.totalAuths(), "one context, requests serialized")
			}
		})
	}
}

// A negative MaxConnections is a configuration error.
func TestKerberosMaxConnectionsNegative(t *testing.T) {
	k := testKDC(t)
	cfg := krbConfig(t, k)
	cfg.MaxConnections = -1
	_, err := NewKerberosWithPassword(poolUser, "", poolPass, cfg)
	require.ErrorIs(t, err, ErrKerberosConfig)
	assert.Contains(t, err.Error(), "MaxConnections")
}

// forgetAll makes the server forget every connection's authentication (as
// after a service restart behind a load balancer that keeps connections).
func (p *krbPool) forgetAll() {
	if p.enc != nil {
		p.enc.mu.Lock()
		clear(p.enc.conns)
		p.enc.mu.Unlock()
		return
	}
	p.tls.mu.Lock()
	clear(p.tls.authed)
	p.tls.mu.Unlock()
}

// When the server drops every connection (or forgets their
// authentication), the pooled connections authenticate again.
func TestKerberosPoolServerDropsAll(t *testing.T) {
	const limit = 3
	for _, m := range krbPoolModes[:2] {
		for _, drop := range []string{"close", "forget"} {
			t.Run(m.name+"/"+drop, func(t *testing.T) {
				p := newKRBPool(t, m.tls, false)
				f, tr := p.fixture(t, maxConns(limit))
				n := runServerDropsAll(t, f, limit, drop)
				mode, _ := tr.state()
				switch {
				case drop == "close":
					p.checkConns(t, 2*limit) // new connections, each authenticated once
					assert.Equal(t, krbModeConnection, mode)
				case m.tls:
					// A 401 on the connection that was authenticated is what a
					// server that wants a token with every request sends:
					// from now on every request carries one.
					assert.Equal(t, krbModePerRequest, mode)
					assert.Equal(t, limit+2*limit, n)
				default:
					assertReauthenticatedOnce(t, f, limit, n)
					assert.Equal(t, krbModeConnection, mode)
				}
			})
		}
	}
}

// A request waiting for a pooled connection gives up when its context
// ends, without sending anything.
func TestKerberosPoolWaitHonoursContext(t *testing.T) {
	for _, m := range krbPoolModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := newKRBPool(t, m.tls, false)
			f, _ := p.fixture(t, maxConns(1))
			runWaitHonoursContext(t, f)
			// What the server decrypted or read, not only what its handler
			// saw.
			if m.tls {
				p.tls.mu.Lock()
				assert.NotContains(t, p.tls.bodies, "<waits/>")
				p.tls.mu.Unlock()
			} else {
				assert.NotContains(t, p.enc.received(), "<waits/>")
			}
		})
	}
}
