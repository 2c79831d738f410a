package psrp_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// replay drives ClientPools through a pypsrp recording: every WSMan request
// is turned into the matching ClientPool operation (whose queued messages
// must have the recorded types), and every server payload goes to
// ReceiveData. It returns the events per shell.
//
// The old recordings carry RPID/PID in RFC 4122 byte order (recordings
// README caveat 1), so ids are taken from the recorded messages rather than
// from the WSMan ShellId/CommandId strings.
type replay struct {
	t        *testing.T
	pools    map[string]*psrp.ClientPool   // by upper-case ShellId
	commands map[string]uuid.UUID          // WSMan CommandId → PID of its messages
	events   map[string][]psrp.Event       // by ShellId
	history  map[string][]psrp.MessageType // messages the replayed clients sent, by ShellId
	// reqDefrag reassembles the recorded client messages per shell: a
	// CREATE_PIPELINE may start in a Command and end in a Send.
	reqDefrag map[string]*psrp.Defragmenter
}

var connectCommandRE = regexp.MustCompile(`<rsp:Connect[^>]*CommandId="([^"]+)"`)

func newReplay(t *testing.T) *replay {
	return &replay{t: t, pools: map[string]*psrp.ClientPool{}, commands: map[string]uuid.UUID{},
		events: map[string][]psrp.Event{}, history: map[string][]psrp.MessageType{},
		reqDefrag: map[string]*psrp.Defragmenter{}}
}

// clientMessages decodes the client messages completed by a request payload.
func (r *replay) clientMessages(shell string, p psrptrace.Payload) []*psrp.Message {
	r.t.Helper()
	b, err := p.Bytes()
	require.NoError(r.t, err)
	d := r.reqDefrag[shell]
	require.NotNil(r.t, d, "no pool for shell %s", shell)
	msgs, err := d.FeedMessages(b)
	require.NoError(r.t, err)
	return msgs
}

func types(msgs []*psrp.Message) []psrp.MessageType {
	var out []psrp.MessageType
	for _, m := range msgs {
		out = append(out, m.Type)
	}
	return out
}

// drain takes everything the pool queued for target and decodes it.
func drain(t *testing.T, c *psrp.ClientPool, tg psrp.Target) []*psrp.Message {
	t.Helper()
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	var out []*psrp.Message
	for c.Pending(tg) > 0 {
		b, err := c.NextPayload(tg, 8192)
		require.NoError(t, err)
		msgs, err := d.FeedMessages(b)
		require.NoError(t, err)
		out = append(out, msgs...)
	}
	return out
}

func (r *replay) run(rec *recordings.Recording) {
	t := r.t
	for i, ex := range rec.Messages {
		req, err := psrptrace.ScanEnvelope([]byte(ex.Request))
		require.NoError(t, err, "exchange %d request", i)
		if !psrptrace.IsPowerShell(req.ResourceURI) {
			continue
		}
		var resp *psrptrace.Envelope
		if ex.Response != "" {
			resp, err = psrptrace.ScanEnvelope([]byte(ex.Response))
			require.NoError(t, err, "exchange %d response", i)
		}
		shell := strings.ToUpper(req.ShellID)
		if resp != nil && (shell == "" || psrptrace.ShortAction(req.Action) == "Create") && resp.ShellID != "" {
			shell = strings.ToUpper(resp.ShellID)
		}
		action := psrptrace.ShortAction(req.Action)
		fault := resp == nil || resp.Fault || ex.Status() != 200
		r.step(i, action, shell, ex.Request, req, resp, fault)
	}
}

func (r *replay) pool(i int, shell string) *psrp.ClientPool {
	c := r.pools[shell]
	require.NotNil(r.t, c, "exchange %d: no pool for shell %s", i, shell)
	return c
}

