package job

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestReceiveWaitStreamsUntilFinished(t *testing.T) {
	j, p, _ := newTest(t, nil, 4) // fewer slots than results: Wait must take as they come
	go func() {
		_ = p.SetState(Running, nil)
		for i := range 100 {
			_ = p.Emit(context.Background(), i)
		}
		_ = p.SetState(Completed, nil)
	}()
	got := mustReceive(t, j, ReceiveOptions{Wait: true})
	want := make([]int, 100)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Receive -Wait = %v", got)
	}
	if j.State() != Completed || j.HasMoreData() {
		t.Fatalf("after: %v %v", j.State(), j.HasMoreData())
	}
}

func TestReceiveWaitKeepDoesNotDeadlock(t *testing.T) {
	// Kept results do not count against MaxBuffered, so Wait+Keep sees the end.
	j, p, _ := newTest(t, nil, 2)
	go func() {
		for i := range 10 {
			_ = p.Emit(context.Background(), i)
		}
		_ = p.SetState(Completed, nil)
	}()
	got := mustReceive(t, j, ReceiveOptions{Wait: true, Keep: true})
	if len(got) != 10 {
		t.Fatalf("Receive -Wait -Keep = %v", got)
	}
	if again := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(again, got) {
		t.Fatalf("kept results %v, want %v", again, got)
	}
}

func TestReceiveWaitForce(t *testing.T) {
	for _, s := range []State{Disconnected, Suspended} {
		t.Run(s.String(), func(t *testing.T) {
			// Without Force the wait ends at Disconnected/Suspended.
			j, p, _ := newTest(t, nil, 0)
			mustSet(t, p, Running, nil)
			mustEmit(t, p, 1)
			mustSet(t, p, s, nil)
			if got := mustReceive(t, j, ReceiveOptions{Wait: true}); !slices.Equal(got, []int{1}) {
				t.Fatalf("Receive -Wait = %v", got)
			}
			// With Force it goes on until the job resumes and finishes.
			res := make(chan []int, 1)
			go func() { res <- mustReceive(t, j, ReceiveOptions{Wait: true, Force: true}) }()
			mustSet(t, p, Running, nil)
			mustEmit(t, p, 2, 3)
			mustSet(t, p, Completed, nil)
			if got := <-res; !slices.Equal(got, []int{2, 3}) {
				t.Fatalf("Receive -Wait -Force = %v", got)
			}
		})
	}
}

func TestReceiveWaitCtx(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 1, 2)
	got, err := j.Receive(cancelled(), ReceiveOptions{Wait: true})
	if !errors.Is(err, context.Canceled) || !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Receive = %v, %v; want the results so far and the ctx error", got, err)
	}
	if more := mustReceive(t, j, ReceiveOptions{}); len(more) != 0 {
		t.Fatalf("results returned with the error were not consumed: %v", more)
	}
}

func TestReceiveAutoRemove(t *testing.T) {
	j, p, tb := newTest(t, nil, 0)
	if _, err := j.Receive(testCtx(t), ReceiveOptions{AutoRemove: true}); !errors.Is(err, ErrAutoRemoveWithoutWait) {
		t.Fatalf("AutoRemove without Wait = %v", err)
	}
	for _, err := range j.Results(testCtx(t), ReceiveOptions{AutoRemove: true}) {
		if !errors.Is(err, ErrAutoRemoveWithoutWait) {
			t.Fatalf("Results AutoRemove without Wait = %v", err)
		}
	}
	mustEmit(t, p, 1)
	mustSet(t, p, Disconnected, nil)
	// A wait that ends at Disconnected does not remove the job.
	mustReceive(t, j, ReceiveOptions{Wait: true, AutoRemove: true})
	if _, ok := tb.Get(j.ID()); !ok {
		t.Fatal("an unfinished job was removed")
	}
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 2)
	mustSet(t, p, Completed, nil)
	if got := mustReceive(t, j, ReceiveOptions{Wait: true, AutoRemove: true}); !slices.Equal(got, []int{2}) {
		t.Fatalf("Receive = %v", got)
	}
	if _, ok := tb.Get(j.ID()); ok {
		t.Fatal("the finished job is still in its table")
	}
}

func TestResultsBreakLeavesTheRest(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	mustEmit(t, p, 1, 2, 3, 4, 5)
	var got []int
	for v, err := range j.Results(testCtx(t), ReceiveOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		if len(got) == 2 {
			break
		}
	}
	if !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("got %v", got)
	}
	if rest := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(rest, []int{3, 4, 5}) {
		t.Fatalf("rest = %v", rest)
	}
}

func TestResultsKeepBreak(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	mustEmit(t, p, 1, 2, 3)
	for range j.Results(testCtx(t), ReceiveOptions{Keep: true}) {
		break
	}
	if all := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(all, []int{1, 2, 3}) {
		t.Fatalf("after a Keep iteration: %v", all)
	}
}

