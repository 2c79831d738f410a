package session_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A command started in a disconnected session loses nothing: a new client
// (new WSMan client, new SessionId, new table: as a new process would)
// finds the session by computer and name and receives every result.
func TestInDisconnectedSessionReceiveFromNewClient(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	check := goroutineBaseline(t)

	tabA := &session.Table{}
	a, c, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: conn(srv), Name: "ITTask", Table: tabA},
		session.Pipeline{Script: "numbers"},
		session.DisconnectOptions{IdleTimeout: 10 * time.Minute, OutputBufferingMode: session.BufferingBlock})
	require.NoError(t, err)
	assert.Equal(t, session.StateDisconnected, a.State())
	assert.Equal(t, session.AvailabilityNone, a.Availability())
	assert.Equal(t, 10*time.Minute, a.IdleTimeout())
	assert.Equal(t, session.BufferingBlock, a.OutputBufferingMode())
	assert.False(t, a.DisconnectedOn().IsZero())
	assert.Equal(t, a.DisconnectedOn().Add(10*time.Minute), a.ExpiresOn())
	g.release <- 3
	require.NoError(t, a.Close(ctx)) // process A goes away; the session stays
	st, ok := srv.Shell(a.InstanceID().String())
	require.True(t, ok)
	assert.Equal(t, "Disconnected", st.State)
	g.release <- 2
	close(g.release)

	tabB := &session.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "ITTask"), session.ReceiveOptions{Table: tabB})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetHost, rec.OutTarget)
	require.NotNil(t, rec.Stream)
	assert.Nil(t, rec.Job)
	require.Len(t, rec.Sessions, 1)
	b := rec.Sessions[0]
	assert.Equal(t, a.InstanceID(), b.InstanceID())
	assert.NotEqual(t, a.WSManSessionID(), b.WSManSessionID())
	assert.Equal(t, session.StateOpened, b.State())
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), outputs(rs))
	assert.Equal(t, c.ID(), rs[0].CommandID)
	assert.Equal(t, "ITTask", rs[0].SessionName)
	waitFor(t, "the command to end", func() bool { return b.Availability() == session.AvailabilityAvailable })
	assert.Equal(t, []*session.Session{b}, tabB.List())
	require.NoError(t, b.Remove(ctx))
	_, ok = srv.Shell(a.InstanceID().String())
	assert.False(t, ok)
	check()
}

// NOTES: results delivered to one client are not delivered to another;
// the session is Busy for everyone else while connected.
func TestResultsDeliveredOnceAndBusy(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	a := newSession(t, srv, "Shared", &session.Table{})
	res, err := a.Invoke(ctx, session.Pipeline{Script: "numbers"})
	require.NoError(t, err)
	g.release <- 3
	var got []session.Result
	for len(outputs(got)) < 3 {
		got = append(got, <-res.C())
	}
	require.NoError(t, a.Disconnect(ctx, session.DisconnectOptions{}))
	_, err = res.Collect(ctx)
	assert.ErrorIs(t, err, session.ErrDisconnected, "a host stream ends when its session disconnects")
	g.release <- 4

	tabB := &session.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Shared"), session.ReceiveOptions{Table: tabB})
	require.NoError(t, err)
	b := rec.Sessions[0]

	// Busy for the first client, and for a third one.
	err = a.Connect(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrBusy)
	var se *session.SessionError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Shared", se.Name)
	_, err = session.Receive(ctx, session.OnComputerByName(conn(srv), "Shared"), session.ReceiveOptions{Table: &session.Table{}})
	assert.ErrorIs(t, err, session.ErrBusy)
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn(srv), Table: &session.Table{}})
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, session.StateDisconnected, found[0].State())
	assert.Equal(t, session.AvailabilityBusy, found[0].Availability())
	assert.Equal(t, "Connected", found[0].ServerInfo().State)

	g.release <- 2
	close(g.release)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(3, 9), outputs(rs), "items 0..2 went to the first client only")
	require.NoError(t, b.Remove(ctx))
}

