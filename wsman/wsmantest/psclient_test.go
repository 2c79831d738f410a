package wsmantest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// psClient is a minimal PSRP client for these tests: the psrp.ClientPool
// state machine driven over the wsman.Client transport. (The real client
// lives in the session package; this one only exists to exercise the
// server.)
type psClient struct {
	t    testing.TB
	wc   *wsman.Client
	pool *psrp.ClientPool
	ref  wsman.ShellRef
}

// result is what a pipeline produced.
type result struct {
	output   []clixml.Value
	errors   []*psrp.ErrorRecord
	records  map[psrp.MessageType][]string
	progress []*psrp.ProgressRecord
	info     []*psrp.InformationRecord
	hostCall []*psrp.HostCall
	state    psrp.PSInvocationState
	reason   *psrp.ErrorRecord
}

func newWSManClient(t testing.TB, srv *wsmantest.Server, user, pass string, sessionID string) *wsman.Client {
	t.Helper()
	cfg := wsman.Config{OperationTimeout: 5 * time.Second, SessionID: sessionID, AllowUnencrypted: true}
	if user != "" {
		cfg.Auth = &auth.Basic{Username: user, Password: pass}
	}
	wc, err := wsman.NewClient(srv.URL, cfg)
	require.NoError(t, err)
	t.Cleanup(wc.CloseIdleConnections)
	return wc
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openPool creates a PowerShell shell and opens its runspace pool.
func openPool(t testing.TB, wc *wsman.Client, name string, idle time.Duration) *psClient {
	t.Helper()
	return openPoolShell(t, wc, wsman.PowerShellShell{Name: name, IdleTimeOut: idle})
}

// openPoolConfig opens a pool on a named configuration.
func openPoolConfig(t testing.TB, wc *wsman.Client, config string) *psClient {
	t.Helper()
	return openPoolShell(t, wc, wsman.PowerShellShell{ConfigurationName: config})
}

// openPoolShell creates the PowerShell shell sh describes (its ShellID and
// CreationXML are filled in) and opens its runspace pool.
func openPoolShell(t testing.TB, wc *wsman.Client, sh wsman.PowerShellShell) *psClient {
	t.Helper()
	ctx := testCtx(t)
	id := uuid.New()
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
	require.NoError(t, err)
	require.NoError(t, pool.Open())
	sh.ShellID = strings.ToUpper(id.String())
	sh.CreationXML, err = pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize())
	require.NoError(t, err)
	sh.ProtocolVersion = psrp.DefaultProtocolVersion
	resp, err := wc.CreatePowerShell(ctx, sh)
	require.NoError(t, err)
	c := &psClient{t: t, wc: wc, pool: pool,
		ref: wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(sh.ConfigurationName), ShellID: resp.ShellID()}}
	c.flush(ctx, psrp.PoolTarget, "")
	for pool.State() != psrp.RunspacePoolOpened {
		c.receivePool(ctx)
	}
	return c
}

// flush sends whatever the pool has queued for a target.
func (c *psClient) flush(ctx context.Context, t psrp.Target, commandID string) {
	for c.pool.Pending(t) > 0 {
		b, err := c.pool.NextPayload(t, c.wc.MaxPayloadSize())
		require.NoError(c.t, err)
		require.NoError(c.t, c.wc.Send(ctx, c.ref, wsman.Stream{Name: wsman.StreamStdin, CommandID: commandID, Data: b}))
	}
}

// receivePool does one pool-level Receive and applies it.
func (c *psClient) receivePool(ctx context.Context) []psrp.Event {
	rr, err := c.wc.Receive(ctx, c.ref, &wsman.Receive{})
	require.NoError(c.t, err)
	if rr.TimedOut {
		return nil
	}
	ev, err := c.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, ""))
	require.NoError(c.t, err)
	return ev
}

