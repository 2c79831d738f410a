package job

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

func names(hs []Handle) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name()
	}
	return out
}

func TestTableLookups(t *testing.T) {
	var tb Table // the zero value is usable
	a, _ := New[int](Info{Name: "ADJob"}, nil, Options{Table: &tb})
	b, _ := New[string](Info{Name: "Job[1]"}, nil, Options{Table: &tb})
	c, _ := New[int](Info{Name: "adjob2"}, nil, Options{Table: &tb})
	if got := names(tb.List()); !slices.Equal(got, []string{"ADJob", "Job[1]", "adjob2"}) {
		t.Fatalf("List = %v", got)
	}
	if h, ok := tb.Get(b.ID()); !ok || h != Handle(b) {
		t.Fatalf("Get = %v %v", h, ok)
	}
	if _, ok := tb.Get(-5); ok {
		t.Fatal("Get(-5) found a job")
	}
	if h, ok := tb.ByInstanceID(c.InstanceID()); !ok || h != Handle(c) {
		t.Fatalf("ByInstanceID = %v %v", h, ok)
	}
	if j, ok := Lookup[int](&tb, a.ID()); !ok || j != a {
		t.Fatalf("Lookup[int] = %v %v", j, ok)
	}
	if _, ok := Lookup[int](&tb, b.ID()); ok {
		t.Fatal("Lookup[int] of a string job succeeded")
	}
	byName := []struct {
		pattern string
		want    []string
	}{
		{"adjob", []string{"ADJob"}},
		{"AD*", []string{"ADJob", "adjob2"}},
		{"adjob?", []string{"adjob2"}},
		{"*", []string{"ADJob", "Job[1]", "adjob2"}},
		{"Job`[1`]", []string{"Job[1]"}},
		{"Job[[]1]", []string{"Job[1]"}},
		{"[a-b]djob*", []string{"ADJob", "adjob2"}},
		{"[x-z]*", nil},
		{"none", nil},
	}
	for _, tt := range byName {
		got, err := tb.ByName(tt.pattern)
		if err != nil {
			t.Fatalf("ByName(%q): %v", tt.pattern, err)
		}
		if !slices.Equal(names(got), tt.want) {
			t.Errorf("ByName(%q) = %v, want %v", tt.pattern, names(got), tt.want)
		}
	}
	if _, err := tb.ByName("Job[1"); !errors.Is(err, ErrBadPattern) {
		t.Fatalf("ByName with an unclosed [ = %v", err)
	}
}

func TestTableRemove(t *testing.T) {
	tb := &Table{}
	other := &Table{}
	stopped := false
	j, p := New[int](Info{}, ctlFunc(func(context.Context) error { stopped = true; return nil }), Options{Table: tb})
	mustSet(t, p, Running, nil)
	mustEmit(t, p, 1)
	if err := tb.Remove(testCtx(t), j, false); !errors.Is(err, ErrNotFinished) {
		t.Fatalf("Remove of a running job = %v", err)
	}
	if err := other.Remove(testCtx(t), j, true); !errors.Is(err, ErrNotInTable) {
		t.Fatalf("Remove from another table = %v", err)
	}
	if stopped {
		t.Fatal("a refused Remove stopped the job")
	}
	if err := tb.Remove(testCtx(t), j, true); err != nil {
		t.Fatalf("Remove -Force = %v", err)
	}
	if !stopped || j.State() != Stopped {
		t.Fatalf("Remove -Force did not stop the job: %v", j.State())
	}
	if _, ok := tb.Get(j.ID()); ok || len(tb.List()) != 0 {
		t.Fatal("removed job still in the table")
	}
	// The removed job object stays usable.
	if got := mustReceive(t, j, ReceiveOptions{}); !slices.Equal(got, []int{1}) {
		t.Fatalf("Receive after Remove = %v", got)
	}
	if err := tb.Remove(testCtx(t), j, false); !errors.Is(err, ErrNotInTable) {
		t.Fatalf("second Remove = %v", err)
	}
	if err := tb.Remove(testCtx(t), nil, false); !errors.Is(err, ErrNotInTable) {
		t.Fatalf("Remove(nil) = %v", err)
	}
	// Add registers it again; adding twice is harmless; Add moves between tables.
	tb.Add(j, j)
	if len(tb.List()) != 1 {
		t.Fatalf("List = %v", tb.List())
	}
	other.Add(j)
	if len(tb.List()) != 0 || len(other.List()) != 1 {
		t.Fatal("Add did not move the job")
	}
	if err := other.Remove(testCtx(t), j, false); err != nil {
		t.Fatalf("Remove of a finished job = %v", err)
	}
}

func TestTableRemoveForceStopFails(t *testing.T) {
	tb := &Table{}
	errNo := errors.New("no")
	j, _ := New[int](Info{}, ctlFunc(func(context.Context) error { return errNo }), Options{Table: tb})
	if err := tb.Remove(testCtx(t), j, true); !errors.Is(err, errNo) {
		t.Fatalf("Remove = %v", err)
	}
	if _, ok := tb.Get(j.ID()); !ok {
		t.Fatal("job removed although Stop failed")
	}
}

func TestTableConcurrent(t *testing.T) {
	tb := &Table{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				j, p := New[int](Info{Name: "w"}, nil, Options{Table: tb})
				_ = p.SetState(Completed, nil)
				_, _ = tb.ByName("W")
				_, _ = tb.Get(j.ID())
				if err := tb.Remove(context.Background(), j, false); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(tb.List()); n != 0 {
		t.Fatalf("%d jobs left", n)
	}
}