// Example 6: a job started here is Disconnected with its session, keeps
// its results, and the same job object resumes on reconnect in the same
// client.
func TestExample6JobReusedOnReconnect(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	jobs := &job.Table{}
	s := newSession(t, srv, "Test", &session.Table{})
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: "numbers"}, session.JobOptions{Table: jobs})
	require.NoError(t, err)
	assert.Equal(t, job.Running, j.State())
	assert.Equal(t, s.ComputerName(), j.Location())
	g.release <- 2
	waitFor(t, "2 results in the job", func() bool {
		rs, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		return len(outputs(rs)) == 2
	})
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	assert.Equal(t, session.StateDisconnected, s.State())
	waitFor(t, "the job to be Disconnected", func() bool { return j.State() == job.Disconnected })
	rs, err := j.Receive(ctx, job.ReceiveOptions{Keep: true})
	require.NoError(t, err)
	assert.Equal(t, items(0, 2), outputs(rs))

	g.release <- 2
	require.NoError(t, s.Connect(ctx))
	rec, err := session.Receive(ctx, session.BySession(s), session.ReceiveOptions{JobTable: jobs})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetJob, rec.OutTarget, "started as a job here: Job by default")
	assert.Same(t, j, rec.Job, "the original job object is reused")
	close(g.release)
	st, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err = j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, items(0, 4), outputs(rs))
}

// Example 3/4: OutTarget Job with a JobName from a new client makes a new,
// named job.
func TestReceiveAsNamedJobFromNewClient(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(5, nil))
	ctx := testCtx(t)
	a := newSession(t, srv, "AD", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
	require.NoError(t, err)
	jobs := &job.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "AD"),
		session.ReceiveOptions{OutTarget: session.OutTargetJob, JobName: "ADJob", Table: &session.Table{}, JobTable: jobs})
	require.NoError(t, err)
	require.NotNil(t, rec.Job)
	assert.Nil(t, rec.Stream)
	assert.Equal(t, "ADJob", rec.Job.Name())
	st, err := rec.Job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := rec.Job.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), outputs(rs))
	_, ok := jobs.Get(rec.Job.ID())
	assert.True(t, ok)
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}

// A session with nothing running connects and returns nothing.
func TestReceiveNothingRunning(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	tab := &session.Table{}
	s := newSession(t, srv, "Idle", tab)
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	rec, err := session.Receive(ctx, session.ByName("idle"), session.ReceiveOptions{Table: tab})
	require.NoError(t, err)
	assert.Equal(t, session.StateOpened, s.State())
	assert.Equal(t, session.AvailabilityAvailable, s.Availability())
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Empty(t, rs)
}

// An idle-timed-out session is a typed error that says so.
func TestIdleTimeoutExpiry(t *testing.T) {
	clock := wsmantest.NewManualClock(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	srv := newServer(t, wsmantest.Options{Clock: clock})
	srv.HandleScript("numbers", newGate().handler())
	ctx := testCtx(t)
	tab := &session.Table{}
	s := newSession(t, srv, "Short", tab)
	_, err := s.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "numbers"},
		session.DisconnectOptions{IdleTimeout: time.Minute})
	require.NoError(t, err)
	clock.Advance(61 * time.Second)
	waitFor(t, "the server to reap the session", func() bool {
		_, ok := srv.Shell(s.InstanceID().String())
		return !ok
	})
	_, err = session.Receive(ctx, session.ByID(s.Id()), session.ReceiveOptions{Table: tab})
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrExpired)
	_, err = session.Receive(ctx, session.OnComputerByName(conn(srv), "Short"), session.ReceiveOptions{Table: tab})
	assert.ErrorIs(t, err, session.ErrNotFound)
}

// IdleTimeout is checked against the server's range before it is sent.
func TestIdleTimeoutRange(t *testing.T) {
	srv := newServer(t, wsmantest.Options{MaxIdleTimeout: 10 * time.Minute})
	ctx := testCtx(t)
	s := newSession(t, srv, "", &session.Table{})
	assert.Equal(t, 10*time.Minute, s.MaxIdleTimeout())
	srv.ClearRequests()
	for _, d := range []time.Duration{30 * time.Second, 11 * time.Minute} {
		err := s.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: d})
		var ie *session.IdleTimeoutError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, 10*time.Minute, ie.Max)
		assert.ErrorIs(t, err, session.ErrInvalidOption)
	}
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.Action, "Disconnect", "nothing was sent")
	}
	assert.Equal(t, session.StateOpened, s.State())
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: 5 * time.Minute}))
	st, _ := srv.Shell(s.InstanceID().String())
	assert.Equal(t, "Disconnected", st.State)
}

// Block suspends the command while disconnected; receiving resumes it and
// nothing is lost.
func TestBlockResumesNothingLost(t *testing.T) {
	srv := newServer(t, wsmantest.Options{OutputBufferSize: 4096})
	const total = 300
	srv.HandleScript("flood", flood(total, nil))
	ctx := testCtx(t)
	a := newSession(t, srv, "Blocky", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "flood"},
		session.DisconnectOptions{OutputBufferingMode: session.BufferingBlock})
	require.NoError(t, err)
	waitFor(t, "the command to block", func() bool {
		st, _ := srv.Shell(a.InstanceID().String())
		return len(st.Commands) == 1 && st.Commands[0].Blocked
	})
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Blocky"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, total), outputs(rs))
	assert.False(t, rs[len(rs)-1].OutputMayBeDropped, "Block drops nothing")
}

