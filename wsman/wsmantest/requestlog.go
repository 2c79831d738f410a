package wsmantest

import "time"

// RequestRecord is one request the server received, for assertions in tests.
type RequestRecord struct {
	Time time.Time // server clock
	// Action is the short action name (Create, Receive, ...), or the full
	// action URI when it is not one the server knows.
	Action string
	// ResourceURI of the request.
	ResourceURI string
	// ShellID and CommandID the request was about ("" when none).
	ShellID, CommandID string
	// SessionID is the client's wsmv:SessionId ("" when absent).
	SessionID string
	// MessageID is the request's wsa:MessageID.
	MessageID string
	// User is the authenticated user ("" when authentication failed).
	User string
	// Status is the HTTP status sent (0 when the connection was dropped).
	Status int
	// FaultCode is the WSManFault code sent, 0 for success.
	FaultCode uint32
	// Injected describes an injected fault that applied ("", "delay",
	// "drop-before", "drop-after", "status", "fault").
	Injected string
}

// Requests returns a copy of the request log, oldest first. The log keeps
// the latest 9,000 to 10,000 requests.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// ClearRequests empties the request log.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// maxRequestLog bounds the request log (oldest entries are discarded).
const maxRequestLog = 10000

func (s *Server) logRequest(rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) >= maxRequestLog {
		// Discard the oldest tenth at once (amortized O(1) per request).
		n := copy(s.requests, s.requests[maxRequestLog/10:])
		s.requests = s.requests[:n]
	}
	s.requests = append(s.requests, rec)
}
