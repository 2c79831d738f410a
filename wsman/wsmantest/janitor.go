package wsmantest

import "time"

// sweepLocked applies the time-based rules to every shell: a connected
// shell with no outstanding Receive and no request for InactivityWindow
// turns Disconnected (as Windows does for clients that vanished), and a
// disconnected shell whose IdleTimeOut has passed is deleted with its
// commands.
func (s *Server) sweepLocked() {
	now := s.now()
	for _, sh := range s.shells {
		if sh.state == stateConnected && sh.receivers == 0 && s.opts.InactivityWindow > 0 {
			if at := sh.lastActive.Add(s.opts.InactivityWindow); !now.Before(at) {
				sh.state = stateDisconnected
				sh.disconnectedAt = at
				sh.broadcast()
			}
		}
		if exp, ok := sh.expiry(); ok && !now.Before(exp) {
			s.logger.Debug("wsmantest: shell idle timeout expired", "shell", sh.id)
			s.removeShellLocked(sh)
		}
	}
}

// nextDeadlineLocked returns the earliest time a sweep will change
// something, or the zero time.
func (s *Server) nextDeadlineLocked() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, sh := range s.shells {
		if sh.state == stateConnected && sh.receivers == 0 && s.opts.InactivityWindow > 0 {
			consider(sh.lastActive.Add(s.opts.InactivityWindow))
		}
		if exp, ok := sh.expiry(); ok {
			consider(exp)
		}
	}
	return next
}

// janitor sweeps shells whenever the next deadline passes. Requests also
// sweep synchronously, so tests with a ManualClock see the effect of
// Advance on their next request without waiting for this goroutine.
func (s *Server) janitor() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		s.sweepLocked()
		next := s.nextDeadlineLocked()
		now := s.now()
		s.mu.Unlock()
		var t Timer
		var tc <-chan time.Time
		if !next.IsZero() {
			t = s.clock.NewTimer(next.Sub(now))
			tc = t.C()
		}
		select {
		case <-tc:
		case <-s.wake:
		case <-s.ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		}
		if t != nil {
			t.Stop()
		}
	}
}
