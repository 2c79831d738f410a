package psrp

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ReceiveData takes the PSRP payload of a Receive (the decoded stdout
// Streams, in order, with or without CommandId) or of a connectResponseXml,
// reassembles its messages and applies them. It returns the events in
// message order.
//
// Fragments already received (a retransmitted or replayed response) are
// dropped silently and counted (DroppedDuplicates); messages missing from a
// pipeline's stream are a *GapError (see ErrObjectIDGap for the rules and
// their limits).
//
// A *GapError does not stop processing: the rest of the payload is applied
// and the error returned with all the events (a caller that asked for
// OutputBufferingMode Drop may expect gaps); several errors are joined
// (errors.Join), so errors.As finds the first *GapError.
//
// A fragment error, a message for another side or pool, an unknown pipeline
// or a message the current state does not expect stops processing: the
// events of the messages before it are returned with the error (nothing is
// dropped silently), and the rest of the payload is not applied. Errors are
// *StateError for protocol violations, *FragmentError for framing and
// DataError-wrapping errors for malformed data.
func (p *ClientPool) ReceiveData(payload []byte) ([]Event, error) {
	if p.state.Final() {
		return nil, p.stateErr("ReceiveData", 0, "the pool is closed or broken")
	}
	raw, gaps, ferr := p.feed(payload)
	ev := make([]Event, 0, len(raw))
	for _, c := range raw {
		m, err := DecodeMessage(c.raw)
		if err != nil {
			return ev, err
		}
		if ev, err = p.apply(ev, m); err != nil {
			return ev, err
		}
		if err = p.received(c.id, m); err != nil {
			if _, gap := err.(*GapError); !gap {
				return ev, joinErrors(append(gaps, err))
			}
			gaps = append(gaps, err) // reported with the rest of the payload applied
		}
	}
	if ferr != nil {
		gaps = append(gaps, ferr)
	}
	return ev, joinErrors(gaps)
}

// joinErrors returns nil, the only error, or errors.Join of several.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// ReceiveMessage applies one already reassembled message, as ReceiveData
// does for each message of a payload.
func (p *ClientPool) ReceiveMessage(m *Message) ([]Event, error) {
	if p.state.Final() {
		return nil, p.stateErr("ReceiveMessage", 0, "the pool is closed or broken")
	}
	return p.apply(nil, m)
}

func (p *ClientPool) apply(ev []Event, m *Message) ([]Event, error) {
	if m.Destination != DestinationClient {
		return ev, p.stateErr("ReceiveData", m.Type, fmt.Sprintf("message addressed to %s", m.Destination))
	}
	// Windows sends its first SESSION_CAPABILITY with an all-zero RPID.
	if m.RunspacePoolID != p.id && (m.RunspacePoolID != uuid.Nil || m.Type != MessageSessionCapability) {
		return ev, p.stateErr("ReceiveData", m.Type, fmt.Sprintf("message for runspace pool %s", m.RunspacePoolID))
	}
	if m.PipelineID != uuid.Nil {
		if m.Type == MessageWarningRecord || m.Type&0x00040000 != 0 {
			return p.applyPipeline(ev, m)
		}
		return ev, p.stateErr("ReceiveData", m.Type, "pool message with a pipeline id")
	}
	return p.applyPool(ev, m)
}

// live reports whether the pool takes server messages that need an open
// pool: Opened, or Disconnecting (a Receive outstanding when the Disconnect
// was sent still delivers its data, MS-WSMV 3.1.4.15).
func (p *ClientPool) live() bool {
	return p.state == RunspacePoolOpened || p.state == RunspacePoolDisconnecting
}

func (p *ClientPool) unexpected(m *Message) error {
	return p.stateErr("ReceiveData", m.Type, "unexpected in this state")
}

func (p *ClientPool) applyPool(ev []Event, m *Message) ([]Event, error) {
	switch m.Type {
	case MessageSessionCapability:
		if p.state != RunspacePoolOpening && p.state != RunspacePoolConnecting {
			return ev, p.unexpected(m)
		}
		c, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeSessionCapability)
		if err != nil {
			return ev, err
		}
		p.serverCap = c
		return append(ev, SessionCapabilityReceived{Capability: c}), nil

	case MessageApplicationPrivateData:
		if !p.live() && p.state != RunspacePoolOpening && p.state != RunspacePoolConnecting {
			return ev, p.unexpected(m)
		}
		d, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeApplicationPrivateData)
		if err != nil {
			return ev, err
		}
		return append(ev, ApplicationPrivateDataReceived{Data: d}), nil

	case MessageRunspacePoolState:
		info, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeRunspacePoolStateInfo)
		if err != nil {
			return ev, err
		}
		return p.applyPoolState(ev, m, info)

	case MessageRunspacePoolInitData:
		// After a new-client Connect; a server that announced Opened with
		// RUNSPACEPOOL_STATE first may still send it.
		late := p.state == RunspacePoolOpened && p.connectedNew && p.initData == nil
		if !late && (p.state != RunspacePoolConnecting || !p.awaitingInit) {
			return ev, p.unexpected(m)
		}
		d, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeRunspacePoolInitData)
		if err != nil {
			return ev, err
		}
		p.initData = d
		p.awaitingInit = false
		ev = append(ev, RunspacePoolInitDataReceived{Data: d})
		if late {
			return ev, nil
		}
		ev = append(ev, p.setState(RunspacePoolOpened, nil, nil))
		return p.resumePipelines(ev), nil

	case MessageRunspaceAvailability:
		if !p.live() {
			return ev, p.unexpected(m)
		}
		d, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeRunspaceAvailability)
		if err != nil {
			return ev, err
		}
		return append(ev, RunspaceAvailabilityReceived{Data: d}), nil

	case MessageUserEvent:
		if !p.live() {
			return ev, p.unexpected(m)
		}
		return append(ev, UserEventReceived{Message: m}), nil

	case MessageRunspacePoolHostCall:
		if !p.live() && p.state != RunspacePoolOpening {
			return ev, p.unexpected(m)
		}
		c, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeHostCall)
		if err != nil {
			return ev, err
		}
		return append(ev, HostCallReceived{CallID: c.CallID, Method: c.MethodID, Message: m}), nil

	case MessageWarningRecord:
		if !p.live() {
			return ev, p.unexpected(m)
		}
		return append(ev, InformationalRecordReceived{Message: m}), nil

	case MessagePublicKeyRequest:
		if !p.live() {
			return ev, p.unexpected(m)
		}
		return append(ev, PublicKeyRequested{}), nil

	case MessageEncryptedSessionKey:
		if !p.live() || p.kex == nil {
			return ev, p.stateErr("ReceiveData", m.Type, "no PUBLIC_KEY was sent")
		}
		k, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeEncryptedSessionKey)
		if err != nil {
			return ev, err
		}
		key, err := p.kex.DecryptSessionKey(k.Key)
		if err != nil {
			return ev, err
		}
		c, err := NewSecureStringCipher(key)
		if err != nil {
			return ev, err
		}
		p.cipher = c
		return append(ev, SessionKeyReceived{Cipher: c}), nil
	}
	return ev, p.stateErr("ReceiveData", m.Type, "not a server-to-client runspace pool message")
}

