package job

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestNewDefaults(t *testing.T) {
	j1, _, tb := newTest(t, nil, 0)
	j2, _ := New[string](Info{Name: "ADJob"}, nil, Options{Table: tb})
	if j2.ID() <= j1.ID() {
		t.Errorf("Ids do not increase: %d then %d", j1.ID(), j2.ID())
	}
	if want := fmt.Sprintf("Job%d", j1.ID()); j1.Name() != want {
		t.Errorf("Name = %q, want %q", j1.Name(), want)
	}
	if j2.Name() != "ADJob" {
		t.Errorf("Name = %q", j2.Name())
	}
	if j1.InstanceID() == j2.InstanceID() || j1.InstanceID().Version() != 4 {
		t.Errorf("InstanceIds %v %v", j1.InstanceID(), j2.InstanceID())
	}
	if j1.Command() != "cmd" || j1.Location() != "Server01" || j1.TypeName() != "RemoteJob" {
		t.Errorf("info = %q %q %q", j1.Command(), j1.Location(), j1.TypeName())
	}
	if j1.State() != NotStarted || !j1.HasMoreData() || j1.Reason() != nil || j1.Children() != nil {
		t.Errorf("new job: %v %v %v %v", j1.State(), j1.HasMoreData(), j1.Reason(), j1.Children())
	}
	if got := tb.List(); len(got) != 2 || got[0] != Handle(j1) || got[1] != Handle(j2) {
		t.Errorf("table = %v", got)
	}
	select {
	case <-j1.Done():
		t.Error("Done closed on a new job")
	default:
	}
}

func TestNewRegistersInDefault(t *testing.T) {
	j, _ := New[int](Info{}, nil, Options{})
	t.Cleanup(func() { _ = Default.Remove(context.Background(), j, true) })
	if h, ok := Default.Get(j.ID()); !ok || h != Handle(j) {
		t.Fatalf("Default.Get(%d) = %v, %v", j.ID(), h, ok)
	}
}

func TestSetStateRules(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		path    []State // states set in order, each must succeed
		then    State
		wantErr error
	}{
		{"start", nil, Running, nil},
		{"resume after disconnect", []State{Running, Disconnected}, Running, nil},
		{"blocked and back", []State{Running, Blocked}, Running, nil},
		{"suspended and back", []State{Running, Suspended}, Running, nil},
		{"same state is a no-op", []State{Running}, Running, nil},
		{"back to NotStarted", []State{Running}, NotStarted, ErrInvalidState},
		{"not a state", nil, State(42), ErrInvalidState},
		{"negative", nil, State(-1), ErrInvalidState},
		{"after Completed", []State{Running, Completed}, Running, ErrFinished},
		{"after Failed", []State{Running, Failed}, Completed, ErrFinished},
		{"after Stopped", []State{Stopped}, Stopped, ErrFinished},
		{"Completed from NotStarted", nil, Completed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, p, _ := newTest(t, nil, 0)
			for _, s := range tt.path {
				mustSet(t, p, s, nil)
			}
			before := j.State()
			err := p.SetState(tt.then, errBoom)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SetState(%v) = %v, want %v", tt.then, err, tt.wantErr)
			}
			want := tt.then
			if err != nil {
				want = before
			}
			if j.State() != want {
				t.Errorf("State = %v, want %v", j.State(), want)
			}
		})
	}
}

