package wsmantest

import (
	"strings"

	"github.com/psremoting/psremoting/wsman"
)

// receive is the Receive long poll: it answers as soon as output is
// available (or the command finished), and with the w:TimedOut fault after
// the OperationTimeout.
func (s *Server) receive(req *request) *response {
	rv, f := parseBody(req, wsman.ParseReceive, "The Receive request has no valid rsp:Receive.")
	if f != nil {
		return faulted(f)
	}
	maxBytes := s.maxPayload(req.hdr)
	timeout := s.operationTimeout(req.hdr)

	// The lock is released by hand: the long poll below waits without it.
	s.mu.Lock()
	sh, f := s.shellLocked(req, connectedShell)
	if f != nil {
		s.mu.Unlock()
		return faulted(f)
	}
	var c *command
	if rv.CommandID != "" {
		if c = sh.command(rv.CommandID); c == nil {
			s.mu.Unlock()
			return faulted(FaultCommandNotFound())
		}
	} else if sh.kind == KindCmd {
		s.mu.Unlock()
		return faulted(FaultInvalidParameter())
	}
	sh.receivers++
	defer func() {
		s.mu.Lock()
		sh.receivers--
		sh.lastActive = s.now()
		s.mu.Unlock()
		s.poke()
	}()

	var timer Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Still there, still ours?
		if s.shells[sh.id] != sh {
			s.mu.Unlock()
			return faulted(FaultShellNotFound())
		}
		if c != nil && sh.command(c.id) != c {
			s.mu.Unlock()
			return faulted(FaultCommandNotFound())
		}
		if f := requireConnectedLocked(sh, req); f != nil {
			s.mu.Unlock()
			return faulted(f)
		}
		if req.ctx.Err() != nil {
			// The connection was dropped or the server closes: take no
			// output that could not be delivered.
			s.mu.Unlock()
			return &response{noResponse: true}
		}
		if body := s.takeOutputLocked(sh, c, maxBytes); body != nil {
			sh.lastActive = s.now()
			sh.broadcast() // writers blocked on a full buffer may continue
			s.mu.Unlock()
			return reply(body.Element())
		}
		ch := sh.changed
		s.mu.Unlock()
		if timer == nil {
			timer = s.clock.NewTimer(timeout)
		}
		select {
		case <-ch:
		case <-timer.C():
			return faulted(FaultTimedOut())
		case <-req.ctx.Done():
			return &response{noResponse: true}
		}
		s.mu.Lock()
	}
}

// takeOutputLocked removes up to maxBytes of output for the shell (c nil)
// or a command and builds the ReceiveResponse, or returns nil when there
// is nothing to send yet.
func (s *Server) takeOutputLocked(sh *shell, c *command, maxBytes int) *wsman.ReceiveResponse {
	rr := &wsman.ReceiveResponse{}
	if sh.kind == KindPowerShell {
		rr.Streams = s.psTakeLocked(sh, c, maxBytes)
		if c == nil {
			if len(rr.Streams) == 0 {
				return nil
			}
			return rr
		}
		switch {
		case c.finished && psDrained(c):
			rr.CommandState = &wsman.CommandState{CommandID: c.id, State: wsman.CommandStateDone, HasExitCode: true}
			c.doneDelivered = true
		case c.pending && len(rr.Streams) > 0:
			rr.CommandState = &wsman.CommandState{CommandID: c.id, State: wsman.CommandStatePending}
		}
		if len(rr.Streams) == 0 && rr.CommandState == nil {
			return nil
		}
		return rr
	}
	// cmd shell: stdout/stderr chunks of the command.
	if c.out.empty() && !c.finished {
		return nil
	}
	for _, ch := range c.out.take(maxBytes) {
		rr.Streams = append(rr.Streams, wsman.Stream{Name: ch.stream, CommandID: c.id, Data: ch.data})
	}
	if c.finished && c.out.empty() {
		for _, name := range strings.Fields(sh.outputStreams) {
			rr.Streams = append(rr.Streams, wsman.Stream{Name: name, CommandID: c.id, End: true})
		}
		rr.CommandState = &wsman.CommandState{CommandID: c.id, State: wsman.CommandStateDone,
			ExitCode: int64(c.exitCode), HasExitCode: true}
		c.doneDelivered = true
	} else {
		rr.CommandState = &wsman.CommandState{CommandID: c.id, State: wsman.CommandStateRunning}
	}
	return rr
}
