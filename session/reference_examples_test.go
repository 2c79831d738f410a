package session_test

// Receive-PSSession's six EXAMPLES, step by step, against fake servers
// named as in the reference (Server01, Server02, Server30): the session
// tables (Id, Name, ComputerName, State, ConfigurationName, Availability),
// job tables (Id, Name, State, HasMoreData, Location) and results each
// example shows are asserted from the session and job values. Each step of
// the example is quoted before the code that mirrors it; where the
// reference's output cannot be mirrored exactly, a comment says what is
// asserted instead and why.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// lab is a set of fake servers reached by computer name: the sessions'
// DialContext resolves a computer name to its server's loopback address,
// so ConnectionOptions.ComputerName is "Server01" as in the reference and
// every session and result reports that name.
type lab struct {
	clock   *wsmantest.ManualClock
	servers map[string]*wsmantest.Server // by lower-case computer name
}

// newLab starts one fake server per computer name, all on one manual
// clock, each with o (ComputerName set per server).
func newLab(t testing.TB, o wsmantest.Options, computers ...string) *lab {
	t.Helper()
	l := &lab{clock: wsmantest.NewManualClock(time.Date(2011, 12, 29, 17, 0, 0, 0, time.UTC)),
		servers: map[string]*wsmantest.Server{}}
	for _, c := range computers {
		so := o
		so.ComputerName = strings.ToUpper(c)
		so.Clock = l.clock
		l.servers[strings.ToLower(c)] = newServer(t, so)
	}
	return l
}

func (l *lab) server(computer string) *wsmantest.Server { return l.servers[strings.ToLower(computer)] }

// dial is the sessions' DialContext: computer name to server address.
func (l *lab) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	srv := l.server(host)
	if srv == nil {
		return nil, fmt.Errorf("lab: no computer %q", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, srv.Addr())
}

// conn returns the connection options of -ComputerName computer.
func (l *lab) conn(computer string) session.ConnectionOptions {
	return session.ConnectionOptions{ComputerName: computer,
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second, DialContext: l.dial, NoProxy: true}}
}

// sessionRow is one row of PowerShell's PSSession table, Id aside (Ids
// are local to a process; they are asserted separately).
type sessionRow struct {
	Name, ComputerName string
	State              session.State
	ConfigurationName  string
	Availability       session.Availability
}

func rowOf(s *session.Session) sessionRow {
	return sessionRow{s.Name(), s.ComputerName(), s.State(), s.ConfigurationName(), s.Availability()}
}

func rowsOf(ss []*session.Session) []sessionRow {
	var out []sessionRow
	for _, s := range ss {
		out = append(out, rowOf(s))
	}
	return out
}

// jobRow is one row of PowerShell's job table, Id aside.
type jobRow struct {
	Name        string
	State       job.State
	HasMoreData bool
	Location    string
}

func jobRowOf(j *session.Job) jobRow {
	return jobRow{j.Name(), j.State(), j.HasMoreData(), j.Location()}
}

// script is a remote script the test drives: it writes first (if any),
// then one line per release (format with the line's 1-based number), and
// ends when the release channel is closed.
type script struct {
	first   string
	format  string
	release chan int
}

func newScript(first, format string) *script {
	return &script{first: first, format: format, release: make(chan int)}
}

func (s *script) handler() wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		if s.first != "" {
			if err := inv.WriteOutput(clixml.String(s.first)); err != nil {
				return err
			}
		}
		n := 0
		for {
			select {
			case k, ok := <-s.release:
				if !ok {
					return nil
				}
				for i := 0; i < k; i++ {
					n++
					if err := inv.WriteOutput(clixml.String(fmt.Sprintf(s.format, n))); err != nil {
						return err
					}
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

func lines(format string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

// Example 1: Connect to a PSSession.
//
//	Receive-PSSession -ComputerName Server01 -Name ITTask
//
// "The example gets the results of commands that were running in the
// ITTask session. Because the command doesn't use the OutTarget parameter,
// the results appear on the command line."
func TestExample1ConnectToAPSSession(t *testing.T) {
	l := newLab(t, wsmantest.Options{}, "Server01")
	task := newScript("", "ITTask line %d")
	l.server("Server01").HandleScript("ITTask.ps1", task.handler())
	ctx := testCtx(t)

	// Before: some earlier client (another process) left commands running
	// in the disconnected ITTask session on Server01.
	earlier, cmd, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "ITTask", Table: &session.Table{}},
		session.Pipeline{Script: "ITTask.ps1"}, session.DisconnectOptions{})
	require.NoError(t, err)
	task.release <- 2
	require.NoError(t, earlier.Close(ctx)) // that process exits; the session stays on Server01

	// PS> Receive-PSSession -ComputerName Server01 -Name ITTask
	tab := &session.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(l.conn("Server01"), "ITTask"),
		session.ReceiveOptions{Table: tab, JobTable: &job.Table{}})
	require.NoError(t, err)
	assert.Equal(t, "ComputerSessionName", session.OnComputerByName(l.conn("Server01"), "ITTask").ParameterSet())
	// No OutTarget: the results come to the "command line" (a Stream), not a job.
	assert.Equal(t, session.OutTargetHost, rec.OutTarget)
	require.NotNil(t, rec.Stream)
	assert.Nil(t, rec.Job)
	require.Len(t, rec.Sessions, 1)
	s := rec.Sessions[0]
	assert.Equal(t, earlier.InstanceID(), s.InstanceID())
	assert.Equal(t, sessionRow{"ITTask", "Server01", session.StateOpened, "Microsoft.PowerShell", session.AvailabilityBusy}, rowOf(s),
		"connected here, with the command still running")
	assert.Equal(t, []*session.Session{s}, tab.List(), "the session is in this process's table")

	// The command was still running: what it writes from now on comes too.
	task.release <- 1
	close(task.release)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, lines("ITTask line %d", 1, 3), outputs(rs))
	for _, r := range rs {
		assert.Equal(t, "Server01", r.ComputerName, "PSComputerName")
		assert.Equal(t, "ITTask", r.SessionName)
		assert.Equal(t, cmd.ID(), r.CommandID)
	}
	waitFor(t, "the session to be idle", func() bool { return s.Availability() == session.AvailabilityAvailable })
	assert.Equal(t, session.StateOpened, s.State())
	require.NoError(t, s.Remove(ctx))
}

