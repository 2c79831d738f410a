package job

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// model is the reference behaviour of a job made by New, for one goroutine.
type model struct {
	state  State
	held   []int
	kept   int
	maxBuf int
}

// FuzzReceiveModel runs a sequence of Emit, Receive (with and without Keep),
// Results with an early break and SetState on a job and on a plain model of
// the rules, and checks they agree.
func FuzzReceiveModel(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 3, 1, 4, 7, 0, 4, 1, 2, 5})
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 3, 0, 0, 4, 2, 2, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const maxBuf = 3
		j, p, _ := newTest(t, nil, maxBuf)
		m := model{maxBuf: maxBuf}
		next := 0
		for i := 0; i < len(ops); i++ {
			arg := 0
			if i+1 < len(ops) {
				arg = int(ops[i+1])
			}
			switch ops[i] % 6 {
			case 0: // Emit with an ended ctx: stores only if it need not wait
				err := p.Emit(cancelled(), next)
				var want error
				switch {
				case m.state.IsFinished():
					want = ErrFinished
				case len(m.held)-m.kept >= m.maxBuf:
					want = context.Canceled
				default:
					m.held = append(m.held, next)
				}
				if !errors.Is(err, want) || (want == nil && err != nil) {
					t.Fatalf("op %d Emit(%d) = %v, want %v", i, next, err, want)
				}
				next++
			case 1, 2: // Receive, Keep or not
				keep := ops[i]%6 == 1
				got := mustReceive(t, j, ReceiveOptions{Keep: keep})
				if !slices.Equal(got, m.held) && (len(got) > 0 || len(m.held) > 0) {
					t.Fatalf("op %d Receive(keep %v) = %v, want %v", i, keep, got, m.held)
				}
				if keep {
					m.kept = len(m.held)
				} else {
					m.held, m.kept = nil, 0
				}
			case 3: // Results, stop after n+1
				n := arg%4 + 1
				i++
				var got []int
				for v, err := range j.Results(testCtx(t), ReceiveOptions{}) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, v)
					if len(got) == n {
						break
					}
				}
				n = min(n, len(m.held))
				if !slices.Equal(got, m.held[:n]) && n > 0 {
					t.Fatalf("op %d Results = %v, want %v", i, got, m.held[:n])
				}
				m.held = m.held[n:]
				m.kept = max(0, m.kept-n)
			case 4: // SetState
				s := State(arg % 11)
				i++
				err := p.SetState(s, nil)
				var want error
				switch {
				case m.state.IsFinished():
					want = ErrFinished
				case s == m.state:
				case s == NotStarted:
					want = ErrInvalidState
				default:
					m.state = s
				}
				if !errors.Is(err, want) || (want == nil && err != nil) {
					t.Fatalf("op %d SetState(%v) = %v, want %v", i, s, err, want)
				}
			case 5:
			}
			wantMore := !m.state.IsFinished() || len(m.held) > 0
			if j.State() != m.state || j.HasMoreData() != wantMore {
				t.Fatalf("op %d: state %v more %v, want %v %v", i, j.State(), j.HasMoreData(), m.state, wantMore)
			}
		}
	})
}

// TestConcurrentEmitReceive runs producers and consumers at once, with a
// small buffer, mixing Receive with and without Keep and Results with early
// breaks, and checks that every result is taken exactly once, that results
// returned with Keep are results that were emitted, each producer's in
// order, and that nothing is left.
func TestConcurrentEmitReceive(t *testing.T) {
	for seed := range uint64(3) {
		t.Run("", func(t *testing.T) { concurrentRun(t, seed) })
	}
}

func concurrentRun(t *testing.T, seed uint64) {
	const producers, perProducer, consumers = 4, 300, 3
	j, p, _ := newTest(t, nil, 4)
	mustSet(t, p, Running, nil)
	var pwg sync.WaitGroup
	for k := range producers {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := range perProducer {
				if err := p.Emit(testCtx(t), k*perProducer+i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() {
		pwg.Wait()
		_ = p.SetState(Completed, nil)
	}()
	taken := make([][]int, consumers)
	var cwg sync.WaitGroup
	for c := range consumers {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			checkOrder := func(vs []int) {
				last := make(map[int]int)
				for _, v := range vs {
					if v < 0 || v >= producers*perProducer {
						t.Errorf("unknown value %d", v)
					}
					if l, ok := last[v/perProducer]; ok && v <= l {
						t.Errorf("producer %d's results out of order: %d after %d", v/perProducer, v, l)
					}
					last[v/perProducer] = v
				}
			}
			for {
				finished := j.State().IsFinished()
				switch rng.IntN(4) {
				case 0:
					vs, err := j.Receive(testCtx(t), ReceiveOptions{Keep: true})
					if err != nil {
						t.Error(err)
						return
					}
					checkOrder(vs)
				case 1:
					vs, err := j.Receive(testCtx(t), ReceiveOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					checkOrder(vs)
					taken[c] = append(taken[c], vs...)
				case 2:
					n := rng.IntN(5) + 1
					var vs []int
					for v, err := range j.Results(testCtx(t), ReceiveOptions{}) {
						if err != nil {
							t.Error(err)
							return
						}
						vs = append(vs, v)
						if len(vs) == n {
							break
						}
					}
					checkOrder(vs)
					taken[c] = append(taken[c], vs...)
				case 3:
					vs, err := j.Receive(testCtx(t), ReceiveOptions{Wait: true})
					if err != nil {
						t.Error(err)
						return
					}
					checkOrder(vs)
					taken[c] = append(taken[c], vs...)
				}
				if finished && !j.HasMoreData() {
					return
				}
			}
		}()
	}
	cwg.Wait()
	var all []int
	for _, vs := range taken {
		all = append(all, vs...)
	}
	slices.Sort(all)
	if len(all) != producers*perProducer {
		t.Fatalf("%d results taken, want %d", len(all), producers*perProducer)
	}
	for i, v := range all {
		if v != i {
			t.Fatalf("result %d lost or duplicated (at %d)", i, v)
		}
	}
}
