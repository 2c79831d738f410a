package psrp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Transport-level transitions of a ClientPool. WSMan Disconnect, Reconnect,
// Delete and request failures are invisible to PSRP, so the caller reports
// them; each returns the events of the resulting state changes.

// ErrPoolBroken is the Reason of pipeline state changes caused by the pool
// breaking, and ErrPoolClosed of those caused by it closing.
var (
	ErrPoolBroken = errors.New("psrp: the runspace pool is broken")
	ErrPoolClosed = errors.New("psrp: the runspace pool was closed")
)

// BeginDisconnect: Opened → Disconnecting, before the WSMan Disconnect is
// sent (MS-PSRP 3.1.4.9).
func (p *ClientPool) BeginDisconnect() ([]Event, error) {
	if p.state != RunspacePoolOpened {
		return nil, p.stateErr("BeginDisconnect", 0, "only an Opened pool can disconnect")
	}
	if c := p.serverCap; c != nil && !protocolAtLeast(c.ProtocolVersion, 2, 2) {
		return nil, p.stateErr("BeginDisconnect", 0, fmt.Sprintf(
			"the server speaks PSRP %s; disconnecting needs 2.2 (Windows 8 / Server 2012) or later", c.ProtocolVersion))
	}
	return []Event{p.setState(RunspacePoolDisconnecting, nil, nil)}, nil
}

// DisconnectCompleted: the DisconnectResponse arrived. Disconnecting →
// Disconnected, and every pipeline that has not finished → Disconnected.
// Data still queued for the server stays queued.
func (p *ClientPool) DisconnectCompleted() ([]Event, error) {
	if p.state != RunspacePoolDisconnecting {
		return nil, p.stateErr("DisconnectCompleted", 0, "BeginDisconnect was not called")
	}
	ev := []Event{p.setState(RunspacePoolDisconnected, nil, nil)}
	for _, pl := range p.order {
		if pl.state == PSInvocationRunning || pl.state == PSInvocationStopping {
			ev = append(ev, pl.setState(PSInvocationDisconnected, nil, nil))
		}
	}
	return ev, nil
}

// DisconnectFailed: the Disconnect was answered with a fault. The pool
// breaks (MS-PSRP 3.1.4.9).
func (p *ClientPool) DisconnectFailed(err error) ([]Event, error) {
	if p.state != RunspacePoolDisconnecting {
		return nil, p.stateErr("DisconnectFailed", 0, "BeginDisconnect was not called")
	}
	return p.Broken(err), nil
}

// BeginReconnect: Disconnected → Connecting, before a WSMan Reconnect from
// the same client (same wsmv:SessionId; MS-PSRP 3.1.4.10.2).
func (p *ClientPool) BeginReconnect() ([]Event, error) {
	if p.state != RunspacePoolDisconnected {
		return nil, p.stateErr("BeginReconnect", 0, "only a Disconnected pool can reconnect")
	}
	return []Event{p.setState(RunspacePoolConnecting, nil, nil)}, nil
}

// ReconnectCompleted: the ReconnectResponse arrived. Connecting → Opened,
// and Disconnected pipelines → Running (reconnect each command and resume
// its Receive).
func (p *ClientPool) ReconnectCompleted() ([]Event, error) {
	if p.state != RunspacePoolConnecting || p.awaitingInit {
		return nil, p.stateErr("ReconnectCompleted", 0, "BeginReconnect was not called")
	}
	ev := []Event{p.setState(RunspacePoolOpened, nil, nil)}
	return p.resumePipelines(ev), nil
}

// ReconnectFailed: the Reconnect was answered with a fault: Connecting →
// Disconnected when the shell is still there to try again (retry true),
// otherwise the pool breaks.
func (p *ClientPool) ReconnectFailed(err error, retry bool) ([]Event, error) {
	if p.state != RunspacePoolConnecting {
		return nil, p.stateErr("ReconnectFailed", 0, "BeginReconnect was not called")
	}
	if retry {
		return []Event{p.setState(RunspacePoolDisconnected, nil, err)}, nil
	}
	return p.Broken(err), nil
}

