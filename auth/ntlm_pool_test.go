package auth

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// poolServer is NTLMServer in front of an echo handler that can hold
// requests (poolHold), recording the connections it saw and the NEGOTIATE
// messages on each.
type poolServer struct {
	poolHold
	srv *httptest.Server
	ns  *NTLMServer

	// Guarded by poolHold.mu.
	opened     int            // connections opened
	open       int            // connections open now
	negotiates map[string]int // NEGOTIATE messages per connection
}

func newPoolServer(t testing.TB, tlsOn bool, cfg NTLMServerConfig) *poolServer {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{`CORP\alice`: "s3cret!"}
	}
	p := &poolServer{ns: NewNTLMServer(cfg), negotiates: map[string]int{}}
	p.init()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		p.serve(r, body)
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

// client wraps the server's transport (a fresh *http.Transport trusting its
// certificate, whose connections are counted) with an NTLM authenticator.
func (p *poolServer) client(t testing.TB, n *NTLM) (*http.Client, *ntlmTransport) {
	t.Helper()
	base := p.srv.Client().Transport.(*http.Transport).Clone()
	p.countConns(base)
	rt, err := n.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	t.Cleanup(c.CloseIdleConnections)
	return c, rt.(*ntlmTransport)
}

// fixture returns a client of the server authenticating with n, as the
// shared pool scenarios see it.
func (p *poolServer) fixture(t testing.TB, n *NTLM) poolFixture {
	t.Helper()
	c, tr := p.client(t, n)
	return newPoolFixture(&p.poolHold, p.srv, c, tr.pool, p.checkConns, p.totalNegotiates, p.ns.Forget)
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

// A long poll held by the server does not block a second request on the
// same client: it gets its own authenticated connection.
func TestNTLMLongPollDoesNotBlockOtherRequests(t *testing.T) {
	for _, m := range poolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newPoolServer(t, m.tls, NTLMServerConfig{})
			f := p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt})
			runLongPollDoesNotBlock(t, f)
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
			f := p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: limit})
			assert.GreaterOrEqual(t, runPoolLimit(t, f, limit, callers, perCaller), limit, "authenticated connections")
			assert.LessOrEqual(t, p.openedConns(), int(p.dials.Load()), "connections the server saw")
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
			runCancelledLongPoll(t, p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: 2}))
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
				f := p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: limit})
				n := runServerDropsAll(t, f, limit, drop)
				if drop == "close" {
					p.checkConns(t, 2*limit) // new connections, each authenticated once
				} else {
					assertReauthenticatedOnce(t, f, limit, n)
				}
			})
		}
	}
}

// A request waiting for a pooled connection gives up when its context
// ends, without sending anything.
func TestNTLMPoolWaitHonoursContext(t *testing.T) {
	for _, m := range poolModes {
		t.Run(m.name, func(t *testing.T) {
			p := newPoolServer(t, m.tls, NTLMServerConfig{})
			runWaitHonoursContext(t, p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: m.encrypt, MaxConnections: 1}))
		})
	}
}

// Closing idle connections ends the pooled connections' goroutines; the
// next request authenticates again.
func TestNTLMPoolCloseIdleConnections(t *testing.T) {
	p := newPoolServer(t, false, NTLMServerConfig{})
	runCloseIdleConnections(t, p.fixture(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxConnections: 2}))
	assert.Equal(t, 3, p.totalNegotiates())
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
