package psrp

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// The tests of this file run whole client↔server conversations in memory:
// a ClientPool and a ServerPool exchange payloads through a "wire" that
// keeps each side's per-target queues apart, as WSMan does.

// Small sizes so that messages are fragmented and payloads hold several
// fragments.
const (
	testFragmentSize = 150
	testPayloadSize  = 400
)

var testPoolID = uuid.MustParse("B6631D8E-65A0-49F2-9053-A1B156C95777")

type conversation struct {
	t      *testing.T
	client *ClientPool
	server *ServerPool
}

func newConversation(t *testing.T) *conversation {
	t.Helper()
	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID, MinRunspaces: 1, MaxRunspaces: 2,
		MaxFragmentSize: testFragmentSize})
	require.NoError(t, err)
	s := NewServerPool(uuid.Nil, ServerPoolConfig{MaxFragmentSize: testFragmentSize})
	return &conversation{t: t, client: c, server: s}
}

// toServer delivers everything the client has queued, target by target,
// and returns the server's events.
func (cv *conversation) toServer() []Event {
	cv.t.Helper()
	var ev []Event
	for _, tg := range cv.client.PendingTargets() {
		for cv.client.Pending(tg) > 0 {
			b, err := cv.client.NextPayload(tg, testPayloadSize)
			require.NoError(cv.t, err)
			require.LessOrEqual(cv.t, len(b), testPayloadSize)
			e, err := cv.server.ReceiveData(b)
			require.NoError(cv.t, err)
			ev = append(ev, e...)
		}
	}
	return ev
}

// toClient delivers what the server has queued for target and returns the
// client's events.
func (cv *conversation) toClient(tg Target) []Event {
	cv.t.Helper()
	return deliver(cv.t, cv.server, cv.client, tg)
}

func deliver(t *testing.T, s *ServerPool, c *ClientPool, tg Target) []Event {
	t.Helper()
	var ev []Event
	for s.Pending(tg) > 0 {
		b, err := s.NextPayload(tg, testPayloadSize)
		require.NoError(t, err)
		e, err := c.ReceiveData(b)
		require.NoError(t, err)
		ev = append(ev, e...)
	}
	return ev
}

func (cv *conversation) open() {
	cv.t.Helper()
	t := cv.t
	require.NoError(t, cv.client.Open())
	assert.Equal(t, RunspacePoolOpening, cv.client.State())
	ev := cv.toServer()
	require.Len(t, ev, 2)
	assert.Equal(t, "2.3", ev[0].(SessionCapabilityReceived).Capability.ProtocolVersion)
	init := ev[1].(InitRunspacePoolReceived).Data
	assert.Equal(t, int32(1), init.MinRunspaces)
	assert.Equal(t, int32(2), init.MaxRunspaces)
	assert.True(t, init.HostInfo.IsHostNull)
	assert.Equal(t, testPoolID, cv.server.ID(), "the server takes the pool id from the client")
	assert.Equal(t, RunspacePoolOpening, cv.server.State())

	psv := NewPSPrimitiveDictionary(clixml.DictEntry{Key: clixml.String("PSVersionTable"),
		Value: NewPSPrimitiveDictionary(clixml.DictEntry{Key: clixml.String("PSVersion"), Value: clixml.Version("5.1.17763.1")})})
	require.NoError(t, cv.server.SendApplicationPrivateData(&ApplicationPrivateData{Data: psv}))
	require.NoError(t, cv.server.SetState(RunspacePoolOpened, nil))

	ev = cv.toClient(PoolTarget)
	require.Len(t, ev, 3)
	assert.Equal(t, "2.3", ev[0].(SessionCapabilityReceived).Capability.ProtocolVersion)
	apd := ev[1].(ApplicationPrivateDataReceived).Data
	require.NotNil(t, apd.PSVersionTable())
	assert.Equal(t, RunspacePoolStateChanged{Old: RunspacePoolOpening, New: RunspacePoolOpened,
		Info: ev[2].(RunspacePoolStateChanged).Info}, ev[2])
	assert.Equal(t, RunspacePoolOpened, cv.client.State())
	assert.Equal(t, "2.3", cv.client.ServerCapability().ProtocolVersion)
}

func scriptPipeline(script string) *CreatePipeline {
	return &CreatePipeline{PowerShell: PowerShell{Cmds: []Command{{Cmd: script, IsScript: true}}},
		HostInfo: NoHost(), AddToHistory: true}
}

