package psrp

import (
	"math/rand/v2"
	"testing"
)

// pendingByWalk is the definition of Pending: every queued message's
// remaining bytes plus a header per fragment still needed.
func pendingByWalk(f *Fragmenter) int {
	total := 0
	for _, q := range f.queue {
		total += f.fragCount(len(q.data))*FragmentHeaderSize + len(q.data)
	}
	return total
}

// TestFragmenterPendingRunningTotal checks that the constant-time Pending
// agrees with walking the queue through every operation that changes it.
func TestFragmenterPendingRunningTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := NewFragmenter(MinFragmentSize+40, nil)
	for step := 0; step < 5000; step++ {
		switch op := rng.IntN(10); {
		case op < 4:
			f.Queue(make([]byte, rng.IntN(300)))
		case op < 7:
			if _, err := f.NextPayload(MinFragmentSize + rng.IntN(400)); err != nil {
				t.Fatal(err)
			}
		case op == 7:
			f.SetMaxFragmentSize(MinFragmentSize + rng.IntN(200))
		case op == 8:
			f.dropOldestUnsent()
		default:
			if rng.IntN(20) == 0 {
				f.discard()
			}
		}
		if got, want := f.Pending(), pendingByWalk(f); got != want {
			t.Fatalf("step %d: Pending() = %d, walking the queue gives %d", step, got, want)
		}
	}
	// Draining everything leaves nothing pending.
	for f.Len() > 0 {
		if _, err := f.NextPayload(1 << 16); err != nil {
			t.Fatal(err)
		}
	}
	if f.Pending() != 0 {
		t.Fatalf("Pending() = %d after draining", f.Pending())
	}
}

// BenchmarkFragmenterPendingDeepQueue measures Pending with many queued
// messages (it used to walk the queue).
func BenchmarkFragmenterPendingDeepQueue(b *testing.B) {
	f := NewFragmenter(0, nil)
	for i := 0; i < 20000; i++ {
		f.Queue(make([]byte, 100))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if f.Pending() == 0 {
			b.Fatal("empty")
		}
	}
}
