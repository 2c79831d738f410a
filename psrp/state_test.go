package psrp

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
)

func TestPoolTransitionTable(t *testing.T) {
	all := []RunspacePoolState{RunspacePoolBeforeOpen, RunspacePoolOpening, RunspacePoolOpened, RunspacePoolClosed,
		RunspacePoolClosing, RunspacePoolBroken, RunspacePoolDisconnecting, RunspacePoolDisconnected, RunspacePoolConnecting}
	allowed := map[[2]RunspacePoolState]bool{}
	for _, tr := range [][2]RunspacePoolState{
		{RunspacePoolBeforeOpen, RunspacePoolOpening}, {RunspacePoolBeforeOpen, RunspacePoolConnecting},
		{RunspacePoolOpening, RunspacePoolOpened}, {RunspacePoolOpened, RunspacePoolDisconnecting},
		{RunspacePoolDisconnecting, RunspacePoolDisconnected}, {RunspacePoolDisconnected, RunspacePoolConnecting},
		{RunspacePoolConnecting, RunspacePoolOpened}, {RunspacePoolConnecting, RunspacePoolDisconnected},
		{RunspacePoolOpened, RunspacePoolClosing}, {RunspacePoolClosing, RunspacePoolClosed},
		{RunspacePoolOpening, RunspacePoolClosing}, {RunspacePoolDisconnected, RunspacePoolClosing},
		{RunspacePoolConnecting, RunspacePoolClosing},
	} {
		allowed[tr] = true
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]RunspacePoolState{from, to}]
			if to == RunspacePoolBroken || to == RunspacePoolClosed {
				want = !from.Final() // every live state can break or close
			}
			assert.Equal(t, want, from.CanTransition(to), "%s → %s", from, to)
		}
	}
	assert.False(t, RunspacePoolState(-1).CanTransition(RunspacePoolOpened))
	assert.False(t, RunspacePoolState(42).CanTransition(RunspacePoolOpened))
	assert.True(t, RunspacePoolBroken.Final())
	assert.True(t, RunspacePoolClosed.Final())
	assert.False(t, RunspacePoolDisconnected.Final())
}

func TestPipelineTransitionTable(t *testing.T) {
	for _, tc := range []struct {
		from, to PSInvocationState
		want     bool
	}{
		{PSInvocationNotStarted, PSInvocationRunning, true},
		{PSInvocationRunning, PSInvocationStopping, true},
		{PSInvocationRunning, PSInvocationCompleted, true},
		{PSInvocationRunning, PSInvocationFailed, true},
		{PSInvocationRunning, PSInvocationDisconnected, true},
		{PSInvocationStopping, PSInvocationStopped, true},
		{PSInvocationStopping, PSInvocationRunning, false},
		{PSInvocationDisconnected, PSInvocationRunning, true},
		{PSInvocationDisconnected, PSInvocationNotStarted, false},
		{PSInvocationCompleted, PSInvocationRunning, false},
		{PSInvocationStopped, PSInvocationFailed, false},
		{PSInvocationFailed, PSInvocationCompleted, false},
		{PSInvocationRunning, PSInvocationNotStarted, false},
		{PSInvocationRunning, PSInvocationRunning, false},
		{PSInvocationState(9), PSInvocationRunning, false},
	} {
		assert.Equal(t, tc.want, tc.from.CanTransition(tc.to), "%s → %s", tc.from, tc.to)
	}
}

// serverPayload encodes one server→client message as a single fragment.
func serverPayload(t testing.TB, objectID uint64, dest Destination, rpid, pid uuid.UUID, d any, mt MessageType) []byte {
	t.Helper()
	m, err := NewMessage(dest, mt, rpid, pid, d)
	require.NoError(t, err)
	f := Fragment{ObjectID: objectID, Start: true, End: true, Blob: AppendMessage(nil, m, true)}
	return f.AppendTo(nil)
}

func openedClient(t *testing.T) (*ClientPool, *conversation) {
	t.Helper()
	cv := newConversation(t)
	cv.open()
	return cv.client, cv
}

