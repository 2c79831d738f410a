package wsmantest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// The fault-injection matrix of issue 11 at the wsman level: a flow that
// creates a PowerShell shell, opens its pool, runs a pipeline writing
// numbered objects and receives them in several Receive round trips, then
// signals and deletes, through a loopback proxy that breaks one chosen
// connection (each HTTP exchange has its own: keep-alive is off). Every run
// must end with exactly the objects in order, or with a typed error
// (*wsman.NetworkError, psrp.ErrObjectIDGap); never a loss, a duplicate, a
// hang or a panic.

const (
	matrixObjects = 12
	objectPadding = 1500 // bytes per object, so that the output needs several Receives
)

func numbered(i int) string {
	return fmt.Sprintf("object %03d %s", i, strings.Repeat("x", objectPadding))
}

func numbersServer(t *testing.T) *wsmantest.Server {
	srv, _ := gatedNumbersServer(t)
	return srv
}

// gatedNumbersServer's "numbers" writes the first half of the objects,
// waits for the gate of the run (see setGate; open unless set), then writes
// the rest.
func gatedNumbersServer(t *testing.T) (*wsmantest.Server, func(chan struct{})) {
	t.Helper()
	srv := wsmantest.NewServer(wsmantest.Options{}) // no authentication
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	open := make(chan struct{})
	close(open)
	gate := open
	setGate := func(g chan struct{}) {
		mu.Lock()
		gate = g
		mu.Unlock()
	}
	srv.HandleScript("numbers", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		mu.Lock()
		g := gate
		mu.Unlock()
		for i := range matrixObjects {
			if i == matrixObjects/2 {
				select {
				case <-g:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := inv.WriteOutput(clixml.String(numbered(i))); err != nil {
				return err
			}
		}
		return nil
	}))
	return srv, setGate
}

// robustClient is a wsman.Client to the proxy with retries on (unless
// window is 0) and no keep-alive.
func robustClient(t *testing.T, proxyAddr string, window time.Duration, events func(wsman.RetryEvent)) *wsman.Client {
	t.Helper()
	return robustClientCfg(t, proxyAddr, func(c *wsman.Config) {
		c.Retry.Window = window
		c.Retry.OnEvent = events
	})
}

// robustClientCfg is robustClient with the configuration changed by edit
// (the window defaults to 20s, a hang guard).
func robustClientCfg(t *testing.T, proxyAddr string, edit func(*wsman.Config)) *wsman.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := wsman.Config{
		Transport:        tr,
		OperationTimeout: 2 * time.Second,
		MaxEnvelopeSize:  8192,
		Retry:            wsman.RetryPolicy{Window: 20 * time.Second, Interval: 10 * time.Millisecond},
	}
	edit(&cfg)
	wc, err := wsman.NewClient("http://"+proxyAddr+"/wsman", cfg)
	require.NoError(t, err)
	return wc
}

// flowResult is what one run of the flow produced.
type flowResult struct {
	output     []string
	completed  bool
	reattached bool // the flow went on from a new client
	err        error
}

// flowOpts vary the flow.
type flowOpts struct {
	// resend: receive again after a network error (what a naive caller
	// does without retransmission).
	resend bool
	// reattach, when set, makes the flow disconnect the shell after the
	// first output and continue from a new client (new wsmv:SessionId)
	// that reattach returns: Connect, ConnectCommand, Receive.
	reattach func(old *wsman.Client) *wsman.Client
}

