package psrp

import (
	"fmt"

	"github.com/google/uuid"
)

// ReceiveData takes a client payload (creationXml, Command Arguments, or the
// data of a Send on stdin or pr), reassembles its messages and applies them,
// returning the events in message order. CONNECT_RUNSPACEPOOL is refused
// here: a connectXml goes to ReceiveConnect.
//
// On a protocol violation (*StateError), a framing error (*FragmentError) or
// malformed data, the events of the messages before it are returned with
// the error and the rest of the payload is not applied.
func (s *ServerPool) ReceiveData(payload []byte) ([]Event, error) {
	if s.state.Final() {
		return nil, s.stateErr("ReceiveData", 0, "the pool is closed or broken")
	}
	raw, ferr := s.defrag.Feed(payload)
	var ev []Event
	for _, b := range raw {
		m, err := DecodeMessage(b)
		if err != nil {
			return ev, err
		}
		if ev, err = s.apply(ev, m); err != nil {
			return ev, err
		}
	}
	return ev, ferr
}

// ReceiveConnect validates and applies the connectXml of a new client's
// Connect as .NET's ServerRemoteSession.ExecuteConnect does: exactly two
// complete fragments, a SESSION_CAPABILITY then a CONNECT_RUNSPACEPOOL, both
// for the server, nothing after them, the pool Opened, the
// CONNECT_RUNSPACEPOOL for this pool (the SESSION_CAPABILITY's RPID is not
// checked), and Min/MaxRunspaces, if given, with Min <= Max and not both
// different from the pool's (.NET refuses only when both differ). The new
// client's ObjectIds restart at 1; the server's own counter continues.
// Answer with ConnectResponse.
func (s *ServerPool) ReceiveConnect(payload []byte) ([]Event, error) {
	const op = "ReceiveConnect"
	if s.state != RunspacePoolOpened {
		return nil, s.stateErr(op, MessageConnectRunspacePool, "the pool is not Opened")
	}
	frags, err := DecodeFragments(payload)
	if err != nil {
		return nil, err
	}
	if len(frags) != 2 {
		return nil, s.stateErr(op, MessageConnectRunspacePool, fmt.Sprintf("connectXml holds %d fragments, want 2", len(frags)))
	}
	var msgs [2]*Message
	for i, want := range [2]MessageType{MessageSessionCapability, MessageConnectRunspacePool} {
		f := frags[i]
		if !f.Start || !f.End || f.FragmentID != 0 {
			return nil, s.stateErr(op, want, "connectXml fragments must be complete messages")
		}
		m, err := DecodeMessage(f.Blob)
		if err != nil {
			return nil, err
		}
		if m.Type != want {
			return nil, s.stateErr(op, m.Type, fmt.Sprintf("connectXml message %d must be %s", i+1, want))
		}
		if m.Destination != DestinationServer {
			return nil, s.stateErr(op, m.Type, fmt.Sprintf("message addressed to %s", m.Destination))
		}
		if i == 1 && m.RunspacePoolID != s.id {
			return nil, s.stateErr(op, m.Type, fmt.Sprintf("message for runspace pool %s", m.RunspacePoolID))
		}
		if m.PipelineID != uuid.Nil {
			return nil, s.stateErr(op, m.Type, "pool message with a pipeline id")
		}
		msgs[i] = m
	}
	c, err := decodeMessageData(msgs[0], DecodeSessionCapability)
	if err != nil {
		return nil, err
	}
	cr, err := decodeMessageData(msgs[1], DecodeConnectRunspacePool)
	if err != nil {
		return nil, err
	}
	if cr.HasCounts && cr.MinRunspaces > cr.MaxRunspaces {
		return nil, s.stateErr(op, MessageConnectRunspacePool, fmt.Sprintf(
			"MinRunspaces %d is above MaxRunspaces %d", cr.MinRunspaces, cr.MaxRunspaces))
	}
	if cr.HasCounts && cr.MinRunspaces != s.min && cr.MaxRunspaces != s.max {
		return nil, s.stateErr(op, MessageConnectRunspacePool, fmt.Sprintf(
			"MinRunspaces/MaxRunspaces %d/%d differ from the pool's %d/%d", cr.MinRunspaces, cr.MaxRunspaces, s.min, s.max))
	}
	s.clientCap = c
	s.defrag.Reset() // whatever the old client left half-sent is gone
	return []Event{SessionCapabilityReceived{Capability: c}, ConnectRunspacePoolReceived{Data: cr}}, nil
}

