package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/wsman"
)

// This file is the level above the transport's retransmissions (see
// wsman.RetryPolicy): what a session does when a request still has no
// answer at the end of SessionOption.ReconnectTimeout. PowerShell's client
// then auto-disconnects the session (its robust-connection notifications
// AutoDisconnectStarting and AutoDisconnectSucceeded), or reports
// InternalErrorAbort and breaks it; this package does the same, and hands
// the caller what it needs to receive the rest (ConnectionLostError).

// ConnectionLostError says that the connection to the server could not be
// restored within SessionOption.ReconnectTimeout, and that the session's
// work survives: the session is disconnected (on the server when it could
// be reached, here only otherwise: the server then turns it Disconnected
// itself when it notices that its client is gone) and its commands keep
// running there, their output buffered. Receive the rest with Receive:
// BySession(s) (or Connect) in this process, OnComputerByName with the
// ComputerName and Name, OnComputerByInstanceID, or FromToken(Token) in
// another process.
//
// A Stream that was delivering results ends with a *SessionError
// matching ErrDisconnected that wraps it (errors.As); Hooks.StateChanged
// gets it as the reason of the Disconnected state. It matches
// ErrDisconnected itself too.
type ConnectionLostError struct {
	// ComputerName, Name and InstanceID identify the session.
	ComputerName, Name, InstanceID string
	// Token reattaches to the session from another process (FromToken).
	Token Token
	// OnServer reports that the server acknowledged the Disconnect: the
	// session is disconnected there, free for another client to connect
	// at once. False: it could not be reached; the server disconnects the
	// session by itself after its inactivity window (four minutes on
	// Windows), and a Connect before that gets ErrBusy from another
	// client (this client reconnects at once).
	OnServer bool
	// Window is the ReconnectTimeout that passed.
	Window time.Duration
	// Err is the last network failure.
	Err error
}

// Error implements error. It says how to receive the rest.
func (e *ConnectionLostError) Error() string {
	where := "on the server"
	if !e.OnServer {
		where = "here (the server could not be reached; it disconnects the session itself)"
	}
	return fmt.Sprintf("session: the connection to %s was lost for more than %s; session %q (%s) is disconnected %s "+
		"and its commands keep running: receive the rest with session.Receive (BySession, or OnComputerByName "+
		"with ComputerName %q and Name %q, or FromToken with the session's Token): %v",
		e.ComputerName, e.Window, e.Name, e.InstanceID, where, e.ComputerName, e.Name, e.Err)
}

// Is matches ErrDisconnected.
func (e *ConnectionLostError) Is(target error) bool { return target == ErrDisconnected }

// Unwrap returns the network failure.
func (e *ConnectionLostError) Unwrap() error { return e.Err }

// maxAutoDisconnectWait bounds the Disconnect sent when the window ends:
// the network has just failed for a whole window, so one more attempt is
// short.
const maxAutoDisconnectWait = 10 * time.Second

// robustEvent reports a session-level robust-connection event to the
// logger and Hooks.Retry.
func (s *Session) robustEvent(kind wsman.RetryEventKind, window time.Duration, err error) {
	level := slog.LevelInfo
	if kind == wsman.InternalErrorAbort {
		level = slog.LevelWarn
	}
	attrs := []any{"id", s.id, "event", kind.String(), "window", window}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	s.log.Log(context.Background(), level, "session robust connection", attrs...)
	if f := s.hooks.Retry; f != nil {
		f(s, wsman.RetryEvent{Kind: kind, Action: "Disconnect", Window: window, Err: err})
	}
}

