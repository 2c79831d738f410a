package session_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestRobustSoak: many concurrent sessions go through disconnect and
// reconnect cycles while the proxy cuts connections at random (loopback
// only, bounded in count and time). Each cycle invokes a pipeline writing
// numbered objects, reads some, disconnects, and receives the rest
// (Receive reconnects): every cycle must deliver exactly its objects, in
// order, or (only where the server forgot a response it was asked to
// retransmit: the fake keeps the last 1024, which 200 busy sessions can
// pass under load) end with a *psrp.GapError and what arrived in order,
// once. Afterwards no goroutine, no shell on the server and no heap
// growth is left behind. The short variant (20 sessions) runs in go test;
// PSREMOTING_SOAK=1 runs 200.
func TestRobustSoak(t *testing.T) {
	sessions, cycles := 20, 3
	if os.Getenv("PSREMOTING_SOAK") != "" {
		sessions, cycles = 200, 5
	}
	const m = 6                                                             // objects per cycle
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // hang guard
	defer cancel()

	// Each round has its own server and proxy, closed before the heap is
	// measured: what stays is what the sessions left. Round 0 is a warm-up
	// (one session, no faults); then two rounds under faults: the first
	// grows what the runtime keeps for good (the descriptors of the
	// goroutines of the peak, the allocator's spans); a second round that
	// leaves more behind than the first is a leak.
	var heap [3]uint64
	goroutinesBefore := 0
	var checkGoroutines func()
	for round := range 3 {
		n, cyc, chaos := sessions, cycles, true
		if round == 0 {
			n, cyc, chaos = 1, 1, false
		}
		srv := wsmantest.NewServer(wsmantest.Options{}) // not newServer: t.Cleanup would keep it
		srv.HandleScript("soak", soakHandler(m))
		p := newTCPProxy(t, hostOf(t, srv.URL), nil)
		p.seed(uint64(2026 + round))
		faults := []pfault{pDropBefore, pDropAfter, pMidResponse, pCutRequest, pCutResponse}
		p.setPlan(func(ex exchange) pfault {
			if !chaos || p.rng.IntN(12) != 0 { // the plan runs under p.mu
				return pNone
			}
			return faults[p.rng.IntN(len(faults))]
		})
		start := time.Now()
		results := make([]soakResult, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = soakSession(t, ctx, p, fmt.Sprintf("soak%d-%03d", round, i), cyc, m)
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		okCycles, lossCycles, failed := 0, 0, 0
		for i, r := range results {
			okCycles += r.cycles
			lossCycles += r.lossReported
			if r.err != nil {
				failed++
				t.Errorf("round %d, session %d: %v", round, i, r.err)
			}
		}
		exchanges, injected := 0, 0
		for _, e := range p.exchanges() {
			exchanges++
			if len(e) < 5 || e[len(e)-5:] != ":none" {
				injected++
			}
		}
		left := shellsLeft(srv)
		assert.Empty(t, left, "round %d: shells left on the server", round)
		assert.Equal(t, n*cyc, okCycles+lossCycles, "round %d: every cycle delivers its objects or reports a loss", round)
		if exchanges < 1024 {
			// The server keeps the responses of the last 1024 requests:
			// none was forgotten, so nothing may be reported lost.
			assert.Zero(t, lossCycles, "round %d: losses reported", round)
		}
		p.Close()
		p.forgetLog()
		srv.Close()
		// Several collections: objects with finalizers (connections) are
		// freed by the cycle after the one that finds them.
		for range 4 {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap[round] = ms.HeapAlloc
		if round == 0 {
			goroutinesBefore = runtime.NumGoroutine()
			checkGoroutines = goroutineBaseline(t)
			continue
		}
		checkGoroutines()
		t.Logf("soak round %d: %d sessions x %d cycles in %s, %d exchanges, %d faults injected; %d cycles complete, "+
			"%d with a typed loss report, %d sessions failed; shells left %d; goroutines %d (baseline %d); heap %d KiB (baseline %d KiB)",
			round, n, cyc, elapsed.Round(time.Millisecond), exchanges, injected, okCycles, lossCycles, failed,
			len(left), runtime.NumGoroutine(), goroutinesBefore, heap[round]>>10, heap[0]>>10)
	}
	growth := int64(heap[2]) - int64(heap[1])
	t.Logf("soak: heap %d KiB after the warm-up, %d KiB after round 1, %d KiB after round 2 (%+d KiB)",
		heap[0]>>10, heap[1]>>10, heap[2]>>10, growth>>10)
	// What a session holds is gone with it (a bound with slack for the
	// allocator and the runtime's caches: 256 KiB, 2 KiB per session for
	// 200; a leak of even one small object per cycle is more).
	assert.Less(t, growth, int64(max(256<<10, sessions*2<<10)), "heap growth of the second round")
}

// soakHandler writes m numbered objects with a pause in the middle.
func soakHandler(m int) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		for i := range m {
			if i == m/2 {
				select {
				case <-time.After(time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := inv.WriteOutput(clixml.String(numberedItem(i))); err != nil {
				return err
			}
		}
		return nil
	})
}

type soakResult struct {
	cycles       int // cycles that delivered exactly their objects
	lossReported int // cycles whose results ended with a *psrp.GapError
	err          error
}

// soakSession runs one session's cycles and removes it.
func soakSession(t testing.TB, ctx context.Context, p *tcpProxy, name string, cycles, m int) (r soakResult) {
	c := proxyConn(t, p, 20*time.Second)
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: c, Name: name, Table: &session.Table{}})
	if err != nil {
		r.err = fmt.Errorf("new: %w", err)
		return r
	}
	defer func() {
		if err := s.Remove(ctx); err != nil && r.err == nil {
			r.err = fmt.Errorf("remove: %w", err)
		}
		_ = s.Close(ctx)
		if r.err != nil {
			r.err = fmt.Errorf("%w; the client's exchanges: %v", r.err, p.exchangesOf(s.WSManSessionID()))
		}
	}()
	for cycle := range cycles {
		var got []string
		collect := func(rs ...session.Result) {
			for _, x := range rs {
				if x.Kind == session.KindOutput {
					got = append(got, fmt.Sprint(clixml.ToGo(x.Output)))
				}
			}
		}
		st, err := s.Invoke(ctx, session.Pipeline{Script: "soak"})
		if err != nil {
			r.err = fmt.Errorf("cycle %d: invoke: %w", cycle, err)
			return r
		}
		for len(got) < m/2 {
			x, ok := <-st.C()
			if !ok {
				break
			}
			collect(x)
		}
		if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
			r.err = fmt.Errorf("cycle %d: disconnect: %w", cycle, err)
			return r
		}
		rest, err := st.Collect(ctx)
		collect(rest...)
		lossReported := errors.Is(err, psrp.ErrObjectIDGap)
		if err != nil && !errors.Is(err, session.ErrDisconnected) && !lossReported {
			r.err = fmt.Errorf("cycle %d: first stream: %w", cycle, err)
			return r
		}
		rec, err := session.Receive(ctx, session.BySession(s), session.ReceiveOptions{OutTarget: session.OutTargetHost})
		if err != nil {
			r.err = fmt.Errorf("cycle %d: receive: %w", cycle, err)
			return r
		}
		rest, err = rec.Stream.Collect(ctx)
		collect(rest...)
		if errors.Is(err, psrp.ErrObjectIDGap) {
			lossReported, err = true, nil
		}
		if err != nil {
			r.err = fmt.Errorf("cycle %d: second stream: %w (got %v)", cycle, err, got)
			return r
		}
		if lossReported {
			// A typed report of output the server did not deliver (its
			// cache of responses for retransmissions forgot one under
			// load): what arrived must still be in order, once.
			prev := -1
			for _, o := range got {
				var i int
				if _, err := fmt.Sscanf(o, "item %d", &i); err != nil || i <= prev || o != numberedItem(i) {
					r.err = fmt.Errorf("cycle %d: %q after item %d (got %v)", cycle, o, prev, got)
					return r
				}
				prev = i
			}
			r.lossReported++
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(items4(m)) {
			r.err = fmt.Errorf("cycle %d: got %v", cycle, got)
			return r
		}
		r.cycles++
	}
	return r
}

func items4(m int) []string {
	out := make([]string, m)
	for i := range out {
		out[i] = numberedItem(i)
	}
	return out
}
