package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// benchFull reports whether the benchmarks run at their full sizes
// (PSREMOTING_BENCH_FULL=1); otherwise they run small sizes, so that
// `go test -run '^$' -bench . -benchtime 1x ./...` stays cheap.
func benchFull() bool { return os.Getenv("PSREMOTING_BENCH_FULL") == "1" }

// wsmanLoop is the wsman-level Receive loop of the wsmantest benchmark
// BenchmarkReceiveThroughput, with no session in between: a
// psrp.ClientPool driven over a wsman.Client, one Receive after another
// for one command, every output decoded with clixml.Unmarshal. It is the
// baseline the session's throughput is compared with.
type wsmanLoop struct {
	wc   *wsman.Client
	pool *psrp.ClientPool
	ref  wsman.ShellRef
}

// newWSManLoop creates a PowerShell shell on srv and opens its pool.
func newWSManLoop(ctx context.Context, srv *wsmantest.Server) (*wsmanLoop, error) {
	wc, err := wsman.NewClient(srv.URL, wsman.Config{OperationTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	id := uuid.New()
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
	if err != nil {
		return nil, err
	}
	if err := pool.Open(); err != nil {
		return nil, err
	}
	sh := wsman.PowerShellShell{ShellID: strings.ToUpper(id.String()), ProtocolVersion: psrp.DefaultProtocolVersion}
	if sh.CreationXML, err = pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize()); err != nil {
		return nil, err
	}
	resp, err := wc.CreatePowerShell(ctx, sh)
	if err != nil {
		return nil, err
	}
	l := &wsmanLoop{wc: wc, pool: pool, ref: wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: resp.ShellID()}}
	if err := l.flush(ctx, psrp.PoolTarget, ""); err != nil {
		return nil, err
	}
	for pool.State() != psrp.RunspacePoolOpened {
		rr, err := wc.Receive(ctx, l.ref, &wsman.Receive{})
		if err != nil {
			return nil, err
		}
		if rr.TimedOut {
			continue
		}
		if _, err := pool.ReceiveData(rr.StreamData(wsman.StreamStdout, "")); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *wsmanLoop) flush(ctx context.Context, t psrp.Target, commandID string) error {
	for l.pool.Pending(t) > 0 {
		b, err := l.pool.NextPayload(t, l.wc.MaxPayloadSize())
		if err != nil {
			return err
		}
		if err := l.wc.Send(ctx, l.ref, wsman.Stream{Name: wsman.StreamStdin, CommandID: commandID, Data: b}); err != nil {
			return err
		}
	}
	return nil
}

// run runs script and returns how many output objects it received.
func (l *wsmanLoop) run(ctx context.Context, script string) (int, error) {
	id := uuid.New()
	pl, err := l.pool.NewPipeline(id, &psrp.CreatePipeline{NoInput: true,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: script, IsScript: true}}}})
	if err != nil {
		return 0, err
	}
	if err := pl.Invoke(); err != nil {
		return 0, err
	}
	args, err := l.pool.NextPayload(pl.Target(), l.wc.MaxPayloadSize())
	if err != nil {
		return 0, err
	}
	cid, err := l.wc.Command(ctx, l.ref, &wsman.CommandLine{CommandID: strings.ToUpper(id.String()), Command: script,
		Arguments: wsman.PowerShellArguments(args)})
	if err != nil {
		return 0, err
	}
	if err := l.flush(ctx, pl.Target(), cid); err != nil {
		return 0, err
	}
	n := 0
	for {
		rr, err := l.wc.Receive(ctx, l.ref, &wsman.Receive{CommandID: cid})
		if err != nil {
			return n, err
		}
		if rr.TimedOut {
			continue
		}
		ev, err := l.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, cid))
		if err != nil {
			return n, err
		}
		for _, e := range ev {
			if e, ok := e.(psrp.PipelineOutputReceived); ok {
				if _, err := clixml.Unmarshal(e.Message.Data); err != nil {
					return n, err
				}
				n++
			}
		}
		if rr.CommandState.Done() {
			break
		}
	}
	return n, l.wc.Signal(ctx, l.ref, cid, wsman.SignalTerminate)
}

// close deletes the shell.
func (l *wsmanLoop) close(ctx context.Context) error {
	err := l.wc.Delete(ctx, l.ref)
	l.wc.CloseIdleConnections()
	if err != nil && !errors.Is(err, wsman.ErrShellNotFound) {
		return err
	}
	return nil
}

// writeN is a handler writing payload n times.
func writeN(n int, payload clixml.Value) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		for i := 0; i < n; i++ {
			if err := inv.WriteOutput(payload); err != nil {
				return err
			}
		}
		return nil
	})
}

// peaks samples the Go heap and the goroutine count (runtime/metrics,
// which does not stop the world) every interval until stop, keeping the
// maxima, plus any extra gauge the caller adds.
type peaks struct {
	stopc chan struct{}
	done  chan struct{}

	mu         sync.Mutex
	heapAlloc  uint64 // live and not yet swept objects (MemStats.HeapAlloc)
	heapLive   uint64 // live heap as of the last GC
	goroutines uint64
	extra      func() int
	extraMax   int
}

var peakMetrics = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes", "/sched/goroutines:goroutines"}

// startPeaks starts sampling; extra (may be nil) is sampled too.
func startPeaks(interval time.Duration, extra func() int) *peaks {
	p := &peaks{stopc: make(chan struct{}), done: make(chan struct{}), extra: extra}
	go func() {
		defer close(p.done)
		s := make([]metrics.Sample, len(peakMetrics))
		for i, n := range peakMetrics {
			s[i].Name = n
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			p.sample(s)
			select {
			case <-p.stopc:
				p.sample(s)
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peaks) sample(s []metrics.Sample) {
	metrics.Read(s)
	x := -1
	if p.extra != nil {
		x = p.extra()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heapAlloc = max(p.heapAlloc, s[0].Value.Uint64())
	p.heapLive = max(p.heapLive, s[1].Value.Uint64())
	p.goroutines = max(p.goroutines, s[2].Value.Uint64())
	p.extraMax = max(p.extraMax, x)
}

// stop ends sampling and returns the maxima.
func (p *peaks) stop() (heapAlloc, heapLive, goroutines uint64, extra int) {
	close(p.stopc)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heapAlloc, p.heapLive, p.goroutines, p.extraMax
}

// mib formats bytes as MiB for metric names.
func mib(n int64) string { return fmt.Sprintf("%dMiB", n>>20) }

// goroutineSides counts the goroutines of the fake servers (net/http server
// connections and wsmantest's own) and the rest (the client: sessions and
// their HTTP transports), from the goroutine profile: client and server
// share the benchmark's process.
func goroutineSides() (client, server int) {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	// Records are "N @ pcs" followed by "#\tpc\tfunc+off\tfile:line"
	// frames, innermost first; the last frame is where the goroutine
	// started.
	n, entry := 0, ""
	flush := func() {
		if n == 0 {
			return
		}
		if strings.HasPrefix(entry, "net/http.(*conn)") || strings.HasPrefix(entry, "net/http.(*connReader)") ||
			strings.Contains(entry, "wsmantest") || strings.Contains(entry, "httptest") {
			server += n
		} else {
			client += n
		}
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if at := strings.Index(line, " @ "); at > 0 && !strings.HasPrefix(line, "#") {
			flush()
			n, _ = strconv.Atoi(line[:at])
			entry = ""
			continue
		}
		if f := strings.Split(line, "\t"); len(f) >= 3 && f[0] == "#" {
			entry = f[2]
		}
	}
	flush()
	return client, server
}
