package session_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// inflight counts the Receive requests in flight through a transport
// (plain HTTP without authentication: the envelope is readable).
type inflight struct {
	base     http.RoundTripper
	now, max atomic.Int32
}

func (f *inflight) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte("/windows/shell/Receive<")) {
		return f.base.RoundTrip(r)
	}
	n := f.now.Add(1)
	for {
		m := f.max.Load()
		if n <= m || f.max.CompareAndSwap(m, n) {
			break
		}
	}
	defer f.now.Add(-1)
	return f.base.RoundTrip(r)
}

// Many running commands share MaxConcurrentReceives long-poll slots: the
// Receives in flight stay bounded, and every command's results still
// arrive.
func TestLongPollsAreCapped(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	release := make(chan struct{})
	srv.HandleFunc("Wait-Release", func(ctx context.Context, inv *wsmantest.Invocation) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return inv.WriteOutput(clixml.String("done"))
	})
	ctx := testCtx(t)
	tr := &inflight{base: http.DefaultTransport.(*http.Transport).Clone()}
	co := conn(srv)
	co.SessionOption.Transport = tr
	co.SessionOption.MaxConcurrentReceives = 3
	o := session.NewOptions{ConnectionOptions: co, Table: &session.Table{}, MaxRunspaces: 10}
	s, err := session.New(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	const n = 10
	streams := make([]*session.Stream, n)
	for i := range streams {
		streams[i], err = s.Invoke(ctx, session.Pipeline{Command: "Wait-Release"})
		require.NoError(t, err, fmt.Sprint(i))
	}
	waitFor(t, "the long-poll slots to fill", func() bool { return tr.now.Load() == 3 })
	close(release)
	var wg sync.WaitGroup
	got := make([][]string, n)
	for i, st := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := st.Collect(ctx)
			assert.NoError(t, err)
			got[i] = outputs(rs)
		}()
	}
	wg.Wait()
	for i := range got {
		assert.Equal(t, []string{"done"}, got[i], fmt.Sprint(i))
	}
	assert.LessOrEqual(t, int(tr.max.Load()), 3, "long polls capped at MaxConcurrentReceives")
}
