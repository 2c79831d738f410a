package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/wsman"
)

// DisconnectOptions are the parameters of Disconnect (Disconnect-PSSession).
// They are the only place, besides New, where IdleTimeout and
// OutputBufferingMode may change (the NOTES of Receive-PSSession).
type DisconnectOptions struct {
	// IdleTimeout is how long the server keeps the disconnected session
	// (0: unchanged). It must be between 60 s and the server's
	// MaxIdleTimeout, checked before it is sent (*IdleTimeoutError).
	IdleTimeout time.Duration
	// OutputBufferingMode is Block or Drop (BufferingNone: unchanged).
	OutputBufferingMode OutputBufferingMode
}

// checkIdle checks an IdleTimeout against the server's range.
func (s *Session) checkIdle(d time.Duration) error {
	if d == 0 {
		return nil
	}
	max := s.MaxIdleTimeout()
	if d < minIdleTimeout || (max > 0 && d > max) {
		return &IdleTimeoutError{Requested: d, Min: minIdleTimeout, Max: max}
	}
	return nil
}

// Disconnect disconnects the session from this client
// (Disconnect-PSSession): commands keep running on the server, which
// buffers their output (Block suspends them when the buffer is full, Drop
// discards the oldest). Result streams of commands end with an error
// matching ErrDisconnected; jobs become Disconnected and resume when this
// client connects again. State becomes Disconnected, Availability None.
//
// Results the server sent to this client before the disconnect (it counts
// them delivered and never sends them again) have reached their job or
// Stream when Disconnect returns, and a job whose final state arrived is
// finished: Disconnect waits for that, bounded by ctx. A Stream's reader
// must therefore keep reading (or Close the stream) while Disconnect runs
// in another goroutine; a job takes them at once unless it already holds
// job.Options.MaxBuffered results nobody received.
func (s *Session) Disconnect(ctx context.Context, d DisconnectOptions) error {
	if err := s.checkIdle(d.IdleTimeout); err != nil {
		return err
	}
	if d.OutputBufferingMode < BufferingNone || d.OutputBufferingMode > BufferingDrop {
		return &OptionError{Field: "OutputBufferingMode", Msg: "must be None, Block or Drop"}
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	if s.state != StateOpened || s.pool == nil {
		st := s.state
		s.mu.Unlock()
		return s.errorf("disconnect", stateKind(st), fmt.Errorf("the session is %s", st))
	}
	if _, err := s.pool.BeginDisconnect(); err != nil {
		s.mu.Unlock()
		return s.errorf("disconnect", ErrUnsupported, err)
	}
	if d.OutputBufferingMode == BufferingNone {
		d.OutputBufferingMode = s.wantBufferMode
	}
	s.mu.Unlock()
	s.setState(StateDisconnecting, nil)
	var notApplied error
	err := s.wc.Disconnect(ctx, s.ref, &wsman.Disconnect{IdleTimeOut: d.IdleTimeout, BufferMode: d.OutputBufferingMode.wsman()})
	if errors.Is(err, wsman.ErrShellDisconnected) || errors.Is(err, wsman.ErrInvalidState) {
		// The server had already disconnected it (its client seemed gone):
		// the session is disconnected, as asked; the new IdleTimeout and
		// mode were not applied.
		s.log.Debug("disconnect: the server had already disconnected the session", "id", s.id, "err", err)
		if d.IdleTimeout != 0 || d.OutputBufferingMode != BufferingNone {
			notApplied = s.errorf("disconnect", ErrDisconnected,
				fmt.Errorf("the server had already disconnected the session; IdleTimeout and OutputBufferingMode were not changed: %w", err))
		}
		d = DisconnectOptions{}
		err = nil
	}
	if err != nil && wsman.IsNetworkError(err) && ctx.Err() == nil {
		// The server could not be reached for the whole reconnect window:
		// the session is disconnected here only, its work survives.
		return s.disconnectedLocally(err)
	}
	if err != nil {
		kind := classify(err)
		s.mu.Lock()
		_, _ = s.pool.DisconnectFailed(err)
		s.mu.Unlock()
		s.setState(StateBroken, err)
		return s.errorf("disconnect", kind, err)
	}
	// Receives that were outstanding end (the server answers them with a
	// fault, or with data sent before it disconnected): wait until every
	// long-poll slot is free, so that no data received before the
	// disconnect is applied after it.
	s.drainPolls()
	// Data received before is applied to the pool but its results may not
	// have reached their consumers yet: wait until they have, so that when
	// Disconnect returns a job holds everything the server sent to this
	// client (the server counts it delivered and never sends it again).
	s.awaitPumps(ctx)
	s.mu.Lock()
	_, _ = s.pool.DisconnectCompleted()
	s.markDisconnectedLocked()
	if d.IdleTimeout > 0 {
		s.idleTimeout = d.IdleTimeout
	}
	if d.OutputBufferingMode != BufferingNone {
		s.bufferMode = d.OutputBufferingMode
		s.wantBufferMode = BufferingNone // the server has it now
	}
	s.disconnectedOn = time.Now()
	s.mu.Unlock()
	s.setState(StateDisconnected, nil)
	return notApplied
}

// drainPolls waits until no long poll is outstanding.
func (s *Session) drainPolls() {
	n := cap(s.polls)
	got := 0
	for ; got < n; got++ {
		select {
		case s.polls <- struct{}{}:
		case <-s.ctx.Done():
			n = got
		}
	}
	for i := 0; i < got; i++ {
		<-s.polls
	}
}

// Connect connects a disconnected session to this client
// (Connect-PSSession): with the same WSMan client that disconnected it, a
// Reconnect (the pool and its commands resume, and jobs started here
// resume); otherwise a Connect with CONNECT_RUNSPACEPOOL as a new client,
// then each command still on the server is connected. Commands found that
// way deliver their results only when received (Receive). A session
// connected to another client gives an error matching ErrBusy; one the
// server no longer has (idle timeout expired) matches ErrExpired.
func (s *Session) Connect(ctx context.Context) error {
	if s.conn.SessionOption.OpenTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.conn.SessionOption.OpenTimeout)
		defer cancel()
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	st := s.state
	reconnect := s.pool != nil && s.pool.State() == psrp.RunspacePoolDisconnected
	s.mu.Unlock()
	switch st {
	case StateOpened:
		return nil
	case StateDisconnected:
	default:
		return s.errorf("connect", stateKind(st), fmt.Errorf("the session is %s", st))
	}
	if reconnect {
		err := s.reconnect(ctx)
		if err == nil || !errors.Is(err, wsman.ErrSessionIDMismatch) {
			return err
		}
		// Another client connected (and disconnected) it since: connect
		// as a new client.
		s.log.Debug("reconnect refused (session id mismatch); connecting as a new client", "id", s.id)
	}
	return s.connectNew(ctx)
}

