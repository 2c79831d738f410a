package wsmantest_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func TestEnumeratePullHonoursMaxElements(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, openPool(t, wc, "", 0).ref.ShellID)
	}
	openPool(t, newWSManClient(t, srv, "bob", "bob-pw", ""), "", 0)

	items, err := wc.Enumerate(ctx, wsman.ResourceShell, &wsman.Enumerate{Optimize: true, MaxElements: 2}, 0)
	require.NoError(t, err)
	var got []string
	for _, it := range items {
		sh, err := wsman.ParseShell(it)
		require.NoError(t, err)
		got = append(got, sh.ShellID)
		assert.Equal(t, `WSMANTEST\alice`, sh.Owner)
	}
	assert.Equal(t, ids, got, "only alice's shells, all of them, in creation order")
	pulls := 0
	for _, r := range srv.Requests() {
		if r.Action == "Pull" {
			pulls++
			assert.Zero(t, r.FaultCode)
		}
	}
	assert.Equal(t, 2, pulls, "5 items at 2 per message: Enumerate + 2 Pulls")

	// Without OptimizeEnumeration every item comes through Pull.
	items, err = wc.Enumerate(ctx, wsman.ResourceShell, &wsman.Enumerate{MaxElements: 3}, 0)
	require.NoError(t, err)
	assert.Len(t, items, 5)
}

func TestFaultInjection(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("hello", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String("hello"))
	}))
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	a := openPool(t, wc, "", 0)

	// A chosen fault, once.
	srv.Inject(wsmantest.Injection{Action: "Get", Times: 1, Fault: wsmantest.FaultShellBusy(a.ref.ShellID)})
	_, err := wc.GetShell(ctx, a.ref.ShellID)
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellBusy), "%v", err)
	_, err = wc.GetShell(ctx, a.ref.ShellID)
	require.NoError(t, err, "Times: 1 applies once")

	// An HTTP status with an empty body.
	remove := srv.Inject(wsmantest.Injection{Action: "Get", ShellID: a.ref.ShellID, HTTPStatus: http.StatusBadRequest})
	_, err = wc.GetShell(ctx, a.ref.ShellID)
	require.Error(t, err)
	var he *wsman.HTTPError
	require.True(t, errors.As(err, &he), "%T %v", err, err)
	assert.Equal(t, http.StatusBadRequest, he.StatusCode)
	remove()

	// Drop the connection before handling: nothing happens on the server.
	srv.Inject(wsmantest.Injection{Action: "Delete", Times: 1, DropBefore: true})
	require.Error(t, wc.Delete(ctx, a.ref))
	_, ok := srv.Shell(a.ref.ShellID)
	assert.True(t, ok, "dropped before handling: the shell still exists")

	// Drop after handling: the state change is kept, the response is lost.
	srv.Inject(wsmantest.Injection{Action: "Disconnect", Times: 1, DropAfter: true})
	require.Error(t, wc.Disconnect(ctx, a.ref, &wsman.Disconnect{}))
	st, _ := srv.Shell(a.ref.ShellID)
	assert.Equal(t, "Disconnected", st.State, "dropped after handling: the disconnect happened")
	require.NoError(t, wc.Reconnect(ctx, a.ref, ""))

	// The request log records what happened.
	var injected []string
	for _, r := range srv.Requests() {
		if r.Injected != "" {
			injected = append(injected, r.Action+":"+r.Injected)
			assert.Equal(t, wc.SessionID(), r.SessionID)
		}
	}
	assert.Equal(t, []string{"Get:fault", "Get:status", "Delete:drop-before", "Disconnect:drop-after"}, injected)

	// A network outage: connections dropped and refused for a while, state
	// kept.
	clock := wsmantest.NewManualClock(time.Time{})
	srv2 := newPSServer(t, wsmantest.Options{Clock: clock})
	wc2 := newWSManClient(t, srv2, "alice", "alice-pw", "")
	b := openPool(t, wc2, "", 0)
	srv2.Outage(time.Minute)
	_, err = wc2.GetShell(ctx, b.ref.ShellID)
	require.Error(t, err, "refused during the outage")
	clock.Advance(61 * time.Second)
	wc2.CloseIdleConnections()
	sh, err := wc2.GetShell(ctx, b.ref.ShellID)
	require.NoError(t, err, "the server is reachable again")
	assert.Equal(t, b.ref.ShellID, sh.ShellID)

	// Delay (on the server clock).
	srv.ClearInjections()
	srv.Inject(wsmantest.Injection{Action: "Get", Times: 1, Delay: 20 * time.Millisecond})
	start := time.Now()
	_, err = wc.GetShell(ctx, a.ref.ShellID)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestAuthentication(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("whoami", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String(inv.User))
	}))
	ctx := testCtx(t)

	// Wrong password: 401, typed.
	bad, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.Basic{Username: "alice", Password: "nope"}, AllowUnencrypted: true})
	require.NoError(t, err)
	_, err = bad.EnumerateShells(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "nope")

	// No credentials: 401.
	anon, err := wsman.NewClient(srv.URL, wsman.Config{})
	require.NoError(t, err)
	_, err = anon.EnumerateShells(ctx)
	require.Error(t, err)

	// NTLM with message encryption over plain HTTP, DOMAIN\user form.
	ntlmClient, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.NTLM{Username: `WSMANTEST\alice`, Password: "alice-pw"}, OperationTimeout: 5 * time.Second})
	require.NoError(t, err)
	c := openPool(t, ntlmClient, "", 0)
	res := c.run("whoami")
	assert.Equal(t, []clixml.Value{clixml.String("alice")}, res.output)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)
	c.close()

	// NTLM with a wrong password: 401.
	srv.ClearRequests()
	badNTLM, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.NTLM{Username: "alice", Password: "wrong"}})
	require.NoError(t, err)
	_, err = badNTLM.EnumerateShells(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "wrong")
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.StatusUnauthorized, last.Status, "the rejected NTLM authenticate message")
	assert.Empty(t, last.User)
}