// runNumbersFlow runs the flow; it never calls t.Fatal for a protocol or
// network error (those are the result), only for test bugs.
func runNumbersFlow(ctx context.Context, wc *wsman.Client, opts flowOpts) (res flowResult) {
	resend := opts.resend
	fail := func(err error) flowResult { res.err = err; return res }
	id := uuid.New()
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
	if err != nil {
		return fail(err)
	}
	if err := pool.Open(); err != nil {
		return fail(err)
	}
	sh := wsman.PowerShellShell{ShellID: strings.ToUpper(id.String()), ProtocolVersion: psrp.DefaultProtocolVersion}
	if sh.CreationXML, err = pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize()); err != nil {
		return fail(err)
	}
	created, err := wc.CreatePowerShell(ctx, sh)
	if err != nil {
		return fail(err)
	}
	ref := wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: created.ShellID()}
	defer func() {
		// Best effort, like a caller's deferred cleanup (wc is the
		// current client).
		_ = wc.Delete(context.WithoutCancel(ctx), ref)
	}()
	for pool.State() != psrp.RunspacePoolOpened {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{})
		if err != nil {
			return fail(err)
		}
		if _, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, "")); err != nil {
			return fail(err)
		}
	}
	pl, err := pool.NewPipeline(uuid.New(), &psrp.CreatePipeline{NoInput: true,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: "numbers", IsScript: true}}}})
	if err != nil {
		return fail(err)
	}
	if err := pl.Invoke(); err != nil {
		return fail(err)
	}
	args, err := pool.NextPayload(pl.Target(), wc.MaxPayloadSize())
	if err != nil {
		return fail(err)
	}
	cid := strings.ToUpper(pl.ID().String())
	if _, err := wc.Command(ctx, ref, &wsman.CommandLine{CommandID: cid, Command: "numbers",
		Arguments: wsman.PowerShellArguments(args)}); err != nil {
		return fail(err)
	}
	for {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: cid})
		if err != nil {
			if resend && wsman.IsNetworkError(err) {
				continue // what a naive caller does: receive again
			}
			return fail(err)
		}
		if rr.TimedOut {
			continue
		}
		ev, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, cid))
		for _, e := range ev {
			switch e := e.(type) {
			case psrp.PipelineOutputReceived:
				v, uerr := clixml.Unmarshal(e.Message.Data)
				if uerr != nil {
					return fail(uerr)
				}
				res.output = append(res.output, string(v.(clixml.String)))
			case psrp.PipelineStateChanged:
				res.completed = e.New == psrp.PSInvocationCompleted
			}
		}
		if err != nil {
			return fail(err)
		}
		if opts.reattach != nil && len(res.output) > 0 && !rr.CommandState.Done() && pool.PartialMessages() == 0 {
			// Disconnect, and go on from a new client.
			oldWC, newWC := wc, opts.reattach(wc)
			opts.reattach = nil
			if pool, pl, err = reattachFlow(ctx, pool, oldWC, newWC, ref, cid); err != nil {
				return fail(err)
			}
			wc = newWC
			res.reattached = true
			continue
		}
		if rr.CommandState.Done() {
			if err := pool.StreamEnded(pl.ID()); err != nil {
				return fail(err)
			}
			break
		}
	}
	if !res.completed {
		return fail(errors.New("the pipeline ended in another state than Completed"))
	}
	if err := wc.Signal(ctx, ref, cid, wsman.SignalTerminate); err != nil {
		return fail(err)
	}
	return res
}

// reattachFlow disconnects the shell through oldWC and connects a new pool
// to it through wc, adopting the command.
func reattachFlow(ctx context.Context, old *psrp.ClientPool, oldWC, wc *wsman.Client, ref wsman.ShellRef, cid string) (*psrp.ClientPool, *psrp.ClientPipeline, error) {
	if _, err := old.BeginDisconnect(); err != nil {
		return nil, nil, err
	}
	if err := oldWC.Disconnect(ctx, ref, &wsman.Disconnect{}); err != nil {
		return nil, nil, err
	}
	id, err := uuid.Parse(ref.ShellID)
	if err != nil {
		return nil, nil, err
	}
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
	if err != nil {
		return nil, nil, err
	}
	if err := pool.Connect(); err != nil {
		return nil, nil, err
	}
	cx, err := pool.ConnectPayload(wc.MaxPayloadSize())
	if err != nil {
		return nil, nil, err
	}
	resp, err := wc.Connect(ctx, ref, cx, psrp.DefaultProtocolVersion)
	if err != nil {
		return nil, nil, err
	}
	if _, err := pool.ReceiveData(resp.ConnectResponseXML); err != nil {
		return nil, nil, err
	}
	plID, err := uuid.Parse(cid)
	if err != nil {
		return nil, nil, err
	}
	pl, err := pool.AdoptPipeline(plID)
	if err != nil {
		return nil, nil, err
	}
	if err := wc.ConnectCommand(ctx, ref, cid); err != nil {
		return nil, nil, err
	}
	return pool, pl, nil
}

