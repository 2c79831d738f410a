package wsmantest

import (
	"strings"

	"github.com/psremoting/psremoting/wsman"
)

// This file holds the steps every shell action shares: parse the body,
// take the server lock, find the caller's shell, check its connection.
// Each handler in actions.go states only what is particular to it.

// faulted is a response that carries only f.
func faulted(f *Fault) *response { return &response{fault: f} }

// reply is a successful response with the given body elements (none: an
// empty body).
func reply(body ...*wsman.Element) *response { return &response{body: body} }

// shellAccess says what a request needs of the shell it names.
type shellAccess int

const (
	// ownShell: the shell exists and belongs to the caller; its activity
	// time is refreshed. The handler checks the connection state itself.
	ownShell shellAccess = iota
	// peekShell is ownShell without refreshing the activity time (Get
	// and Enumerate are not shell activity).
	peekShell
	// connectedShell is ownShell, and the shell must be connected to the
	// requesting client session (requireConnectedLocked).
	connectedShell
)

func sameSession(a, b string) bool { return strings.EqualFold(trimUUID(a), trimUUID(b)) }

// shellLocked finds the request's shell and checks it as access says. The
// first check that fails gives the fault: FaultShellNotFound,
// FaultAccessDenied, then those of requireConnectedLocked.
func (s *Server) shellLocked(req *request, access shellAccess) (*shell, *Fault) {
	s.sweepLocked()
	id := strings.ToUpper(strings.TrimSpace(req.hdr.ShellID()))
	sh := s.shells[id]
	if sh == nil {
		return nil, FaultShellNotFound()
	}
	if !strings.EqualFold(sh.owner, req.user) {
		return nil, FaultAccessDenied()
	}
	if access != peekShell {
		sh.lastActive = s.now()
	}
	if access == connectedShell {
		if f := requireConnectedLocked(sh, req); f != nil {
			return nil, f
		}
	}
	return sh, nil
}

// requireConnectedLocked checks that the shell is connected to the
// requesting client session: FaultShellDisconnected if it is disconnected,
// FaultShellBusy if another client session holds it.
func requireConnectedLocked(sh *shell, req *request) *Fault {
	if sh.state == stateDisconnected {
		return FaultShellDisconnected()
	}
	if req.hdr.SessionID != "" && sh.sessionID != "" && !sameSession(req.hdr.SessionID, sh.sessionID) {
		return FaultShellBusy(sh.id)
	}
	return nil
}

// requireCommandLocked checks a request about one command of the shell:
// the command must exist (FaultCommandNotFound) and the shell be connected
// to the requesting client session.
func requireCommandLocked(sh *shell, req *request, id string) *Fault {
	if sh.command(id) == nil {
		return FaultCommandNotFound()
	}
	return requireConnectedLocked(sh, req)
}

// withShell runs fn with the server lock held on the request's shell,
// checked as access says; a failed check is answered with its fault.
func (s *Server) withShell(req *request, access shellAccess, fn func(sh *shell) *response) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, f := s.shellLocked(req, access)
	if f != nil {
		return faulted(f)
	}
	return fn(sh)
}

// parseBody parses the request's SOAP body with parse. A body it rejects
// gives FaultSchemaValidation with the text invalid.
func parseBody[T any](req *request, parse func(*wsman.Element) (T, error), invalid string) (T, *Fault) {
	v, err := parse(req.env.BodyElement())
	if err != nil {
		return v, FaultSchemaValidation(invalid)
	}
	return v, nil
}

// shellAction is the whole preamble of a request about one shell: parse
// the body (invalid is the schema fault's text), then withShell. fn gets
// the shell and the parsed body.
func shellAction[T any](s *Server, req *request, access shellAccess,
	parse func(*wsman.Element) (T, error), invalid string,
	fn func(sh *shell, body T) *response) *response {
	body, f := parseBody(req, parse, invalid)
	if f != nil {
		return faulted(f)
	}
	return s.withShell(req, access, func(sh *shell) *response { return fn(sh, body) })
}