// Example 2: Get results of all commands on disconnected sessions.
//
//	Get-PSSession -ComputerName Server01, Server02 | Receive-PSSession
//
// "If any session wasn't disconnected or isn't running commands,
// Receive-PSSession doesn't connect to the session and doesn't return any
// output or errors."
func TestExample2GetResultsOfAllCommandsOnDisconnectedSessions(t *testing.T) {
	l := newLab(t, wsmantest.Options{}, "Server01", "Server02")
	s1 := newScript("", "Server01 line %d")
	s2 := newScript("", "Server02 line %d")
	l.server("Server01").HandleScript("work", s1.handler())
	l.server("Server02").HandleScript("work", s2.handler())
	ctx := testCtx(t)

	// Before (another process): Server01 has ITTask (disconnected, running
	// a command), Idle (disconnected, nothing running) and Held (connected
	// to a third client); Server02 has Reports (disconnected, running).
	before := &session.Table{}
	for _, x := range []struct{ computer, name string }{{"Server01", "ITTask"}, {"Server02", "Reports"}} {
		s, _, err := session.InvokeInDisconnectedSession(ctx,
			session.NewOptions{ConnectionOptions: l.conn(x.computer), Name: x.name, Table: before},
			session.Pipeline{Script: "work"}, session.DisconnectOptions{})
		require.NoError(t, err)
		require.NoError(t, s.Close(ctx))
	}
	idle, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "Idle", Table: before})
	require.NoError(t, err)
	require.NoError(t, idle.Disconnect(ctx, session.DisconnectOptions{}))
	require.NoError(t, idle.Close(ctx))
	held, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "Held", Table: before})
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Remove(context.Background()) })
	s1.release <- 2
	s2.release <- 1

	// This process has a session of its own on Server02, open and idle:
	// one that "wasn't disconnected".
	tab := &session.Table{}
	mine, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server02"), Name: "Mine", Table: tab})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mine.Close(context.Background()) })

	// PS> Get-PSSession -ComputerName Server01, Server02
	g := session.GetOptions{ConnectionOptions: l.conn("Server01"), ComputerNames: []string{"Server02"}, Table: tab}
	found, err := session.Get(ctx, g)
	require.NoError(t, err)
	assert.ElementsMatch(t, []sessionRow{
		{"ITTask", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityNone},
		{"Idle", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityNone},
		{"Held", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityBusy},
		{"Reports", "Server02", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityNone},
		{"Mine", "Server02", session.StateOpened, "Microsoft.PowerShell", session.AvailabilityAvailable},
	}, rowsOf(found))
	byName := map[string]*session.Session{}
	ids := map[int]bool{}
	for _, s := range found {
		byName[s.Name()] = s
		ids[s.Id()] = true
	}
	assert.Len(t, ids, 5, "each session object has its own Id")
	assert.Same(t, mine, byName["Mine"], "Get gives this process's own session as itself")

	// ... | Receive-PSSession
	rec, err := session.Receive(ctx, session.BySession(found...), session.ReceiveOptions{Table: tab, JobTable: &job.Table{}})
	// Held is connected to another client. The reference says such a
	// session is skipped without output or errors; this package receives
	// the others and reports Held as a typed ErrBusy error (joined with
	// the Received value), since a caller that asked for it must be able
	// to tell it was not received (see the package docs).
	require.Error(t, err)
	assert.ErrorIs(t, err, session.ErrBusy)
	var se *session.SessionError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Held", se.Name)
	require.NotNil(t, rec)
	assert.Equal(t, session.OutTargetHost, rec.OutTarget)
	require.NotNil(t, rec.Stream)
	var got []string
	for _, s := range rec.Sessions {
		got = append(got, s.Name())
	}
	// Idle: the reference's Example 2 says a session running nothing is
	// not connected; its DESCRIPTION says such a session is connected and
	// returns nothing. This package follows the DESCRIPTION (package docs,
	// "Where the reference is silent"): Idle is connected, and gives no
	// output and no error.
	// Mine was not disconnected: it is passed through with no output
	// and no error, as the reference says.
	assert.ElementsMatch(t, []string{"ITTask", "Idle", "Reports", "Mine"}, got)
	assert.Equal(t, session.StateOpened, mine.State())
	assert.Equal(t, session.StateDisconnected, byName["Held"].State(), "Held is left alone")
	assert.Equal(t, session.AvailabilityBusy, byName["Held"].Availability())
	assert.Equal(t, session.StateOpened, held.State(), "the other client keeps Held")

	s1.release <- 1
	close(s1.release)
	close(s2.release)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	per := map[string][]session.Result{}
	for _, r := range rs {
		per[r.ComputerName+"/"+r.SessionName] = append(per[r.ComputerName+"/"+r.SessionName], r)
	}
	assert.Equal(t, lines("Server01 line %d", 1, 3), outputs(per["Server01/ITTask"]))
	assert.Equal(t, lines("Server02 line %d", 1, 1), outputs(per["Server02/Reports"]))
	assert.Empty(t, per["Server01/Idle"], "a session running nothing returns nothing")
	assert.Empty(t, per["Server01/Held"])
	assert.Empty(t, per["Server02/Mine"])
	assert.Len(t, per, 2)
	for _, name := range []string{"ITTask", "Idle", "Reports"} {
		s := byName[name]
		waitFor(t, name+" to be idle", func() bool { return s.Availability() == session.AvailabilityAvailable })
		assert.Equal(t, session.StateOpened, s.State(), name)
		require.NoError(t, s.Remove(ctx))
	}
}

