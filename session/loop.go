package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
)

// This file is the one loop joining psrp and wsman. The rules:
//   - the psrp.ClientPool is touched only under s.mu (it is not safe for
//     concurrent use); no network call is made while s.mu is held;
//   - Sends are serialized by s.sendMu, so the fragments of one target
//     leave in order;
//   - the pool and each consumed command have at most one long-poll
//     Receive outstanding, and all of them together at most cap(s.polls)
//     (below the auth connection pool's size);
//   - a command's results are delivered by its pump goroutine, which
//     blocks while the consumer lags: it then issues no Receive, so the
//     server buffers (Block mode suspends the command);
//   - every goroutine is counted in s.wg and ends when s.ctx ends or the
//     session leaves the Opened state; Close waits for them.

// flush sends what the pool queued for target t (stdin, or pr for a host
// response), as one or more Sends.
func (s *Session) flush(ctx context.Context, t psrp.Target, commandID string) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	name := wsman.StreamStdin
	if t.Stream == psrp.StreamPromptResponse {
		name = wsman.StreamPR
	}
	for {
		s.mu.Lock()
		if s.pool == nil || s.pool.Pending(t) == 0 {
			s.mu.Unlock()
			return nil
		}
		b, err := s.pool.NextPayload(t, s.wc.MaxPayloadSize())
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if err := s.wc.Send(ctx, s.ref, wsman.Stream{Name: name, CommandID: commandID, Data: b}); err != nil {
			return err
		}
	}
}

// signal sends a WSMan Signal to a command.
func (s *Session) signal(ctx context.Context, id uuid.UUID, code string) error {
	return s.wc.Signal(ctx, s.ref, upper(id), code)
}

// acquire takes a long-poll slot.
func (s *Session) acquire() bool {
	select {
	case s.polls <- struct{}{}:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *Session) release() { <-s.polls }

// contendedPollTimeout is the OperationTimeout of long polls while more
// loops want to poll than there are slots: a poll that has nothing to say
// gives its slot up soon, so that a command with output waiting is not held
// up for a whole OperationTimeout.
const contendedPollTimeout = time.Second

// pollTimeout returns the OperationTimeout for the next long poll: the
// client's default (0), or contendedPollTimeout under contention.
func (s *Session) pollTimeout() time.Duration {
	if int(s.pollers.Load()) > cap(s.polls) {
		return contendedPollTimeout
	}
	return 0
}

// startPoolLoop starts the pool's long poll (PSRP pool messages, and the
// keep-alive: while it is outstanding the server does not turn an idle
// session Disconnected).
func (s *Session) startPoolLoop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.poolLoop || s.state != StateOpened {
		return
	}
	s.poolLoop = true
	s.wg.Add(1)
	go s.runPoolLoop()
}

func (s *Session) runPoolLoop() {
	defer s.wg.Done()
	s.pollers.Add(1)
	defer s.pollers.Add(-1)
	var r retrier
	for {
		s.mu.Lock()
		if s.state != StateOpened || s.ctx.Err() != nil {
			s.poolLoop = false
			s.mu.Unlock()
			return
		}
		gen := s.gen
		s.mu.Unlock()
		if !s.acquire() {
			continue
		}
		rr, err := s.wc.Receive(s.ctx, s.ref, &wsman.Receive{OperationTimeout: s.pollTimeout()})
		if err != nil || rr.TimedOut {
			s.release()
			if err != nil {
				if !s.retry(&r, err, gen) {
					s.receiveFailed(err, nil, gen)
				}
			} else {
				r.ok()
				s.log.Debug("keep-alive: pool receive timed out, polling again", "id", s.id)
				if f := s.hooks.KeepAlive; f != nil {
					f(s)
				}
			}
			continue
		}
		r.ok()
		s.mu.Lock()
		var ev []psrp.Event
		if s.pool != nil {
			ev, err = s.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, ""))
		}
		s.mu.Unlock()
		s.release()
		s.handlePoolEvents(s.ctx, ev)
		var gap *psrp.GapError
		switch {
		case errors.As(err, &gap):
			// Lost pool messages, or a gap the pool's stream revealed in a
			// pipeline's: report it with that command's results.
			if c := s.command(gap.Pipeline); c != nil {
				s.noteLoss(c, err)
			} else {
				s.log.Debug("pool messages lost in transit", "id", s.id, "err", err)
			}
		case err != nil:
			s.setBroken(err)
		}
	}
}

