package wsmantest_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fault is what the proxy does to one TCP connection (one HTTP exchange:
// the clients of these tests disable keep-alive).
type fault int

const (
	faultNone        fault = iota
	faultDropBefore        // reset the connection before forwarding the request
	faultDropAfter         // forward the request, let the server answer, reset instead of answering
	faultMidResponse       // forward half of the response, then reset
	faultOutage            // reset, then refuse connections (listener closed) for a while
	faultLatency           // answer, after a delay, in small pieces
)

var faultNames = [...]string{"none", "drop-before", "drop-after", "mid-response", "outage", "latency"}

func (f fault) String() string { return faultNames[f] }

// faultProxy is a loopback TCP proxy in front of a server that applies a
// fault to chosen connections. It only listens on 127.0.0.1, holds at most
// the connections its client opens, and stops when the test ends (Close
// waits for every goroutine it started).
type faultProxy struct {
	t        testing.TB
	upstream string
	addr     string
	plan     func(conn int) fault
	outage   time.Duration

	mu     sync.Mutex
	ln     net.Listener
	closed bool
	conns  atomic.Int64
	wg     sync.WaitGroup
	stop   chan struct{}
	log    []fault // the fault applied to each connection
}

func newFaultProxy(t testing.TB, upstream string, plan func(conn int) fault) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, upstream: upstream, addr: ln.Addr().String(), plan: plan, ln: ln,
		outage: 150 * time.Millisecond, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy and waits for its goroutines.
func (p *faultProxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
		if p.ln != nil {
			p.ln.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// faults returns the faults applied so far, one per connection.
func (p *faultProxy) faults() []fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]fault(nil), p.log...)
}

func (p *faultProxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed: by Close or for an outage (which restarts serve)
		}
		n := int(p.conns.Add(1)) - 1
		f := p.plan(n)
		p.mu.Lock()
		p.log = append(p.log, f)
		p.mu.Unlock()
		if f == faultOutage {
			reset(c)
			ln.Close()
			p.wg.Add(1)
			go p.restartAfterOutage()
			return
		}
		p.wg.Add(1)
		go p.handle(c, f)
	}
}

// restartAfterOutage listens on the same address again after p.outage.
func (p *faultProxy) restartAfterOutage() {
	defer p.wg.Done()
	t := time.NewTimer(p.outage)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Reset(10 * time.Millisecond) // the port is still being released
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			ln.Close()
			return
		}
		p.ln = ln
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(ln)
		return
	}
}

func (p *faultProxy) handle(c net.Conn, f fault) {
	defer p.wg.Done()
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second) // a hang guard only
	c.SetDeadline(deadline)
	if f == faultDropBefore {
		reset(c)
		return
	}
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		reset(c)
		return
	}
	defer up.Close()
	up.SetDeadline(deadline)
	p.wg.Add(1)
	go func() { // the request (and nothing else: Connection: close)
		defer p.wg.Done()
		io.Copy(up, c)
	}()
	resp, _ := io.ReadAll(up) // the server closes after its answer
	switch f {
	case faultDropAfter:
		reset(c)
	case faultMidResponse:
		c.Write(resp[:len(resp)/2])
		reset(c)
	case faultLatency:
		// Latency and jitter: the answer comes late and in pieces.
		for len(resp) > 0 {
			select {
			case <-p.stop:
				return
			case <-time.After(time.Duration(len(resp)%7) * time.Millisecond):
			}
			n := min(len(resp), 512)
			if _, err := c.Write(resp[:n]); err != nil {
				return
			}
			resp = resp[n:]
		}
	default:
		c.Write(resp)
	}
}

// reset closes c with a TCP RST.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
