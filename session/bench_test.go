package session_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// BenchmarkReceiveSmallObjects compares the throughput of many small
// objects (5,000 strings of 16 characters per command) received through
// the session API (Session.Invoke, Stream.All) with the wsman-level
// Receive loop of wsmantest's BenchmarkReceiveThroughput (a
// psrp.ClientPool over a wsman.Client, nothing in between), both against
// the same fake server (default options: one fragment per rsp:Stream
// element, as Windows sends) in the same run. Each iteration runs both
// loops once, alternating which goes first. It reports objects/s for
// both and session/wsman, the ratio the roadmap wants at 0.9 or more.
// Use -benchtime 20x or more for stable figures.
func BenchmarkReceiveSmallObjects(b *testing.B) {
	const count = 5000
	srv := newServer(b, wsmantest.Options{})
	srv.HandleScript("produce", writeN(count, clixml.String(strings.Repeat("x", 16))))
	ctx := testCtx(b)
	wl, err := newWSManLoop(ctx, srv)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = wl.close(context.Background()) }()
	s := newSession(b, srv, "bench", &session.Table{})

	runWSMan := func() time.Duration {
		start := time.Now()
		n, err := wl.run(ctx, "produce")
		if err != nil || n != count {
			b.Fatalf("wsman loop: %d objects, %v", n, err)
		}
		return time.Since(start)
	}
	runSession := func() time.Duration {
		start := time.Now()
		st, err := s.Invoke(ctx, session.Pipeline{Script: "produce"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r, err := range st.All() {
			if err != nil {
				b.Fatal(err)
			}
			if r.Kind == session.KindOutput {
				n++
			}
		}
		if n != count {
			b.Fatalf("session: %d objects", n)
		}
		return time.Since(start)
	}
	var dw, ds time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			dw += runWSMan()
			ds += runSession()
		} else {
			ds += runSession()
			dw += runWSMan()
		}
	}
	b.StopTimer()
	ws := float64(count*b.N) / dw.Seconds()
	ss := float64(count*b.N) / ds.Seconds()
	b.ReportMetric(ws, "wsman-objects/s")
	b.ReportMetric(ss, "session-objects/s")
	b.ReportMetric(ss/ws, "session/wsman")
}

// BenchmarkSlowConsumerHeap reads a command producing large totals of
// 256 KiB strings through Session.Invoke with a slow consumer: it takes one
// object a millisecond, and stops reading for 200 ms at the start and
// after every 64 MiB, long enough for every buffer to fill (the Stream's
// 64 results, the server's output buffer, the producer blocked), since at
// one object a millisecond alone the consumer (256 MiB/s) would be faster
// than the transfer. It reports the peak Go heap (sampled every
// millisecond with runtime/metrics: heap-peak-MiB is the allocated heap,
// live or not yet collected, like MemStats.HeapAlloc; live-peak-MiB the
// heap live after a GC) for each total: the peak must stay under 64 MiB
// and not grow with the total. The server runs in BufferMode Block (the
// default) with its 1 MiB output buffer; server-buffered-peak-KiB is the
// most the fake server held for the command, and blocked-% the share of
// samples in which its producer was suspended waiting for room.
func BenchmarkSlowConsumerHeap(b *testing.B) {
	const objSize, stallEvery = 256 << 10, 64 << 20
	totals := []int64{8 << 20, 32 << 20}
	if benchFull() {
		totals = []int64{256 << 20, 1 << 30}
	}
	payload := clixml.String(strings.Repeat("x", objSize))
	for _, total := range totals {
		b.Run(mib(total), func(b *testing.B) {
			count := int(total / objSize)
			srv := newServer(b, wsmantest.Options{})
			srv.HandleScript("produce", writeN(count, payload))
			s, err := session.New(testCtx(b), session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{}})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close(context.Background()) }()
			shellID := strings.ToUpper(s.InstanceID().String())
			var samples, blocked atomic.Int64
			serverBuffered := func() int {
				sh, ok := srv.Shell(shellID)
				if !ok {
					return 0
				}
				n := 0
				for _, c := range sh.Commands {
					n += c.Buffered
					if c.Blocked {
						blocked.Add(1)
					}
				}
				samples.Add(1)
				return n
			}
			ctx := testCtx(b)
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := startPeaks(time.Millisecond, serverBuffered)
				st, err := s.Invoke(ctx, session.Pipeline{Script: "produce"})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r, err := range st.All() {
					if err != nil {
						b.Fatal(err)
					}
					if r.Kind == session.KindOutput {
						if n%(stallEvery/objSize) == 0 {
							time.Sleep(200 * time.Millisecond)
						}
						n++
						time.Sleep(time.Millisecond)
					}
				}
				heap, live, _, srvMax := p.stop()
				if n != count {
					b.Fatalf("%d objects, want %d", n, count)
				}
				b.ReportMetric(float64(heap)/(1<<20), "heap-peak-MiB")
				b.ReportMetric(float64(live)/(1<<20), "live-peak-MiB")
				b.ReportMetric(float64(srvMax)/(1<<10), "server-buffered-peak-KiB")
				if samples.Load() > 0 {
					b.ReportMetric(100*float64(blocked.Load())/float64(samples.Load()), "blocked-%")
				}
			}
			b.ReportMetric(float64(total*int64(b.N))/b.Elapsed().Seconds()/(1<<20), "MiB/s")
		})
	}
}