// retrier tracks a loop's run of transport failures.
type retrier struct{ since time.Time }

func (r *retrier) ok() { r.since = time.Time{} }

// retry decides what to do after a failed long poll: for a transport
// failure (no WSMan fault: a dropped connection, a refused dial, an HTTP
// error without a fault) it waits ReconnectInterval and reports true, so
// the loop polls again, for at most ReconnectTimeout, as PowerShell retries
// a broken connection for four minutes. (The transport itself retransmits
// a lost request with the same OperationID where the server supports
// robust connections, see wsman.RetryPolicy; a failure it returns after
// its own window ends the wait at once.) After that, the session is marked
// Disconnected here (the server keeps it; Connect or Receive later
// reconnect), and retry reports true too. Faults and authentication
// failures report false: the caller handles them.
func (s *Session) retry(r *retrier, err error, gen uint64) bool {
	var f *wsman.Fault
	if s.ctx.Err() != nil || errors.As(err, &f) || errors.Is(err, wsman.ErrUnauthorized) {
		return false
	}
	so := s.conn.SessionOption
	limit := so.ReconnectTimeout
	if limit == 0 {
		limit = DefaultReconnectTimeout
	}
	if limit < 0 {
		return false
	}
	every := so.ReconnectInterval
	if every <= 0 {
		every = DefaultReconnectInterval
	}
	if r.since.IsZero() {
		r.since = time.Now()
	}
	var ne *wsman.NetworkError
	spent := errors.As(err, &ne) && ne.Attempts > 0 // the transport retransmitted for its whole window
	if spent || time.Since(r.since) > limit {
		s.log.Debug("connection lost for good; the session is disconnected from this client", "id", s.id, "err", err)
		s.autoDisconnect(err, gen)
		r.ok()
		return true
	}
	s.log.Debug("connection failed; retrying", "id", s.id, "err", err)
	t := time.NewTimer(every)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
	return true
}

// lostConnection marks an Opened session Disconnected after its connection
// could not be restored. gen is the connection the failure belongs to: a
// failure of an earlier connection (before a Disconnect and a new Connect)
// changes nothing.
func (s *Session) lostConnection(err error, gen uint64) {
	s.mu.Lock()
	if s.state != StateOpened || s.gen != gen {
		s.mu.Unlock()
		return
	}
	if s.pool != nil && s.pool.State() == psrp.RunspacePoolOpened {
		_, _ = s.pool.BeginDisconnect()
		_, _ = s.pool.DisconnectCompleted()
	}
	s.markDisconnectedLocked()
	s.mu.Unlock()
	s.setState(StateDisconnected, err)
}

// noteLoss records lost messages against the command they belong to (the
// gap's pipeline when it names one of this session's commands, else c).
func (s *Session) noteLoss(c *RunningCommand, err error) {
	var gap *psrp.GapError
	if errors.As(err, &gap) && gap.Pipeline != uuid.Nil && gap.Pipeline != c.id {
		if other := s.command(gap.Pipeline); other != nil {
			c = other
		}
	}
	s.log.Debug("messages lost in transit", "id", s.id, "command", upper(c.id), "err", err)
	s.mu.Lock()
	c.loss = errors.Join(c.loss, err)
	s.mu.Unlock()
}

// markDisconnectedLocked records that the unfinished commands run
// disconnected from now on.
func (s *Session) markDisconnectedLocked() {
	for _, c := range s.cmds {
		if !c.finished {
			c.disconnected = true
			if c.pl != nil {
				c.state = c.pl.State()
			}
		}
	}
}

// receiveFailed handles a failed Receive of the pool (c nil) or of a
// command while the session is Opened.
func (s *Session) receiveFailed(err error, c *RunningCommand, gen uint64) {
	if s.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	st, now, auto := s.state, s.gen, s.autoDisconnecting
	s.mu.Unlock()
	if st != StateOpened || now != gen {
		return // disconnecting, closing, or a failure of an earlier connection: the loops see the new state
	}
	if auto && classify(err) != nil {
		// The answer to autoDisconnect's Disconnect (or its fault): it
		// sets the state; poll again after a pause.
		t := time.NewTimer(s.conn.SessionOption.ReconnectInterval + time.Millisecond)
		select {
		case <-t.C:
		case <-s.ctx.Done():
		}
		t.Stop()
		return
	}
	switch classify(err) {
	case ErrDisconnected, ErrBusy:
		// The server turned the session Disconnected (or another client
		// took it): it is no longer connected to this client.
		s.log.Debug("session disconnected by the server", "id", s.id, "err", err)
		s.lostConnection(err, gen)
		return
	case ErrExpired:
		if c == nil {
			s.setBroken(s.errorf("receive", ErrExpired, err))
			return
		}
	}
	if c != nil {
		c.finish(s.errorf("receive", classify(err), err), false)
		return
	}
	s.setBroken(err)
}

