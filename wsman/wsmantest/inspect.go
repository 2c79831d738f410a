package wsmantest

import "strings"

// ShellState describes a shell for assertions in tests.
type ShellState struct {
	// ShellID is the shell's id (upper-case GUID).
	ShellID string
	// Kind is KindPowerShell or KindCmd.
	Kind Kind
	// Owner is the user who created the shell.
	Owner string
	// State is "Connected" or "Disconnected".
	State string
	// BufferMode is "Block" or "Drop".
	BufferMode string
	// SessionID is the client session holding (or last holding) the shell.
	SessionID string
	// Commands are the shell's commands, in creation order.
	Commands []CommandState
}

// CommandState describes one command of a shell.
type CommandState struct {
	// CommandID is the command's id (the PowerShell pipeline id for a
	// PowerShell shell).
	CommandID string
	// Running is true while the handler runs.
	Running bool
	// Buffered is the output waiting for a Receive, in bytes (PSRP
	// fragments, or cmd stdout/stderr).
	Buffered int
	// Dropped counts output discarded by BufferMode Drop (messages for
	// PowerShell, chunks for cmd).
	Dropped int
	// Blocked is true while a writer of the handler waits for room in the
	// full buffer (BufferMode Block).
	Blocked bool
}

// Shell returns the state of a shell, or false when it does not exist.
func (s *Server) Shell(shellID string) (ShellState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	sh := s.shells[strings.ToUpper(shellID)]
	if sh == nil {
		return ShellState{}, false
	}
	st := ShellState{ShellID: sh.id, Kind: sh.kind, Owner: sh.owner, State: sh.state, BufferMode: sh.bufferMode, SessionID: sh.sessionID}
	for _, c := range sh.commands {
		cs := CommandState{CommandID: c.id, Running: c.running, Blocked: c.blocked > 0}
		if sh.kind == KindPowerShell {
			cs.Buffered = psPending(c)
		} else {
			cs.Buffered = c.out.size
			cs.Dropped = c.out.dropped
		}
		cs.Dropped += c.dropped
		st.Commands = append(st.Commands, cs)
	}
	return st, true
}

// Shells returns the ids of every shell, in creation order.
func (s *Server) Shells() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	var ids []string
	for _, sh := range s.sortedShellsLocked() {
		ids = append(ids, sh.id)
	}
	return ids
}