// reconnect is the same-client path (MS-PSRP 3.1.4.10.2).
func (s *Session) reconnect(ctx context.Context) error {
	s.mu.Lock()
	_, _ = s.pool.BeginReconnect()
	s.mu.Unlock()
	s.setState(StateConnecting, nil)
	err := s.wc.Reconnect(ctx, s.ref, "")
	if err == nil {
		for _, c := range s.Commands() {
			if err = s.wc.Reconnect(ctx, s.ref, upper(c.id)); err != nil {
				break
			}
		}
	}
	if err != nil {
		kind := classify(err)
		retry := kind != ErrExpired
		s.mu.Lock()
		_, _ = s.pool.ReconnectFailed(err, retry)
		s.mu.Unlock()
		if retry {
			s.setState(StateDisconnected, nil)
		} else {
			s.setState(StateBroken, err)
		}
		if errors.Is(err, wsman.ErrSessionIDMismatch) {
			return err
		}
		return s.errorf("connect", kind, err)
	}
	s.mu.Lock()
	_, _ = s.pool.ReconnectCompleted()
	for _, c := range s.cmds {
		if !c.finished && c.pl != nil {
			c.state = c.pl.State()
		}
	}
	s.otherClient = false
	s.mu.Unlock()
	s.connected()
	return nil
}