// handlePoolEvents applies pool-level events: state changes, host calls,
// and the pipeline ends a broken or closed pool causes.
func (s *Session) handlePoolEvents(ctx context.Context, ev []psrp.Event) {
	for _, e := range ev {
		switch e := e.(type) {
		case psrp.RunspacePoolStateChanged:
			switch e.New {
			case psrp.RunspacePoolBroken:
				s.setState(StateBroken, fmt.Errorf("%w: %v", ErrBroken, e.Reason))
			case psrp.RunspacePoolClosed:
				s.setState(StateClosed, ErrClosed)
			}
		case psrp.PipelineStateChanged:
			if e.New.Terminal() {
				if c := s.command(e.Pipeline); c != nil {
					s.mu.Lock()
					c.state = e.New
					s.mu.Unlock()
					c.finish(ErrBroken, false)
				}
			}
		case psrp.HostCallReceived:
			s.answerHostCall(ctx, nil, e)
		}
	}
}

// command returns the command with the given id.
func (s *Session) command(id uuid.UUID) *RunningCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cmds {
		if c.id == id {
			return c
		}
	}
	return nil
}

// attach gives a command a consumer and starts its pump if the session is
// connected. It fails if the command already has a consumer.
func (s *Session) attach(c *RunningCommand, k sink) error {
	s.mu.Lock()
	if c.finished {
		s.mu.Unlock()
		return fmt.Errorf("session: command %s has finished", upper(c.id))
	}
	if c.sink != nil {
		s.mu.Unlock()
		return fmt.Errorf("session: command %s already delivers its results to another consumer", upper(c.id))
	}
	c.sink = k
	s.startPumpLocked(c)
	s.mu.Unlock()
	if ss, ok := k.(streamSink); ok {
		ss.st.onClose(func() { s.detach(c, k) })
	}
	return nil
}

// detach removes consumer k from c (its Stream was closed): results
// received from now on wait in c.pending for the next consumer.
func (s *Session) detach(c *RunningCommand, k sink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sink == k {
		c.sink = nil
	}
}

func (s *Session) startPumpLocked(c *RunningCommand) {
	if c.pumping || c.finished || c.sink == nil || s.state != StateOpened {
		return
	}
	c.pumping = true
	done := make(chan struct{})
	c.pumpDone = done
	s.wg.Add(1)
	go func() {
		defer close(done)
		s.pump(c)
	}()
}

// awaitPumps waits (bounded by ctx) until the pumps running now have
// ended. Disconnect calls it once the session has left the Opened state
// and no long poll is outstanding: each pump then delivers what it has
// received to its consumer (a job takes it at once; a Stream's reader must
// read) and ends, a job turning Disconnected, or Completed/Failed if the
// command's final state arrived. When ctx ends first, the pumps still
// deliver, later.
func (s *Session) awaitPumps(ctx context.Context) {
	s.mu.Lock()
	var waits []chan struct{}
	for _, c := range s.cmds {
		if c.pumpDone != nil {
			waits = append(waits, c.pumpDone)
		}
	}
	s.mu.Unlock()
	if len(waits) > 0 && testHookAwaitPumps != nil {
		testHookAwaitPumps(s)
	}
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			s.log.Debug("disconnect: results received before it are still being delivered", "id", s.id)
			return
		}
	}
}

// Test hooks (nil outside tests): testHookBeforeDeliver runs in a pump
// between applying a Receive's data and delivering its results;
// testHookAwaitPumps when Disconnect starts waiting for the pumps.
var (
	testHookBeforeDeliver func(c *RunningCommand)
	testHookAwaitPumps    func(s *Session)
)