func (r *replay) step(i int, action, shell, rawReq string, req, resp *psrptrace.Envelope, fault bool) {
	t := r.t
	ctx := fmt.Sprintf("exchange %d (%s)", i, action)
	switch action {
	case "Create":
		r.reqDefrag[shell] = psrp.NewDefragmenter(psrp.DefragmenterOptions{})
		msgs := r.clientMessages(shell, req.Payloads[0])
		c, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: msgs[0].RunspacePoolID})
		require.NoError(t, err)
		require.NoError(t, c.Open())
		mine := drain(t, c, psrp.PoolTarget)
		assert.Equal(t, types(msgs), types(mine), ctx)
		r.pools[shell] = c
		r.history[shell] = append(r.history[shell], types(mine)...)
	case "Command", "Send":
		c := r.pool(i, shell)
		for _, p := range req.Payloads {
			for _, m := range r.clientMessages(shell, p) {
				r.send(c, m, ctx)
			}
		}
	case "Receive":
		if fault {
			return
		}
		c := r.pool(i, shell)
		for _, p := range resp.Payloads {
			b, err := p.Bytes()
			require.NoError(t, err, ctx)
			ev, err := c.ReceiveData(b)
			require.NoError(t, err, ctx)
			r.events[shell] = append(r.events[shell], ev...)
		}
	case "Disconnect":
		c := r.pool(i, shell)
		_, err := c.BeginDisconnect()
		require.NoError(t, err, ctx)
		if fault {
			_, err = c.DisconnectFailed(fmt.Errorf("recorded fault"))
		} else {
			_, err = c.DisconnectCompleted()
		}
		require.NoError(t, err, ctx)
	case "Reconnect":
		c := r.pool(i, shell)
		if c.State() != psrp.RunspacePoolDisconnected {
			return // pypsrp also sends Reconnect to pools it just connected to
		}
		_, err := c.BeginReconnect()
		require.NoError(t, err, ctx)
		if !fault {
			ev, err := c.ReconnectCompleted()
			require.NoError(t, err, ctx)
			r.events[shell] = append(r.events[shell], ev...)
		}
	case "Connect":
		if len(req.Payloads) == 0 {
			m := connectCommandRE.FindStringSubmatch(rawReq)
			require.NotNil(t, m, ctx)
			pid, ok := r.commands[strings.ToUpper(m[1])]
			require.True(t, ok, "%s: unknown command %s", ctx, m[1])
			_, err := r.pool(i, shell).AdoptPipeline(pid)
			require.NoError(t, err, ctx)
			return
		}
		// A new client: its pool replaces the one of the old client.
		r.reqDefrag[shell] = psrp.NewDefragmenter(psrp.DefragmenterOptions{})
		msgs := r.clientMessages(shell, req.Payloads[0])
		c, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: msgs[0].RunspacePoolID})
		require.NoError(t, err)
		require.NoError(t, c.Connect())
		payload, err := c.ConnectPayload(8192)
		require.NoError(t, err)
		frags, err := psrp.DecodeFragments(payload)
		require.NoError(t, err)
		require.Len(t, frags, 2)
		assert.Equal(t, uint64(1), frags[0].ObjectID, "%s: a new client starts at ObjectId 1", ctx)
		mine, err := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).FeedMessages(payload)
		require.NoError(t, err)
		assert.Equal(t, types(msgs), types(mine), ctx)
		r.pools[shell] = c
		r.history[shell] = append(r.history[shell], types(mine)...)
		require.False(t, fault, ctx)
		for _, p := range resp.Payloads {
			b, err := p.Bytes()
			require.NoError(t, err, ctx)
			ev, err := c.ReceiveData(b)
			require.NoError(t, err, ctx)
			r.events[shell] = append(r.events[shell], ev...)
		}
	case "Delete":
		if c := r.pools[shell]; c != nil {
			r.events[shell] = append(r.events[shell], c.Closed()...)
		}
	}
}