func TestResultsWaitStreamsAndCtx(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 10)
	var got []int
	var gotErr error
	for v, err := range j.Results(ctx, ReceiveOptions{Wait: true}) {
		if err != nil {
			gotErr = err
			continue
		}
		got = append(got, v)
		switch v {
		case 10:
			mustEmit(t, p, 11) // arrives while the iteration runs
		case 11:
			cancel()
		}
	}
	if !slices.Equal(got, []int{10, 11}) || !errors.Is(gotErr, context.Canceled) {
		t.Fatalf("got %v, %v", got, gotErr)
	}
}

// TestBackPressure: Emit stores MaxBuffered unreceived results, then blocks
// until a Receive takes some or its ctx ends (Emit with an ended ctx
// succeeds only if it need not wait).
func TestBackPressure(t *testing.T) {
	j, p, _ := newTest(t, nil, 3)
	for i := range 3 {
		if err := p.Emit(cancelled(), i); err != nil {
			t.Fatalf("Emit %d below the bound: %v", i, err)
		}
	}
	if err := p.Emit(cancelled(), 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit at the bound = %v, want it to wait and end with ctx", err)
	}
	// A blocked Emit goes on when a Receive takes results.
	blocked := emitBlocked(j)
	errc := make(chan error, 1)
	go func() { errc <- p.Emit(testCtx(t), 3) }()
	<-blocked
	select {
	case err := <-errc:
		t.Fatalf("Emit returned %v at the bound", err)
	default:
	}
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("Receive = %v (the ctx-ended Emit must have stored nothing)", got)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{3}) {
		t.Fatalf("Receive = %v", got)
	}
	// Results received with Keep no longer count against the bound.
	mustEmit(t, p, 4, 5, 6)
	mustReceive(t, j, ReceiveOptions{Keep: true})
	for i := 7; i < 10; i++ {
		if err := p.Emit(cancelled(), i); err != nil {
			t.Fatalf("Emit after Keep: %v", err)
		}
	}
	if err := p.Emit(cancelled(), 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit at the bound after Keep = %v", err)
	}
	// Taking a kept result does not free a slot; taking an unreceived one does.
	for range j.Results(testCtx(t), ReceiveOptions{}) {
		break // took 4, which was kept
	}
	if err := p.Emit(cancelled(), 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit after a kept result was taken = %v", err)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{5, 6, 7, 8, 9}) {
		t.Fatalf("Receive = %v", got)
	}
	mustEmit(t, p, 10, 11, 12)
	for range j.Results(testCtx(t), ReceiveOptions{}) {
		break // took 10
	}
	if err := p.Emit(cancelled(), 13); err != nil {
		t.Fatalf("Emit after one result was taken: %v", err)
	}
}

func TestDefaultMaxBuffered(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	for i := range DefaultMaxBuffered {
		if err := p.Emit(cancelled(), i); err != nil {
			t.Fatalf("Emit %d: %v", i, err)
		}
	}
	if err := p.Emit(cancelled(), -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit past DefaultMaxBuffered = %v", err)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); len(got) != DefaultMaxBuffered {
		t.Fatalf("got %d", len(got))
	}
}

// TestReceiveWithoutWaitTakesWhatIsHeld: without Wait, Receive returns the
// results held when it starts, not those that arrive while it runs.
func TestReceiveWithoutWaitTakesWhatIsHeld(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	mustEmit(t, p, 1, 2)
	var got []int
	for v, err := range j.Results(testCtx(t), ReceiveOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if v == 1 {
			mustEmit(t, p, 3)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Results = %v, want [1 2]", got)
	}
	if rest := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(rest, []int{3}) {
		t.Fatalf("then %v", rest)
	}
}

// TestParentReceiveWaitIsFair: with Wait, a parent takes at most MaxBuffered
// results from one child before it turns to the next, so a child that keeps
// producing does not starve its siblings.
func TestParentReceiveWaitIsFair(t *testing.T) {
	const m = 3
	tb := &Table{}
	a, pa := New[string](Info{}, nil, Options{MaxBuffered: m, Table: tb})
	b, pb := New[string](Info{}, nil, Options{MaxBuffered: m, Table: tb})
	mustEmit(t, pa, "a0", "a1", "a2")
	mustReceive(t, a, ReceiveOptions{Keep: true}) // kept: room for three more
	mustEmit(t, pa, "a3", "a4", "a5")
	mustEmit(t, pb, "b0")
	mustSet(t, pa, Completed, nil)
	mustSet(t, pb, Completed, nil)
	parent := NewParent(Info{}, Options{Table: tb}, a, b)
	var got []string
	for v, err := range parent.Results(testCtx(t), ReceiveOptions{Wait: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if want := []string{"a0", "a1", "a2", "b0", "a3", "a4", "a5"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