// pump receives one command's results and delivers them to its consumer.
// Results received but not delivered (the consumer went away) are kept in
// c.pending for the next consumer: nothing taken from the server is lost.
func (s *Session) pump(c *RunningCommand) {
	defer s.wg.Done()
	s.pollers.Add(1)
	defer s.pollers.Add(-1)
	s.mu.Lock()
	first := c.sink
	s.mu.Unlock()
	if first != nil {
		first.resumed()
	}
	cid := upper(c.id)
	limit := s.conn.SessionOption.MaximumReceivedDataSizePerCommand
	var r retrier
	for {
		// Deliver what an earlier consumer left, then end if the server
		// already said Done.
		s.mu.Lock()
		sk := c.sink
		var pending []Result
		if sk != nil {
			pending, c.pending = c.pending, nil
		}
		s.mu.Unlock()
		if len(pending) > 0 && !s.deliver(c, sk, pending) {
			continue
		}
		s.mu.Lock()
		if c.finished || c.sink == nil {
			c.pumping = false
			s.mu.Unlock()
			return
		}
		if c.serverDone && len(c.pending) == 0 {
			s.mu.Unlock()
			c.finish(c.doneErr, c.doneErr == nil)
			return
		}
		if s.state != StateOpened || s.ctx.Err() != nil {
			c.pumping = false
			sk := c.sink
			st := s.state
			s.mu.Unlock()
			switch st {
			case StateDisconnecting, StateDisconnected, StateConnecting:
				if !sk.disconnected(s.lostErr()) {
					s.mu.Lock()
					if c.sink == sk {
						c.sink = nil
					}
					s.mu.Unlock()
				}
			default:
				c.finish(s.closedErr(), false)
			}
			return
		}
		gen := s.gen
		s.mu.Unlock()
		if !s.acquire() {
			continue
		}
		rr, err := s.wc.Receive(s.ctx, s.ref, &wsman.Receive{CommandID: cid, OperationTimeout: s.pollTimeout()})
		if err != nil || rr.TimedOut {
			s.release()
			if err != nil && !s.retry(&r, err, gen) {
				s.receiveFailed(err, c, gen)
			}
			if err == nil {
				r.ok()
			}
			continue
		}
		r.ok()
		data := rr.StreamData(wsman.StreamStdout, cid)
		s.mu.Lock()
		c.received += int64(len(data))
		over := limit > 0 && c.received > limit
		var ev []psrp.Event
		if s.pool != nil && !over {
			ev, err = s.pool.ReceiveData(data)
		}
		if c.pl != nil {
			c.state = c.pl.State()
		}
		s.mu.Unlock()
		s.release() // only now: Disconnect waits for data received before it to be applied
		if over {
			_ = s.signal(s.ctx, c.id, wsman.SignalPowerShellStop)
			_ = s.signal(s.ctx, c.id, wsman.SignalTerminate)
			c.finish(&LimitError{Limit: "MaximumReceivedDataSizePerCommand", Max: limit}, false)
			return
		}
		if errors.Is(err, psrp.ErrObjectIDGap) {
			// Messages were lost in transit (a Receive response the
			// transport could not retransmit): the rest of the payload was
			// applied; the loss is reported when the results end.
			s.noteLoss(c, err)
			err = nil
		}
		rs, derr := s.results(c, ev)
		if err == nil {
			err = derr
		}
		if errors.Is(err, psrp.ErrMessageTooLarge) || errors.Is(err, psrp.ErrTooMuchBuffered) {
			err = &LimitError{Limit: "MaximumReceivedObjectSize", Max: int64(s.maxObject()), Err: err}
		}
		if err != nil || rr.CommandState.Done() {
			s.mu.Lock()
			if err == nil && s.pool != nil {
				// The stream ended: were its last messages lost?
				if gap := s.pool.StreamEnded(c.id); gap != nil {
					c.loss = errors.Join(c.loss, gap)
				}
			}
			if c.pl != nil && !c.pl.State().Terminal() {
				c.pl.Abandon(err)
			}
			if err == nil {
				err = c.loss
			}
			c.serverDone, c.doneErr = true, err
			s.mu.Unlock()
			// Free the command on the server, as PowerShell does.
			_ = s.signal(s.ctx, c.id, wsman.SignalTerminate)
		}
		if testHookBeforeDeliver != nil {
			testHookBeforeDeliver(c)
		}
		s.mu.Lock()
		sk = c.sink
		s.mu.Unlock()
		if sk == nil {
			s.mu.Lock()
			c.pending = append(c.pending, rs...)
			s.mu.Unlock()
			continue
		}
		s.deliver(c, sk, rs)
	}
}

func (s *Session) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateBroken {
		return errors.Join(ErrBroken, s.reason)
	}
	return ErrClosed
}

