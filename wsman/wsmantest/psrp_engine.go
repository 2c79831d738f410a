package wsmantest

import (
	"github.com/psremoting/psremoting/wsman"
)

// psShell is the PSRP state of a PowerShell shell (runspace pool).
type psShell struct{}

// psCommand is the PSRP state of a pipeline.
type psCommand struct{}

func (s *Server) psCreateLocked(sh *shell, req *request, creationXML []byte) *Fault {
	return FaultActionNotSupported("PowerShell shells are not implemented yet")
}

func (s *Server) psCommandLocked(sh *shell, c *command, cl *wsman.CommandLine) *Fault {
	return FaultActionNotSupported("PowerShell pipelines are not implemented yet")
}

func (s *Server) psSendLocked(sh *shell, c *command, st wsman.Stream) *Fault {
	return FaultActionNotSupported("PowerShell input is not implemented yet")
}

func (s *Server) psConnectLocked(sh *shell, req *request, connectXML []byte) ([]byte, *Fault) {
	return nil, FaultActionNotSupported("PowerShell connect is not implemented yet")
}

func (s *Server) psFinishLocked(c *command, err error) { c.finished = true }