func TestFailedKeepsReasonAndResults(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	errLost := errors.New("connection lost")
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 1, 2)
	mustSet(t, p, Failed, errLost)
	if err := p.Emit(context.Background(), 3); !errors.Is(err, ErrFinished) {
		t.Fatalf("Emit after Failed = %v", err)
	}
	if !errors.Is(j.Reason(), errLost) {
		t.Fatalf("Reason = %v", j.Reason())
	}
	if !j.HasMoreData() {
		t.Error("HasMoreData false with results held")
	}
	// Receive-Job returns the results and then the Reason as an error, on
	// every Receive of a failed job.
	got, err := j.Receive(testCtx(t), ReceiveOptions{})
	var fe *FailedError
	if !slices.Equal(got, []int{1, 2}) || !errors.As(err, &fe) || !errors.Is(err, errLost) {
		t.Fatalf("Receive = %v, %v; want [1 2] and the failure", got, err)
	}
	if fe.JobID != j.ID() || fe.Location != "Server01" || fe.Name != j.Name() {
		t.Fatalf("FailedError = %+v", fe)
	}
	if want := fmt.Sprintf("job: %s (Id %d) on Server01 failed: connection lost", j.Name(), j.ID()); err.Error() != want {
		t.Fatalf("error text %q, want %q", err.Error(), want)
	}
	if j.HasMoreData() {
		t.Error("HasMoreData true after every result was received")
	}
	got, err = j.Receive(testCtx(t), ReceiveOptions{Wait: true})
	if len(got) != 0 || !errors.Is(err, errLost) {
		t.Fatalf("second Receive = %v, %v", got, err)
	}
	var seq []string
	for v, err := range j.Results(testCtx(t), ReceiveOptions{}) {
		seq = append(seq, fmt.Sprint(v, err))
	}
	if want := []string{"0 " + err.Error()}; !slices.Equal(seq, want) {
		t.Fatalf("Results = %q, want %q", seq, want)
	}
	if err := p.SetState(Running, nil); !errors.Is(err, ErrFinished) {
		t.Fatalf("SetState after Failed = %v", err)
	}
	if !errors.Is(j.Reason(), errLost) || j.State() != Failed {
		t.Fatalf("after a refused change: %v %v", j.State(), j.Reason())
	}
	st, err := j.Wait(testCtx(t))
	if st != Failed || err != nil {
		t.Fatalf("Wait = %v, %v", st, err)
	}
}

func TestHasMoreData(t *testing.T) {
	tests := []struct {
		name    string
		state   State
		emit    int
		receive *ReceiveOptions
		want    bool
	}{
		{"NotStarted", NotStarted, 0, nil, true},
		{"Running without results", Running, 0, nil, true},
		{"Disconnected without results", Disconnected, 0, nil, true},
		{"Blocked", Blocked, 0, nil, true},
		{"Running, all received", Running, 2, &ReceiveOptions{}, true},
		{"Completed with results", Completed, 2, nil, true},
		{"Completed, received with Keep", Completed, 2, &ReceiveOptions{Keep: true}, true},
		{"Completed, received", Completed, 2, &ReceiveOptions{}, false},
		{"Completed without results", Completed, 0, nil, false},
		{"Stopped without results", Stopped, 0, nil, false},
		{"Failed with results", Failed, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, p, _ := newTest(t, nil, 0)
			if tt.state != NotStarted {
				mustSet(t, p, Running, nil)
			}
			for i := range tt.emit {
				mustEmit(t, p, i)
			}
			if tt.state != NotStarted && tt.state != Running {
				mustSet(t, p, tt.state, nil)
			}
			if tt.receive != nil {
				mustReceive(t, j, *tt.receive)
			}
			if got := j.HasMoreData(); got != tt.want {
				t.Errorf("HasMoreData = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeepAndConsume(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 1, 2)
	for range 2 { // Keep leaves them: the same results come again
		if got := mustReceive(t, j, ReceiveOptions{Keep: true}); !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("Receive Keep = %v", got)
		}
	}
	mustEmit(t, p, 3)
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("Receive = %v, want kept and new results", got)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); len(got) != 0 {
		t.Fatalf("consumed results returned again: %v", got)
	}
	if got := mustReceive(t, j, ReceiveOptions{Keep: true}); len(got) != 0 {
		t.Fatalf("consumed results returned again with Keep: %v", got)
	}
	mustEmit(t, p, 4)
	mustSet(t, p, Completed, nil)
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{4}) {
		t.Fatalf("Receive = %v, want [4]", got)
	}
	if j.HasMoreData() {
		t.Error("HasMoreData after everything was received")
	}
}

// TestExample6 follows Example 6 of Receive-PSSession: a job running in a
// session that is disconnected keeps the results it had, gets no new ones
// while disconnected, and the same job object gets the rest once the
// session connects again. The reference shows only "Return 3, Return 4"
// for the last Receive-Job; by Keep's definition (the results stay in the
// job) PowerShell returns the kept "Return 1, Return 2" first, and so does
// this package.
func TestExample6(t *testing.T) {
	tb := &Table{}
	j, p := New[string](Info{Command: `1..1500 | Foreach-Object {"Return $_"; sleep 30}`, Location: "Server01", TypeName: "RemoteJob"}, nil, Options{Table: tb})
	var changes []StateChange
	var mu sync.Mutex
	j.Subscribe(func(sc StateChange) { mu.Lock(); changes = append(changes, sc); mu.Unlock() })
	row := func() string {
		return fmt.Sprintf("%d %s %s %v %s", j.ID(), j.Name(), j.State(), j.HasMoreData(), j.Location())
	}
	id := j.ID()

	// $j = Invoke-Command -Session $s {...} -AsJob; $j
	mustSet(t, p, Running, nil)
	mustEmit(t, p, "Return 1")
	if want := fmt.Sprintf("%d Job%d Running true Server01", id, id); row() != want {
		t.Fatalf("after start: %q, want %q", row(), want)
	}
	mustEmit(t, p, "Return 2")
	// $s | Disconnect-PSSession; $j
	mustSet(t, p, Disconnected, nil)
	if want := fmt.Sprintf("%d Job%d Disconnected true Server01", id, id); row() != want {
		t.Fatalf("after disconnect: %q, want %q", row(), want)
	}
	// Receive-Job $j -Keep
	if got := mustReceive(t, j, ReceiveOptions{Keep: true}); !slices.Equal(got, []string{"Return 1", "Return 2"}) {
		t.Fatalf("Receive-Job -Keep = %q", got)
	}
	if !j.HasMoreData() || j.State() != Disconnected {
		t.Fatalf("after Receive -Keep: %s", row())
	}
	// Connect-PSSession; Receive-PSSession reuses the same job object.
	h, ok := tb.Get(id)
	if !ok || h != Handle(j) {
		t.Fatal("the job is not in its table by Id")
	}
	mustSet(t, p, Running, nil)
	mustEmit(t, p, "Return 3", "Return 4")
	// Receive-Job $j
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []string{"Return 1", "Return 2", "Return 3", "Return 4"}) {
		t.Fatalf("Receive-Job = %q", got)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); len(got) != 0 {
		t.Fatalf("second Receive-Job = %q", got)
	}
	if !j.HasMoreData() || j.State() != Running {
		t.Fatalf("after Receive: %s", row())
	}
	mu.Lock()
	defer mu.Unlock()
	want := []StateChange{{NotStarted, Running, nil}, {Running, Disconnected, nil}, {Disconnected, Running, nil}}
	if !slices.Equal(changes, want) {
		t.Fatalf("state changes %v, want %v", changes, want)
	}
}