// deliver gives results to the consumer k. When k goes away, the rest is
// kept in c.pending, k is detached, and deliver returns false.
func (s *Session) deliver(c *RunningCommand, k sink, rs []Result) bool {
	for i, r := range rs {
		if !k.emit(s.ctx, r) {
			s.mu.Lock()
			c.pending = append(rs[i:len(rs):len(rs)], c.pending...)
			if c.sink == k {
				c.sink = nil
			}
			s.mu.Unlock()
			return false
		}
	}
	return true
}

// results turns a command's events into Results, answering host calls.
// An undecodable record ends the command's results with its error.
func (s *Session) results(c *RunningCommand, ev []psrp.Event) ([]Result, error) {
	if len(ev) == 0 {
		return nil, nil
	}
	out := make([]Result, 0, len(ev))
	name := s.Name()
	for _, e := range ev {
		r, ok, err := s.toResult(e, name)
		if err != nil {
			return out, fmt.Errorf("session: command %s: undecodable %s: %w", upper(c.id), eventName(e), err)
		}
		if he, isHost := e.(psrp.HostCallReceived); isHost {
			s.answerHostCall(s.ctx, c, he)
		}
		if pe, isState := e.(psrp.PipelineStateChanged); isState && pe.New.Terminal() {
			s.mu.Lock()
			c.state = pe.New
			s.mu.Unlock()
		}
		if ok {
			r.CommandID = c.id
			if r.Kind == KindState {
				s.mu.Lock()
				r.OutputMayBeDropped = c.disconnected && s.bufferMode == BufferingDrop
				s.mu.Unlock()
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func eventName(e psrp.Event) string {
	switch e := e.(type) {
	case psrp.PipelineOutputReceived:
		return "output"
	case psrp.ErrorRecordReceived:
		return "error record"
	case psrp.InformationalRecordReceived:
		return e.Message.Type.String()
	case psrp.HostCallReceived:
		return "host call"
	}
	return fmt.Sprintf("%T", e)
}

// toResult converts one event; ok false for events that are not results.
func (s *Session) toResult(e psrp.Event, name string) (r Result, ok bool, err error) {
	r = Result{ComputerName: s.computer, SessionName: name, SessionInstanceID: s.instanceID}
	switch e := e.(type) {
	case psrp.PipelineOutputReceived:
		v, err := clixml.Unmarshal(e.Message.Data)
		if err != nil {
			return r, false, err
		}
		r.Kind, r.Output = KindOutput, v
	case psrp.ErrorRecordReceived:
		v, err := clixml.Unmarshal(e.Message.Data)
		if err != nil {
			return r, false, err
		}
		rec, err := psrp.DecodeErrorRecord(v)
		if err != nil {
			return r, false, err
		}
		r.Kind, r.Error = KindError, rec
	case psrp.InformationalRecordReceived:
		v, err := clixml.Unmarshal(e.Message.Data)
		if err != nil {
			return r, false, err
		}
		switch e.Message.Type {
		case psrp.MessageProgressRecord:
			p, err := psrp.DecodeProgressRecord(v)
			if err != nil {
				return r, false, err
			}
			r.Kind, r.Progress = KindProgress, p
		case psrp.MessageInformationRecord:
			p, err := psrp.DecodeInformationRecord(v)
			if err != nil {
				return r, false, err
			}
			r.Kind, r.Information = KindInformation, p
		default:
			p, err := psrp.DecodeInformationalRecord(v)
			if err != nil {
				return r, false, err
			}
			r.Record = p
			switch e.Message.Type {
			case psrp.MessageWarningRecord:
				r.Kind = KindWarning
			case psrp.MessageVerboseRecord:
				r.Kind = KindVerbose
			default:
				r.Kind = KindDebug
			}
		}
	case psrp.PipelineStateChanged:
		if !e.New.Terminal() {
			return r, false, nil
		}
		r.Kind, r.State = KindState, e.New
		if e.Info != nil {
			r.StateReason = e.Info.Error
		}
	case psrp.HostCallReceived:
		v, err := clixml.Unmarshal(e.Message.Data)
		if err != nil {
			return r, false, err
		}
		hc, err := psrp.DecodeHostCall(v)
		if err != nil {
			return r, false, err
		}
		r.Kind, r.HostCall = KindHostCall, hc
	default:
		return r, false, nil
	}
	return r, true, nil
}