// checkRun asserts the outcome rules and classifies the run.
func checkRun(t *testing.T, name string, r flowResult) string {
	t.Helper()
	want := make([]string, matrixObjects)
	for i := range want {
		want[i] = numbered(i)
	}
	// Whatever the outcome: no duplicate, in order, nothing invented; and
	// an object skipped (lost) is reported as a gap.
	prev, skipped := -1, false
	for _, o := range r.output {
		var i int
		_, err := fmt.Sscanf(o, "object %d", &i)
		require.NoError(t, err, name)
		require.Equal(t, numbered(i), o, name)
		require.Greater(t, i, prev, "%s: object %d after %d (a duplicate or out of order)", name, i, prev)
		skipped = skipped || i != prev+1
		prev = i
	}
	if skipped {
		require.ErrorIs(t, r.err, psrp.ErrObjectIDGap, "%s: an object was lost: %v", name, r.err)
	}
	if r.err == nil {
		require.Equal(t, want, r.output, "%s: a success delivers every object", name)
		return "complete"
	}
	var ne *wsman.NetworkError
	switch {
	case errors.As(r.err, &ne):
		return "network error (" + ne.Action + ")"
	case errors.Is(r.err, psrp.ErrObjectIDGap):
		return "gap error"
	}
	t.Fatalf("%s: untyped error %T: %v", name, r.err, r.err)
	return ""
}

func matrixCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // hang guard
	t.Cleanup(cancel)
	return ctx
}

// TestRobustMatrix breaks each connection of the flow in turn with each
// fault, with retransmission on; "reattach" is the flow that disconnects
// after the first output and continues from a new client (Disconnect,
// Connect, ConnectCommand and the Receives of the new client are broken
// too).
func TestRobustMatrix(t *testing.T) {
	for _, variant := range []string{"straight", "reattach"} {
		t.Run(variant, func(t *testing.T) { robustMatrix(t, variant == "reattach") })
	}
}

func robustMatrix(t *testing.T, reattach bool) {
	srv, setGate := gatedNumbersServer(t)
	upstream := mustHost(t, srv.URL)
	// newClient returns the flow's first client and its options; the
	// events of every client of the run go to events.
	newClient := func(addr string, events func(wsman.RetryEvent)) (*wsman.Client, flowOpts) {
		wc := robustClient(t, addr, 20*time.Second, events)
		var opts flowOpts
		if reattach {
			// The second half of the output comes once the flow has
			// moved to the new client.
			gate := make(chan struct{})
			setGate(gate)
			opts.reattach = func(old *wsman.Client) *wsman.Client {
				defer close(gate)
				return robustClientCfg(t, addr, func(c *wsman.Config) {
					c.Retry.OnEvent = events
					// What the old client learnt holds for the new one.
					c.Retry.AssumeSupported = old.RobustConnections(wsman.PowerShellResourceURI(""))
				})
			}
		}
		return wc, opts
	}

	// A clean run first: how many connections the flow uses.
	clean := newFaultProxy(t, upstream, func(int) fault { return faultNone })
	wc, opts := newClient(clean.addr, nil)
	r := runNumbersFlow(matrixCtx(t), wc, opts)
	require.NoError(t, r.err)
	checkRun(t, "clean", r)
	require.Equal(t, reattach, r.reattached)
	conns := len(clean.faults())
	clean.Close()
	require.Greater(t, conns, 6, "the flow makes several exchanges")

	outcomes := map[string]int{}
	var retried int
	runs := 0
	for _, f := range []fault{faultDropBefore, faultDropAfter, faultMidResponse, faultOutage, faultLatency} {
		for k := range conns + 1 {
			name := fmt.Sprintf("%s at exchange %d", f, k)
			p := newFaultProxy(t, upstream, func(n int) fault {
				if n == k {
					return f
				}
				return faultNone
			})
			var mu sync.Mutex
			var kinds []wsman.RetryEventKind
			wc, opts := newClient(p.addr, func(ev wsman.RetryEvent) {
				mu.Lock()
				kinds = append(kinds, ev.Kind)
				mu.Unlock()
			})
			r := runNumbersFlow(matrixCtx(t), wc, opts)
			outcome := checkRun(t, name, r)
			outcomes[f.String()+": "+outcome]++
			runs++
			p.Close()
			mu.Lock()
			if len(kinds) > 0 {
				retried++
				assert.Equal(t, wsman.NetworkFailureDetected, kinds[0], name)
				if r.err == nil {
					assert.Equal(t, wsman.ConnectionRetrySucceeded, kinds[len(kinds)-1], name)
				}
			}
			mu.Unlock()
			// Only the first request of a client (Create) may fail: the
			// client does not know yet that the server supports
			// retransmission, and cannot tell whether it was run.
			if r.err != nil {
				var ne *wsman.NetworkError
				require.ErrorAs(t, r.err, &ne, name)
				assert.Equal(t, "Create", ne.Action, "%s: %v", name, r.err)
			}
		}
	}
	t.Logf("matrix: %d connections per flow, %d runs (%d retransmitted), outcomes %v", conns, runs, retried, outcomes)
}