// start creates a pipeline running script (no input unless input is set).
func (c *psClient) start(ctx context.Context, script string, withInput bool) *psrp.ClientPipeline {
	id := uuid.New()
	pl, err := c.pool.NewPipeline(id, &psrp.CreatePipeline{NoInput: !withInput,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: script, IsScript: true}}}})
	require.NoError(c.t, err)
	require.NoError(c.t, pl.Invoke())
	args, err := c.pool.NextPayload(pl.Target(), c.wc.MaxPayloadSize())
	require.NoError(c.t, err)
	cid, err := c.wc.Command(ctx, c.ref, &wsman.CommandLine{CommandID: strings.ToUpper(id.String()), Command: script,
		Arguments: wsman.PowerShellArguments(args)})
	require.NoError(c.t, err)
	require.Equal(c.t, strings.ToUpper(id.String()), cid)
	c.flush(ctx, pl.Target(), cid)
	return pl
}

// collect receives a pipeline's output until it ends; onHostCall answers
// host calls.
func (c *psClient) collect(ctx context.Context, pl *psrp.ClientPipeline, onHostCall func(*psrp.HostCall) *psrp.HostResponse) *result {
	res := &result{records: map[psrp.MessageType][]string{}}
	for !c.receiveOnce(ctx, pl, res, onHostCall) {
		// a timeout, or output before Done: receive again
	}
	require.True(c.t, res.state.Terminal(), "Done before a terminal pipeline state")
	return res
}

// collectUntil receives a pipeline's output until enough has arrived.
func (c *psClient) collectUntil(ctx context.Context, pl *psrp.ClientPipeline, res *result, enough func(*result) bool) {
	for !enough(res) {
		done := c.receiveOnce(ctx, pl, res, nil)
		require.False(c.t, done, "pipeline ended early in state %v", res.state)
	}
}

// receiveOnce does one Receive for the pipeline and applies what it brings
// to res; it reports whether the command is Done (false on a timeout).
func (c *psClient) receiveOnce(ctx context.Context, pl *psrp.ClientPipeline, res *result, onHostCall func(*psrp.HostCall) *psrp.HostResponse) bool {
	cid := strings.ToUpper(pl.ID().String())
	rr, err := c.wc.Receive(ctx, c.ref, &wsman.Receive{CommandID: cid})
	require.NoError(c.t, err)
	if rr.TimedOut {
		return false
	}
	ev, err := c.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, cid))
	require.NoError(c.t, err)
	c.apply(ctx, res, ev, pl, onHostCall)
	return rr.CommandState.Done()
}

func (c *psClient) apply(ctx context.Context, res *result, ev []psrp.Event, pl *psrp.ClientPipeline, onHostCall func(*psrp.HostCall) *psrp.HostResponse) {
	for _, e := range ev {
		switch e := e.(type) {
		case psrp.PipelineOutputReceived:
			v, err := clixml.Unmarshal(e.Message.Data)
			require.NoError(c.t, err)
			res.output = append(res.output, v)
		case psrp.ErrorRecordReceived:
			v, err := clixml.Unmarshal(e.Message.Data)
			require.NoError(c.t, err)
			r, err := psrp.DecodeErrorRecord(v)
			require.NoError(c.t, err)
			res.errors = append(res.errors, r)
		case psrp.InformationalRecordReceived:
			v, err := clixml.Unmarshal(e.Message.Data)
			require.NoError(c.t, err)
			switch e.Message.Type {
			case psrp.MessageProgressRecord:
				r, err := psrp.DecodeProgressRecord(v)
				require.NoError(c.t, err)
				res.progress = append(res.progress, r)
			case psrp.MessageInformationRecord:
				r, err := psrp.DecodeInformationRecord(v)
				require.NoError(c.t, err)
				res.info = append(res.info, r)
			default:
				r, err := psrp.DecodeInformationalRecord(v)
				require.NoError(c.t, err)
				res.records[e.Message.Type] = append(res.records[e.Message.Type], r.Message)
			}
		case psrp.HostCallReceived:
			v, err := clixml.Unmarshal(e.Message.Data)
			require.NoError(c.t, err)
			hc, err := psrp.DecodeHostCall(v)
			require.NoError(c.t, err)
			res.hostCall = append(res.hostCall, hc)
			if onHostCall != nil && hc.CallID >= 0 {
				require.NoError(c.t, pl.HostResponse(onHostCall(hc)))
				t := psrp.Target{Pipeline: pl.ID(), Stream: psrp.StreamPromptResponse}
				for c.pool.Pending(t) > 0 {
					b, err := c.pool.NextPayload(t, c.wc.MaxPayloadSize())
					require.NoError(c.t, err)
					require.NoError(c.t, c.wc.Send(ctx, c.ref, wsman.Stream{Name: wsman.StreamPR,
						CommandID: strings.ToUpper(pl.ID().String()), Data: b}))
				}
			}
		case psrp.PipelineStateChanged:
			res.state = e.New
			if e.Info != nil {
				res.reason = e.Info.Error
			}
		}
	}
}