func TestClientReceiveErrors(t *testing.T) {
	other := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	opened := func(t *testing.T) *ClientPool { c, _ := openedClient(t); return c }
	opening := func(t *testing.T) *ClientPool {
		c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
		require.NoError(t, err)
		require.NoError(t, c.Open())
		return c
	}
	for _, tc := range []struct {
		name    string
		pool    func(*testing.T) *ClientPool
		payload func(t *testing.T) []byte
		want    error
	}{
		{"wrong destination", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationServer, testPoolID, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolOpened}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"other pool", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, other, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolBroken}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"zero pool id on a state message", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, uuid.Nil, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolBroken}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"unknown pipeline", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, other, clixml.String("x"), MessagePipelineOutput)
		}, ErrInvalidState},
		{"client message type", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &SetMaxRunspaces{MaxRunspaces: 1}, MessageSetMaxRunspaces)
		}, ErrInvalidState},
		{"pool message with pipeline id", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, other, &RunspacePoolStateInfo{State: RunspacePoolOpened}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"init data without connect", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolInitData{MinRunspaces: 1, MaxRunspaces: 1}, MessageRunspacePoolInitData)
		}, ErrInvalidState},
		{"client-local state on the wire", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolDisconnected}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"opened while opened then opening", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolOpening}, MessageRunspacePoolState)
		}, ErrInvalidState},
		{"session key without public key", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &EncryptedSessionKey{Key: []byte{1}}, MessageEncryptedSessionKey)
		}, ErrInvalidState},
		{"availability while opening", opening, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &RunspaceAvailability{CallID: 1, Success: true}, MessageRunspaceAvailability)
		}, ErrInvalidState},
		{"capability twice", opened, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, uuid.Nil, uuid.Nil, &SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"}, MessageSessionCapability)
		}, ErrInvalidState},
		{"malformed state data", opening, func(t *testing.T) []byte {
			return serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, clixml.String("nonsense"), MessageRunspacePoolState)
		}, ErrInvalidMessageData},
		{"truncated fragment", opened, func(t *testing.T) []byte {
			b := serverPayload(t, 100, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolOpened}, MessageRunspacePoolState)
			return b[:len(b)-1]
		}, ErrTruncatedFragment},
		{"short message", opened, func(t *testing.T) []byte {
			f := Fragment{ObjectID: 100, Start: true, End: true, Blob: make([]byte, 10)}
			return f.AppendTo(nil)
		}, ErrShortMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.pool(t)
			before := c.State()
			ev, err := c.ReceiveData(tc.payload(t))
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Empty(t, ev)
			assert.Equal(t, before, c.State(), "a rejected message changes nothing")
			var se *StateError
			if errors.As(err, &se) {
				assert.Contains(t, err.Error(), "psrp: ")
			}
		})
	}
}

// TestClientReceiveKeepsEarlierEvents: a bad message in the middle of a
// payload does not lose the events of the messages before it.
func TestClientReceiveKeepsEarlierEvents(t *testing.T) {
	c, cv := openedClient(t)
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	id0 := base(c) // the server's next ObjectId
	good := serverPayload(t, id0, DestinationClient, testPoolID, pl.ID(), clixml.String("kept"), MessagePipelineOutput)
	bad := serverPayload(t, id0+1, DestinationClient, testPoolID, uuid.New(), clixml.String("x"), MessagePipelineOutput)
	ev, err := c.ReceiveData(append(good, bad...))
	assert.ErrorIs(t, err, ErrInvalidState)
	require.Len(t, ev, 1)
	assert.Equal(t, clixml.String("kept"), valueOf(t, ev[0].(PipelineOutputReceived).Message))
}