// Drop discards the oldest output while disconnected.
func TestDropLosesOldest(t *testing.T) {
	srv := newServer(t, wsmantest.Options{OutputBufferSize: 4096})
	const total = 300
	start := make(chan struct{})
	srv.HandleScript("flood", flood(total, start))
	ctx := testCtx(t)
	a := newSession(t, srv, "Droppy", &session.Table{})
	_, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: "flood"},
		session.DisconnectOptions{OutputBufferingMode: session.BufferingDrop})
	require.NoError(t, err)
	close(start)
	waitFor(t, "the command to finish", func() bool {
		st, _ := srv.Shell(a.InstanceID().String())
		return len(st.Commands) == 1 && !st.Commands[0].Running
	})
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn(srv), Name: "Dropp?", Table: &session.Table{}})
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, session.BufferingDrop, found[0].OutputBufferingMode(), "the caller can tell output may have been dropped")
	rec, err := session.Receive(ctx, session.BySession(found...), session.ReceiveOptions{})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	got := outputs(rs)
	require.NotEmpty(t, got)
	assert.Less(t, len(got), total)
	assert.Equal(t, items(total-len(got), total), got, "what is left is the newest output, in order")
	last := rs[len(rs)-1]
	require.Equal(t, session.KindState, last.Kind)
	assert.True(t, last.OutputMayBeDropped, "the final result says output may have been dropped")
}

// Get filters by name (wildcards), configuration and state.
func TestGetFilters(t *testing.T) {
	srv := newServer(t, wsmantest.Options{ConfigurationNames: []string{"Microsoft.PowerShell", "ITTasks"}})
	ctx := testCtx(t)
	tab := &session.Table{}
	a := newSession(t, srv, "Backup", tab)
	o := session.NewOptions{ConnectionOptions: conn(srv), Name: "BugStatus", Table: tab}
	o.ConfigurationName = "ITTasks"
	b, err := session.New(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	assert.Equal(t, "ITTasks", b.ConfigurationName())
	require.NoError(t, b.Disconnect(ctx, session.DisconnectOptions{}))

	get := func(g session.GetOptions) []string {
		g.ConnectionOptions = conn(srv)
		g.Table = &session.Table{}
		ss, err := session.Get(ctx, g)
		require.NoError(t, err)
		var names []string
		for _, s := range ss {
			names = append(names, s.Name())
		}
		return names
	}
	assert.ElementsMatch(t, []string{"Backup", "BugStatus"}, get(session.GetOptions{}))
	assert.Equal(t, []string{"BugStatus"}, get(session.GetOptions{Name: "bug*"}))
	assert.Equal(t, []string{"Backup"}, get(session.GetOptions{Name: "[a-b]ack?p"}))
	assert.Equal(t, []string{"BugStatus"}, get(session.GetOptions{ConfigurationName: "IT*"}))
	assert.Equal(t, []string{"BugStatus"}, get(session.GetOptions{InstanceID: b.InstanceID()}))
	assert.Empty(t, get(session.GetOptions{State: session.StateFilterOpened}), "sessions got from the server are Disconnected here")
	// The local table's own connected session is returned as itself.
	ss, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn(srv), Name: "Backup", Table: tab})
	require.NoError(t, err)
	require.Len(t, ss, 1)
	assert.Same(t, a, ss[0])
	assert.Equal(t, session.StateOpened, ss[0].State())
}

// WhatIf returns what would be done without doing it; Confirm is asked
// before each session.
func TestWhatIfAndConfirm(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	tab := &session.Table{}
	s := newSession(t, srv, "W", tab)
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	rec, err := session.Receive(ctx, session.ByName("W"), session.ReceiveOptions{Table: tab, WhatIf: true})
	require.NoError(t, err)
	require.Len(t, rec.WhatIf, 1)
	assert.True(t, rec.WhatIf[0].Connect)
	assert.Contains(t, rec.WhatIf[0].String(), "Connect and receive")
	assert.Nil(t, rec.Stream)
	assert.Nil(t, rec.Job)
	assert.Equal(t, session.StateDisconnected, s.State())

	asked := 0
	rec, err = session.Receive(ctx, session.ByName("W"), session.ReceiveOptions{Table: tab,
		Confirm: func(a session.Action) bool { asked++; return false }})
	require.NoError(t, err)
	assert.Equal(t, 1, asked)
	assert.Empty(t, rec.Sessions)
	assert.Equal(t, session.StateDisconnected, s.State())
}