// send performs the client operation that produced a recorded message.
func (r *replay) send(c *psrp.ClientPool, m *psrp.Message, ctx string) {
	t := r.t
	var v clixml.Value
	if len(m.Data) > 0 {
		var err error
		v, err = clixml.Unmarshal(m.Data)
		require.NoError(t, err, ctx)
	}
	pl := c.Pipeline(m.PipelineID)
	shell := strings.ToUpper(c.ID().String())
	for k, v := range r.pools {
		if v == c {
			shell = k
		}
	}
	var mine []*psrp.Message
	defer func() {
		if mine != nil {
			assert.Equal(t, []psrp.MessageType{m.Type}, types(mine), ctx)
		}
		r.history[shell] = append(r.history[shell], m.Type)
	}()
	switch m.Type {
	case psrp.MessageCreatePipeline, psrp.MessageGetCommandMetadata:
		var pl *psrp.ClientPipeline
		if m.Type == psrp.MessageCreatePipeline {
			spec, err := psrp.DecodeCreatePipeline(v)
			require.NoError(t, err, ctx)
			pl, err = c.NewPipeline(m.PipelineID, spec)
			require.NoError(t, err, ctx)
		} else {
			req, err := psrp.DecodeGetCommandMetadata(v)
			require.NoError(t, err, ctx)
			pl, err = c.NewCommandMetadataPipeline(m.PipelineID, req)
			require.NoError(t, err, ctx)
		}
		require.NoError(t, pl.Invoke(), ctx)
		mine = drain(t, c, pl.Target())
		var alt [16]byte
		psrp.EncodeGUID(alt[:], pl.ID())
		r.commands[strings.ToUpper(pl.ID().String())] = pl.ID()
		r.commands[strings.ToUpper(uuid.UUID(alt).String())] = pl.ID()
		return
	case psrp.MessageSetMaxRunspaces, psrp.MessageSetMinRunspaces, psrp.MessageGetAvailableRunspaces,
		psrp.MessageResetRunspaceState:
		var err error
		switch d, _ := psrp.DecodeValue(m.Type, v); d := d.(type) {
		case *psrp.SetMaxRunspaces:
			_, err = c.SetMaxRunspaces(d.MaxRunspaces)
		case *psrp.SetMinRunspaces:
			_, err = c.SetMinRunspaces(d.MinRunspaces)
		case *psrp.GetAvailableRunspaces:
			_, err = c.GetAvailableRunspaces()
		case *psrp.ResetRunspaceState:
			_, err = c.ResetRunspaceState()
		default:
			t.Fatalf("%s: cannot decode %s", ctx, m.Type)
		}
		require.NoError(t, err, ctx)
		mine = drain(t, c, psrp.PoolTarget)
		return
	case psrp.MessagePublicKey:
		t.Skipf("%s: the key exchange needs the recording client's private key", ctx)
	case psrp.MessagePipelineInput:
		require.NotNil(t, pl, ctx)
		require.NoError(t, pl.SendInput(v), ctx)
		mine = drain(t, c, pl.Target())
	case psrp.MessageEndOfPipelineInput:
		require.NotNil(t, pl, ctx)
		require.NoError(t, pl.EndInput(), ctx)
		mine = drain(t, c, pl.Target())
	case psrp.MessagePipelineHostResponse, psrp.MessageRunspacePoolHostResponse:
		hr, err := psrp.DecodeHostResponse(v)
		require.NoError(t, err, ctx)
		if pl != nil {
			require.NoError(t, pl.HostResponse(hr), ctx)
			mine = drain(t, c, psrp.Target{Pipeline: pl.ID(), Stream: psrp.StreamPromptResponse})
		} else {
			require.NoError(t, c.HostResponse(hr), ctx)
			mine = drain(t, c, psrp.Target{Stream: psrp.StreamPromptResponse})
		}
	default:
		t.Fatalf("%s: replay does not handle %s", ctx, m.Type)
	}
}

func outputs(t *testing.T, ev []psrp.Event) (out []clixml.Value, final psrp.PSInvocationState) {
	for _, e := range ev {
		switch e := e.(type) {
		case psrp.PipelineOutputReceived:
			v, err := clixml.Unmarshal(e.Message.Data)
			require.NoError(t, err)
			out = append(out, v)
		case psrp.PipelineStateChanged:
			final = e.New
		}
	}
	return out, final
}