func TestUnknownConfigurationAndShell(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{ConfigurationNames: []string{"Microsoft.PowerShell", "JEA.Maintenance"}})
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	ctx := testCtx(t)
	_, err := wc.CreatePowerShell(ctx, wsman.PowerShellShell{ConfigurationName: "No.Such.Endpoint", ShellID: "11111111-2222-3333-4444-555555555555", CreationXML: []byte{1}})
	require.Error(t, err)
	var f *wsman.Fault
	require.True(t, errors.As(err, &f), "%v", err)
	assert.Equal(t, wsmantest.CodeResourceNotFound, f.WSManCode())

	_, err = wc.GetShell(ctx, "11111111-2222-3333-4444-555555555555")
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellNotFound))

	// A JEA-like endpoint works like the default one.
	srv.HandleScript("hi", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String(inv.ConfigurationName))
	}))
	c := openPoolConfig(t, wc, "JEA.Maintenance")
	res := c.run("hi")
	assert.Equal(t, []clixml.Value{clixml.String("JEA.Maintenance")}, res.output)
	sh, err := wc.GetShell(ctx, c.ref.ShellID)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(sh.ResourceURI, "/JEA.Maintenance"))
}

func TestStopPipeline(t *testing.T) {
	srv := newPSServer(t, wsmantest.Options{})
	srv.HandleScript("wait", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		if err := inv.WriteOutput(clixml.String("started")); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}))
	wc := newWSManClient(t, srv, "alice", "alice-pw", "")
	c := openPool(t, wc, "", 0)
	ctx := testCtx(t)
	pl := c.start(ctx, "wait", false)
	require.NoError(t, wc.Signal(ctx, c.ref, upperID(pl), wsman.SignalPowerShellStop))
	res := c.collect(ctx, pl, nil)
	assert.Equal(t, psrp.PSInvocationStopped, res.state)
	assert.Equal(t, []clixml.Value{clixml.String("started")}, res.output)
	require.NotNil(t, res.reason)
	assert.Equal(t, "PipelineStopped", res.reason.FullyQualifiedErrorID)
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"alice": "pw"}, OutputBufferSize: 1024,
		AllowUnencrypted: true})
	srv.HandleScript("stuck", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		for {
			if err := inv.WriteOutput(clixml.String(strings.Repeat("x", 200))); err != nil {
				return err // blocked on the full buffer until Close
			}
		}
	}))
	wc := newWSManClient(t, srv, "alice", "pw", "")
	c := openPool(t, wc, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	c.start(ctx, "stuck", false)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		_, _ = wc.Receive(ctx, c.ref, &wsman.Receive{}) // outstanding long poll
	}()
	waitFor(t, "the handler to block", func() bool {
		st, _ := srv.Shell(c.ref.ShellID)
		return len(st.Commands) == 1 && st.Commands[0].Blocked
	})
	srv.Close()
	<-recvDone
	cancel()
	wc.CloseIdleConnections()
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
