package auth

import (
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"sync"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// DefaultNTLMMaxConnections is the number of authenticated connections an
// NTLM transport opens at most to one server when NTLM.MaxConnections is 0.
// A PSRP session keeps one long-polling Receive outstanding on its pool and
// one per running command, so a client used by several sessions may want
// more.
const DefaultNTLMMaxConnections = 8

// ntlmConn is one pooled connection: a dedicated HTTP/1.1 transport that
// holds at most one TCP connection, and the NTLM state of that connection.
// Only the request holding it (between ntlmPool.get and put) touches it.
type ntlmConn struct {
	rt http.RoundTripper
	// closeIdle closes the dedicated transport's idle connection; nil
	// when rt is the caller's shared transport (never closed by us).
	closeIdle func()

	authed  bool
	host    string
	encrypt bool
	session *ntlm.Session // set on the sealing path
}

// reset forgets the authentication. With closeConn it also closes the
// connection (best effort: only once it is idle), so that a connection in
// an unknown state is not reused.
func (c *ntlmConn) reset(closeConn bool) {
	c.authed, c.session, c.host = false, nil, ""
	if closeConn && c.closeIdle != nil {
		c.closeIdle()
	}
}

func (c *ntlmConn) matches(host string, encrypt bool) bool {
	return c.authed && c.host == host && c.encrypt == encrypt
}

// ntlmPool hands out at most max ntlmConns at a time. Idle authenticated
// connections for the request's host and mode are preferred; otherwise an
// unauthenticated one, otherwise one authenticated for something else (it
// is reset), otherwise a new one. Connections are created lazily, so at most
// max ever exist.
type ntlmPool struct {
	tokens  semaphore // one token per connection in use
	newConn func() *ntlmConn

	mu   sync.Mutex
	idle []*ntlmConn // most recently used last
}

func newNTLMPool(max int, newConn func() *ntlmConn) *ntlmPool {
	return &ntlmPool{tokens: make(semaphore, max), newConn: newConn}
}

// get waits (honouring ctx) until fewer than max connections are in use
// and returns one for host and mode.
func (p *ntlmPool) get(ctx context.Context, host string, encrypt bool) (*ntlmConn, error) {
	if err := p.tokens.lock(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pick := -1
	for i := len(p.idle) - 1; i >= 0; i-- {
		if p.idle[i].matches(host, encrypt) {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i := len(p.idle) - 1; i >= 0; i-- {
			if !p.idle[i].authed {
				pick = i
				break
			}
		}
	}
	if pick < 0 && len(p.idle) > 0 {
		pick = 0 // least recently used
	}
	if pick < 0 {
		return p.newConn(), nil
	}
	c := p.idle[pick]
	p.idle = slices.Delete(p.idle, pick, pick+1)
	return c, nil
}

// put returns a connection taken with get.
func (p *ntlmPool) put(c *ntlmConn) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	p.tokens.unlock()
}

// closeIdle closes every idle connection and forgets its authentication.
func (p *ntlmPool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.reset(true)
	}
}

// inUse reports how many connections are taken (for tests).
func (p *ntlmPool) inUse() int { return len(p.tokens) }

// dedicatedTransport returns a copy of base that keeps at most one TCP
// connection per host and speaks HTTP/1.1 only: the request holding the
// ntlmConn is its only user, so every request it sends goes over the same
// (authenticated) connection while that stays open.
func dedicatedTransport(base *http.Transport) *http.Transport {
	tr := base.Clone()
	tr.MaxConnsPerHost = 1
	tr.MaxIdleConnsPerHost = 1
	tr.DisableKeepAlives = false
	// NTLM cannot authenticate HTTP/2 streams.
	tr.ForceAttemptHTTP2 = false
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig.NextProtos = slices.DeleteFunc(slices.Clone(tr.TLSClientConfig.NextProtos), func(p string) bool { return p == "h2" })
	}
	return tr
}