// BenchmarkReceiveManySessions receives (session.Receive, BySession, the
// default ThrottleLimit of 32) from many disconnected sessions spread over
// four fake servers on loopback, each with one command that wrote 20
// small objects while disconnected, and reads the merged stream to the
// end. The sessions are made from tokens (FromToken) after the sessions
// that started the commands were closed, as another process would
// receive them: no connection is open when the Receive starts.
//
// It reports the wall time of the Receive (wall-ms), the peak goroutines
// (goroutines-peak, all of the process: the fake servers run in it too)
// and the peak heap during it. To show that nothing grows with the
// finished sessions, it reports the goroutines above the pre-Receive
// baseline when half and when all of the commands had finished
// (goroutines-at-50%, goroutines-at-100%: the second must not exceed the
// first, a finished command leaves nothing behind); after the stream
// ended, the client's goroutines per session (the goroutine profile minus
// the fake servers' HTTP connections; client-goroutines/session-after is
// what a received session, which stays connected with its pool's long
// poll as in PowerShell, keeps; client-goroutines/session-before the same
// before the Receive), and live-KiB/session, the live heap per connected
// session once the stream ended (client and fake servers). The sessions
// are closed after the timing.
//
// By default 100 sessions (cheap enough for the -benchtime 1x smoke run);
// with PSREMOTING_BENCH_FULL=1, 250 and 1,000 so the two can be compared.
func BenchmarkReceiveManySessions(b *testing.B) {
	counts := []int{100}
	if benchFull() {
		counts = []int{250, 1000}
	}
	const servers, perCommand = 4, 20
	for _, total := range counts {
		b.Run(fmt.Sprintf("sessions%d", total), func(b *testing.B) {
			srvs := make([]*wsmantest.Server, servers)
			for i := range srvs {
				srvs[i] = newServer(b, wsmantest.Options{ComputerName: fmt.Sprintf("SERVER%02d", i)})
				srvs[i].HandleScript("produce", writeN(perCommand, clixml.String(strings.Repeat("y", 16))))
			}
			ctx := testCtx(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tab := &session.Table{}
				sessions := make([]*session.Session, total)
				// Set up in parallel, bounded: each session runs the
				// command and disconnects.
				var wg sync.WaitGroup
				errc := make(chan error, total)
				sem := make(chan struct{}, 16)
				for k := range sessions {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						o := session.NewOptions{ConnectionOptions: conn(srvs[k%servers]), Table: tab}
						s, _, err := session.InvokeInDisconnectedSession(ctx, o, session.Pipeline{Script: "produce"},
							session.DisconnectOptions{})
						if err != nil {
							errc <- err
							return
						}
						// Receive as another process would: from a
						// token, with no connection open.
						tok := s.Token()
						if err := s.Close(ctx); err != nil {
							errc <- err
							return
						}
						if sessions[k], err = session.FromToken(tok, o); err != nil {
							errc <- err
						}
					}()
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					b.Fatal(err)
				}
				runtime.GC()
				base := runtime.NumGoroutine()
				clientBase, _ := goroutineSides()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				b.StartTimer()

				p := startPeaks(time.Millisecond, nil)
				start := time.Now()
				rec, err := session.Receive(ctx, session.BySession(sessions...), session.ReceiveOptions{Table: tab})
				if err != nil {
					b.Fatal(err)
				}
				outputs, finished := 0, 0
				var at50, at100 int
				for r, err := range rec.Stream.All() {
					if err != nil {
						b.Fatal(err)
					}
					switch r.Kind {
					case session.KindOutput:
						outputs++
					case session.KindState:
						if r.State.Terminal() {
							finished++
							switch finished {
							case total / 2:
								at50 = runtime.NumGoroutine() - base
							case total:
								at100 = runtime.NumGoroutine() - base
							}
						}
					}
				}
				wall := time.Since(start)
				heap, _, gor, _ := p.stop()
				b.StopTimer()
				clientAfter, _ := goroutineSides()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if outputs != total*perCommand || finished != total {
					b.Fatalf("%d outputs, %d commands finished; want %d, %d", outputs, finished, total*perCommand, total)
				}
				b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
				b.ReportMetric(float64(gor), "goroutines-peak")
				b.ReportMetric(float64(heap)/(1<<20), "heap-peak-MiB")
				b.ReportMetric(float64(at50), "goroutines-at-50%")
				b.ReportMetric(float64(at100), "goroutines-at-100%")
				b.ReportMetric(float64(clientAfter)/float64(total), "client-goroutines/session-after")
				b.ReportMetric(float64(clientBase)/float64(total), "client-goroutines/session-before")
				b.ReportMetric(float64(ms.HeapAlloc)/float64(total)/1024, "live-KiB/session")

				for _, s := range sessions {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						_ = s.Close(context.Background())
					}()
				}
				wg.Wait()
				b.StartTimer()
			}
		})
	}
}
