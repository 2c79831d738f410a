package job

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

func TestDeriveState(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	tests := []struct {
		name    string
		states  []State
		reasons []error
		want    State
		wantErr []error
	}{
		{"no children", nil, nil, Completed, nil},
		{"all NotStarted", []State{NotStarted, NotStarted}, nil, NotStarted, nil},
		{"one running", []State{NotStarted, Running}, nil, Running, nil},
		{"running and completed", []State{Running, Completed}, nil, Running, nil},
		{"all completed", []State{Completed, Completed}, nil, Completed, nil},
		{"one stopped", []State{Completed, Stopped}, nil, Stopped, nil},
		{"failed wins over stopped", []State{Failed, Stopped, Completed, Failed}, []error{e1, nil, nil, e2}, Failed, []error{e1, e2}},
		{"blocked", []State{Running, Blocked, Disconnected}, nil, Blocked, nil},
		{"at breakpoint", []State{Running, AtBreakpoint}, nil, AtBreakpoint, nil},
		{"all unfinished disconnected", []State{Disconnected, Completed, Disconnected}, nil, Disconnected, nil},
		{"some disconnected", []State{Disconnected, Running}, nil, Running, nil},
		{"all suspended", []State{Suspended, Suspended}, nil, Suspended, nil},
		{"stopping", []State{Stopping, Completed}, nil, Stopping, nil},
		{"suspending", []State{Suspending}, nil, Suspending, nil},
		{"disconnected and suspended", []State{Disconnected, Suspended}, nil, Running, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reasons := tt.reasons
			if reasons == nil {
				reasons = make([]error, len(tt.states))
			}
			got, err := deriveState(tt.states, reasons)
			if got != tt.want {
				t.Errorf("state %v, want %v", got, tt.want)
			}
			for _, w := range tt.wantErr {
				if !errors.Is(err, w) {
					t.Errorf("reason %v does not hold %v", err, w)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("reason %v, want nil", err)
			}
		})
	}
}

type family struct {
	parent   *Job[string]
	children []*Job[string]
	prods    []*Producer[string]
	stops    []*atomic.Int32
	table    *Table
}

func newFamily(t *testing.T, locations ...string) family {
	t.Helper()
	f := family{table: &Table{}}
	for _, loc := range locations {
		n := new(atomic.Int32)
		c, p := New[string](Info{Location: loc, TypeName: "RemoteJob"}, ctlFunc(func(context.Context) error { n.Add(1); return nil }), Options{Table: f.table})
		f.children = append(f.children, c)
		f.prods = append(f.prods, p)
		f.stops = append(f.stops, n)
	}
	f.parent = NewParent(Info{Command: "Get-Date"}, Options{Table: f.table}, f.children...)
	return f
}

func TestParentRegistrationAndInfo(t *testing.T) {
	f := newFamily(t, "Server01", "Server02")
	list := f.table.List()
	if len(list) != 1 || list[0] != Handle(f.parent) {
		t.Fatalf("table lists %v, want only the parent", list)
	}
	for _, c := range f.children {
		if h, ok := f.table.Get(c.ID()); !ok || h != Handle(c) {
			t.Errorf("Get(child %d) = %v %v", c.ID(), h, ok)
		}
		if h, ok := f.table.ByInstanceID(c.InstanceID()); !ok || h != Handle(c) {
			t.Errorf("ByInstanceID(child) = %v %v", h, ok)
		}
		if err := f.table.Remove(context.Background(), c, true); !errors.Is(err, ErrNotInTable) {
			t.Errorf("Remove(child) = %v, want ErrNotInTable", err)
		}
	}
	if f.parent.Location() != "Server01,Server02" {
		t.Errorf("Location = %q", f.parent.Location())
	}
	if got := f.parent.Children(); !slices.Equal(got, f.children) {
		t.Errorf("Children = %v", got)
	}
	if got := f.parent.ChildHandles(); len(got) != 2 || got[0] != Handle(f.children[0]) {
		t.Errorf("ChildHandles = %v", got)
	}
	if j, ok := Lookup[string](f.table, f.children[1].ID()); !ok || j != f.children[1] {
		t.Errorf("Lookup child = %v %v", j, ok)
	}
}

