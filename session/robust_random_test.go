package session_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRobustSessionRandomFaults runs the flow through the proxy cutting
// connections at random points (before the request, inside it, after the
// server handled it, inside the response at a random byte, short outages
// with the listener restarted, latency), several faults per run, over many
// seeds (PSREMOTING_SOAK=1: ten times more).
func TestRobustSessionRandomFaults(t *testing.T) {
	const n = 16
	seeds := 20
	if os.Getenv("PSREMOTING_SOAK") != "" {
		seeds = 200
	}
	faults := []pfault{pDropBefore, pDropAfter, pMidResponse, pLatency, pOutage, pCutRequest, pCutResponse}
	outcomes := map[string]int{}
	injected := 0
	for seed := range seeds {
		name := fmt.Sprintf("seed %d", seed)
		srv := newRobustServer(t, n, time.Millisecond)
		p := newTCPProxy(t, hostOf(t, srv.URL), nil)
		p.seed(uint64(seed))
		p.outage = 30 * time.Millisecond
		p.setPlan(func(ex exchange) pfault {
			if p.rng.IntN(5) != 0 { // the plan runs under p.mu
				return pNone
			}
			return faults[p.rng.IntN(len(faults))]
		})
		r := runFlow(t, flowCtx(t), flowConfig{srv: srv, proxy: p, n: n, name: fmt.Sprintf("r%d", seed),
			window: 5 * time.Second, recover: true})
		if r.err != nil && len(r.got) != n {
			t.Logf("%s: exchanges %v", name, p.exchanges())
		}
		outcome := checkFlow(t, name, n, r, true)
		if r.err != nil {
			t.Errorf("%s: step %s failed: %v (exchanges %v)", name, r.step, r.err, p.exchanges())
		}
		outcomes[outcome]++
		for _, e := range p.exchanges() {
			if len(e) < 5 || e[len(e)-5:] != ":none" {
				injected++
			}
		}
		p.Close()
		assert.Empty(t, shellsLeft(srv.Server), "%s: shells left on the server", name)
		srv.Close()
	}
	t.Logf("random faults: %d seeds, %d faults injected, outcomes %v", seeds, injected, outcomes)
}