func TestClientOperationErrors(t *testing.T) {
	_, err := NewClientPool(ClientPoolConfig{})
	assert.Error(t, err, "a pool id is required")
	_, err = NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID, MinRunspaces: 3, MaxRunspaces: 2})
	assert.Error(t, err)

	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	require.NoError(t, err)
	for name, op := range map[string]func() error{
		"SetMaxRunspaces":  func() error { _, err := c.SetMaxRunspaces(2); return err },
		"NewPipeline":      func() error { _, err := c.NewPipeline(uuid.Nil, scriptPipeline("x")); return err },
		"AdoptPipeline":    func() error { _, err := c.AdoptPipeline(uuid.New()); return err },
		"BeginDisconnect":  func() error { _, err := c.BeginDisconnect(); return err },
		"BeginReconnect":   func() error { _, err := c.BeginReconnect(); return err },
		"RequestKey":       func() error { return c.RequestSessionKey(nil) },
		"ConnectPayload":   func() error { _, err := c.ConnectPayload(1 << 20); return err },
		"HostResponse":     func() error { return c.HostResponse(&HostResponse{}) },
		"DisconnectFailed": func() error { _, err := c.DisconnectFailed(nil); return err },
	} {
		err := op()
		assert.ErrorIs(t, err, ErrInvalidState, name)
		var se *StateError
		require.ErrorAs(t, err, &se, name)
		assert.Equal(t, RunspacePoolBeforeOpen, se.PoolState)
	}
	require.NoError(t, c.Open())
	assert.ErrorIs(t, c.Open(), ErrInvalidState)
	assert.ErrorIs(t, c.Connect(), ErrInvalidState)

	c, _ = openedClient(t)
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
	require.NoError(t, err)
	_, err = c.NewPipeline(pl.ID(), scriptPipeline("x"))
	assert.ErrorIs(t, err, ErrInvalidState, "duplicate pipeline id")
	assert.ErrorIs(t, pl.SendInput(clixml.String("x")), ErrInvalidState, "input before Invoke")
	require.NoError(t, pl.Invoke())
	assert.ErrorIs(t, pl.Invoke(), ErrInvalidState)
	_, err = c.AdoptPipeline(pl.ID())
	assert.ErrorIs(t, err, ErrInvalidState)
	_, err = c.AdoptPipeline(uuid.Nil)
	assert.ErrorIs(t, err, ErrInvalidState)
	assert.Nil(t, pl.Abandon(nil)[0].(PipelineStateChanged).Reason)
	assert.Nil(t, c.Pipeline(pl.ID()))
	assert.Nil(t, pl.Abandon(nil))
}

