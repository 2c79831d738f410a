package session_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// recorder is a slog.Handler that keeps messages.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }
func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// A network outage shorter than ReconnectTimeout is ridden out: the long
// polls retry, the session stays Opened and no result is lost.
func TestNetworkOutageRetried(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	srv := newServer(t, wsmantest.Options{Clock: clock})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	rec := &recorder{}
	co := conn(srv)
	co.Logger = slog.New(rec)
	co.SessionOption.ReconnectInterval = 5 * time.Millisecond
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	g.release <- 2
	var got []session.Result
	for len(outputs(got)) < 2 {
		got = append(got, <-res.C())
	}
	srv.Outage(time.Minute)
	g.release <- 3
	waitFor(t, "the long polls to retry", func() bool { return rec.count("connection retry") >= 2 })
	assert.Equal(t, session.StateOpened, s.State())
	clock.Advance(2 * time.Minute)
	close(g.release)
	rest, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), outputs(append(got, rest...)))
	assert.Equal(t, session.StateOpened, s.State())
}

// An outage longer than ReconnectTimeout leaves the session Disconnected
// here; a later Receive reconnects and gets the rest.
func TestNetworkOutageDisconnects(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	srv := newServer(t, wsmantest.Options{Clock: clock})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	co := conn(srv)
	co.SessionOption.ReconnectInterval = 2 * time.Millisecond
	co.SessionOption.ReconnectTimeout = 20 * time.Millisecond
	tab := &session.Table{}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Name: "AD", Table: tab})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	res, err := s.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	srv.Outage(time.Hour)
	g.release <- 3
	waitFor(t, "the session to count as disconnected", func() bool { return s.State() == session.StateDisconnected })
	_, err = res.Collect(ctx)
	assert.ErrorIs(t, err, session.ErrDisconnected)
	clock.Advance(61 * time.Minute)
	close(g.release)
	r, err := session.Receive(ctx, session.ByName("AD"), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	rs, err := r.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 3), outputs(rs))
}