// Example 3: Get the results of a script running in a session.
//
//	$parms = @{ ComputerName = "Server01"; Name = "ITTask"; OutTarget = "Job";
//	            JobName = "ITTaskJob01"; Credential = "Domain01\Admin01" }
//	Receive-PSSession @parms
//
//	Id     Name            State         HasMoreData     Location
//	16     ITTaskJob01     Running       True            Server01
func TestExample3GetTheResultsOfAScriptRunningInASession(t *testing.T) {
	// Server01 requires authentication: Credential "Domain01\Admin01"
	// with the Default authentication (Negotiate, which is NTLM here), with
	// WinRM message encryption over HTTP, as a default Windows server.
	l := newLab(t, wsmantest.Options{Users: map[string]string{"Admin01": "Admin01-pw"}}, "Server01")
	task := newScript("", "ITTask result %d")
	l.server("Server01").HandleScript("ITTask.ps1", task.handler())
	ctx := testCtx(t)
	co := l.conn("Server01")
	co.Credential = session.Credential{Username: `Domain01\Admin01`, Password: "Admin01-pw"}

	// Before: the script runs in the disconnected ITTask session.
	earlier, _, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: co, Name: "ITTask", Table: &session.Table{}},
		session.Pipeline{Script: "ITTask.ps1"}, session.DisconnectOptions{})
	require.NoError(t, err)
	require.NoError(t, earlier.Close(ctx))
	task.release <- 2

	// PS> Receive-PSSession @parms
	jobs := &job.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(co, "ITTask"), session.ReceiveOptions{
		OutTarget: session.OutTargetJob, JobName: "ITTaskJob01", Table: &session.Table{}, JobTable: jobs})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetJob, rec.OutTarget)
	assert.Nil(t, rec.Stream)
	require.NotNil(t, rec.Job)
	j := rec.Job
	// "returned the results as a job in the current session": Running
	// (the script still runs), HasMoreData (the two results written while
	// disconnected), Location Server01.
	waitFor(t, "the job to hold the results written while disconnected", j.HasMoreData)
	assert.Equal(t, jobRow{"ITTaskJob01", job.Running, true, "Server01"}, jobRowOf(j))
	got, ok := jobs.Get(j.ID())
	assert.True(t, ok, "Get-Job shows it under its Id")
	assert.Equal(t, j.ID(), got.ID())
	assert.Equal(t, session.JobTypeName, j.TypeName())

	// "To get the job results, use a Receive-Job command."
	task.release <- 1
	close(task.release)
	st, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, lines("ITTask result %d", 1, 3), outputs(rs))
	assert.False(t, j.HasMoreData())
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}