func valueOf(t *testing.T, m *Message) clixml.Value {
	t.Helper()
	v, err := clixml.Unmarshal(m.Data)
	require.NoError(t, err)
	return v
}

func TestConversationOpenPipelineAllStreams(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	c, s := cv.client, cv.server

	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("$input | ForEach-Object { $_ }"))
	require.NoError(t, err)
	assert.Equal(t, PSInvocationNotStarted, pl.State())
	require.NoError(t, pl.Invoke())
	assert.Equal(t, PSInvocationRunning, pl.State())
	require.NoError(t, pl.SendInput(clixml.String("in1"), clixml.Int32(2), nil))
	require.NoError(t, pl.EndInput())
	assert.ErrorIs(t, pl.SendInput(clixml.String("late")), ErrInvalidState)

	ev := cv.toServer()
	require.Len(t, ev, 5)
	cp := ev[0].(CreatePipelineReceived)
	assert.Equal(t, pl.ID(), cp.Pipeline)
	spec, err := DecodeCreatePipeline(valueOf(t, cp.Message))
	require.NoError(t, err)
	assert.Equal(t, "$input | ForEach-Object { $_ }", spec.PowerShell.Cmds[0].Cmd)
	assert.Equal(t, clixml.String("in1"), valueOf(t, ev[1].(PipelineInputReceived).Message))
	assert.Equal(t, clixml.Int32(2), valueOf(t, ev[2].(PipelineInputReceived).Message))
	assert.Equal(t, clixml.Nil{}, valueOf(t, ev[3].(PipelineInputReceived).Message))
	assert.Equal(t, EndOfPipelineInputReceived{Pipeline: pl.ID()}, ev[4])
	sp := s.Pipeline(pl.ID())
	require.NotNil(t, sp)
	assert.True(t, sp.InputClosed())

	// Every stream, a host call, then completion.
	require.NoError(t, sp.WriteOutput(clixml.String("out")))
	require.NoError(t, sp.WriteError(&ErrorRecord{Message: "boom", FullyQualifiedErrorID: "Boom",
		Exception: &ExceptionInfo{TypeNames: []string{"System.Exception", "System.Object"}, Message: "boom"}}))
	require.NoError(t, sp.WriteDebug(&InformationalRecord{Message: "dbg"}))
	require.NoError(t, sp.WriteVerbose(&InformationalRecord{Message: "vrb"}))
	require.NoError(t, sp.WriteWarning(&InformationalRecord{Message: "wrn"}))
	require.NoError(t, sp.WriteInformation(&InformationRecord{MessageData: clixml.String("info"), Source: "src"}))
	require.NoError(t, sp.WriteProgress(&ProgressRecord{Activity: "act", PercentComplete: 50, ParentActivityID: -1}))
	require.NoError(t, sp.HostCall(&HostCall{CallID: 7, MethodID: HostReadLine}))

	ev = cv.toClient(pl.Target())
	require.Len(t, ev, 8)
	assert.Equal(t, clixml.String("out"), valueOf(t, ev[0].(PipelineOutputReceived).Message))
	er, err := DecodeErrorRecord(valueOf(t, ev[1].(ErrorRecordReceived).Message))
	require.NoError(t, err)
	assert.Equal(t, "Boom", er.FullyQualifiedErrorID)
	for i, want := range []MessageType{MessageDebugRecord, MessageVerboseRecord, MessageWarningRecord,
		MessageInformationRecord, MessageProgressRecord} {
		r := ev[2+i].(InformationalRecordReceived)
		assert.Equal(t, pl.ID(), r.Pipeline)
		assert.Equal(t, want, r.Message.Type)
	}
	w, err := DecodeInformationalRecord(valueOf(t, ev[4].(InformationalRecordReceived).Message))
	require.NoError(t, err)
	assert.Equal(t, "wrn", w.Message)
	hc := ev[7].(HostCallReceived)
	assert.Equal(t, pl.ID(), hc.Pipeline)
	assert.Equal(t, int64(7), hc.CallID)
	assert.Equal(t, HostReadLine, hc.Method)

	require.NoError(t, pl.HostResponse(&HostResponse{CallID: 7, MethodID: HostReadLine, Return: clixml.String("typed")}))
	assert.Zero(t, c.Pending(pl.Target()), "host responses go on the pr stream")
	assert.NotZero(t, c.Pending(Target{Pipeline: pl.ID(), Stream: StreamPromptResponse}))
	ev = cv.toServer()
	require.Len(t, ev, 1)
	hr := ev[0].(HostResponseReceived)
	assert.Equal(t, pl.ID(), hr.Pipeline)
	assert.Equal(t, int64(7), hr.CallID)
	resp, err := DecodeHostResponse(valueOf(t, hr.Message))
	require.NoError(t, err)
	assert.Equal(t, clixml.String("typed"), resp.Return)

	require.NoError(t, sp.SetState(PSInvocationCompleted, nil))
	assert.ErrorIs(t, sp.WriteOutput(clixml.String("after")), ErrInvalidState)
	ev = cv.toClient(pl.Target())
	require.Len(t, ev, 1)
	psc := ev[0].(PipelineStateChanged)
	assert.Equal(t, PSInvocationRunning, psc.Old)
	assert.Equal(t, PSInvocationCompleted, psc.New)
	require.NotNil(t, psc.Info)
	assert.Nil(t, c.Pipeline(pl.ID()), "finished pipelines are forgotten")
	assert.Equal(t, PSInvocationCompleted, pl.State())
}

