package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkKerberosConcurrent measures 4 KiB round trips from 16 concurrent
// callers over loopback, sealed over HTTP and over HTTPS, with 1 and 4
// pooled connections, with a server that answers at once and one that
// takes 1 ms per request (as a real server and network do). ops/s is the
// throughput of the client; auths counts the connections authenticated
// (sealing contexts or accepted tokens).
func BenchmarkKerberosConcurrent(b *testing.B) {
	body := strings.Repeat("x", 4096)
	for _, m := range krbPoolModes[:2] {
		for _, latency := range []time.Duration{0, time.Millisecond} {
			for _, conns := range []int{1, 4} {
				b.Run(fmt.Sprintf("%s/latency=%v/conns=%d", m.name, latency, conns), func(b *testing.B) {
					p := newKRBPool(b, m.tls, false)
					if latency > 0 {
						p.onRequest = func(*http.Request, string) { time.Sleep(latency) }
					}
					c, _ := p.client(b, func(cfg *KerberosConfig) { cfg.MaxConnections = conns })
					b.SetParallelism(8)
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if got, err := post(context.Background(), c, p.srv.URL, body); err != nil || len(got) != len(body)+5 {
								b.Errorf("round trip: %v (%d bytes)", err, len(got))
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
					b.ReportMetric(float64(p.totalAuths()), "auths")
				})
			}
		}
	}
}