func (s *ServerPool) apply(ev []Event, m *Message) ([]Event, error) {
	if m.Destination != DestinationServer {
		return ev, s.stateErr("ReceiveData", m.Type, fmt.Sprintf("message addressed to %s", m.Destination))
	}
	if s.id == uuid.Nil && s.state == RunspacePoolBeforeOpen {
		s.id = m.RunspacePoolID
	}
	if m.RunspacePoolID != s.id {
		return ev, s.stateErr("ReceiveData", m.Type, fmt.Sprintf("message for runspace pool %s", m.RunspacePoolID))
	}
	if m.PipelineID != uuid.Nil {
		return s.applyPipeline(ev, m)
	}
	switch m.Type {
	case MessageSessionCapability:
		if s.state != RunspacePoolBeforeOpen || s.clientCap != nil {
			return ev, s.unexpected(m)
		}
		c, err := decodeMessageData(m, DecodeSessionCapability)
		if err != nil {
			return ev, err
		}
		s.clientCap = c
		// Windows answers at once, with an all-zero RPID.
		if err := s.queueOn(&s.out, uuid.Nil, uuid.Nil, s.cfg.Capability); err != nil {
			return ev, err
		}
		return append(ev, SessionCapabilityReceived{Capability: c}), nil

	case MessageInitRunspacePool:
		if s.state != RunspacePoolBeforeOpen || s.clientCap == nil {
			return ev, s.stateErr("ReceiveData", m.Type, "expected after SESSION_CAPABILITY, before the pool opens")
		}
		d, err := decodeMessageData(m, DecodeInitRunspacePool)
		if err != nil {
			return ev, err
		}
		if d.MinRunspaces < 1 || d.MaxRunspaces < d.MinRunspaces {
			return ev, fmt.Errorf("psrp: INIT_RUNSPACEPOOL: invalid MinRunspaces/MaxRunspaces %d/%d: %w",
				d.MinRunspaces, d.MaxRunspaces, ErrInvalidMessageData)
		}
		s.min, s.max = d.MinRunspaces, d.MaxRunspaces
		s.state = RunspacePoolOpening
		return append(ev, InitRunspacePoolReceived{Data: d}), nil

	case MessageConnectRunspacePool:
		return ev, s.stateErr("ReceiveData", m.Type, "CONNECT_RUNSPACEPOOL is only valid in a connectXml (ReceiveConnect)")
	}
	if s.state != RunspacePoolOpened {
		return ev, s.unexpected(m)
	}
	switch m.Type {
	case MessageSetMaxRunspaces:
		d, err := decodeMessageData(m, DecodeSetMaxRunspaces)
		if err != nil {
			return ev, err
		}
		return append(ev, s.rememberSet(SetRunspacesReceived{Max: true, Count: d.MaxRunspaces, CallID: d.CallID})), nil
	case MessageSetMinRunspaces:
		d, err := decodeMessageData(m, DecodeSetMinRunspaces)
		if err != nil {
			return ev, err
		}
		return append(ev, s.rememberSet(SetRunspacesReceived{Count: d.MinRunspaces, CallID: d.CallID})), nil
	case MessageGetAvailableRunspaces:
		d, err := decodeMessageData(m, DecodeGetAvailableRunspaces)
		if err != nil {
			return ev, err
		}
		return append(ev, GetAvailableRunspacesReceived{CallID: d.CallID}), nil
	case MessageResetRunspaceState:
		d, err := decodeMessageData(m, DecodeResetRunspaceState)
		if err != nil {
			return ev, err
		}
		return append(ev, ResetRunspaceStateReceived{CallID: d.CallID}), nil
	case MessagePublicKey:
		d, err := decodeMessageData(m, DecodePublicKey)
		if err != nil {
			return ev, err
		}
		if _, err := ParsePublicKeyBlob(d.Key); err != nil {
			return ev, err
		}
		s.publicKey = d.Key
		return append(ev, PublicKeyReceived{Blob: d.Key}), nil
	case MessageRunspacePoolHostResponse:
		d, err := decodeMessageData(m, DecodeHostResponse)
		if err != nil {
			return ev, err
		}
		return append(ev, HostResponseReceived{CallID: d.CallID, Method: d.MethodID, Message: m}), nil
	}
	if uint32(m.Type)&0x000F0000 == 0x00020000 {
		// Another message for the runspace pool, addressed to the server
		// (RUNSPACEPOOL_STATE, USER_EVENT, ...): .NET's
		// ServerRunspacePoolDataStructureHandler.ProcessReceivedData has no
		// case for it and drops it, and the Send succeeds (PowerShell source,
		// ServerRemotingProtocol2.cs). One addressed to the client was refused
		// above, as .NET refuses it (RemotingDestinationNotForMe).
		return append(ev, MessageIgnored{Type: m.Type}), nil
	}
	return ev, s.stateErr("ReceiveData", m.Type, "not a client-to-server runspace pool message")
}

