package session_test

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file holds the loopback TCP proxy of the robust-connection tests
// (robust_matrix_test.go, soak_test.go): it sits between a session's client
// and the fake server and breaks chosen exchanges. The clients of these
// tests disable HTTP keep-alive, so each TCP connection carries one
// exchange; the proxy reads the request to learn its WS-Management action
// (the fake server runs without authentication, so bodies are plain
// XML). It listens on 127.0.0.1 only, and Close waits for every goroutine
// it started.

// pfault is what the proxy does to one exchange.
type pfault int

const (
	pNone        pfault = iota
	pDropBefore         // reset the connection before the request reaches the server
	pDropAfter          // let the server handle the request, reset instead of answering
	pMidResponse        // forward part of the response, then reset
	pLatency            // answer late and in small pieces (jitter)
	pOutage             // reset, close the listener, listen again on the same port later
	pCutRequest         // forward a random part of the request, then reset both sides
	pCutResponse        // forward a random part of the response, then reset
)

var pfaultNames = [...]string{"none", "drop-before", "drop-after", "mid-response", "latency", "outage", "cut-request",
	"cut-response"}

func (f pfault) String() string { return pfaultNames[f] }

// exchange is what the proxy knows of one request when it plans its fault.
type exchange struct {
	n      int    // number of the exchange, from 0
	action string // short WS-Management action ("Receive", "Command", ...)
	nth    int    // number of this exchange among those of the same action, from 0
}

var (
	actionRE    = regexp.MustCompile(`<[a-zA-Z0-9]*:?Action[^>]*>[^<]*/([A-Za-z]+)</`)
	sessionIDRE = regexp.MustCompile(`SessionId[^>]*>(?:uuid:)?([0-9A-Fa-f-]+)<`)
)

type tcpProxy struct {
	t        testing.TB
	upstream string
	addr     string
	outage   time.Duration // how long the listener stays closed for pOutage
	latency  time.Duration // the most a pLatency piece waits

	mu     sync.Mutex
	plan   func(exchange) pfault
	ln     net.Listener
	closed bool
	down   bool // the listener is closed for an outage
	n      int
	byAct  map[string]int
	log    []string // "action:fault" of each exchange
	sids   []string // the wsmv:SessionId of each exchange
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	stop   chan struct{}
	rng    *rand.Rand // the cut points of pCutRequest and pCutResponse
}

func newTCPProxy(t testing.TB, upstream string, plan func(exchange) pfault) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if plan == nil {
		plan = func(exchange) pfault { return pNone }
	}
	p := &tcpProxy{t: t, upstream: upstream, addr: ln.Addr().String(), plan: plan, ln: ln,
		outage: 100 * time.Millisecond, latency: 3 * time.Millisecond,
		byAct: map[string]int{}, conns: map[net.Conn]struct{}{}, stop: make(chan struct{}),
		rng: rand.New(rand.NewPCG(1, 2))}
	p.wg.Add(1)
	go p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// seed makes the random choices of the proxy depend on seed.
func (p *tcpProxy) seed(seed uint64) {
	p.mu.Lock()
	p.rng = rand.New(rand.NewPCG(seed, 11))
	p.mu.Unlock()
}

// intN returns a random number in [0, n).
func (p *tcpProxy) intN(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.IntN(max(n, 1))
}

// setPlan replaces the fault plan.
func (p *tcpProxy) setPlan(plan func(exchange) pfault) {
	p.mu.Lock()
	p.plan = plan
	p.mu.Unlock()
}