// TestRobustRandomFaults breaks connections at random, several per run,
// over many seeds.
func TestRobustRandomFaults(t *testing.T) {
	srv := numbersServer(t)
	upstream := mustHost(t, srv.URL)
	const seeds = 30
	outcomes := map[string]int{}
	faults := 0
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 11))
		var mu sync.Mutex
		p := newFaultProxy(t, upstream, func(n int) fault {
			mu.Lock()
			defer mu.Unlock()
			if n == 0 || rng.IntN(4) != 0 {
				return faultNone // the Create is left alone here (see TestRobustMatrix)
			}
			return fault(1 + rng.IntN(5))
		})
		r := runNumbersFlow(matrixCtx(t), robustClient(t, p.addr, 20*time.Second, nil), flowOpts{})
		outcomes[checkRun(t, fmt.Sprintf("seed %d", seed), r)]++
		for _, f := range p.faults() {
			if f != faultNone {
				faults++
			}
		}
		p.Close()
		require.NoError(t, r.err, "seed %d: with retransmission every run completes", seed)
	}
	t.Logf("random faults: %d seeds, %d faults injected, outcomes %v", seeds, faults, outcomes)
}

// TestGapDetectedWithoutRetransmission: with retries off, a Receive
// response lost after the server handled it loses its output; a caller that
// simply receives again (as pypsrp does) gets a psrp.GapError naming the
// missing ObjectIds, never a silent success.
func TestGapDetectedWithoutRetransmission(t *testing.T) {
	srv := numbersServer(t)
	upstream := mustHost(t, srv.URL)
	clean := newFaultProxy(t, upstream, func(int) fault { return faultNone })
	r := runNumbersFlow(matrixCtx(t), robustClient(t, clean.addr, 0, nil), flowOpts{})
	require.NoError(t, r.err)
	faults := clean.faults()
	clean.Close()
	// Exchanges: Create, pool Receive(s), Command, then the pipeline's
	// Receives; drop the response of the first pipeline Receive that
	// carries output, i.e. the exchange after the Command.
	var gaps int
	for k := 3; k < len(faults)-2; k++ {
		p := newFaultProxy(t, upstream, func(n int) fault {
			if n == k {
				return faultDropAfter
			}
			return faultNone
		})
		r := runNumbersFlow(matrixCtx(t), robustClient(t, p.addr, 0, nil), flowOpts{resend: true})
		p.Close()
		outcome := checkRun(t, fmt.Sprintf("drop-after at %d, no retransmission", k), r)
		if outcome == "gap error" {
			gaps++
			var ge *psrp.GapError
			require.ErrorAs(t, r.err, &ge)
			assert.True(t, len(ge.Missing) > 0 || ge.Truncated, "the error says what is missing: %v", ge)
			assert.Less(t, len(r.output), matrixObjects, "objects were lost, and the caller is told")
			t.Logf("drop-after at %d: %d objects received, %v", k, len(r.output), r.err)
		}
	}
	require.Positive(t, gaps, "a lost Receive response is detected")
	t.Logf("gap detected in %d runs", gaps)
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}
