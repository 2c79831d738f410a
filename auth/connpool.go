package auth

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"sync"
)

// connSlot is one pooled authenticated connection, shared by the NTLM and
// Kerberos transports: a dedicated HTTP/1.1 transport that holds at most one
// TCP connection, and the authentication state of that connection (the
// host and mode it authenticated for, and S, the security context that
// seals its messages, if any). Only the request holding the slot (between
// connPool.get and put) touches it.
type connSlot[S any] struct {
	rt http.RoundTripper
	// closeIdle closes the dedicated transport's idle connection; nil
	// when rt is the caller's shared transport (never closed by us).
	closeIdle func()

	authed  bool
	host    string
	encrypt bool
	state   S // the security context on the sealing path
	// conn is the connection the slot authenticated on, when known (nil
	// otherwise): a request that went over another one met a reconnect.
	conn net.Conn
}

// reset forgets the authentication. With closeConn it also closes the
// connection (best effort: only once it is idle), so that a connection in
// an unknown state is not reused.
func (c *connSlot[S]) reset(closeConn bool) {
	var zero S
	c.authed, c.host, c.state, c.conn = false, "", zero, nil
	if closeConn && c.closeIdle != nil {
		c.closeIdle()
	}
}

// setAuthed records that the slot's connection (conn, when known) is
// authenticated for host and mode, with state.
func (c *connSlot[S]) setAuthed(host string, encrypt bool, state S, conn net.Conn) {
	c.authed, c.host, c.encrypt, c.state, c.conn = true, host, encrypt, state, conn
}

func (c *connSlot[S]) matches(host string, encrypt bool) bool {
	return c.authed && c.host == host && c.encrypt == encrypt
}

// connPool hands out at most max connSlots at a time. Idle slots
// authenticated for the request's host and mode are preferred; otherwise an
// unauthenticated one, otherwise one authenticated for something else (the
// caller resets it), otherwise a new one. Slots are created lazily, so at
// most max ever exist.
//
// When the wrapped transport is an *http.Transport, every slot gets its own
// single-connection HTTP/1.1 clone of it (dedicatedTransport), so all
// requests of a slot travel over the same TCP connection for as long as it
// stays open (pinned). Any other RoundTripper cannot be pinned: the pool
// then has one slot that uses it as it is, and requests are serialized.
type connPool[S any] struct {
	tokens  semaphore // one token per slot in use
	pinned  bool
	newSlot func() *connSlot[S]

	mu   sync.Mutex
	idle []*connSlot[S] // most recently used last
}

func newConnPool[S any](next http.RoundTripper, max int) *connPool[S] {
	if base, ok := next.(*http.Transport); ok {
		return &connPool[S]{tokens: make(semaphore, max), pinned: true, newSlot: func() *connSlot[S] {
			tr := dedicatedTransport(base)
			return &connSlot[S]{rt: tr, closeIdle: tr.CloseIdleConnections}
		}}
	}
	return &connPool[S]{tokens: make(semaphore, 1), newSlot: func() *connSlot[S] { return &connSlot[S]{rt: next} }}
}

// get waits (honouring ctx) until fewer than max slots are in use and
// returns one for host and mode.
func (p *connPool[S]) get(ctx context.Context, host string, encrypt bool) (*connSlot[S], error) {
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
		return p.newSlot(), nil
	}
	c := p.idle[pick]
	p.idle = slices.Delete(p.idle, pick, pick+1)
	return c, nil
}

// put returns a slot taken with get.
func (p *connPool[S]) put(c *connSlot[S]) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	p.tokens.unlock()
}

// closeIdle closes every idle slot's connection and forgets its
// authentication.
func (p *connPool[S]) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.reset(true)
	}
}

// inUse reports how many slots are taken (for tests).
func (p *connPool[S]) inUse() int { return len(p.tokens) }

// dedicatedTransport returns a copy of base that keeps at most one TCP
// connection per host and speaks HTTP/1.1 only: the request holding the
// slot is its only user, so every request it sends goes over the same
// (authenticated) connection while that stays open.
func dedicatedTransport(base *http.Transport) *http.Transport {
	tr := base.Clone()
	tr.MaxConnsPerHost = 1
	tr.MaxIdleConnsPerHost = 1
	tr.DisableKeepAlives = false
	// NTLM and Kerberos authenticate connections, not HTTP/2 streams.
	tr.ForceAttemptHTTP2 = false
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig.NextProtos = slices.DeleteFunc(slices.Clone(tr.TLSClientConfig.NextProtos), func(p string) bool { return p == "h2" })
	}
	return tr
}
