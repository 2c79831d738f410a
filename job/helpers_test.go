package job

import (
	"context"
	"sync"
	"testing"
	"time"
)

// hangGuard is how long a test waits before it declares a hang; it is a
// guard only, never a synchronisation.
const hangGuard = 30 * time.Second

// testCtx returns a context that ends when the test ends or at the hang guard.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// cancelled returns a context that has already ended: Emit with it succeeds
// only if it does not have to wait, which tests use to observe
// back-pressure without timing.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// ctlFunc is a Controller made of a function.
type ctlFunc func(ctx context.Context) error

func (f ctlFunc) Stop(ctx context.Context) error { return f(ctx) }

// newTest makes a job of ints in a table of its own.
func newTest(t testing.TB, ctl Controller, maxBuf int) (*Job[int], *Producer[int], *Table) {
	t.Helper()
	tb := &Table{}
	j, p := New[int](Info{Command: "cmd", Location: "Server01", TypeName: "RemoteJob"}, ctl, Options{MaxBuffered: maxBuf, Table: tb})
	return j, p, tb
}

// mustEmit emits vs or fails the test.
func mustEmit[T any](t testing.TB, p *Producer[T], vs ...T) {
	t.Helper()
	for _, v := range vs {
		if err := p.Emit(context.Background(), v); err != nil {
			t.Fatalf("Emit(%v): %v", v, err)
		}
	}
}

// mustSet sets the state or fails the test.
func mustSet[T any](t testing.TB, p *Producer[T], s State, reason error) {
	t.Helper()
	if err := p.SetState(s, reason); err != nil {
		t.Fatalf("SetState(%v): %v", s, err)
	}
}

// mustReceive receives or fails the test.
func mustReceive[T any](t testing.TB, j *Job[T], opts ReceiveOptions) []T {
	t.Helper()
	got, err := j.Receive(testCtx(t), opts)
	if err != nil {
		t.Fatalf("Receive(%+v): %v", opts, err)
	}
	return got
}

// emitBlocked returns a channel closed when an Emit on j first waits for
// room. Call it before the Emit.
func emitBlocked[T any](j *Job[T]) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	j.emitWaits = func() { once.Do(func() { close(ch) }) }
	return ch
}

// waitUntil polls cond, yielding the processor, until it holds or the hang
// guard expires. It is only for conditions that no event announces (the
// number of goroutines); it waits for the condition, not for time to pass.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("hang guard: never %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
