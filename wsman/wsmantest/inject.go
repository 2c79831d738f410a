package wsmantest

import (
	"net"
	"strings"
	"time"
)

// Injection is a fault to inject into matching requests (Server.Inject).
// The filters (Action, ShellID, CommandID, SessionID) are ANDed; an empty
// filter matches everything. The effects apply in this order: Delay, then
// DropBefore, HTTPStatus or Fault (answer without handling), or else the
// request is handled and DropAfter drops the connection instead of sending
// the response (the state change is kept, the response is lost).
type Injection struct {
	// Action is the short action name: Create, Command, Send, Receive,
	// Signal, Delete, Get, Enumerate, Pull, Disconnect, Reconnect, Connect.
	Action string
	// ShellID, CommandID and SessionID restrict the injection to requests
	// about that shell, command or client session (compared
	// case-insensitively; SessionID with or without "uuid:").
	ShellID, CommandID, SessionID string
	// Times is how many matching requests are affected (0: every one until
	// the returned remove function is called).
	Times int

	// Delay holds the request this long (on the server's clock) before
	// anything else.
	Delay time.Duration
	// DropBefore closes the TCP connection without handling the request.
	DropBefore bool
	// DropAfter handles the request, then closes the connection without
	// sending the response.
	DropAfter bool
	// HTTPStatus answers with this status and an empty body, without
	// handling the request (for example 400, as Windows does for requests
	// on an auto-disconnected shell, or 503).
	HTTPStatus int
	// Fault answers with this fault without handling the request.
	Fault *Fault
}

type injectionRule struct {
	Injection
	used int
}

func (r *injectionRule) matches(rec *RequestRecord) bool {
	if r.Times > 0 && r.used >= r.Times {
		return false
	}
	if r.Action != "" && !strings.EqualFold(r.Action, rec.Action) {
		return false
	}
	if r.ShellID != "" && !strings.EqualFold(r.ShellID, rec.ShellID) {
		return false
	}
	if r.CommandID != "" && !strings.EqualFold(r.CommandID, rec.CommandID) {
		return false
	}
	if r.SessionID != "" && !strings.EqualFold(trimUUID(r.SessionID), trimUUID(rec.SessionID)) {
		return false
	}
	return true
}

func trimUUID(s string) string {
	if len(s) >= 5 && strings.EqualFold(s[:5], "uuid:") {
		return s[5:]
	}
	return s
}

// Inject adds a fault injection rule and returns a function that removes
// it. Rules are checked in the order they were added; the first match
// applies.
func (s *Server) Inject(in Injection) (remove func()) {
	r := &injectionRule{Injection: in}
	s.mu.Lock()
	s.rules = append(s.rules, r)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.rules {
			if x == r {
				s.rules = append(s.rules[:i], s.rules[i+1:]...)
				return
			}
		}
	}
}

// ClearInjections removes every injection rule.
func (s *Server) ClearInjections() {
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
}

// matchInjection returns a copy of the first rule matching rec and counts
// its use, or nil.
func (s *Server) matchInjection(rec *RequestRecord) *Injection {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.matches(rec) {
			r.used++
			in := r.Injection
			return &in
		}
	}
	return nil
}

// DropConnections closes every open client connection abruptly, as a
// network failure would; requests in progress are abandoned (their state
// changes are kept). It returns the number of connections closed.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
		if cancel := s.connCancels[c]; cancel != nil {
			// Requests in progress on c see their context end now: a
			// long-poll Receive takes no output it could not deliver.
			cancel()
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		resetConn(c)
	}
	return len(conns)
}

// RefuseConnections makes the server reset every new connection for d on
// the server's clock (the listener stays open; clients see the connection
// reset).
func (s *Server) RefuseConnections(d time.Duration) {
	s.mu.Lock()
	s.refuseUntil = s.clock.Now().Add(d)
	s.mu.Unlock()
}

// Outage simulates a network outage of length d: every open connection is
// dropped and new connections are refused until d has passed on the
// server's clock. Server state (shells, commands, buffered output) is kept.
func (s *Server) Outage(d time.Duration) {
	s.RefuseConnections(d)
	s.DropConnections()
}

func (s *Server) refusing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.refuseUntil.IsZero() && s.clock.Now().Before(s.refuseUntil)
}