// autoDisconnect handles a connection that could not be restored within
// the reconnect window (cause is the last failure; gen the connection it
// belongs to): AutoDisconnectStarting, a Disconnect sent to the server
// (bounded), then AutoDisconnectSucceeded and the session Disconnected
// with a *ConnectionLostError as its reason, or InternalErrorAbort and the
// session Broken when the server no longer has it.
func (s *Session) autoDisconnect(cause error, gen uint64) {
	s.mu.Lock()
	if s.autoDisconnecting {
		s.mu.Unlock()
		return // another loop is at it
	}
	s.mu.Unlock()
	if !s.opMu.TryLock() {
		// A Disconnect, Connect or Remove of the caller is in progress: it
		// changes the state itself; only mark the loss if it has not.
		s.lostConnection(cause, gen)
		return
	}
	defer s.opMu.Unlock()
	s.mu.Lock()
	if s.state != StateOpened || s.gen != gen || s.pool == nil || s.ctx.Err() != nil || s.autoDisconnecting {
		s.mu.Unlock()
		return
	}
	s.autoDisconnecting = true
	defer func() {
		s.mu.Lock()
		s.autoDisconnecting = false
		s.mu.Unlock()
	}()
	mode := s.wantBufferMode
	canDisconnect := s.pool.State() == psrp.RunspacePoolOpened
	s.mu.Unlock()
	window := s.conn.SessionOption.reconnectTimeout()
	s.robustEvent(wsman.AutoDisconnectStarting, window, cause)
	var derr error
	if canDisconnect {
		ctx, cancel := context.WithTimeout(s.ctx, min(max(window, time.Second), maxAutoDisconnectWait))
		derr = s.wc.Disconnect(ctx, s.ref, &wsman.Disconnect{BufferMode: mode.wsman()})
		cancel()
		if errors.Is(derr, wsman.ErrShellDisconnected) || errors.Is(derr, wsman.ErrInvalidState) {
			derr = nil // the server had already disconnected it
		}
	} else {
		derr = errors.New("the runspace pool cannot be disconnected (PSRP before 2.2)")
	}
	if classify(derr) == ErrExpired {
		s.robustEvent(wsman.InternalErrorAbort, window, derr)
		s.setBroken(s.errorf("receive", ErrExpired, errors.Join(cause, derr)))
		return
	}
	if s.ctx.Err() != nil {
		return // closing
	}
	s.mu.Lock()
	if s.state != StateOpened || s.gen != gen {
		s.mu.Unlock()
		return
	}
	if derr == nil && mode != BufferingNone {
		s.wantBufferMode = BufferingNone // the server has it now
	}
	if classify(derr) == ErrBusy {
		s.otherClient = true
	}
	s.mu.Unlock()
	lost := &ConnectionLostError{ComputerName: s.computer, Name: s.Name(), InstanceID: upper(s.instanceID),
		Token: s.Token(), OnServer: derr == nil, Window: window, Err: cause}
	if derr != nil {
		lost.Err = errors.Join(cause, fmt.Errorf("disconnect: %w", derr))
	}
	s.robustEvent(wsman.AutoDisconnectSucceeded, window, derr)
	s.mu.Lock()
	s.lost = lost
	s.mu.Unlock()
	s.lostConnection(lost, gen)
}

// lostErr is the error a result stream ends with when the session was
// disconnected: a *ConnectionLostError when the network took it.
func (s *Session) lostErr() error {
	s.mu.Lock()
	lost := s.lost
	s.mu.Unlock()
	if lost != nil {
		return s.errorf("receive", ErrDisconnected, lost)
	}
	return s.errorf("receive", ErrDisconnected, nil)
}

// connectRequest sends the WSMan Connect of a new client. A new client's
// Connect is its first request for the shell's ResourceURI, so the
// transport does not know yet whether the server keeps responses for
// retransmissions (MS-WSMV robust connections are per ResourceURI). The
// clients of sessions got from the server or from a token assume it does
// (wsman.RetryPolicy.AssumeSupported): a Connect lost to a network failure
// is retransmitted with its OperationID, and a server that kept the
// response answers with it, the connect response's messages received
// once. A server without the support runs the retransmission as a second
// Connect, which is refused (the shell is connected, ErrShellBusy); and
// without the assumption the lost Connect's failure is returned at once.
// Either way the lost Connect may have run, leaving the shell connected to
// this client and every later Connect refused; so it is undone with a
// Disconnect (idempotent) and sent again, within the reconnect window.
// The messages of the lost connect response are then lost: see the
// package documentation (a false gap report).
func (s *Session) connectRequest(ctx context.Context, payload []byte) (*wsman.ConnectResponse, error) {
	window := s.conn.SessionOption.reconnectTimeout()
	deadline := time.Now().Add(window)
	for {
		retries := s.connectRetries.Load()
		resp, err := s.wc.Connect(ctx, s.ref, payload, psrp.DefaultProtocolVersion)
		var ne *wsman.NetworkError
		lost := errors.As(err, &ne) && ne.MaybeSent && !ne.Retransmittable && ne.Attempts == 0
		ranTwice := errors.Is(err, wsman.ErrShellBusy) && s.connectRetries.Load() != retries
		if err == nil || !(lost || ranTwice) || window <= 0 || ctx.Err() != nil || time.Now().After(deadline) {
			return resp, err
		}
		s.log.Debug("connect lost; undoing it with a disconnect before sending it again", "id", s.id, "err", err)
		if !s.undo(ctx, deadline, func() error {
			derr := s.wc.Disconnect(ctx, s.ref, nil)
			if errors.Is(derr, wsman.ErrShellDisconnected) || errors.Is(derr, wsman.ErrInvalidState) {
				return nil // not connected: the lost Connect did not run, or is undone
			}
			return derr
		}) {
			return nil, err
		}
	}
}