func TestReplayDisconnectedCommands(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_disconnected_commands")
	r := newReplay(t)
	r.run(rec)
	require.Len(t, r.pools, 2)
	for shell, ev := range r.events {
		// Each pool: opened, disconnected with `Write-Output a; sleep 5;
		// Write-Output b` running, connected from a new client
		// (RUNSPACEPOOL_INIT_DATA opens it; APPLICATION_PRIVATE_DATA comes
		// first on the pool Receive), then the adopted pipeline delivered
		// the buffered progress record, a, b and Completed.
		out, final := outputs(t, ev)
		assert.Equal(t, []clixml.Value{clixml.String("a"), clixml.String("b")}, out, shell)
		assert.Equal(t, psrp.PSInvocationCompleted, final, shell)
		var sawInit, sawAppDataAfterInit, sawProgress bool
		for _, e := range ev {
			switch e := e.(type) {
			case psrp.RunspacePoolInitDataReceived:
				sawInit = true
				assert.Equal(t, int32(1), e.Data.MaxRunspaces)
			case psrp.ApplicationPrivateDataReceived:
				sawAppDataAfterInit = sawAppDataAfterInit || sawInit
			case psrp.InformationalRecordReceived:
				sawProgress = sawProgress || e.Message.Type == psrp.MessageProgressRecord
			}
		}
		assert.True(t, sawInit, shell)
		assert.True(t, sawAppDataAfterInit, shell)
		assert.True(t, sawProgress, shell)
		assert.Equal(t, psrp.RunspacePoolClosed, r.pools[shell].State(), shell)
	}
}

func TestReplayDisconnectRunspaces(t *testing.T) {
	rec := recordings.LoadNamed(t, "test_psrp_disconnect_runspaces")
	r := newReplay(t)
	r.run(rec)
	require.Len(t, r.pools, 2)
	for shell, ev := range r.events {
		var states []psrp.RunspacePoolState
		for _, e := range ev {
			if e, ok := e.(psrp.RunspacePoolStateChanged); ok {
				states = append(states, e.New)
			}
		}
		// Windows also sent RUNSPACEPOOL_STATE Opened after this connect;
		// the repeated state changes nothing.
		assert.Contains(t, states, psrp.RunspacePoolOpened, shell)
		assert.Equal(t, psrp.RunspacePoolClosed, states[len(states)-1], shell)
	}
}

// TestReplayRecordings drives a ClientPool through every PSRP recording that
// uses only what the replay maps to client operations.
func TestReplayRecordings(t *testing.T) {
	for _, rec := range recordings.LoadAll(t) {
		if skip := replaySkip(rec); skip != "" {
			continue
		}
		t.Run(rec.Name, func(t *testing.T) {
			r := newReplay(t)
			r.run(rec)
			for shell, c := range r.pools {
				assert.False(t, c.State() == psrp.RunspacePoolBroken, "%s broke", shell)
			}
		})
	}
}

// replaySkip says why a recording is not replayed ("" to replay it).
func replaySkip(rec *recordings.Recording) string {
	for _, ex := range rec.Messages {
		switch {
		case strings.Contains(ex.Request, "/windows/shell/cmd"):
			return "WinRS"
		}
	}
	return ""
}