func TestServerReceiveErrors(t *testing.T) {
	other := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	clientMsg := func(t *testing.T, rpid, pid uuid.UUID, d MessageData) []byte {
		return serverPayload(t, 50, DestinationServer, rpid, pid, d, d.MessageType())
	}
	fresh := func(t *testing.T) *ServerPool { return NewServerPool(testPoolID, ServerPoolConfig{}) }
	opened := func(t *testing.T) *ServerPool { _, cv := openedClient(t); return cv.server }
	capab := &SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"}
	for _, tc := range []struct {
		name    string
		pool    func(*testing.T) *ServerPool
		payload func(t *testing.T) []byte
	}{
		{"init before capability", fresh, func(t *testing.T) []byte {
			return clientMsg(t, testPoolID, uuid.Nil, &InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1, HostInfo: NoHost()})
		}},
		{"other pool", fresh, func(t *testing.T) []byte { return clientMsg(t, other, uuid.Nil, capab) }},
		{"to the client", fresh, func(t *testing.T) []byte {
			return serverPayload(t, 1, DestinationClient, testPoolID, uuid.Nil, capab, MessageSessionCapability)
		}},
		{"connect outside connectXml", opened, func(t *testing.T) []byte {
			return clientMsg(t, testPoolID, uuid.Nil, &ConnectRunspacePool{})
		}},
		{"set max before open", fresh, func(t *testing.T) []byte {
			return clientMsg(t, testPoolID, uuid.Nil, &SetMaxRunspaces{MaxRunspaces: 2, CallID: 1})
		}},
		{"input for unknown pipeline", opened, func(t *testing.T) []byte {
			return serverPayload(t, 50, DestinationServer, testPoolID, other, clixml.String("x"), MessagePipelineInput)
		}},
		{"pipeline message type without a pipeline", opened, func(t *testing.T) []byte {
			return serverPayload(t, 50, DestinationServer, testPoolID, uuid.Nil, clixml.String("x"), MessagePipelineOutput)
		}},
		{"capability twice", opened, func(t *testing.T) []byte { return clientMsg(t, testPoolID, uuid.Nil, capab) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.pool(t)
			before := s.State()
			ev, err := s.ReceiveData(tc.payload(t))
			assert.ErrorIs(t, err, ErrInvalidState)
			assert.Empty(t, ev)
			assert.Equal(t, before, s.State())
		})
	}

	t.Run("bad public key", func(t *testing.T) {
		s := opened(t)
		_, err := s.ReceiveData(clientMsg(t, testPoolID, uuid.Nil, &PublicKey{Key: []byte{6, 2, 0, 0}}))
		assert.ErrorIs(t, err, ErrKeyBlob)
		assert.ErrorIs(t, s.SendSessionKey(nil), ErrInvalidState)
	})
	t.Run("bad runspace counts", func(t *testing.T) {
		s := fresh(t)
		_, err := s.ReceiveData(clientMsg(t, testPoolID, uuid.Nil, capab))
		require.NoError(t, err)
		_, err = s.ReceiveData(clientMsg(t, testPoolID, uuid.Nil, &InitRunspacePool{MinRunspaces: 2, MaxRunspaces: 1, HostInfo: NoHost()}))
		assert.ErrorIs(t, err, ErrInvalidMessageData)
	})
	t.Run("pipeline errors", func(t *testing.T) {
		c, cv := openedClient(t)
		pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		require.NoError(t, pl.EndInput())
		cv.toServer()
		s := cv.server
		_, err = s.ReceiveData(serverPayload(t, 60, DestinationServer, testPoolID, pl.ID(), clixml.String("x"), MessagePipelineInput))
		assert.ErrorIs(t, err, ErrInvalidState, "input after its end")
		_, err = s.ReceiveData(serverPayload(t, 61, DestinationServer, testPoolID, pl.ID(), scriptPipeline("y"), MessageCreatePipeline))
		assert.ErrorIs(t, err, ErrInvalidState, "the pipeline exists")
		sp := s.Pipeline(pl.ID())
		assert.ErrorIs(t, sp.SetState(PSInvocationRunning, nil), ErrInvalidState, "servers send terminal states only")
		require.NoError(t, sp.SetState(PSInvocationFailed, &ErrorRecord{Message: "x", Exception: &ExceptionInfo{Message: "x"}}))
		assert.ErrorIs(t, sp.SetState(PSInvocationCompleted, nil), ErrInvalidState)
		assert.ErrorIs(t, sp.BeginStop(), ErrInvalidState)
		_, err = s.ReceiveData(serverPayload(t, 62, DestinationServer, testPoolID, pl.ID(), &HostResponse{CallID: 1}, MessagePipelineHostResponse))
		assert.ErrorIs(t, err, ErrInvalidState, "the pipeline has finished")
	})
	t.Run("server operations out of state", func(t *testing.T) {
		s := fresh(t)
		assert.ErrorIs(t, s.SetState(RunspacePoolOpened, nil), ErrInvalidState)
		assert.ErrorIs(t, s.SendApplicationPrivateData(&ApplicationPrivateData{}), ErrInvalidState)
		assert.ErrorIs(t, s.SendRunspaceAvailability(1, true), ErrInvalidState)
		assert.ErrorIs(t, s.RequestPublicKey(), ErrInvalidState)
		_, err := s.ConnectResponse()
		assert.ErrorIs(t, err, ErrInvalidState)
		_, err = s.ReceiveConnect(nil)
		assert.ErrorIs(t, err, ErrInvalidState)
	})
}

// A client's RUNSPACEPOOL_STATE, or another runspace pool message a server
// does not act on, addressed to the server, is dropped, as .NET's ServerRunspacePoolDataStructureHandler.ProcessReceivedData
// does (no case for it): no error, the pool unchanged and still usable.
func TestServerIgnoresOtherPoolMessages(t *testing.T) {
	c, cv := openedClient(t)
	s := cv.server
	for i, d := range []MessageData{
		&RunspacePoolStateInfo{State: RunspacePoolClosed},
		&RunspacePoolStateInfo{State: RunspacePoolOpened},
	} {
		ev, err := s.ReceiveData(serverPayload(t, uint64(70+i), DestinationServer, testPoolID, uuid.Nil, d, d.MessageType()))
		require.NoError(t, err)
		assert.Equal(t, []Event{MessageIgnored{Type: MessageRunspacePoolState}}, ev)
		assert.Equal(t, RunspacePoolOpened, s.State())
	}
	// Still addressed to the server and to this pool: those checks come first.
	_, err := s.ReceiveData(serverPayload(t, 80, DestinationClient, testPoolID, uuid.Nil,
		&RunspacePoolStateInfo{State: RunspacePoolClosed}, MessageRunspacePoolState))
	assert.ErrorIs(t, err, ErrInvalidState)
	// The pool still runs pipelines.
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	ev := cv.toServer()
	require.NotEmpty(t, ev)
	assert.IsType(t, CreatePipelineReceived{}, ev[0])
}