// Example 4: Get results after a network outage.
//
// A session AD (configuration ADEndpoint) on Server01 runs a script; a
// network outage cuts the client off; PowerShell retries once a second
// for four minutes, then gives up; the user restarts the computer; a new
// PowerShell finds the session Disconnected on Server01 and receives the
// results as a job named ADJob, while the script still runs.
func TestExample4GetResultsAfterANetworkOutage(t *testing.T) {
	assert.Equal(t, 4*time.Minute, session.DefaultReconnectTimeout, "PowerShell retries for four minutes")
	assert.Equal(t, time.Second, session.DefaultReconnectInterval, "once a second")

	l := newLab(t, wsmantest.Options{ConfigurationNames: []string{"Microsoft.PowerShell", "ADEndpoint"}}, "Server01")
	srv := l.server("Server01")
	resolve := newScript(`Running "New-ADResolve.ps1"`, "resolved %d")
	srv.HandleScript("New-ADResolve.ps1", resolve.handler())
	ctx := testCtx(t)

	// The Backup session of the table exists already (Microsoft.PowerShell,
	// disconnected by another client).
	backup, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "Backup", Table: &session.Table{}})
	require.NoError(t, err)
	require.NoError(t, backup.Disconnect(ctx, session.DisconnectOptions{}))
	require.NoError(t, backup.Close(ctx))

	// PS> $s = New-PSSession -ComputerName Server01 -Name AD -ConfigurationName ADEndpoint
	// The client's retry timer runs on real time (the fake clock is the
	// server's), so the four minutes are shortened here; the defaults are
	// asserted above.
	co := l.conn("Server01")
	co.ConfigurationName = "ADEndpoint"
	co.SessionOption.ReconnectInterval = 2 * time.Millisecond
	co.SessionOption.ReconnectTimeout = 50 * time.Millisecond
	var mu sync.Mutex
	var retries []wsman.RetryEventKind
	tabA := &session.Table{}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: co, Name: "AD", Table: tabA,
		Hooks: session.Hooks{Retry: func(_ *session.Session, ev wsman.RetryEvent) {
			mu.Lock()
			retries = append(retries, ev.Kind)
			mu.Unlock()
		}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	// PS> $s
	// 8   AD      Server01       Opened       ADEndpoint               Available
	assert.Equal(t, sessionRow{"AD", "Server01", session.StateOpened, "ADEndpoint", session.AvailabilityAvailable}, rowOf(s))
	assert.Positive(t, s.Id())

	// PS> Invoke-Command -Session $s -FilePath \\Server12\...\New-ADResolve.ps1
	// Running "New-ADResolve.ps1"
	res, err := s.Invoke(ctx, session.Pipeline{Script: "New-ADResolve.ps1"})
	require.NoError(t, err)
	var first []session.Result
	for len(outputs(first)) < 1 {
		first = append(first, <-res.C())
	}
	assert.Equal(t, []string{`Running "New-ADResolve.ps1"`}, outputs(first))

	// # Network outage
	srv.Outage(10 * time.Minute)
	resolve.release <- 2 // the script goes on
	// ... network access is not re-established within the retry window:
	// the session gave up and counts as Disconnected here; the synchronous
	// results end with ErrDisconnected (the script keeps running remotely).
	waitFor(t, "the client to give up", func() bool { return s.State() == session.StateDisconnected })
	rest, err := res.Collect(ctx)
	assert.ErrorIs(t, err, session.ErrDisconnected)
	seenHere := outputs(append(first, rest...))
	mu.Lock()
	assert.Contains(t, retries, wsman.ConnectionRetryAttempt, "the client retried before giving up")
	mu.Unlock()
	// The server turns the session whose client vanished Disconnected
	// after its inactivity window (4 minutes, on the server's clock), so
	// the work survives.
	l.clock.Advance(5 * time.Minute)
	waitFor(t, "the server to disconnect the session", func() bool {
		st, ok := srv.Shell(s.InstanceID().String())
		return ok && st.State == "Disconnected"
	})
	// # Restart local computer: this process's session object is gone
	// (Close leaves a session that is Disconnected here on the server).
	require.NoError(t, s.Close(ctx))
	_, ok := srv.Shell(s.InstanceID().String())
	require.True(t, ok, "the AD session still exists on Server01")
	l.clock.Advance(6 * time.Minute) // the network is back

	// PS> Get-PSSession -ComputerName Server01     (a new PowerShell)
	// 1  Backup  Server01        Disconnected   Microsoft.PowerShell           None
	// 8  AD      Server01        Disconnected   ADEndpoint                     None
	tabB := &session.Table{}
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: l.conn("Server01"), Table: tabB})
	require.NoError(t, err)
	assert.ElementsMatch(t, []sessionRow{
		{"Backup", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityNone},
		{"AD", "Server01", session.StateDisconnected, "ADEndpoint", session.AvailabilityNone},
	}, rowsOf(found))
	require.Len(t, found, 2)
	assert.NotEqual(t, found[0].Id(), found[1].Id())

	// PS> Receive-PSSession -ComputerName Server01 -Name AD -OutTarget Job -JobName AD
	// Job Id   Name      State         HasMoreData     Location
	// 16       ADJob     Running       True            Server01
	// The reference's command says -JobName AD but its output and text say
	// ADJob; the job name given is the one the job gets, so ADJob is
	// passed here. No -ConfigurationName: the AD session of ADEndpoint is
	// found by its name.
	jobs := &job.Table{}
	rec, err := session.Receive(ctx, session.OnComputerByName(l.conn("Server01"), "AD"), session.ReceiveOptions{
		OutTarget: session.OutTargetJob, JobName: "ADJob", Table: tabB, JobTable: jobs})
	require.NoError(t, err)
	require.NotNil(t, rec.Job)
	j := rec.Job
	waitFor(t, "the results written during the outage", j.HasMoreData)
	assert.Equal(t, jobRow{"ADJob", job.Running, true, "Server01"}, jobRowOf(j), "the script is still running")
	_, ok = jobs.Get(j.ID())
	assert.True(t, ok)

	// PS> Get-PSSession -ComputerName Server01
	// 1  Backup   Server01        Disconnected  Microsoft.PowerShell          Busy
	// 8  AD       Server01        Opened        ADEndpoint               Available
	// Backup shows Busy in the reference's second table: some other client
	// connected to it in between. That client is mirrored here.
	other, err := session.Receive(ctx, session.OnComputerByName(l.conn("Server01"), "Backup"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Sessions[0].Remove(context.Background()) })
	found, err = session.Get(ctx, session.GetOptions{ConnectionOptions: l.conn("Server01"), Table: tabB})
	require.NoError(t, err)
	// The reference shows AD Available while its script runs; this package
	// reports a session connected here that runs a command as Busy, and
	// Available once it ends (PowerShell's RunspaceAvailability for a
	// runspace running a pipeline), so AD is Busy now and Available below.
	assert.ElementsMatch(t, []sessionRow{
		{"Backup", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityBusy},
		{"AD", "Server01", session.StateOpened, "ADEndpoint", session.AvailabilityBusy},
	}, rowsOf(found))
	ad := rec.Sessions[0]
	assert.True(t, slices.Contains(found, ad), "Get returns the session this process is connected to as itself")

	// "the script resumed execution and is getting the script results"
	resolve.release <- 1
	close(resolve.release)
	st, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	all := append(seenHere, outputs(rs)...)
	assert.Equal(t, append([]string{`Running "New-ADResolve.ps1"`}, lines("resolved %d", 1, 3)...), all,
		"every result once: before the outage here, the rest in ADJob")
	waitFor(t, "AD to be available", func() bool { return ad.Availability() == session.AvailabilityAvailable })
	assert.Equal(t, sessionRow{"AD", "Server01", session.StateOpened, "ADEndpoint", session.AvailabilityAvailable}, rowOf(ad))
	require.NoError(t, ad.Remove(ctx))
}

// bugReport is the Get-BugStatus.ps1 of Example 5: once released, it
// writes one report object (ComputerName, BugCount, LastUpdated).
func bugReport(computer string, count int32, release <-chan struct{}) wsmantest.Handler {
	return wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		o := clixml.NewObject("Selected.System.Management.Automation.PSCustomObject", "System.Management.Automation.PSCustomObject", "System.Object")
		o.AddExtended("ComputerName", clixml.String(computer))
		o.AddExtended("BugCount", clixml.Int32(count))
		o.AddExtended("LastUpdated", clixml.DateTime{Time: inv.Clock().Now()})
		return inv.WriteOutput(o)
	})
}