// TestReplayRecordingsServer feeds the client side of every PSRP recording
// (what pypsrp sent to Windows) into ServerPools, answering as a server
// would, and checks that every client message is accepted and reported.
func TestReplayRecordingsServer(t *testing.T) {
	for _, rec := range recordings.LoadAll(t) {
		if replaySkip(rec) != "" {
			continue
		}
		t.Run(rec.Name, func(t *testing.T) {
			servers := map[string]*psrp.ServerPool{}
			sent, reported := 0, 0
			for i, ex := range rec.Messages {
				req, err := psrptrace.ScanEnvelope([]byte(ex.Request))
				require.NoError(t, err)
				if !psrptrace.IsPowerShell(req.ResourceURI) || len(req.Payloads) == 0 {
					continue
				}
				action := psrptrace.ShortAction(req.Action)
				shell := strings.ToUpper(req.ShellID)
				if action == "Create" {
					resp, err := psrptrace.ScanEnvelope([]byte(ex.Response))
					require.NoError(t, err)
					shell = strings.ToUpper(resp.ShellID)
					servers[shell] = psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{})
				}
				s := servers[shell]
				require.NotNil(t, s, "exchange %d: no server for %s", i, shell)
				if action == "Command" && req.Payloads[0].CommandID != "" {
					// A command invoked again: the server finished its
					// previous run (the recording's Receives said Done).
					id := uuid.MustParse(req.Payloads[0].CommandID)
					var alt [16]byte
					psrp.EncodeGUID(alt[:], id)
					for _, pid := range []uuid.UUID{id, uuid.UUID(alt)} {
						if pl := s.Pipeline(pid); pl != nil && !pl.State().Terminal() {
							require.NoError(t, pl.SetState(psrp.PSInvocationCompleted, nil))
						}
					}
				}
				for _, p := range req.Payloads {
					b, err := p.Bytes()
					require.NoError(t, err)
					msgs, err := psrp.DecodeFragments(b)
					require.NoError(t, err)
					for _, f := range msgs {
						if f.End {
							sent++
						}
					}
					var ev []psrp.Event
					if action == "Connect" {
						ev, err = s.ReceiveConnect(b)
						require.NoError(t, err, "exchange %d", i)
						_, err = s.ConnectResponse()
						require.NoError(t, err)
					} else {
						ev, err = s.ReceiveData(b)
						require.NoError(t, err, "exchange %d (%s)", i, action)
					}
					for _, e := range ev {
						reported++
						switch e := e.(type) {
						case psrp.InitRunspacePoolReceived:
							require.NoError(t, s.SendApplicationPrivateData(&psrp.ApplicationPrivateData{Data: psrp.NewPSPrimitiveDictionary()}))
							require.NoError(t, s.SetState(psrp.RunspacePoolOpened, nil))
						case psrp.PublicKeyReceived:
							require.NoError(t, s.SendSessionKey(nil))
						case psrp.SetRunspacesReceived:
							require.NoError(t, s.SendRunspaceAvailability(e.CallID, true))
						}
					}
				}
			}
			assert.Equal(t, sent, reported, "one event per client message")
		})
	}
}

// TestServerAcceptsPowerShell7Open feeds the creationXml of a genuine
// PowerShell 7.4.10 client (UTF-8 BOM before its data, PSVersionTable in
// ApplicationArguments) to a ServerPool.
func TestServerAcceptsPowerShell7Open(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	raw, err := os.ReadFile(filepath.Join(dir, "ironposh", "psrp", "creationXml"))
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	require.NoError(t, err)
	s := psrp.NewServerPool(uuid.Nil, psrp.ServerPoolConfig{})
	ev, err := s.ReceiveData(b)
	require.NoError(t, err)
	require.Len(t, ev, 2)
	assert.Equal(t, "2.3", ev[0].(psrp.SessionCapabilityReceived).Capability.ProtocolVersion)
	init := ev[1].(psrp.InitRunspacePoolReceived).Data
	assert.GreaterOrEqual(t, init.MaxRunspaces, init.MinRunspaces)
	require.NotNil(t, init.ApplicationArguments)
	assert.NotNil(t, psrp.DictLookup(init.ApplicationArguments, "PSVersionTable"))
	assert.Equal(t, psrp.RunspacePoolOpening, s.State())
	assert.NotEqual(t, uuid.Nil, s.ID())
	assert.NotZero(t, s.Pending(psrp.PoolTarget), "the server's SESSION_CAPABILITY is queued")
}