// connected marks the session Opened and starts its loops.
func (s *Session) connected() {
	s.setState(StateOpened, nil)
	s.startPoolLoop()
	s.mu.Lock()
	for _, c := range s.cmds {
		s.startPumpLocked(c)
	}
	s.mu.Unlock()
}

// connectNew is the new-client path (MS-PSRP 3.1.4.10.3): Connect with
// SESSION_CAPABILITY + CONNECT_RUNSPACEPOOL, then each command.
func (s *Session) connectNew(ctx context.Context) error {
	pool, err := psrp.NewClientPool(s.poolConfig())
	if err != nil {
		return err
	}
	if err := pool.Connect(); err != nil {
		return err
	}
	payload, err := pool.ConnectPayload(s.wc.MaxPayloadSize())
	if err != nil {
		return err
	}
	s.setState(StateConnecting, nil)
	resp, err := s.connectRequest(ctx, payload)
	if err != nil {
		kind := classify(err)
		s.mu.Lock()
		if kind == ErrBusy {
			s.otherClient = true
		}
		s.mu.Unlock()
		if kind == ErrExpired {
			s.setState(StateBroken, err)
		} else {
			s.setState(StateDisconnected, nil)
		}
		return s.errorf("connect", kind, err)
	}
	ev, err := pool.ReceiveData(resp.ConnectResponseXML)
	if err == nil && pool.State() != psrp.RunspacePoolOpened {
		err = fmt.Errorf("session: runspace pool is %s after connect", pool.State())
	}
	if err != nil {
		s.setState(StateBroken, err)
		return s.errorf("connect", ErrBroken, err)
	}
	s.mu.Lock()
	s.pool = pool
	s.otherClient = false
	s.mu.Unlock()
	s.afterOpen()
	s.handlePoolEvents(ctx, ev)
	if err := s.adoptCommands(ctx); err != nil {
		// Give the session back to the server (Disconnected, free for a
		// later Connect) rather than hold it half-connected.
		_ = s.wc.Disconnect(context.WithoutCancel(ctx), s.ref, nil)
		s.mu.Lock()
		s.pool.Closed()
		s.pool = nil
		s.mu.Unlock()
		s.setState(StateDisconnected, err)
		return s.errorf("connect", classify(err), err)
	}
	if sh, err := s.wc.GetShell(ctx, s.ref.ShellID); err == nil {
		s.setServerInfo(sh)
	}
	s.connected()
	return nil
}

// adoptCommands connects to the commands the server still runs.
func (s *Session) adoptCommands(ctx context.Context) error {
	infos, err := s.wc.EnumerateCommands(ctx, s.ref.ShellID)
	if err != nil {
		return err
	}
	seen := map[uuid.UUID]bool{}
	for _, ci := range infos {
		id, err := uuid.Parse(ci.CommandID)
		if err != nil {
			return fmt.Errorf("session: server reported command id %q: %w", ci.CommandID, err)
		}
		seen[id] = true
		s.mu.Lock()
		pl, err := s.pool.AdoptPipeline(id)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		var c *RunningCommand
		for _, x := range s.cmds {
			if x.id == id && !x.finished {
				c = x
			}
		}
		if c == nil {
			c = &RunningCommand{s: s, id: id, text: strings.TrimSpace(ci.CommandLine), done: make(chan struct{})}
			s.cmds = append(s.cmds, c)
		}
		c.pl, c.state, c.disconnected = pl, psrp.PSInvocationRunning, true
		s.mu.Unlock()
		if err := s.wc.ConnectCommand(ctx, s.ref, upper(id)); err != nil {
			return err
		}
	}
	// Commands of this object the server no longer has ended while
	// disconnected; their remaining results went to another client.
	for _, c := range s.Commands() {
		if !seen[c.id] {
			c.finish(s.errorf("connect", ErrExpired, errors.New("the command is no longer on the server")), false)
		}
	}
	return nil
}
