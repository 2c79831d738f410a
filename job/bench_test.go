package job

import (
	"context"
	"testing"
)

// BenchmarkEmitReceive measures results through a job: one producer emits
// b.N results while one consumer takes them one by one with the Results
// iterator (Receive -Wait), through a buffer of DefaultMaxBuffered.
func BenchmarkEmitReceive(b *testing.B) {
	j, p, _ := newTest(b, nil, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			_ = p.Emit(ctx, i)
		}
		_ = p.SetState(Completed, nil)
	}()
	n := 0
	for _, err := range j.Results(ctx, ReceiveOptions{Wait: true}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	if n != b.N {
		b.Fatalf("received %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
}

// BenchmarkEmitReceiveBatch is the same with Receive -Wait without Keep,
// which takes every available result at once and frees the buffer.
func BenchmarkEmitReceiveBatch(b *testing.B) {
	j, p, _ := newTest(b, nil, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			_ = p.Emit(ctx, i)
		}
		_ = p.SetState(Completed, nil)
	}()
	got, err := j.Receive(ctx, ReceiveOptions{Wait: true})
	b.StopTimer()
	if err != nil || len(got) != b.N {
		b.Fatalf("received %d of %d: %v", len(got), b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
}