func TestServerConnectValidation(t *testing.T) {
	other := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	capab := &SessionCapability{ProtocolVersion: "2.3", PSVersion: "2.0", SerializationVersion: "1.1.0.1"}
	frag := func(t *testing.T, id uint64, dest Destination, rpid uuid.UUID, d MessageData) []byte {
		return serverPayload(t, id, dest, rpid, uuid.Nil, d, d.MessageType())
	}
	good := func(t *testing.T) [][]byte {
		return [][]byte{frag(t, 1, DestinationServer, testPoolID, capab), frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{})}
	}
	join := func(p ...[]byte) []byte {
		var b []byte
		for _, x := range p {
			b = append(b, x...)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		payload func(t *testing.T) []byte
		want    error
	}{
		{"one message", func(t *testing.T) []byte { return good(t)[0] }, ErrInvalidState},
		{"three messages", func(t *testing.T) []byte { g := good(t); return join(g[0], g[1], g[1]) }, ErrInvalidState},
		{"swapped", func(t *testing.T) []byte { g := good(t); return join(g[1], g[0]) }, ErrInvalidState},
		{"wrong pool", func(t *testing.T) []byte {
			return join(frag(t, 1, DestinationServer, other, capab), frag(t, 2, DestinationServer, other, &ConnectRunspacePool{}))
		}, ErrInvalidState},
		{"to the client", func(t *testing.T) []byte {
			return join(frag(t, 1, DestinationClient, testPoolID, capab), good(t)[1])
		}, ErrInvalidState},
		{"connect for another pool", func(t *testing.T) []byte {
			return join(good(t)[0], frag(t, 2, DestinationServer, other, &ConnectRunspacePool{}))
		}, ErrInvalidState},
		{"both counts differ", func(t *testing.T) []byte {
			return join(good(t)[0], frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{HasCounts: true, MinRunspaces: 2, MaxRunspaces: 5}))
		}, ErrInvalidState},
		{"min above max", func(t *testing.T) []byte {
			return join(good(t)[0], frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{HasCounts: true, MinRunspaces: 3, MaxRunspaces: 2}))
		}, ErrInvalidState},
		{"split fragment", func(t *testing.T) []byte {
			m, err := NewMessageFor(DestinationServer, testPoolID, uuid.Nil, capab)
			require.NoError(t, err)
			fs := SplitMessage(1, AppendMessage(nil, m, false), 60)
			var b []byte
			for _, f := range fs[:2] {
				b = f.AppendTo(b)
			}
			return b
		}, ErrInvalidState},
		{"trailing bytes", func(t *testing.T) []byte { g := good(t); return join(g[0], g[1], []byte{0}) }, ErrTruncatedFragment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cv := openedClient(t)
			_, err := cv.server.ReceiveConnect(tc.payload(t))
			assert.ErrorIs(t, err, tc.want)
		})
	}
	// .NET's ExecuteConnect checks the RPID of the CONNECT_RUNSPACEPOOL only,
	// and refuses counts only when Min and Max both differ from the pool's.
	t.Run("what .NET accepts", func(t *testing.T) {
		for name, payload := range map[string][]byte{
			"capability with a zero RPID": join(frag(t, 1, DestinationServer, uuid.Nil, capab), good(t)[1]),
			"capability for another pool": join(frag(t, 1, DestinationServer, other, capab), good(t)[1]),
			"max differs":                 join(good(t)[0], frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{HasCounts: true, MinRunspaces: 1, MaxRunspaces: 5})),
			"min differs":                 join(good(t)[0], frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{HasCounts: true, MinRunspaces: 2, MaxRunspaces: 2})),
		} {
			_, cv := openedClient(t)
			ev, err := cv.server.ReceiveConnect(payload)
			require.NoError(t, err, name)
			require.Len(t, ev, 2, name)
			assert.IsType(t, ConnectRunspacePoolReceived{}, ev[1], name)
		}
	})
	t.Run("valid with counts and pypsrp's <S />", func(t *testing.T) {
		_, cv := openedClient(t)
		ev, err := cv.server.ReceiveConnect(join(good(t)[0],
			frag(t, 2, DestinationServer, testPoolID, &ConnectRunspacePool{HasCounts: true, MinRunspaces: 1, MaxRunspaces: 2})))
		require.NoError(t, err)
		assert.True(t, ev[1].(ConnectRunspacePoolReceived).Data.HasCounts)
		ev, err = cv.server.ReceiveConnect(join(good(t)[0],
			serverPayload(t, 2, DestinationServer, testPoolID, uuid.Nil, clixml.String(""), MessageConnectRunspacePool)))
		require.NoError(t, err)
		assert.False(t, ev[1].(ConnectRunspacePoolReceived).Data.HasCounts)
	})
}

