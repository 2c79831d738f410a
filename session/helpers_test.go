package session_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// newServer starts a fake server without authentication (no Basic over
// plain HTTP in tests) and closes it at the end of the test.
func newServer(t testing.TB, o wsmantest.Options) *wsmantest.Server {
	t.Helper()
	if o.ComputerName == "" {
		o.ComputerName = "SERVER01"
	}
	srv := wsmantest.NewServer(o)
	t.Cleanup(srv.Close)
	return srv
}

// conn returns connection options for srv, with a short OperationTimeout
// so long polls turn over quickly.
func conn(srv *wsmantest.Server) session.ConnectionOptions {
	return session.ConnectionOptions{ConnectionURI: srv.URL,
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second}}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newSession creates a session in its own table.
func newSession(t testing.TB, srv *wsmantest.Server, name string, tab *session.Table) *session.Session {
	t.Helper()
	s, err := session.New(testCtx(t), session.NewOptions{ConnectionOptions: conn(srv), Name: name, Table: tab})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// outputs returns the output strings of results.
func outputs(rs []session.Result) []string {
	var out []string
	for _, r := range rs {
		if r.Kind == session.KindOutput {
			out = append(out, fmt.Sprint(clixml.ToGo(r.Output)))
		}
	}
	return out
}

func items(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("item %d", i))
	}
	return out
}

// gate writes numbered outputs in batches the test releases.
type gate struct{ release chan int }

func newGate() *gate { return &gate{release: make(chan int)} }

func (g *gate) handler() wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		n := 0
		for {
			select {
			case k, ok := <-g.release:
				if !ok {
					return nil
				}
				for i := 0; i < k; i++ {
					if err := inv.WriteOutput(clixml.String(fmt.Sprintf("item %d", n))); err != nil {
						return err
					}
					n++
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// flood writes items(0, total) once start is closed (nil: at once).
func flood(total int, start <-chan struct{}) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		if start != nil {
			<-start
		}
		for i := 0; i < total; i++ {
			if err := inv.WriteOutput(clixml.String(fmt.Sprintf("item %d", i))); err != nil {
				return err
			}
		}
		return nil
	})
}

// waitFor polls cond (bounded; a hang guard, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// goroutineBaseline returns a function that waits (bounded) until the
// goroutine count is back to the baseline.
func goroutineBaseline(t testing.TB) func() {
	base := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:n])
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