func TestSubscribeOrderAndOutsideLock(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	var got []string
	cancel := j.Subscribe(func(sc StateChange) {
		// Calling the job from the callback would deadlock if the lock were held.
		got = append(got, fmt.Sprintf("%v>%v(%v,%v)", sc.Previous, sc.State, j.State(), j.HasMoreData()))
	})
	var second []State
	j.Subscribe(func(sc StateChange) { second = append(second, sc.State) })
	mustSet(t, p, Running, nil)
	mustSet(t, p, Running, nil) // no change, no call
	mustSet(t, p, Disconnected, nil)
	cancel()
	mustSet(t, p, Running, nil)
	mustSet(t, p, Completed, nil)
	want := []string{"NotStarted>Running(Running,true)", "Running>Disconnected(Disconnected,true)"}
	if !slices.Equal(got, want) {
		t.Errorf("first subscriber got %v, want %v", got, want)
	}
	if want := []State{Running, Disconnected, Running, Completed}; !slices.Equal(second, want) {
		t.Errorf("second subscriber got %v, want %v", second, want)
	}
}

func TestSubscribeReentrant(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	var got []State
	j.Subscribe(func(sc StateChange) {
		got = append(got, sc.State)
		if sc.State == Running {
			// A change made from a callback is delivered after this call returns.
			if err := p.SetState(Completed, nil); err != nil {
				t.Errorf("SetState from callback: %v", err)
			}
			if len(got) != 1 {
				t.Error("nested notification delivered inside the callback")
			}
		}
	})
	mustSet(t, p, Running, nil)
	if want := []State{Running, Completed}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSubscribePanicDoesNotWedge(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	var got []State
	j.Subscribe(func(sc StateChange) {
		got = append(got, sc.State)
		if sc.State == Running {
			panic("callback bug")
		}
	})
	func() {
		defer func() { _ = recover() }()
		_ = p.SetState(Running, nil)
	}()
	mustSet(t, p, Completed, nil)
	if want := []State{Running, Completed}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSubscribeConcurrent changes states from many goroutines and checks
// that the callback is never run concurrently and sees a consistent chain
// of changes (each Previous is the State before it).
func TestSubscribeConcurrent(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	var inFlight atomic.Int32
	var chain []StateChange
	j.Subscribe(func(sc StateChange) {
		if inFlight.Add(1) != 1 {
			t.Error("callback called concurrently")
		}
		chain = append(chain, sc)
		inFlight.Add(-1)
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := []State{Running, Disconnected, Blocked, Suspended}[(g+i)%4]
				_ = p.SetState(s, nil)
			}
		}()
	}
	wg.Wait()
	mustSet(t, p, Completed, nil)
	if len(chain) == 0 || chain[0].Previous != NotStarted || chain[len(chain)-1].State != Completed {
		t.Fatalf("chain ends: %v ... %v", chain[0], chain[len(chain)-1])
	}
	for i := 1; i < len(chain); i++ {
		if chain[i].Previous != chain[i-1].State {
			t.Fatalf("change %d: %v after %v: out of order", i, chain[i], chain[i-1])
		}
	}
}

func TestStop(t *testing.T) {
	t.Run("finished job: no-op", func(t *testing.T) {
		called := false
		j, p, _ := newTest(t, ctlFunc(func(context.Context) error { called = true; return nil }), 0)
		mustSet(t, p, Completed, nil)
		if err := j.Stop(testCtx(t)); err != nil || called || j.State() != Completed {
			t.Fatalf("Stop = %v, controller called %v, state %v", err, called, j.State())
		}
	})
	t.Run("Stopping then Stopped", func(t *testing.T) {
		var j *Job[int]
		var during State
		j, p, _ := newTest(t, ctlFunc(func(context.Context) error { during = j.State(); return nil }), 0)
		var seen []State
		j.Subscribe(func(sc StateChange) { seen = append(seen, sc.State) })
		mustSet(t, p, Running, nil)
		mustEmit(t, p, 7)
		if err := j.Stop(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if during != Stopping || j.State() != Stopped {
			t.Fatalf("state during controller %v, after %v", during, j.State())
		}
		if want := []State{Running, Stopping, Stopped}; !slices.Equal(seen, want) {
			t.Fatalf("changes %v, want %v", seen, want)
		}
		if err := p.Emit(context.Background(), 8); !errors.Is(err, ErrFinished) {
			t.Fatalf("Emit after Stop = %v", err)
		}
		if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{7}) {
			t.Fatalf("Receive after Stop = %v", got)
		}
		if err := j.Stop(testCtx(t)); err != nil {
			t.Fatalf("second Stop = %v", err)
		}
	})
	t.Run("nil controller", func(t *testing.T) {
		j, _, _ := newTest(t, nil, 0)
		if err := j.Stop(testCtx(t)); err != nil || j.State() != Stopped {
			t.Fatalf("Stop = %v, state %v", err, j.State())
		}
	})
	t.Run("controller error restores the state", func(t *testing.T) {
		errNo := errors.New("cannot stop")
		j, p, _ := newTest(t, ctlFunc(func(context.Context) error { return errNo }), 0)
		mustSet(t, p, Disconnected, errors.New("network"))
		if err := j.Stop(testCtx(t)); !errors.Is(err, errNo) {
			t.Fatalf("Stop = %v", err)
		}
		if j.State() != Disconnected || j.Reason() == nil || j.Reason().Error() != "network" {
			t.Fatalf("after a failed Stop: %v %v", j.State(), j.Reason())
		}
	})
	t.Run("producer finishes during stop", func(t *testing.T) {
		var p *Producer[int]
		j, p, _ := newTest(t, ctlFunc(func(context.Context) error { return p.SetState(Completed, nil) }), 0)
		if err := j.Stop(testCtx(t)); err != nil || j.State() != Completed {
			t.Fatalf("Stop = %v, state %v", err, j.State())
		}
	})
	t.Run("honours ctx", func(t *testing.T) {
		j, _, _ := newTest(t, ctlFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }), 0)
		ctx, cancel := context.WithCancel(testCtx(t))
		cancel()
		if err := j.Stop(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Stop = %v", err)
		}
		if j.State() != NotStarted {
			t.Fatalf("state %v", j.State())
		}
	})
	t.Run("concurrent stops wait for the first", func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		var calls atomic.Int32
		j, _, _ := newTest(t, ctlFunc(func(context.Context) error {
			calls.Add(1)
			close(entered)
			<-release
			return nil
		}), 0)
		first := make(chan error, 1)
		go func() { first <- j.Stop(testCtx(t)) }()
		<-entered
		second := make(chan error, 1)
		go func() { second <- j.Stop(testCtx(t)) }()
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 1 || j.State() != Stopped {
			t.Fatalf("controller called %d times, state %v", calls.Load(), j.State())
		}
	})
	t.Run("second stop honours ctx while the first runs", func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		j, _, _ := newTest(t, ctlFunc(func(context.Context) error { close(entered); <-release; return nil }), 0)
		done := make(chan error, 1)
		go func() { done <- j.Stop(testCtx(t)) }()
		<-entered
		if err := j.Stop(cancelled()); !errors.Is(err, context.Canceled) {
			t.Fatalf("second Stop = %v", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestStopUnblocksEmit(t *testing.T) {
	j, p, _ := newTest(t, nil, 1)
	mustEmit(t, p, 1)
	blocked := emitBlocked(j)
	errc := make(chan error, 1)
	go func() { errc <- p.Emit(testCtx(t), 2) }()
	<-blocked
	if err := j.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrFinished) {
		t.Fatalf("blocked Emit = %v, want ErrFinished", err)
	}
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{1}) {
		t.Fatalf("Receive = %v", got)
	}
}

func TestWait(t *testing.T) {
	t.Run("through Disconnected until finished", func(t *testing.T) {
		j, p, _ := newTest(t, nil, 0)
		res := make(chan State, 1)
		go func() { st, _ := j.Wait(testCtx(t)); res <- st }()
		for _, s := range []State{Running, Disconnected, Suspended, Blocked, Running, Completed} {
			mustSet(t, p, s, nil)
		}
		if st := <-res; st != Completed {
			t.Fatalf("Wait = %v", st)
		}
		<-j.Done()
	})
	t.Run("ctx", func(t *testing.T) {
		j, p, _ := newTest(t, nil, 0)
		mustSet(t, p, Disconnected, nil)
		st, err := j.Wait(cancelled())
		if !errors.Is(err, context.Canceled) || st != Disconnected {
			t.Fatalf("Wait = %v, %v", st, err)
		}
	})
	for _, s := range []State{Disconnected, Suspended, Completed, Failed, Stopped} {
		t.Run("persistent "+s.String(), func(t *testing.T) {
			j, p, _ := newTest(t, nil, 0)
			res := make(chan State, 1)
			go func() { st, _ := j.WaitPersistent(testCtx(t)); res <- st }()
			mustSet(t, p, Running, nil)
			mustSet(t, p, Blocked, nil)
			mustSet(t, p, s, nil)
			if st := <-res; st != s {
				t.Fatalf("WaitPersistent = %v, want %v", st, s)
			}
		})
	}
	t.Run("persistent ctx", func(t *testing.T) {
		j, _, _ := newTest(t, nil, 0)
		if st, err := j.WaitPersistent(cancelled()); !errors.Is(err, context.Canceled) || st != NotStarted {
			t.Fatalf("WaitPersistent = %v, %v", st, err)
		}
	})
}

func TestReasonForOtherStates(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	errNet := errors.New("network down")
	mustSet(t, p, Disconnected, errNet)
	if !errors.Is(j.Reason(), errNet) {
		t.Fatalf("Reason = %v", j.Reason())
	}
	mustSet(t, p, Running, nil)
	if j.Reason() != nil {
		t.Fatalf("Reason after resuming = %v", j.Reason())
	}
	if !strings.Contains(ErrNotFinished.Error(), "force") {
		t.Error("ErrNotFinished does not say how to proceed")
	}
}

func TestFinish(t *testing.T) {
	j, p, _ := newTest(t, nil, 0)
	if err := p.Finish(nil); err != nil || j.State() != Completed {
		t.Fatalf("Finish(nil) = %v, state %v", err, j.State())
	}
	if err := p.Finish(nil); !errors.Is(err, ErrFinished) {
		t.Fatalf("second Finish = %v", err)
	}
	j2, p2, _ := newTest(t, nil, 0)
	errX := errors.New("x")
	if err := p2.Finish(errX); err != nil || j2.State() != Failed || !errors.Is(j2.Reason(), errX) {
		t.Fatalf("Finish(err) = %v, %v %v", err, j2.State(), j2.Reason())
	}
	if p2.Job() != j2 {
		t.Fatal("Producer.Job is not its job")
	}
}

// TestNoGoroutineLeft runs the operations that wait or start goroutines
// (parent Stop, Results broken early, Receive -Wait and Wait ended by ctx)
// and checks that the goroutine count returns to where it was.
func TestNoGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFamily(t, "A", "B", "C")
	mustEmit(t, f.prods[0], "x", "y")
	for range f.parent.Results(testCtx(t), ReceiveOptions{Wait: true}) {
		break
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = f.parent.Receive(ctx, ReceiveOptions{Wait: true})
	_, _ = f.parent.Wait(ctx)
	_, _ = f.parent.WaitPersistent(ctx)
	if err := f.parent.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "back to the goroutines before", func() bool { return runtime.NumGoroutine() <= before })
}