func TestConversationPoolCalls(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	c, s := cv.client, cv.server

	ciMax, err := c.SetMaxRunspaces(5)
	require.NoError(t, err)
	ciMin, err := c.SetMinRunspaces(2)
	require.NoError(t, err)
	ciAvail, err := c.GetAvailableRunspaces()
	require.NoError(t, err)
	ciReset, err := c.ResetRunspaceState()
	require.NoError(t, err)
	assert.Len(t, map[int64]bool{ciMax: true, ciMin: true, ciAvail: true, ciReset: true}, 4, "call ids are distinct")

	ev := cv.toServer()
	require.Equal(t, []Event{
		SetRunspacesReceived{Max: true, Count: 5, CallID: ciMax},
		SetRunspacesReceived{Count: 2, CallID: ciMin},
		GetAvailableRunspacesReceived{CallID: ciAvail},
		ResetRunspaceStateReceived{CallID: ciReset},
	}, ev)
	require.NoError(t, s.SendRunspaceAvailability(ciMax, true))
	require.NoError(t, s.SendRunspaceAvailability(ciMin, false))
	require.NoError(t, s.SendAvailableRunspaces(ciAvail, 4))
	require.NoError(t, s.SendRunspaceAvailability(ciReset, true))
	mn, mx := s.Runspaces()
	assert.Equal(t, int32(1), mn, "a refused SET_MIN_RUNSPACES changes nothing")
	assert.Equal(t, int32(5), mx)

	require.NoError(t, s.HostCall(&HostCall{CallID: 1, MethodID: HostGetName}))
	require.NoError(t, s.SendUserEvent(&UserEvent{EventIdentifier: 3, SourceIdentifier: "ev"}))
	require.NoError(t, s.WriteWarning(&InformationalRecord{Message: "pool warning"}))

	ev = cv.toClient(PoolTarget)
	require.Len(t, ev, 7)
	a := ev[0].(RunspaceAvailabilityReceived).Data
	assert.Equal(t, ciMax, a.CallID)
	assert.True(t, a.Success)
	assert.False(t, ev[1].(RunspaceAvailabilityReceived).Data.Success)
	a = ev[2].(RunspaceAvailabilityReceived).Data
	assert.True(t, a.IsCount)
	assert.Equal(t, int64(4), a.Count)
	assert.True(t, ev[3].(RunspaceAvailabilityReceived).Data.Success)
	hc := ev[4].(HostCallReceived)
	assert.Equal(t, uuid.Nil, hc.Pipeline)
	assert.Equal(t, HostGetName, hc.Method)
	ue, err := DecodeUserEvent(valueOf(t, ev[5].(UserEventReceived).Message))
	require.NoError(t, err)
	assert.Equal(t, "ev", ue.SourceIdentifier)
	assert.Equal(t, uuid.Nil, ev[6].(InformationalRecordReceived).Pipeline)

	require.NoError(t, c.HostResponse(&HostResponse{CallID: 1, MethodID: HostGetName, Return: clixml.String("host")}))
	ev = cv.toServer()
	require.Len(t, ev, 1)
	assert.Equal(t, uuid.Nil, ev[0].(HostResponseReceived).Pipeline)
}