func (p *ClientPool) resumePipelines(ev []Event) []Event {
	for _, pl := range p.order {
		if pl.state == PSInvocationDisconnected {
			ev = append(ev, pl.setState(PSInvocationRunning, nil, nil))
		}
	}
	return ev
}

// BeginClose: → Closing, before the WSMan Delete (Signal terminate and
// Delete close the pool; the server may answer RUNSPACEPOOL_STATE Closed).
func (p *ClientPool) BeginClose() ([]Event, error) {
	if p.state == RunspacePoolClosing {
		return nil, nil
	}
	if !p.state.CanTransition(RunspacePoolClosing) {
		return nil, p.stateErr("BeginClose", 0, "cannot close now")
	}
	return []Event{p.setState(RunspacePoolClosing, nil, nil)}, nil
}

// Closed: the pool is gone (Delete answered, or the server reported it).
// Every unfinished pipeline is Stopped with Reason ErrPoolClosed and all
// queued data is dropped. Closing a Closed or Broken pool does nothing.
func (p *ClientPool) Closed() []Event {
	if p.state.Final() {
		return nil
	}
	return p.finish(RunspacePoolClosed, nil, nil, PSInvocationStopped, ErrPoolClosed)
}

// Broken: the connection to the pool is lost for good (a fatal transport
// error, or a fault on Disconnect/Reconnect/Connect). Every unfinished
// pipeline Fails with Reason err (ErrPoolBroken when err is nil) and all
// queued data is dropped. Breaking a Closed or Broken pool does nothing.
func (p *ClientPool) Broken(err error) []Event {
	if p.state.Final() {
		return nil
	}
	if err == nil {
		err = ErrPoolBroken
	}
	return p.finish(RunspacePoolBroken, nil, err, PSInvocationFailed, err)
}

func (p *ClientPool) finish(next RunspacePoolState, info *RunspacePoolStateInfo, reason error,
	pipeState PSInvocationState, pipeReason error) []Event {
	ev := []Event{p.setState(next, info, reason)}
	for _, pl := range p.order {
		if !pl.state.Terminal() {
			ev = append(ev, pl.setState(pipeState, nil, pipeReason))
		}
	}
	p.order = nil
	clear(p.pipes)
	p.out.discard()
	p.outPR.discard()
	p.defrag.Reset()
	return ev
}

// NextPayload returns the next payload of at most maxPayload bytes queued
// for target, or nil when nothing is queued there.
func (p *ClientPool) NextPayload(t Target, maxPayload int) ([]byte, error) {
	f := p.fragmenter(t)
	if f == nil {
		return nil, nil
	}
	return f.NextPayload(maxPayload)
}

// Pending returns the bytes queued for target (0 for an unknown target).
func (p *ClientPool) Pending(t Target) int {
	if f := p.fragmenter(t); f != nil {
		return f.Pending()
	}
	return 0
}

// PendingTargets returns the targets with queued data: the pool first, then
// pipelines in creation order, stdin before "pr".
func (p *ClientPool) PendingTargets() []Target {
	var ts []Target
	if p.out.Len() > 0 {
		ts = append(ts, PoolTarget)
	}
	if p.outPR.Len() > 0 {
		ts = append(ts, Target{Stream: StreamPromptResponse})
	}
	for _, pl := range p.order {
		if pl.out.Len() > 0 {
			ts = append(ts, Target{Pipeline: pl.id})
		}
		if pl.outPR.Len() > 0 {
			ts = append(ts, Target{Pipeline: pl.id, Stream: StreamPromptResponse})
		}
	}
	return ts
}

func (p *ClientPool) fragmenter(t Target) *Fragmenter {
	if t.Pipeline == uuid.Nil {
		if t.Stream == StreamPromptResponse {
			return &p.outPR
		}
		return &p.out
	}
	pl := p.pipes[t.Pipeline]
	if pl == nil {
		return nil
	}
	if t.Stream == StreamPromptResponse {
		return &pl.outPR
	}
	return &pl.out
}

// protocolAtLeast reports whether a "major.minor" protocol version is at
// least major.minor. An unparsable version counts as new enough: the server
// will say if it is not.
func protocolAtLeast(v string, major, minor int) bool {
	a, b, _ := strings.Cut(v, ".")
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(strings.SplitN(b, ".", 2)[0])
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}