// Example 5: Reconnect to disconnected sessions.
//
//	PS> Invoke-Command -InDisconnectedSession -ComputerName Server01, Server02, Server30
//	      -FilePath ...\Get-BugStatus.ps1 -Name BugStatus
//	      -SessionOption @{IdleTimeout = 86400000} -ConfigurationName ITTasks
//	PS> Exit
//	PS> $s = Get-PSSession -ComputerName Server01, Server02, Server30 -Name BugStatus
//	PS> $Results = Receive-PSSession -Session $s
func TestExample5ReconnectToDisconnectedSessions(t *testing.T) {
	computers := []string{"Server01", "Server02", "Server30"}
	l := newLab(t, wsmantest.Options{ConfigurationNames: []string{"Microsoft.PowerShell", "ITTasks"}}, computers...)
	release := make(chan struct{})
	for i, c := range computers {
		l.server(c).HandleScript("Get-BugStatus.ps1", bugReport(c, int32(121+i), release))
	}
	ctx := testCtx(t)
	check := goroutineBaseline(t)

	// PS> Invoke-Command @parms  (one session per computer)
	tabA := &session.Table{}
	for _, c := range computers {
		co := l.conn(c)
		co.ConfigurationName = "ITTasks"
		co.SessionOption.IdleTimeout = 86400000 * time.Millisecond
		s, _, err := session.InvokeInDisconnectedSession(ctx,
			session.NewOptions{ConnectionOptions: co, Name: "BugStatus", Table: tabA},
			session.Pipeline{Script: "Get-BugStatus.ps1"}, session.DisconnectOptions{})
		require.NoError(t, err)
		assert.Equal(t, sessionRow{"BugStatus", c, session.StateDisconnected, "ITTasks", session.AvailabilityNone}, rowOf(s))
		assert.Equal(t, 24*time.Hour, s.IdleTimeout())
		assert.Equal(t, s.DisconnectedOn().Add(24*time.Hour), s.ExpiresOn())
	}
	// PS> Exit
	for _, s := range tabA.List() {
		require.NoError(t, s.Close(ctx))
	}
	// The scripts take a long time; they finish while nobody is connected.
	close(release)
	for _, c := range computers {
		srv := l.server(c)
		waitFor(t, "the script on "+c+" to finish", func() bool {
			for _, id := range srv.Shells() {
				st, _ := srv.Shell(id)
				return len(st.Commands) == 1 && !st.Commands[0].Running
			}
			return false
		})
	}
	// "The next day": well past the server's 2-hour default IdleTimeout,
	// within the 24 hours asked for, so the sessions are still there.
	l.clock.Advance(20 * time.Hour)

	// PS> $s = Get-PSSession -ComputerName Server01, Server02, Server30 -Name BugStatus
	// PS> $s
	// 1  ITTask  Server01        Disconnected  ITTasks                       None
	// 8  ITTask  Server02        Disconnected  ITTasks                       None
	// 2  ITTask  Server30        Disconnected  ITTasks                       None
	// (the reference's table says ITTask where its command and text say
	// BugStatus: the sessions are named BugStatus.)
	tabB := &session.Table{}
	s, err := session.Get(ctx, session.GetOptions{ConnectionOptions: l.conn("Server01"),
		ComputerNames: []string{"Server02", "Server30"}, Name: "BugStatus", Table: tabB})
	require.NoError(t, err)
	var want []sessionRow
	for _, c := range computers {
		want = append(want, sessionRow{"BugStatus", c, session.StateDisconnected, "ITTasks", session.AvailabilityNone})
	}
	assert.ElementsMatch(t, want, rowsOf(s))
	require.Len(t, s, 3)
	ids := map[int]bool{}
	for _, x := range s {
		ids[x.Id()] = true
		assert.Equal(t, 24*time.Hour, x.IdleTimeout(), "the IdleTimeout set at creation, as the server reports it")
	}
	assert.Len(t, ids, 3)

	// PS> $Results = Receive-PSSession -Session $s
	rec, err := session.Receive(ctx, session.BySession(s...), session.ReceiveOptions{Table: tabB, JobTable: &job.Table{}})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetHost, rec.OutTarget)
	results, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)

	// PS> $s
	// 1  ITTask  Server01        Opened        ITTasks                  Available  (and Server02, Server30)
	for _, x := range s {
		waitFor(t, x.ComputerName()+" to be available", func() bool { return x.Availability() == session.AvailabilityAvailable })
	}
	want = want[:0]
	for _, c := range computers {
		want = append(want, sessionRow{"BugStatus", c, session.StateOpened, "ITTasks", session.AvailabilityAvailable})
	}
	assert.ElementsMatch(t, want, rowsOf(s))

	// PS> $Results
	// ComputerName          BugCount          LastUpdated
	// Server01              121               Friday, December 30, 2011 5:03:34 PM
	// (the reference shows the first row; every computer's report is here)
	type report struct {
		ComputerName string
		BugCount     int32
	}
	var reports []report
	for _, r := range results {
		if r.Kind != session.KindOutput {
			continue
		}
		o, ok := r.Output.(*clixml.Object)
		require.True(t, ok, "a report object")
		cn, _ := o.PropString("ComputerName")
		bc, _ := o.PropInt32("BugCount")
		lu, ok := o.Property("LastUpdated")
		require.True(t, ok)
		assert.IsType(t, time.Time{}, clixml.ToGo(lu))
		assert.Equal(t, cn, r.ComputerName, "PSComputerName says where the report came from")
		reports = append(reports, report{cn, bc})
	}
	assert.ElementsMatch(t, []report{{"Server01", 121}, {"Server02", 122}, {"Server30", 123}}, reports)

	// "If any of the results are unexpected, the user can run commands in
	// the sessions to investigate": they are open.
	res, err := s[0].Invoke(ctx, session.Pipeline{Script: `"investigating"`})
	require.NoError(t, err)
	rs, err := res.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"investigating"}, outputs(rs))
	for _, x := range s {
		require.NoError(t, x.Remove(ctx))
	}
	check() // no goroutine of the six sessions (two processes) is left
}