func (s *ServerPool) unexpected(m *Message) error {
	return s.stateErr("ReceiveData", m.Type, "unexpected in this state")
}

func (s *ServerPool) applyPipeline(ev []Event, m *Message) ([]Event, error) {
	if s.state != RunspacePoolOpened {
		return ev, s.unexpected(m)
	}
	pl := s.pipes[m.PipelineID]
	if m.Type == MessageCreatePipeline || m.Type == MessageGetCommandMetadata {
		switch {
		case pl == nil:
			if len(s.pipes) >= s.cfg.MaxPipelines {
				return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: m.PipelineID, Message: m.Type,
					Detail: fmt.Sprintf("the pool already holds %d pipelines", len(s.pipes))}
			}
			pl = &ServerPipeline{pool: s, id: m.PipelineID}
			pl.out = *NewFragmenter(s.cfg.MaxFragmentSize, &s.ids)
			s.pipes[pl.id] = pl
			s.order = append(s.order, pl)
		case pl.state.Terminal():
			// A PowerShell object invoked again keeps its instance id: a new
			// run of a finished pipeline. Output still queued stays first.
		default:
			return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: pl.id, PipelineState: pl.state,
				Message: m.Type, Detail: "the pipeline is running"}
		}
		pl.state, pl.inputClosed, pl.metadata = PSInvocationRunning, false, m.Type == MessageGetCommandMetadata
		if pl.metadata {
			return append(ev, GetCommandMetadataReceived{Pipeline: pl.id, Message: m}), nil
		}
		return append(ev, CreatePipelineReceived{Pipeline: pl.id, Message: m}), nil
	}
	if pl == nil {
		return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: m.PipelineID, Message: m.Type,
			Detail: "unknown pipeline"}
	}
	if pl.state != PSInvocationRunning && pl.state != PSInvocationStopping {
		return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: pl.id, PipelineState: pl.state,
			Message: m.Type, Detail: "the pipeline has finished"}
	}
	switch m.Type {
	case MessagePipelineInput, MessageEndOfPipelineInput:
		if pl.inputClosed {
			return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: pl.id, PipelineState: pl.state,
				Message: m.Type, Detail: "input already ended"}
		}
		if m.Type == MessageEndOfPipelineInput {
			pl.inputClosed = true
			return append(ev, EndOfPipelineInputReceived{Pipeline: pl.id}), nil
		}
		return append(ev, PipelineInputReceived{Pipeline: pl.id, Message: m}), nil
	case MessagePipelineHostResponse:
		d, err := decodeMessageData(m, DecodeHostResponse)
		if err != nil {
			return ev, err
		}
		return append(ev, HostResponseReceived{Pipeline: pl.id, CallID: d.CallID, Method: d.MethodID, Message: m}), nil
	}
	return ev, &StateError{Op: "ReceiveData", PoolState: s.state, Pipeline: pl.id, PipelineState: pl.state,
		Message: m.Type, Detail: "not a client-to-server pipeline message"}
}

// maxPendingSetCalls bounds the unanswered SET_MAX/MIN_RUNSPACES calls
// remembered, so that a client cannot grow the map without limit.
const maxPendingSetCalls = 64

func (s *ServerPool) rememberSet(e SetRunspacesReceived) Event {
	if s.setCalls == nil {
		s.setCalls = make(map[int64]SetRunspacesReceived)
	}
	if len(s.setCalls) < maxPendingSetCalls {
		s.setCalls[e.CallID] = e
	}
	return e
}