func (c *psClient) terminate(ctx context.Context, pl *psrp.ClientPipeline) {
	require.NoError(c.t, c.wc.Signal(ctx, c.ref, strings.ToUpper(pl.ID().String()), wsman.SignalTerminate))
}

// run starts a script and collects its result.
func (c *psClient) run(script string) *result {
	ctx := testCtx(c.t)
	pl := c.start(ctx, script, false)
	res := c.collect(ctx, pl, nil)
	c.terminate(ctx, pl)
	return res
}

func (c *psClient) close() {
	ctx := testCtx(c.t)
	err := c.wc.Delete(ctx, c.ref)
	if err != nil && !errors.Is(err, wsman.ErrShellNotFound) {
		require.NoError(c.t, err)
	}
}

func upperID(pl *psrp.ClientPipeline) string { return strings.ToUpper(pl.ID().String()) }

// disconnect disconnects the shell (optionally changing idle timeout and
// buffer mode).
func (c *psClient) disconnect(idle time.Duration, bufferMode string) {
	ctx := testCtx(c.t)
	_, err := c.pool.BeginDisconnect()
	require.NoError(c.t, err)
	require.NoError(c.t, c.wc.Disconnect(ctx, c.ref, &wsman.Disconnect{IdleTimeOut: idle, BufferMode: bufferMode}))
	_, err = c.pool.DisconnectCompleted()
	require.NoError(c.t, err)
}

// reconnect reconnects the same client (same wsmv:SessionId).
func (c *psClient) reconnect() error {
	ctx := testCtx(c.t)
	if _, err := c.pool.BeginReconnect(); err != nil {
		return err
	}
	if err := c.wc.Reconnect(ctx, c.ref, ""); err != nil {
		return err
	}
	_, err := c.pool.ReconnectCompleted()
	return err
}

// connectNew connects a new client to a disconnected shell and adopts its
// running commands.
func connectNew(t testing.TB, wc *wsman.Client, shellID string) (*psClient, error) {
	ctx := testCtx(t)
	id, err := uuid.Parse(shellID)
	require.NoError(t, err)
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
	require.NoError(t, err)
	require.NoError(t, pool.Connect())
	cx, err := pool.ConnectPayload(wc.MaxPayloadSize())
	require.NoError(t, err)
	c := &psClient{t: t, wc: wc, pool: pool, ref: wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: shellID}}
	resp, err := wc.Connect(ctx, c.ref, cx, psrp.DefaultProtocolVersion)
	if err != nil {
		return nil, err
	}
	_, err = pool.ReceiveData(resp.ConnectResponseXML)
	require.NoError(t, err)
	require.Equal(t, psrp.RunspacePoolOpened, pool.State())
	return c, nil
}

// adopt connects to a running command of a shell this client connected to.
func (c *psClient) adopt(commandID string) *psrp.ClientPipeline {
	ctx := testCtx(c.t)
	id, err := uuid.Parse(commandID)
	require.NoError(c.t, err)
	pl, err := c.pool.AdoptPipeline(id)
	require.NoError(c.t, err)
	require.NoError(c.t, c.wc.ConnectCommand(ctx, c.ref, strings.ToUpper(commandID)))
	return pl
}

// invoke sends a prepared pipeline's CREATE_PIPELINE and collects it.
func (c *psClient) invoke(ctx context.Context, pl *psrp.ClientPipeline) *result {
	require.NoError(c.t, pl.Invoke())
	args, err := c.pool.NextPayload(pl.Target(), c.wc.MaxPayloadSize())
	require.NoError(c.t, err)
	cid, err := c.wc.Command(ctx, c.ref, &wsman.CommandLine{CommandID: upperID(pl), Arguments: wsman.PowerShellArguments(args)})
	require.NoError(c.t, err)
	c.flush(ctx, pl.Target(), cid)
	res := c.collect(ctx, pl, nil)
	c.terminate(ctx, pl)
	return res
}
