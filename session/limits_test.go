package session_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A consumer that does not read stops the session from receiving: the
// server's buffer fills and the command blocks there, while connected;
// reading again resumes it and nothing is lost.
func TestBackPressureBlocksTheServer(t *testing.T) {
	srv := newServer(t, wsmantest.Options{OutputBufferSize: 4096})
	const total = 2000
	srv.HandleScript("flood", flood(total, nil))
	ctx := testCtx(t)
	s := newSession(t, srv, "", &session.Table{})
	res, err := s.Invoke(ctx, session.Pipeline{Script: "flood"}, session.InvokeOptions{ResultBuffer: 2})
	require.NoError(t, err)
	waitFor(t, "the command to block on the server", func() bool {
		st, _ := srv.Shell(s.InstanceID().String())
		return len(st.Commands) == 1 && st.Commands[0].Blocked
	})
	st, _ := srv.Shell(s.InstanceID().String())
	assert.True(t, st.Commands[0].Running)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, total), outputs(rs))
}

// MaximumReceivedObjectSize and MaximumReceivedDataSizePerCommand end the
// results with a typed error; the session stays usable.
func TestReceiveLimits(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleFunc("Big", func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String(strings.Repeat("x", 200000)))
	})
	srv.HandleScript("flood", flood(5000, nil))
	ctx := testCtx(t)
	o := session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{}}
	o.SessionOption.MaximumReceivedObjectSize = 100000
	o.SessionOption.MaximumReceivedDataSizePerCommand = 50000
	s, err := session.New(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	res, err := s.Invoke(ctx, session.Pipeline{Command: "Big"})
	require.NoError(t, err)
	_, err = res.Collect(ctx)
	var le *session.LimitError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, session.ErrLimit)
	assert.Contains(t, []string{"MaximumReceivedObjectSize", "MaximumReceivedDataSizePerCommand"}, le.Limit)

	res, err = s.Invoke(ctx, session.Pipeline{Script: "flood"})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaximumReceivedDataSizePerCommand", le.Limit)
	assert.Less(t, len(outputs(rs)), 5000)

	res, err = s.Invoke(ctx, session.Pipeline{Script: `"ok"`})
	require.NoError(t, err)
	rs, err = res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok"}, outputs(rs))
}

// Example 2 and 5: sessions on several computers, disconnected, got and
// received together: one Host stream, or a parent job with one child per
// session.
func TestReceiveManySessions(t *testing.T) {
	ctx := testCtx(t)
	var conns []session.ConnectionOptions
	for i := 0; i < 3; i++ {
		srv := newServer(t, wsmantest.Options{ComputerName: "SERVER0" + strconv.Itoa(i+1)})
		srv.HandleScript("Get-BugStatus", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
			return inv.WriteOutput(clixml.String("bugs on server " + strconv.Itoa(i+1)))
		}))
		u, err := url.Parse(srv.URL)
		require.NoError(t, err)
		host, port, _ := net.SplitHostPort(u.Host)
		p, _ := strconv.Atoi(port)
		c := session.ConnectionOptions{ComputerName: host, Port: p}
		o := session.NewOptions{ConnectionOptions: c, Name: "BugStatus", Table: &session.Table{}}
		_, _, err = session.InvokeInDisconnectedSession(ctx, o, session.Pipeline{Script: "Get-BugStatus"},
			session.DisconnectOptions{IdleTimeout: 24 * 60 * 60 * 1e9})
		require.NoError(t, err)
		conns = append(conns, c)
	}
	var all []*session.Session
	for _, c := range conns {
		ss, err := session.Get(ctx, session.GetOptions{ConnectionOptions: c, Name: "BugStatus", Table: &session.Table{}})
		require.NoError(t, err)
		all = append(all, ss...)
	}
	require.Len(t, all, 3)
	for _, s := range all {
		assert.Equal(t, session.StateDisconnected, s.State())
		assert.Equal(t, session.AvailabilityNone, s.Availability())
	}
	var mu sync.Mutex
	asked := 0
	rec, err := session.Receive(ctx, session.BySession(all...), session.ReceiveOptions{ThrottleLimit: 2,
		OutTarget: session.OutTargetJob, JobName: "Bugs", JobTable: &job.Table{},
		Confirm: func(session.Action) bool { mu.Lock(); asked++; mu.Unlock(); return true }})
	require.NoError(t, err)
	assert.Equal(t, 3, asked)
	require.NotNil(t, rec.Job)
	assert.Equal(t, "Bugs", rec.Job.Name())
	assert.Len(t, rec.Job.Children(), 3)
	st, err := rec.Job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := rec.Job.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"bugs on server 1", "bugs on server 2", "bugs on server 3"}, outputs(rs))
	for _, s := range all {
		assert.Equal(t, session.StateOpened, s.State())
		require.NoError(t, s.Remove(ctx))
	}
	var _ = psrp.PSInvocationCompleted
}