func TestServerDropOldest(t *testing.T) {
	c, cv := openedClient(t)
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	s := cv.server
	sp := s.Pipeline(pl.ID())
	for _, v := range []string{"1", "2", "3"} {
		require.NoError(t, sp.WriteOutput(clixml.String(v)))
	}
	assert.Equal(t, 3, s.PendingMessages(sp.Target()))
	before := s.Pending(sp.Target())
	assert.True(t, s.DropOldest(sp.Target()))
	assert.Less(t, s.Pending(sp.Target()), before)
	// The client notices the dropped message (a gap in the ObjectIds) and
	// still gets the rest.
	var ev []Event
	var gapErr error
	for s.Pending(sp.Target()) > 0 {
		b, err := s.NextPayload(sp.Target(), testPayloadSize)
		require.NoError(t, err)
		e, err := c.ReceiveData(b)
		if err != nil {
			require.ErrorIs(t, err, ErrObjectIDGap)
			gapErr = err
		}
		ev = append(ev, e...)
	}
	require.Error(t, gapErr, "the dropped output is reported")
	require.Len(t, ev, 2)
	assert.Equal(t, clixml.String("2"), valueOf(t, ev[0].(PipelineOutputReceived).Message))
	assert.False(t, s.DropOldest(sp.Target()))
	assert.False(t, s.DropOldest(Target{Pipeline: uuid.New()}))
}

func TestProtocolAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"2.2", true}, {"2.3", true}, {"2.10", true}, {"3.0", true}, {"2.1", false}, {"2.0", false},
		{"1.9", false}, {"2.2.1", true}, {"", true}, {"x.y", true},
	} {
		assert.Equal(t, tc.want, protocolAtLeast(tc.v, 2, 2), tc.v)
	}
}

func TestDisconnectNeedsProtocol22(t *testing.T) {
	cv := newConversation(t)
	cv.server = NewServerPool(uuid.Nil, ServerPoolConfig{MaxFragmentSize: testFragmentSize,
		Capability: &SessionCapability{ProtocolVersion: "2.1", PSVersion: "2.0", SerializationVersion: "1.1.0.1"}})
	require.NoError(t, cv.client.Open())
	cv.toServer()
	require.NoError(t, cv.server.SendApplicationPrivateData(&ApplicationPrivateData{Data: NewPSPrimitiveDictionary()}))
	require.NoError(t, cv.server.SetState(RunspacePoolOpened, nil))
	cv.toClient(PoolTarget)
	_, err := cv.client.BeginDisconnect()
	assert.ErrorIs(t, err, ErrInvalidState)
	assert.Contains(t, err.Error(), "2.1")
	assert.Equal(t, RunspacePoolOpened, cv.client.State())
}