func (p *ClientPool) applyPoolState(ev []Event, m *Message, info *RunspacePoolStateInfo) ([]Event, error) {
	next := info.State
	if next < RunspacePoolBeforeOpen || next > RunspacePoolBroken {
		return ev, p.stateErr("ReceiveData", m.Type, fmt.Sprintf("servers do not send state %s", next))
	}
	if next == p.state {
		return ev, nil // a repeated state (e.g. Opened after a connect) changes nothing
	}
	switch next {
	case RunspacePoolBroken:
		return append(ev, p.finish(RunspacePoolBroken, info, nil, PSInvocationFailed, ErrPoolBroken)...), nil
	case RunspacePoolClosed:
		return append(ev, p.finish(RunspacePoolClosed, info, nil, PSInvocationStopped, ErrPoolClosed)...), nil
	case RunspacePoolOpened:
		// Opening → Opened after an open; Connecting → Opened when a
		// server (psrpcore, some Windows versions) also sends the state
		// after a connect.
		if p.state != RunspacePoolOpening && p.state != RunspacePoolConnecting {
			return ev, p.unexpected(m)
		}
		p.awaitingInit = false
		ev = append(ev, p.setState(RunspacePoolOpened, info, nil))
		return p.resumePipelines(ev), nil
	case RunspacePoolOpening, RunspacePoolClosing:
		if p.state.CanTransition(next) {
			return append(ev, p.setState(next, info, nil)), nil
		}
	}
	return ev, p.unexpected(m)
}

func (p *ClientPool) applyPipeline(ev []Event, m *Message) ([]Event, error) {
	pl := p.pipes[m.PipelineID]
	if pl == nil {
		return ev, &StateError{Op: "ReceiveData", PoolState: p.state, Pipeline: m.PipelineID, Message: m.Type,
			Detail: "unknown or finished pipeline"}
	}
	switch pl.state {
	case PSInvocationRunning, PSInvocationStopping:
	default:
		return ev, &StateError{Op: "ReceiveData", PoolState: p.state, Pipeline: pl.id, PipelineState: pl.state,
			Message: m.Type, Detail: "the pipeline is not running"}
	}
	switch m.Type {
	case MessagePipelineOutput:
		return append(ev, PipelineOutputReceived{Pipeline: pl.id, Message: m}), nil
	case MessageErrorRecord:
		return append(ev, ErrorRecordReceived{Pipeline: pl.id, Message: m}), nil
	case MessageDebugRecord, MessageVerboseRecord, MessageWarningRecord, MessageInformationRecord,
		MessageProgressRecord:
		return append(ev, InformationalRecordReceived{Pipeline: pl.id, Message: m}), nil
	case MessagePipelineHostCall:
		c, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodeHostCall)
		if err != nil {
			return ev, err
		}
		return append(ev, HostCallReceived{Pipeline: pl.id, CallID: c.CallID, Method: c.MethodID, Message: m}), nil
	case MessagePipelineState:
		info, err := decodeMessageDataWith(p.cfg.CLIXML, m, DecodePipelineStateInfo)
		if err != nil {
			return ev, err
		}
		next := info.State
		if next == pl.state {
			return ev, nil
		}
		if next == PSInvocationDisconnected || !pl.state.CanTransition(next) {
			return ev, &StateError{Op: "ReceiveData", PoolState: p.state, Pipeline: pl.id, PipelineState: pl.state,
				Message: m.Type, Detail: fmt.Sprintf("cannot move to %s", next)}
		}
		return append(ev, pl.setState(next, info, nil)), nil
	}
	return ev, &StateError{Op: "ReceiveData", PoolState: p.state, Pipeline: pl.id, PipelineState: pl.state,
		Message: m.Type, Detail: "not a server-to-client pipeline message"}
}
