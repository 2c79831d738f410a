package wsmantest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// BenchmarkReceiveThroughput measures output objects received per second
// through the fake server over loopback (server pipeline → PSRP fragments →
// WSMan Receive → client defragmenting and decoding), for small and large
// objects. It is a baseline for the roadmap's Receive targets, which are
// about the client; here the test client and the server share the CPU.
// The server sends one fragment per rsp:Stream element, as Windows does;
// the -packed variants measure Options.PackFragments for comparison.
func BenchmarkReceiveThroughput(b *testing.B) {
	for _, bc := range []struct {
		name  string
		count int
		size  int
		pack  bool
	}{{"small", 5000, 16, false}, {"small-packed", 5000, 16, true}, {"large", 64, 256 << 10, false}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := wsmantest.NewServer(wsmantest.Options{PackFragments: bc.pack})
			defer srv.Close()
			payload := clixml.String(strings.Repeat("x", bc.size))
			srv.HandleScript("produce", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
				for i := 0; i < bc.count; i++ {
					if err := inv.WriteOutput(payload); err != nil {
						return err
					}
				}
				return nil
			}))
			wc := newWSManClient(b, srv, "", "", "")
			c := openPool(b, wc, "", 0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res := c.run("produce")
				if len(res.output) != bc.count {
					b.Fatalf("got %d objects", len(res.output))
				}
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(bc.count*b.N)/secs, "objects/s")
			b.ReportMetric(float64(bc.count*bc.size*b.N)/secs/1e6, "MB/s")
		})
	}
}

// BenchmarkBufferedWrites measures a handler's writes into a deep output
// buffer that nobody receives (a disconnected client): the cost per write
// must not grow with the number of objects already buffered.
func BenchmarkBufferedWrites(b *testing.B) {
	for _, depth := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("depth%d", depth), func(b *testing.B) {
			srv := wsmantest.NewServer(wsmantest.Options{OutputBufferSize: 1 << 30})
			defer srv.Close()
			done := make(chan error, 1)
			srv.HandleScript("produce", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
				start := time.Now()
				for i := 0; i < depth; i++ {
					if err := inv.WriteOutput(clixml.Int32(int32(i))); err != nil {
						done <- err
						return err
					}
				}
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(depth), "ns/write")
				done <- nil
				return nil
			}))
			wc := newWSManClient(b, srv, "", "", "")
			c := openPool(b, wc, "", 0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pl := c.start(context.Background(), "produce", false)
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.terminate(context.Background(), pl)
				b.StartTimer()
			}
		})
	}
}