// Close stops the proxy, resets its connections and waits for its
// goroutines.
func (p *tcpProxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
		if p.ln != nil {
			p.ln.Close()
		}
		for c := range p.conns {
			resetTCP(c)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// exchanges returns "action:fault" for each exchange so far.
func (p *tcpProxy) exchanges() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// exchangesOf returns "action:fault" for the exchanges of one client
// (wsmv:SessionId).
func (p *tcpProxy) exchangesOf(sid string) []string {
	sid = strings.ToUpper(strings.TrimPrefix(strings.ToLower(sid), "uuid:"))
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for i, s := range p.sids {
		if s == sid {
			out = append(out, p.log[i])
		}
	}
	return out
}

// forgetLog drops the record of the exchanges (for heap measurements).
func (p *tcpProxy) forgetLog() {
	p.mu.Lock()
	p.log, p.sids, p.byAct = nil, nil, map[string]int{}
	p.mu.Unlock()
}

// counts returns the number of exchanges per action so far.
func (p *tcpProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.byAct {
		out[k] = v
	}
	return out
}

// cut starts an outage now: every connection is reset and the listener is
// closed for d, then it listens on the same port again.
func (p *tcpProxy) cut(d time.Duration) {
	p.mu.Lock()
	if p.closed || p.down {
		p.mu.Unlock()
		return
	}
	p.down = true
	p.ln.Close()
	for c := range p.conns {
		resetTCP(c)
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.relisten(d)
}

func (p *tcpProxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed: by Close or for an outage
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			resetTCP(c)
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(c)
	}
}

// relisten listens on the proxy's address again after d.
func (p *tcpProxy) relisten(d time.Duration) {
	defer p.wg.Done()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Reset(5 * time.Millisecond) // the port is still being released
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			ln.Close()
			return
		}
		p.ln, p.down = ln, false
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(ln)
		return
	}
}

func (p *tcpProxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *tcpProxy) handle(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second) // a hang guard only
	c.SetDeadline(deadline)
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	action := "?"
	if m := actionRE.FindSubmatch(body); m != nil {
		action = string(m[1])
	}
	p.mu.Lock()
	ex := exchange{n: p.n, action: action, nth: p.byAct[action]}
	p.n++
	p.byAct[action]++
	f := p.plan(ex)
	p.log = append(p.log, action+":"+f.String())
	sid := ""
	if m := sessionIDRE.FindSubmatch(body); m != nil {
		sid = strings.ToUpper(string(m[1]))
	}
	p.sids = append(p.sids, sid)
	p.mu.Unlock()
	switch f {
	case pDropBefore:
		resetTCP(c)
		return
	case pOutage:
		resetTCP(c)
		p.cut(p.outage)
		return
	}
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		resetTCP(c)
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer p.forget(up)
	defer up.Close()
	up.SetDeadline(deadline)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.Close = true
	if f == pCutRequest {
		var raw bytes.Buffer
		req.Write(&raw)
		up.Write(raw.Bytes()[:p.intN(raw.Len())])
		resetTCP(up)
		resetTCP(c)
		return
	}
	if err := req.Write(up); err != nil {
		resetTCP(c)
		return
	}
	// A long poll may last: watch the client side, so that a client that
	// goes away (its context ended) ends the upstream request too.
	done := make(chan struct{})
	defer close(done)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			select {
			case <-done:
			default:
				up.Close()
			}
		}
	}()
	resp, err := io.ReadAll(up) // Connection: close: the server closes after its answer
	if err != nil && len(resp) == 0 {
		resetTCP(c)
		return
	}
	switch f {
	case pDropAfter:
		resetTCP(c)
	case pMidResponse:
		c.Write(resp[:len(resp)/2])
		resetTCP(c)
	case pCutResponse:
		c.Write(resp[:p.intN(len(resp))])
		resetTCP(c)
	case pLatency:
		for i := 0; len(resp) > 0; i++ {
			select {
			case <-p.stop:
				return
			case <-time.After(time.Duration((i*7919)%int(p.latency/time.Microsecond+1)) * time.Microsecond):
			}
			n := min(len(resp), 700)
			if _, err := c.Write(resp[:n]); err != nil {
				return
			}
			resp = resp[n:]
		}
	default:
		c.Write(resp)
	}
}

// resetTCP closes c with a TCP RST.
func resetTCP(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
