package wsmantest

import (
	"bytes"
	"strings"

	"github.com/psremoting/psremoting/wsman"
)

// Robust-connection support (MS-WSMV 3.1.4.1.39): a client that sends
// wsmv:OperationID and wsmv:SequenceId headers may retransmit a request
// whose response it did not get (a dropped connection, a timeout). The
// server keeps the last responses by (OperationID, SequenceId) and answers
// a retransmission with the same response instead of running the request
// again, so a lost Receive response loses no output. Responses are kept
// for the most recent maxRemembered (64) requests that carried the headers,
// and no more than maxRememberedBytes of them (the oldest go first), so the
// cache does not hold tens of MiB of large Receive responses.
//
// This is the fake server's model of the mechanism; how Windows bounds its
// cache is not documented in the sources examined.

// maxRemembered bounds the responses kept for retransmissions.
const maxRemembered = 64

// maxRememberedBytes bounds their total serialized size (eight responses
// of the default 512000-byte envelope).
const maxRememberedBytes = 8 * 512000

type rememberedResponse struct {
	status int
	env    *wsman.Envelope
	size   int // serialized size of env
}

func retransmissionKey(req *request) (string, bool) {
	if req.hdr == nil || req.hdr.OperationID == "" || req.hdr.SequenceID == "" {
		return "", false
	}
	return strings.Join([]string{req.user, req.hdr.OperationID, req.hdr.SequenceID, req.hdr.Action,
		strings.ToUpper(req.hdr.ShellID()), req.rec.CommandID}, "\x00"), true
}

// remember keeps a response (serialized size bytes) for a possible
// retransmission.
func (s *Server) remember(req *request, status int, env *wsman.Envelope, size int) {
	key, ok := retransmissionKey(req)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remembered == nil {
		s.remembered = map[string]rememberedResponse{}
	}
	if old, exists := s.remembered[key]; exists {
		s.rememberedBytes -= old.size
	} else {
		s.rememberOrder = append(s.rememberOrder, key)
	}
	s.remembered[key] = rememberedResponse{status: status, env: env, size: size}
	s.rememberedBytes += size
	// Forget the oldest beyond either bound; the newest is always kept.
	for len(s.rememberOrder) > 1 && (len(s.rememberOrder) > maxRemembered || s.rememberedBytes > maxRememberedBytes) {
		s.rememberedBytes -= s.remembered[s.rememberOrder[0]].size
		delete(s.remembered, s.rememberOrder[0])
		s.rememberOrder = s.rememberOrder[1:]
	}
}

// recall returns the response remembered for a retransmitted request,
// addressed to the retransmission (RelatesTo its MessageID).
func (s *Server) recall(req *request) (int, []byte, bool) {
	key, ok := retransmissionKey(req)
	if !ok {
		return 0, nil, false
	}
	s.mu.Lock()
	r, ok := s.remembered[key]
	s.mu.Unlock()
	if !ok {
		return 0, nil, false
	}
	env := *r.env
	env.Header.RelatesTo = req.hdr.MessageID
	var buf bytes.Buffer
	env.WriteTo(&buf)
	return r.status, buf.Bytes(), true
}