// Example 6: Running a job in a disconnected session, command by command
// (the ComputerName forms of Connect-PSSession and Receive-PSSession in
// the same client, which TestExample6JobReusedOnReconnect does with the
// session object).
func TestExample6RunningAJobInADisconnectedSession(t *testing.T) {
	l := newLab(t, wsmantest.Options{}, "Server01")
	ret := newScript("", "Return %d")
	// { 1..1500 | Foreach-Object {"Return $_"; sleep 30} }: the test
	// releases the lines instead of sleeping.
	l.server("Server01").HandleScript(`1..1500 | Foreach-Object {"Return $_"; sleep 30}`, ret.handler())
	ctx := testCtx(t)
	tab := &session.Table{}
	jobs := &job.Table{}

	// PS> $s = New-PSSession -ComputerName Server01 -Name Test
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "Test", Table: tab})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	// PS> $j = Invoke-Command -Session $s { ... } -AsJob
	// PS> $j
	// 16     Job1           Running       True            Server01
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: `1..1500 | Foreach-Object {"Return $_"; sleep 30}`},
		session.JobOptions{Table: jobs})
	require.NoError(t, err)
	var mu sync.Mutex
	var changes []string
	j.Subscribe(func(sc job.StateChange) {
		mu.Lock()
		changes = append(changes, sc.Previous.String()+">"+sc.State.String())
		mu.Unlock()
	})
	ret.release <- 2
	waitFor(t, "the first results", j.HasMoreData)
	// PowerShell names a job Job<n>; this package's default is "Job<Id>".
	assert.Equal(t, jobRow{fmt.Sprintf("Job%d", j.ID()), job.Running, true, "Server01"}, jobRowOf(j))
	waitFor(t, "2 results in the job", func() bool {
		rs, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		return len(outputs(rs)) == 2
	})

	// PS> $s | Disconnect-PSSession
	// 1  Test   Server01        Disconnected  Microsoft.PowerShell          None
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	assert.Equal(t, sessionRow{"Test", "Server01", session.StateDisconnected, "Microsoft.PowerShell", session.AvailabilityNone}, rowOf(s))

	// PS> $j
	// 16     Job1           Disconnected  True            Server01
	waitFor(t, "the job to be Disconnected", func() bool { return j.State() == job.Disconnected })
	assert.Equal(t, jobRow{fmt.Sprintf("Job%d", j.ID()), job.Disconnected, true, "Server01"}, jobRowOf(j))

	// PS> Receive-Job $j -Keep
	// Return 1
	// Return 2
	rs, err := j.Receive(ctx, job.ReceiveOptions{Keep: true})
	require.NoError(t, err)
	assert.Equal(t, lines("Return %d", 1, 2), outputs(rs))
	ret.release <- 2 // the command goes on while disconnected

	// PS> $s2 = Connect-PSSession -ComputerName Server01 -Name Test
	// In the same client this is the session object $s (PowerShell matches
	// the server's session to its local one by InstanceId): Get by
	// computer and name returns it, and it is connected.
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: l.conn("Server01"), Name: "Test", Table: tab})
	require.NoError(t, err)
	require.Len(t, found, 1)
	s2 := found[0]
	assert.Same(t, s, s2, "Connect-PSSession -ComputerName -Name in the same client gives back $s")
	require.NoError(t, s2.Connect(ctx))
	assert.Equal(t, session.StateOpened, s2.State())

	// PS> $j2 = Receive-PSSession -ComputerName Server01 -Name Test
	// "Because the command is run in the same session, Receive-PSSession
	// returns the results as a job by default and reuses the same job
	// object."
	rec, err := session.Receive(ctx, session.OnComputerByName(l.conn("Server01"), "Test"),
		session.ReceiveOptions{Table: tab, JobTable: jobs})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetJob, rec.OutTarget)
	assert.Same(t, j, rec.Job, "$j2 is $j")
	require.Len(t, rec.Sessions, 1)
	assert.Same(t, s, rec.Sessions[0])

	// PS> Receive-Job $j
	// Return 3
	// Return 4
	// Receive-Job after -Keep returns the kept results too (Keep's
	// meaning, in PowerShell and in package job): 1 and 2, then the 3 and
	// 4 the reference shows, which arrived through the reused job.
	waitFor(t, "4 results in the job", func() bool {
		rs, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		return len(outputs(rs)) == 4
	})
	rs, err = j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, lines("Return %d", 1, 4), outputs(rs))
	assert.Equal(t, job.Running, j.State(), "1..1500 is far from done")
	require.NoError(t, j.Stop(ctx))
	assert.Equal(t, job.Stopped, j.State())
	close(ret.release)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Running>Disconnected", "Disconnected>Running", "Running>Stopping", "Stopping>Stopped"}, changes,
		"one job object through the whole example")
}

// InvokeInDisconnectedSession loses nothing (NOTES): the command starts
// and the session disconnects before any Receive for the command is sent,
// so output written at once reaches no client until one receives it, and
// then all of it, in order.
func TestInDisconnectedSessionNothingReachesTheStarter(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	const total = 200
	srv.HandleScript("flood", flood(total, nil)) // writes at once, no gate
	ctx := testCtx(t)
	a, c, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: conn(srv), Name: "AtOnce", Table: &session.Table{}},
		session.Pipeline{Script: "flood"}, session.DisconnectOptions{})
	require.NoError(t, err)
	starter := a.WSManSessionID()
	require.NoError(t, a.Close(ctx))
	for _, r := range srv.Requests() {
		if r.Action == "Receive" && strings.EqualFold(r.CommandID, c.ID().String()) {
			t.Errorf("the starting client sent a Receive for the command (session %s)", r.SessionID)
		}
	}
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "AtOnce"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	b := rec.Sessions[0]
	assert.NotEqual(t, starter, b.WSManSessionID())
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	assert.Equal(t, items(0, total), outputs(rs))
	require.NoError(t, b.Remove(ctx))
}