func TestParentStateFollowsChildren(t *testing.T) {
	f := newFamily(t, "A", "B")
	var seen []State
	f.parent.Subscribe(func(sc StateChange) { seen = append(seen, sc.State) })
	step := func(i int, s State, reason error, want State) {
		t.Helper()
		mustSet(t, f.prods[i], s, reason)
		if got := f.parent.State(); got != want {
			t.Fatalf("child %d -> %v: parent %v, want %v", i, s, got, want)
		}
	}
	if f.parent.State() != NotStarted || !f.parent.HasMoreData() {
		t.Fatalf("new parent: %v %v", f.parent.State(), f.parent.HasMoreData())
	}
	step(0, Running, nil, Running)
	step(1, Running, nil, Running)
	step(0, Disconnected, nil, Running)
	step(1, Disconnected, nil, Disconnected)
	step(1, Running, nil, Running) // resumes
	step(1, Blocked, nil, Blocked)
	step(1, Running, nil, Running)
	step(0, Running, nil, Running)
	errBoom := errors.New("boom")
	step(0, Failed, errBoom, Running)
	step(1, Completed, nil, Failed)
	if !errors.Is(f.parent.Reason(), errBoom) {
		t.Fatalf("parent Reason = %v", f.parent.Reason())
	}
	got, err := f.parent.Receive(testCtx(t), ReceiveOptions{})
	var fe *FailedError
	if len(got) != 0 || !errors.As(err, &fe) || fe.JobID != f.children[0].ID() || fe.Location != "A" {
		t.Fatalf("parent Receive = %v, %v; want the failed child's error", got, err)
	}
	want := []State{Running, Disconnected, Running, Blocked, Running, Failed}
	if !slices.Equal(seen, want) {
		t.Fatalf("parent changes %v, want %v", seen, want)
	}
	select {
	case <-f.parent.Done():
	default:
		t.Fatal("parent Done not closed")
	}
	if f.parent.HasMoreData() {
		t.Fatal("HasMoreData with finished children holding nothing")
	}
}

func TestParentReceive(t *testing.T) {
	f := newFamily(t, "Server01", "Server02")
	mustEmit(t, f.prods[1], "b1")
	mustEmit(t, f.prods[0], "a1", "a2")
	mustEmit(t, f.prods[1], "b2")
	if got := mustReceive(t, f.parent, ReceiveOptions{Keep: true}); !slices.Equal(got, []string{"a1", "a2", "b1", "b2"}) {
		t.Fatalf("Receive -Keep = %v, want child order then emission order", got)
	}
	if got := mustReceive(t, f.parent, ReceiveOptions{Location: []string{"server02"}}); !slices.Equal(got, []string{"b1", "b2"}) {
		t.Fatalf("Receive -Location server02 = %v", got)
	}
	if got := mustReceive(t, f.children[0], ReceiveOptions{}); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Fatalf("child Receive = %v", got)
	}
	if got := mustReceive(t, f.parent, ReceiveOptions{}); len(got) != 0 {
		t.Fatalf("consumed results returned again: %v", got)
	}
	// HasMoreData of the parent is true while any child has more data.
	mustSet(t, f.prods[0], Completed, nil)
	mustEmit(t, f.prods[1], "b3")
	mustSet(t, f.prods[1], Completed, nil)
	if !f.parent.HasMoreData() || f.children[0].HasMoreData() {
		t.Fatalf("HasMoreData parent %v child0 %v", f.parent.HasMoreData(), f.children[0].HasMoreData())
	}
	if got := mustReceive(t, f.parent, ReceiveOptions{}); !slices.Equal(got, []string{"b3"}) {
		t.Fatalf("Receive = %v", got)
	}
	if f.parent.HasMoreData() {
		t.Fatal("HasMoreData after everything was received")
	}
}