// undo runs an idempotent request (a Delete or Disconnect undoing a lost
// Create or Connect) until it is answered, again every ReconnectInterval
// while it fails for a network reason (a new Client does not retry a
// request that did not reach a server it never heard from), until
// deadline. It reports whether it succeeded.
func (s *Session) undo(ctx context.Context, deadline time.Time, f func() error) bool {
	every := s.conn.SessionOption.ReconnectInterval
	if every <= 0 {
		every = DefaultReconnectInterval
	}
	for {
		err := f()
		if err == nil {
			return true
		}
		if !wsman.IsNetworkError(err) || time.Now().After(deadline) {
			return false
		}
		t := time.NewTimer(every)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

// createMayHaveRun reports whether New's failure may have left a shell on
// the server: its Create was lost to a network failure after it may have
// reached the server (the transport cannot retransmit a client's first
// request: it does not know yet whether the server supports it). The
// shell id is the client's choice (the pool id), so New deletes it
// (Delete is idempotent; the fault for a shell that was never created is
// ignored). If the network stays down the Delete fails too, and the shell
// stays until its IdleTimeout.
func createMayHaveRun(err error) bool {
	var ne *wsman.NetworkError
	return errors.As(err, &ne) && ne.MaybeSent && ne.Action == "Create"
}

// createRequest sends New's Create. Like a new client's Connect (see
// connectRequest), the Create is the client's first request: lost after
// it may have reached the server, the transport returns it at once. The
// shell id is the client's (the pool id), so the Create is undone with a
// Delete (idempotent: the transport retries it; a shell that was never
// created gives ErrShellNotFound, which is what was wanted) and sent
// again, within the reconnect window: the server never ends up with two
// shells, and the pool's creation messages (in the Create) reach a fresh
// shell once.
func (s *Session) createRequest(ctx context.Context, sh wsman.PowerShellShell) (*wsman.CreateResponse, error) {
	window := s.conn.SessionOption.reconnectTimeout()
	deadline := time.Now().Add(window)
	for {
		resp, err := s.wc.CreatePowerShell(ctx, sh)
		var ne *wsman.NetworkError
		if err == nil || !errors.As(err, &ne) || !ne.MaybeSent || ne.Retransmittable || ne.Attempts > 0 ||
			window <= 0 || ctx.Err() != nil || time.Now().After(deadline) {
			return resp, err
		}
		s.log.Debug("create lost; deleting the shell it may have made before sending it again", "id", s.id, "err", err)
		if !s.undo(ctx, deadline, func() error {
			if derr := s.wc.Delete(ctx, s.ref); derr != nil && !errors.Is(derr, wsman.ErrShellNotFound) {
				return derr
			}
			return nil
		}) {
			return nil, err
		}
	}
}

// disconnectedLocally ends a Disconnect whose request could not reach the
// server within the reconnect window (err, a network failure): the
// session is marked Disconnected here (the server, which no longer hears
// from this client, disconnects it by itself after its inactivity
// window), and the caller gets a *ConnectionLostError saying how to
// receive the rest. A later Connect from this client reconnects it (a
// Reconnect of a shell the server still counts as connected to this
// client is accepted: MS-WSMV leaves it to the server; the fake server
// accepts it, Windows was not observed).
func (s *Session) disconnectedLocally(err error) error {
	s.mu.Lock()
	_, _ = s.pool.DisconnectCompleted()
	s.markDisconnectedLocked()
	s.disconnectedOn = time.Now()
	s.mu.Unlock()
	lost := &ConnectionLostError{ComputerName: s.computer, Name: s.Name(), InstanceID: upper(s.instanceID),
		Token: s.Token(), Window: s.conn.SessionOption.reconnectTimeout(), Err: err}
	s.mu.Lock()
	s.lost = lost
	s.mu.Unlock()
	s.setState(StateDisconnected, lost)
	return s.errorf("disconnect", ErrDisconnected, lost)
}