// Every parameter set of Receive-PSSession receives the session it names
// (the local sets from this process's table, the computer sets from a new
// client), and Selector.ParameterSet names the set.
func TestEveryParameterSet(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	srv.HandleScript("numbers", flood(3, nil))
	ctx := testCtx(t)
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	byComputer := session.ConnectionOptions{ComputerName: host, Port: p,
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second}}
	byURI := conn(srv)

	cases := []struct {
		set     string
		local   bool
		select_ func(s *session.Session) session.Selector
	}{
		{"Session", true, func(s *session.Session) session.Selector { return session.BySession(s) }},
		{"Id", true, func(s *session.Session) session.Selector { return session.ByID(s.Id()) }},
		{"SessionName", true, func(s *session.Session) session.Selector { return session.ByName(s.Name()) }},
		{"InstanceId", true, func(s *session.Session) session.Selector { return session.ByInstanceID(s.InstanceID()) }},
		{"ComputerSessionName", false, func(s *session.Session) session.Selector { return session.OnComputerByName(byComputer, s.Name()) }},
		{"ComputerInstanceId", false, func(s *session.Session) session.Selector {
			return session.OnComputerByInstanceID(byComputer, s.InstanceID())
		}},
		{"ConnectionUriSessionName", false, func(s *session.Session) session.Selector { return session.OnComputerByName(byURI, s.Name()) }},
		{"ConnectionUriInstanceId", false, func(s *session.Session) session.Selector {
			return session.OnComputerByInstanceID(byURI, s.InstanceID())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.set, func(t *testing.T) {
			tab := &session.Table{}
			a, _, err := session.InvokeInDisconnectedSession(ctx,
				session.NewOptions{ConnectionOptions: byURI, Name: "PS-" + tc.set, Table: tab},
				session.Pipeline{Script: "numbers"}, session.DisconnectOptions{})
			require.NoError(t, err)
			sel := tc.select_(a)
			assert.Equal(t, tc.set, sel.ParameterSet())
			o := session.ReceiveOptions{Table: tab}
			if !tc.local {
				require.NoError(t, a.Close(ctx)) // as if this process had exited
				o.Table = &session.Table{}
			}
			rec, err := session.Receive(ctx, sel, o)
			require.NoError(t, err)
			require.Len(t, rec.Sessions, 1)
			s := rec.Sessions[0]
			assert.Equal(t, a.InstanceID(), s.InstanceID())
			if tc.local {
				assert.Same(t, a, s, "the local sets receive the session object of the table")
			}
			assert.Equal(t, session.StateOpened, s.State())
			rs, err := rec.Stream.Collect(ctx)
			require.NoError(t, err)
			assert.Equal(t, items(0, 3), outputs(rs))
			require.NoError(t, s.Remove(ctx))
		})
	}
}

// Environment of the helper process of TestReceiveFromNewOSProcess.
const (
	helperModeEnv = "PSREMOTING_REFEX_HELPER_MODE"
	helperAddrEnv = "PSREMOTING_REFEX_HELPER_ADDR"
)

// TestReferenceHelperProcess is not a test: it is the other OS process of
// TestReceiveFromNewOSProcess (the test binary run again with
// -test.run), which knows only the computer (host and port) and the
// session name. Mode "start" starts the command in a disconnected session
// and exits; mode "receive" receives it by computer name and session name,
// prints what it got, and removes the session.
func TestReferenceHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("helper process of TestReceiveFromNewOSProcess; runs only when that test starts it")
	}
	host, port, err := net.SplitHostPort(os.Getenv(helperAddrEnv))
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	co := session.ConnectionOptions{ComputerName: host, Port: p,
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second, NoProxy: true}}
	ctx := testCtx(t)
	switch mode {
	case "start":
		s, c, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: co, Name: "Nightly"},
			session.Pipeline{Script: "nightly"}, session.DisconnectOptions{IdleTimeout: 12 * time.Hour})
		require.NoError(t, err)
		fmt.Printf("STARTED %s %s %s\n", s.InstanceID(), c.ID(), s.WSManSessionID())
		require.NoError(t, s.Close(ctx))
	case "receive":
		rec, err := session.Receive(ctx, session.OnComputerByName(co, "Nightly"), session.ReceiveOptions{})
		require.NoError(t, err)
		s := rec.Sessions[0]
		fmt.Printf("SESSION %s %s %s\n", s.InstanceID(), s.State(), s.WSManSessionID())
		for r, err := range rec.Stream.All() {
			require.NoError(t, err)
			if r.Kind == session.KindOutput {
				fmt.Printf("OUTPUT %v\n", clixml.ToGo(r.Output))
			}
		}
		require.NoError(t, s.Remove(ctx))
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
}