// TestDisconnectingStillReceives: data of a Receive outstanding when the
// Disconnect was sent is still taken.
func TestDisconnectingStillReceives(t *testing.T) {
	c, cv := openedClient(t)
	pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
	require.NoError(t, err)
	require.NoError(t, pl.Invoke())
	cv.toServer()
	ci, err := c.GetAvailableRunspaces()
	require.NoError(t, err)
	cv.toServer()
	require.NoError(t, cv.server.SendAvailableRunspaces(ci, 1))
	require.NoError(t, cv.server.Pipeline(pl.ID()).WriteOutput(clixml.String("late")))
	_, err = c.BeginDisconnect()
	require.NoError(t, err)
	assert.Len(t, cv.toClient(PoolTarget), 1)
	assert.Len(t, cv.toClient(pl.Target()), 1)
	_, err = c.DisconnectCompleted()
	require.NoError(t, err)
	_, err = c.ReceiveData(serverPayload(t, 900, DestinationClient, testPoolID, pl.ID(), clixml.String("x"), MessagePipelineOutput))
	assert.ErrorIs(t, err, ErrInvalidState, "a Disconnected pipeline takes no output")
}

func TestServerMaxPipelines(t *testing.T) {
	c, cv := openedClient(t)
	cv.server.cfg.MaxPipelines = 2
	for i := 0; i < 3; i++ {
		pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		b, err := c.NextPayload(pl.Target(), 1<<20)
		require.NoError(t, err)
		_, err = cv.server.ReceiveData(b)
		if i < 2 {
			require.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, ErrInvalidState)
		}
	}
	assert.Len(t, cv.server.Pipelines(), 2)
}

// TestServerReinvoke: a PowerShell object invoked again keeps its instance
// id; the server starts a new run once the previous one has finished.
func TestServerReinvoke(t *testing.T) {
	c, cv := openedClient(t)
	id := uuid.New()
	for run := 0; run < 2; run++ {
		pl, err := c.NewPipeline(id, scriptPipeline("Get-Date"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		ev := cv.toServer()
		require.Len(t, ev, 1)
		assert.Equal(t, id, ev[0].(CreatePipelineReceived).Pipeline)
		sp := cv.server.Pipeline(id)
		assert.Equal(t, PSInvocationRunning, sp.State())
		assert.False(t, sp.InputClosed())
		require.NoError(t, sp.WriteOutput(clixml.Int32(int32(run))))
		require.NoError(t, sp.SetState(PSInvocationCompleted, nil))
		ev = cv.toClient(sp.Target())
		require.Len(t, ev, 2)
		assert.Equal(t, clixml.Int32(int32(run)), valueOf(t, ev[0].(PipelineOutputReceived).Message))
	}
	assert.Len(t, cv.server.Pipelines(), 1)
}

// TestConnectStateBeforeInitData: a server that answers a connect with
// RUNSPACEPOOL_STATE Opened before RUNSPACEPOOL_INIT_DATA is understood too.
func TestConnectStateBeforeInitData(t *testing.T) {
	c, err := NewClientPool(ClientPoolConfig{RunspacePoolID: testPoolID})
	require.NoError(t, err)
	require.NoError(t, c.Connect())
	_, err = c.ConnectPayload(1 << 20)
	require.NoError(t, err)
	ev, err := c.ReceiveData(serverPayload(t, 5, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolStateInfo{State: RunspacePoolOpened}, MessageRunspacePoolState))
	require.NoError(t, err)
	require.Len(t, ev, 1)
	assert.Equal(t, RunspacePoolOpened, c.State())
	ev, err = c.ReceiveData(serverPayload(t, 6, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolInitData{MinRunspaces: 1, MaxRunspaces: 3}, MessageRunspacePoolInitData))
	require.NoError(t, err)
	require.Len(t, ev, 1)
	assert.Equal(t, int32(3), c.InitData().MaxRunspaces)
	_, err = c.ReceiveData(serverPayload(t, 7, DestinationClient, testPoolID, uuid.Nil, &RunspacePoolInitData{MinRunspaces: 1, MaxRunspaces: 3}, MessageRunspacePoolInitData))
	assert.ErrorIs(t, err, ErrInvalidState, "only one RUNSPACEPOOL_INIT_DATA")
}