func TestParentReceiveWait(t *testing.T) {
	f := newFamily(t, "A", "B", "C")
	for i, p := range f.prods {
		go func() {
			_ = p.SetState(Running, nil)
			for k := range 50 {
				_ = p.Emit(context.Background(), string(rune('a'+i))+string(rune('0'+k%10)))
			}
			_ = p.SetState(Completed, nil)
		}()
	}
	var got []string
	for v, err := range f.parent.Results(testCtx(t), ReceiveOptions{Wait: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 150 || f.parent.State() != Completed {
		t.Fatalf("got %d results, parent %v", len(got), f.parent.State())
	}
	// Per child, emission order is kept.
	for i := range 3 {
		var mine []string
		for _, v := range got {
			if v[0] == byte('a'+i) {
				mine = append(mine, v)
			}
		}
		for k, v := range mine {
			if v[1] != byte('0'+k%10) {
				t.Fatalf("child %d out of order: %v", i, mine)
			}
		}
	}
}

func TestParentStop(t *testing.T) {
	f := newFamily(t, "A", "B", "C")
	mustSet(t, f.prods[0], Running, nil)
	mustSet(t, f.prods[1], Completed, nil)
	mustSet(t, f.prods[2], Disconnected, nil)
	var seen []State
	f.parent.Subscribe(func(sc StateChange) { seen = append(seen, sc.State) })
	if err := f.parent.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if f.parent.State() != Stopped {
		t.Fatalf("parent %v", f.parent.State())
	}
	for i, want := range []int32{1, 0, 1} {
		if got := f.stops[i].Load(); got != want {
			t.Errorf("child %d controller called %d times, want %d", i, got, want)
		}
	}
	if seen[len(seen)-1] != Stopped {
		t.Fatalf("parent changes %v", seen)
	}
	if err := f.parent.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop on a stopped parent = %v", err)
	}
}

func TestParentStopErrors(t *testing.T) {
	tb := &Table{}
	errNo := errors.New("no")
	a, _ := New[int](Info{}, ctlFunc(func(context.Context) error { return errNo }), Options{Table: tb})
	b, _ := New[int](Info{}, nil, Options{Table: tb})
	p := NewParent(Info{}, Options{Table: tb}, a, b)
	if err := p.Stop(testCtx(t)); !errors.Is(err, errNo) {
		t.Fatalf("Stop = %v", err)
	}
	if a.State() != NotStarted || b.State() != Stopped || p.State() != Running { // one child finished: started
		t.Fatalf("states a %v b %v parent %v", a.State(), b.State(), p.State())
	}
}

func TestParentWithoutChildren(t *testing.T) {
	tb := &Table{}
	p := NewParent[int](Info{Name: "empty"}, Options{Table: tb})
	if p.State() != Completed || p.HasMoreData() || len(p.Children()) != 0 {
		t.Fatalf("empty parent: %v %v", p.State(), p.HasMoreData())
	}
	if got := mustReceive(t, p, ReceiveOptions{Wait: true}); len(got) != 0 {
		t.Fatalf("Receive = %v", got)
	}
	if st, err := p.Wait(testCtx(t)); st != Completed || err != nil {
		t.Fatalf("Wait = %v %v", st, err)
	}
}

func TestParentWaitPersistent(t *testing.T) {
	f := newFamily(t, "A", "B")
	res := make(chan State, 1)
	go func() { st, _ := f.parent.WaitPersistent(testCtx(t)); res <- st }()
	mustSet(t, f.prods[0], Running, nil)
	mustSet(t, f.prods[1], Completed, nil)
	mustSet(t, f.prods[0], Disconnected, nil)
	if st := <-res; st != Disconnected {
		t.Fatalf("WaitPersistent = %v", st)
	}
}

func TestParentOfFinishedChildren(t *testing.T) {
	tb := &Table{}
	a, pa := New[int](Info{}, nil, Options{Table: tb})
	b, pb := New[int](Info{}, nil, Options{Table: tb})
	mustEmit(t, pa, 1)
	mustSet(t, pa, Completed, nil)
	mustSet(t, pb, Stopped, nil)
	p := NewParent(Info{}, Options{Table: tb}, a, b)
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed")
	}
	if p.State() != Stopped || !p.HasMoreData() {
		t.Fatalf("parent %v %v", p.State(), p.HasMoreData())
	}
	if got := mustReceive(t, p, ReceiveOptions{Wait: true}); !slices.Equal(got, []int{1}) || p.HasMoreData() {
		t.Fatalf("Receive = %v, HasMoreData %v", got, p.HasMoreData())
	}
}

// TestParentBuiltWhileChildrenChange makes parents while their children
// change state concurrently: the parent must end in the state derived from
// its children, whatever the interleaving.
func TestParentBuiltWhileChildrenChange(t *testing.T) {
	for range 50 {
		tb := &Table{}
		a, pa := New[int](Info{}, nil, Options{Table: tb})
		b, pb := New[int](Info{}, nil, Options{Table: tb})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = pa.SetState(Running, nil)
			_ = pa.SetState(Completed, nil)
			_ = pb.SetState(Completed, nil)
		}()
		p := NewParent(Info{}, Options{Table: tb}, a, b)
		<-done
		if st, err := p.Wait(testCtx(t)); st != Completed || err != nil {
			t.Fatalf("parent Wait = %v %v", st, err)
		}
	}
}