// A receive from a new OS process using only the computer name and the
// session name: one process starts a command in a disconnected session
// and exits; the command writes while no process is connected; another
// process receives every result.
func TestReceiveFromNewOSProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes")
	}
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("nightly", g.handler())
	// wsmantest.Listen sets Server.URL after the server starts serving,
	// and the Create handler reads it. A client in this process gets an
	// ordering from the race detector's view of the server's mutex; one in
	// another process does not, so -race reports a race. Taking the
	// server's mutex once (Shells) orders the write before the child's
	// requests. (Reported: the URL should be set before serving.)
	require.Empty(t, srv.Shells())
	ctx := testCtx(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	run := func(mode string) []string {
		cmd := exec.CommandContext(ctx, exe, "-test.run=^TestReferenceHelperProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperAddrEnv+"="+srv.Addr())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s process:\n%s", mode, out)
		return strings.Split(string(out), "\n")
	}
	fields := func(out []string, prefix string) []string {
		for _, l := range out {
			if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
				return strings.Fields(rest)
			}
		}
		t.Fatalf("no %s line in %q", prefix, out)
		return nil
	}

	started := fields(run("start"), "STARTED")
	require.Len(t, started, 3)
	id, err := uuid.Parse(started[0])
	require.NoError(t, err)
	st, ok := srv.Shell(id.String())
	require.True(t, ok, "the session outlives the process that made it")
	assert.Equal(t, "Disconnected", st.State)
	require.Len(t, st.Commands, 1)
	assert.True(t, strings.EqualFold(started[1], st.Commands[0].CommandID))
	g.release <- 3 // written while no process is connected
	close(g.release)

	out := run("receive")
	got := fields(out, "SESSION")
	require.Len(t, got, 3)
	assert.Equal(t, id.String(), got[0], "the same session, found by computer and name")
	assert.Equal(t, session.StateOpened.String(), got[1])
	assert.NotEqual(t, started[2], got[2], "a new client (new WS-Management session id)")
	var outputs []string
	for _, l := range out {
		if rest, ok := strings.CutPrefix(l, "OUTPUT "); ok {
			outputs = append(outputs, rest)
		}
	}
	assert.Equal(t, items(0, 3), outputs)
	_, ok = srv.Shell(id.String())
	assert.False(t, ok, "the receiving process removed it")
}

// NOTES: results delivered to one client are not delivered to another,
// with a job: a job started here keeps what it got before its session was
// disconnected; another client that receives the session meanwhile gets
// the next results; when this client receives the session again, the
// original job (reused, Example 6's rule) gets the rest. Each result is
// delivered exactly once, to one of them.
func TestJobResultsGoToOneClientOnly(t *testing.T) {
	srv := newServer(t, wsmantest.Options{})
	g := newGate()
	srv.HandleScript("numbers", g.handler())
	ctx := testCtx(t)
	tabA, jobsA := &session.Table{}, &job.Table{}
	a := newSession(t, srv, "Shared", tabA)
	j, err := a.InvokeAsJob(ctx, session.Pipeline{Script: "numbers"}, session.JobOptions{Table: jobsA})
	require.NoError(t, err)
	g.release <- 2
	waitFor(t, "2 results in the job", func() bool {
		rs, _ := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		return len(outputs(rs)) == 2
	})
	require.NoError(t, a.Disconnect(ctx, session.DisconnectOptions{}))
	waitFor(t, "the job to be Disconnected", func() bool { return j.State() == job.Disconnected })
	g.release <- 2

	// Another client (process) receives it: not started as a job there, so
	// its results come to a Stream.
	rec, err := session.Receive(ctx, session.OnComputerByName(conn(srv), "Shared"), session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	require.Equal(t, session.OutTargetHost, rec.OutTarget)
	var toB []session.Result
	for len(outputs(toB)) < 2 {
		toB = append(toB, <-rec.Stream.C())
	}
	err = a.Connect(ctx)
	assert.ErrorIs(t, err, session.ErrBusy, "the other client holds it")
	assert.Equal(t, job.Disconnected, j.State())
	b := rec.Sessions[0]
	require.NoError(t, b.Disconnect(ctx, session.DisconnectOptions{}))
	rest, err := rec.Stream.Collect(ctx)
	assert.ErrorIs(t, err, session.ErrDisconnected)
	toB = append(toB, rest...)
	require.NoError(t, b.Close(ctx))
	g.release <- 2

	// This client receives it again: the original job resumes.
	rec, err = session.Receive(ctx, session.BySession(a), session.ReceiveOptions{Table: tabA, JobTable: jobsA})
	require.NoError(t, err)
	assert.Equal(t, session.OutTargetJob, rec.OutTarget)
	assert.Same(t, j, rec.Job)
	close(g.release)
	st, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	toA, err := j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, items(2, 4), outputs(toB), "B got what was written while A was away")
	assert.Equal(t, append(items(0, 2), items(4, 6)...), outputs(toA), "A's job: before, and after B")
}

// Example 6's rule without the Connect-PSSession step: Receive-PSSession
// -ComputerName -Name in the client that started the job, on the session
// it disconnected, connects that session object and reuses the job.
func TestExample6ReceiveByComputerNameWithoutConnect(t *testing.T) {
	l := newLab(t, wsmantest.Options{}, "Server01")
	ret := newScript("", "Return %d")
	l.server("Server01").HandleScript("returns", ret.handler())
	ctx := testCtx(t)
	tab, jobs := &session.Table{}, &job.Table{}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: l.conn("Server01"), Name: "Test", Table: tab})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: "returns"}, session.JobOptions{Table: jobs})
	require.NoError(t, err)
	ret.release <- 1
	waitFor(t, "a result", j.HasMoreData)
	require.NoError(t, s.Disconnect(ctx, session.DisconnectOptions{}))
	ret.release <- 1

	rec, err := session.Receive(ctx, session.OnComputerByName(l.conn("Server01"), "Test"),
		session.ReceiveOptions{Table: tab, JobTable: jobs})
	require.NoError(t, err)
	require.Len(t, rec.Sessions, 1)
	assert.Same(t, s, rec.Sessions[0], "the session of this process's table")
	assert.Equal(t, session.StateOpened, s.State())
	assert.Equal(t, session.OutTargetJob, rec.OutTarget)
	assert.Same(t, j, rec.Job)
	close(ret.release)
	st, err := j.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, job.Completed, st)
	rs, err := j.Receive(ctx, job.ReceiveOptions{})
	require.NoError(t, err)
	assert.Equal(t, lines("Return %d", 1, 2), outputs(rs))
	assert.Len(t, jobs.List(), 1, "no new job was made")
}