func TestConversationSessionKey(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	c, s := cv.client, cv.server
	c.SetKeyExchange(testKeyExchange)

	require.NoError(t, s.RequestPublicKey())
	ev := cv.toClient(PoolTarget)
	require.Equal(t, []Event{PublicKeyRequested{}}, ev)
	require.NoError(t, c.RequestSessionKey(nil))
	ev = cv.toServer()
	require.Len(t, ev, 1)
	assert.Equal(t, testKeyExchange.PublicKeyBlob(), ev[0].(PublicKeyReceived).Blob)
	require.NoError(t, s.SendSessionKey(nil))
	ev = cv.toClient(PoolTarget)
	require.Len(t, ev, 1)
	cc := ev[0].(SessionKeyReceived).Cipher
	require.NotNil(t, cc)
	assert.Same(t, cc, c.SecureStringCipher())
	got, err := s.SecureStringCipher().Decrypt(cc.Encrypt("P@ssw0rd"))
	require.NoError(t, err)
	assert.Equal(t, "P@ssw0rd", got)
}

func TestConversationStop(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	pl, err := cv.client.NewPipeline(uuid.Nil, scriptPipeline("sleep 100"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	sp := cv.server.Pipeline(pl.ID())

	ev, err := pl.BeginStop()
	require.NoError(t, err)
	assert.Equal(t, []Event{PipelineStateChanged{Pipeline: pl.ID(), Old: PSInvocationRunning, New: PSInvocationStopping}}, ev)
	require.NoError(t, sp.BeginStop())
	require.NoError(t, sp.SetState(PSInvocationStopped, &ErrorRecord{Message: "The pipeline has been stopped.",
		FullyQualifiedErrorID: "PipelineStopped", Exception: &ExceptionInfo{Message: "The pipeline has been stopped."}}))
	ev = cv.toClient(pl.Target())
	require.Len(t, ev, 1)
	psc := ev[0].(PipelineStateChanged)
	assert.Equal(t, PSInvocationStopping, psc.Old)
	assert.Equal(t, PSInvocationStopped, psc.New)
	require.NotNil(t, psc.Info.Error)
	assert.Equal(t, "PipelineStopped", psc.Info.Error.FullyQualifiedErrorID)
	assert.True(t, cv.server.RemovePipeline(pl.ID()))
	assert.False(t, cv.server.RemovePipeline(pl.ID()))
}

// TestConversationDisconnectConnectNewClient is the Receive-PSSession flow:
// a pipeline runs, the client disconnects with output queued, output keeps
// coming, and a new client connects, adopts the pipeline and gets it all.
func TestConversationDisconnectConnectNewClient(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	old, s := cv.client, cv.server
	pl, err := old.NewPipeline(uuid.Nil, scriptPipeline("Write-Output a; sleep 5; Write-Output b"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	sp := s.Pipeline(pl.ID())
	require.NoError(t, sp.WriteProgress(&ProgressRecord{Activity: "Preparing modules for first use.", ParentActivityID: -1}))
	require.NoError(t, sp.WriteOutput(clixml.String("a")))
	queuedBefore := s.Pending(sp.Target())
	require.NotZero(t, queuedBefore)

	ev, err := old.BeginDisconnect()
	require.NoError(t, err)
	assert.Equal(t, []Event{RunspacePoolStateChanged{Old: RunspacePoolOpened, New: RunspacePoolDisconnecting}}, ev)
	ev, err = old.DisconnectCompleted()
	require.NoError(t, err)
	assert.Equal(t, []Event{
		RunspacePoolStateChanged{Old: RunspacePoolDisconnecting, New: RunspacePoolDisconnected},
		PipelineStateChanged{Pipeline: pl.ID(), Old: PSInvocationRunning, New: PSInvocationDisconnected},
	}, ev)
	assert.Equal(t, PSInvocationDisconnected, pl.State())
	_, err = pl.BeginStop()
	require.NoError(t, err, "a disconnected pipeline can still be stopped (after reconnecting)")

	// Output produced while disconnected is buffered by the server.
	require.NoError(t, sp.WriteOutput(clixml.String("b")))
	require.NoError(t, sp.SetState(PSInvocationCompleted, nil))

	// A new client connects.
	nc, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID, MaxFragmentSize: testFragmentSize})
	require.NoError(t, err)
	require.NoError(t, nc.Connect())
	assert.Equal(t, RunspacePoolConnecting, nc.State())
	_, err = nc.ConnectPayload(100)
	assert.ErrorIs(t, err, ErrPayloadTooSmall, "SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL must fit one payload")
	connectXML, err := nc.ConnectPayload(4096)
	require.NoError(t, err)
	frags, err := DecodeFragments(connectXML)
	require.NoError(t, err)
	require.Len(t, frags, 2)
	assert.Equal(t, uint64(1), frags[0].ObjectID, "a new client's ObjectIds restart at 1")
	assert.Equal(t, uint64(2), frags[1].ObjectID)

	ev, err = s.ReceiveConnect(connectXML)
	require.NoError(t, err)
	require.Len(t, ev, 2)
	assert.False(t, ev[1].(ConnectRunspacePoolReceived).Data.HasCounts)
	resp, err := s.ConnectResponse()
	require.NoError(t, err)
	respFrags, err := DecodeFragments(resp)
	require.NoError(t, err)
	require.Len(t, respFrags, 2)
	for _, f := range respFrags {
		assert.True(t, f.Start && f.End, "connect response fragments are complete")
	}
	ev, err = nc.ReceiveData(resp)
	require.NoError(t, err)
	require.Len(t, ev, 3)
	assert.Equal(t, "2.3", ev[0].(SessionCapabilityReceived).Capability.ProtocolVersion)
	initData := ev[1].(RunspacePoolInitDataReceived).Data
	assert.Equal(t, int32(1), initData.MinRunspaces)
	assert.Equal(t, int32(2), initData.MaxRunspaces)
	assert.Equal(t, RunspacePoolStateChanged{Old: RunspacePoolConnecting, New: RunspacePoolOpened}, ev[2])

	// The first pool message after a connect is APPLICATION_PRIVATE_DATA;
	// a server may announce Opened again, which changes nothing.
	require.NoError(t, s.SendApplicationPrivateData(&ApplicationPrivateData{Data: NewPSPrimitiveDictionary()}))
	require.NoError(t, s.SetState(RunspacePoolOpened, nil))
	ev = deliver(t, s, nc, PoolTarget)
	require.Len(t, ev, 1)
	assert.IsType(t, ApplicationPrivateDataReceived{}, ev[0])

	// Adopt the running command and collect what was buffered: the server's
	// ObjectIds of the output queued before the disconnect are lower than
	// those of the connect response the client has already seen.
	adopted, err := nc.AdoptPipeline(pl.ID())
	require.NoError(t, err)
	assert.Equal(t, PSInvocationRunning, adopted.State())
	first, err := s.NextPayload(sp.Target(), testPayloadSize)
	require.NoError(t, err)
	firstFrags, err := DecodeFragments(first)
	require.NoError(t, err)
	assert.Less(t, firstFrags[0].ObjectID, respFrags[0].ObjectID, "buffered output arrives with older ObjectIds")
	ev, err = nc.ReceiveData(first)
	require.NoError(t, err)
	ev = append(ev, deliver(t, s, nc, sp.Target())...)
	var outputs []clixml.Value
	var types []MessageType
	for _, e := range ev {
		switch e := e.(type) {
		case PipelineOutputReceived:
			outputs = append(outputs, valueOf(t, e.Message))
		case InformationalRecordReceived:
			types = append(types, e.Message.Type)
		case PipelineStateChanged:
			assert.Equal(t, PSInvocationCompleted, e.New)
		}
	}
	assert.Equal(t, []clixml.Value{clixml.String("a"), clixml.String("b")}, outputs)
	assert.Equal(t, []MessageType{MessageProgressRecord}, types)
	assert.Equal(t, PSInvocationCompleted, adopted.State())
	assert.IsType(t, PipelineStateChanged{}, ev[len(ev)-1])
}

// TestConversationReconnectSameClient disconnects and reconnects from the
// same client; the pipeline resumes.
func TestConversationReconnectSameClient(t *testing.T) {
	cv := newConversation(t)
	cv.open()
	c, s := cv.client, cv.server
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("1..3"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	sp := s.Pipeline(pl.ID())
	require.NoError(t, sp.WriteOutput(clixml.Int32(1)))
	cv.toClient(pl.Target())

	_, err = c.BeginDisconnect()
	require.NoError(t, err)
	_, err = c.SetMaxRunspaces(3)
	assert.ErrorIs(t, err, ErrInvalidState, "no pool operations while disconnecting")
	_, err = c.DisconnectCompleted()
	require.NoError(t, err)
	_, err = c.ReconnectCompleted()
	assert.ErrorIs(t, err, ErrInvalidState, "ReconnectCompleted needs BeginReconnect")
	require.NoError(t, sp.WriteOutput(clixml.Int32(2)))

	ev, err := c.BeginReconnect()
	require.NoError(t, err)
	assert.Equal(t, []Event{RunspacePoolStateChanged{Old: RunspacePoolDisconnected, New: RunspacePoolConnecting}}, ev)
	ev, err = c.ReconnectFailed(errors.New("transient"), true)
	require.NoError(t, err)
	assert.Equal(t, RunspacePoolDisconnected, ev[0].(RunspacePoolStateChanged).New)
	_, err = c.BeginReconnect()
	require.NoError(t, err)
	ev, err = c.ReconnectCompleted()
	require.NoError(t, err)
	assert.Equal(t, []Event{
		RunspacePoolStateChanged{Old: RunspacePoolConnecting, New: RunspacePoolOpened},
		PipelineStateChanged{Pipeline: pl.ID(), Old: PSInvocationDisconnected, New: PSInvocationRunning},
	}, ev)
	require.NoError(t, sp.WriteOutput(clixml.Int32(3)))
	require.NoError(t, sp.SetState(PSInvocationCompleted, nil))
	ev = cv.toClient(pl.Target())
	require.Len(t, ev, 3)
	assert.Equal(t, clixml.Int32(2), valueOf(t, ev[0].(PipelineOutputReceived).Message))
	assert.Equal(t, clixml.Int32(3), valueOf(t, ev[1].(PipelineOutputReceived).Message))
	assert.Equal(t, PSInvocationCompleted, ev[2].(PipelineStateChanged).New)
}

func TestConversationBroken(t *testing.T) {
	t.Run("transport", func(t *testing.T) {
		cv := newConversation(t)
		cv.open()
		pl, err := cv.client.NewPipeline(uuid.Nil, scriptPipeline("x"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		cause := errors.New("connection reset")
		ev := cv.client.Broken(cause)
		assert.Equal(t, []Event{
			RunspacePoolStateChanged{Old: RunspacePoolOpened, New: RunspacePoolBroken, Reason: cause},
			PipelineStateChanged{Pipeline: pl.ID(), Old: PSInvocationRunning, New: PSInvocationFailed, Reason: cause},
		}, ev)
		assert.Zero(t, cv.client.Pending(pl.Target()), "queued data is dropped")
		assert.Nil(t, cv.client.Broken(cause), "breaking twice does nothing")
		_, err = cv.client.ReceiveData(nil)
		assert.ErrorIs(t, err, ErrInvalidState)
	})
	t.Run("disconnect fault", func(t *testing.T) {
		cv := newConversation(t)
		cv.open()
		_, err := cv.client.BeginDisconnect()
		require.NoError(t, err)
		ev, err := cv.client.DisconnectFailed(errors.New("fault"))
		require.NoError(t, err)
		assert.Equal(t, RunspacePoolBroken, ev[0].(RunspacePoolStateChanged).New)
	})
	t.Run("server", func(t *testing.T) {
		cv := newConversation(t)
		cv.open()
		pl, err := cv.client.NewPipeline(uuid.Nil, scriptPipeline("x"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		cv.toServer()
		require.NoError(t, cv.server.SetState(RunspacePoolBroken, &ErrorRecord{Message: "gone", FullyQualifiedErrorID: "Gone",
			Exception: &ExceptionInfo{Message: "gone"}}))
		assert.Equal(t, PSInvocationFailed, cv.server.Pipeline(pl.ID()).State())
		ev := cv.toClient(PoolTarget)
		require.Len(t, ev, 2)
		sc := ev[0].(RunspacePoolStateChanged)
		assert.Equal(t, RunspacePoolBroken, sc.New)
		require.NotNil(t, sc.Info.Error)
		assert.Equal(t, "Gone", sc.Info.Error.FullyQualifiedErrorID)
		assert.Equal(t, PSInvocationFailed, ev[1].(PipelineStateChanged).New)
		assert.ErrorIs(t, ev[1].(PipelineStateChanged).Reason, ErrPoolBroken)
	})
	t.Run("close", func(t *testing.T) {
		cv := newConversation(t)
		cv.open()
		ev, err := cv.client.BeginClose()
		require.NoError(t, err)
		assert.Equal(t, RunspacePoolClosing, ev[0].(RunspacePoolStateChanged).New)
		require.NoError(t, cv.server.SetState(RunspacePoolClosed, nil))
		ev = cv.toClient(PoolTarget)
		assert.Equal(t, RunspacePoolClosed, ev[0].(RunspacePoolStateChanged).New)
		assert.Nil(t, cv.client.Closed())
	})
}