// Selectors that find nothing say so.
func TestSelectorsNotFound(t *testing.T) {
	ctx := context.Background()
	tab := &session.Table{}
	for _, sel := range []session.Selector{session.ByID(999999), session.ByName("nope"), session.ByInstanceID(uuidZeroish())} {
		_, err := session.Receive(ctx, sel, session.ReceiveOptions{Table: tab})
		assert.ErrorIs(t, err, session.ErrNotFound, sel.ParameterSet())
	}
	_, err := session.Receive(ctx, session.Selector{}, session.ReceiveOptions{})
	assert.True(t, errors.Is(err, session.ErrInvalidOption))
}

var _ = psrp.PSInvocationCompleted

func uuidZeroish() (u [16]byte) { u[15] = 1; return }

// Remove on a session connected to another client is a typed error; the
// session stays on the server.
func TestRemoveBusy(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	a := newSession(t, srv, "Held", &session.Table{})
	require.NoError(t, a.Disconnect(ctx, session.DisconnectOptions{}))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Held"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	err = a.Remove(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrBusy)
	_, ok := srv.Shell(a.InstanceID().String())
	assert.True(t, ok)
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}

// The ComputerName parameter sets (with Port) reach the session as the
// ConnectionUri ones do.
func TestReceiveByComputerNameAndInstanceID(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(3, nil))
	ctx := testCtx(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	c := session.ConnectionOptions{ComputerName: host, Port: p}
	a, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: c, Table: &session.Table{}},
		session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
	require.NoError(t, err)
	sel := session.OnComputerByInstanceID(c, a.InstanceID())
	assert.Equal(t, "ComputerInstanceId", sel.ParameterSet())
	assert.Equal(t, "ConnectionUriInstanceId", session.OnComputerByInstanceID(conn(srv), a.InstanceID()).ParameterSet())
	rec, err := session.Receive(ctx, sel, session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, 3), outputs(rs))
	assert.Equal(t, host, rec.Sessions[0].ComputerName())

	// -ConfigurationName filters: another configuration finds nothing.
	other := c
	other.ConfigurationName = "Other.Endpoint"
	_, err = session.Receive(ctx, session.OnComputerByInstanceID(other, a.InstanceID()), session.ReceiveOptions{Table: &session.Table{}})
	assert.ErrorIs(t, err, session.ErrNotFound)
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}

// NOTES: with a new JobName the original job is not reused: a new job gets
// the results from then on, the original keeps what it had.
func TestJobNameMakesANewJob(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	jobs := &job.Table{}
	s := newSession(t, srv, "Test", &session.Table{})
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: "numbers"}, session.JobOptions{Table: jobs})
	require.NoError(t, err)
	g.release <- 2
	waitFor(t, "2 results in the job", func() bool {
		rs, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		return len(outputs(rs)) == 2
	})
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	require.NoError(t, s.Connect(ctx))
	rec, err := session.Receive(ctx, session.BySession(s), session.ReceiveOptions{JobName: "Renamed", JobTable: jobs})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetJob, rec.OutTarget)
	require.NotSame(t, j, rec.Job)
	assert.Equal(t, "Renamed", rec.Job.Name())
	g.release <- 3
	close(g.release)
	st, err := rec.Job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := rec.Job.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	old, err := j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, items(0, 5), append(outputs(old), outputs(rs)...), "each result in exactly one job")
	assert.Equal(t, job.Stopped, j.State())
}

// Job.Stop stops the remote command (the PowerShell stop signal); the job
// ends Stopped.
func TestJobStop(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	s := newSession(t, srv, "", &session.Table{})
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: "numbers"}, session.JobOptions{Table: &job.Table{}})
	require.NoError(t, err)
	g.release <- 1
	waitFor(t, "a result", func() bool { return j.HasMoreData() })
	require.NoError(t, j.Stop(ctx))
	assert.Equal(t, job.Stopped, j.State())
	waitFor(t, "the session to be idle", func() bool { return s.Availability() == session.AvailabilityAvailable })
	cmds := s.Commands()
	assert.Empty(t, cmds)
}

// SessionOption.OutputBufferingMode given to New applies when the session
// is disconnected.
func TestNewBufferingModeSentWithDisconnect(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	ctx := testCtx(t)
	o := session.NewOptions{ConnectionOptions: conn(srv), Table: &session.Table{}}
	o.SessionOption.OutputBufferingMode = session.BufferingDrop
	s, err := session.New(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	st, _ := srv.Shell(s.InstanceID().String())
	assert.Equal(t, "Drop", st.BufferMode)
	assert.Equal(t, session.BufferingDrop, s.OutputBufferingMode())
}
