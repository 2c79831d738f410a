package wsmantest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/psremoting/psremoting/wsman"
)

// request is one parsed WS-Management request being handled.
type request struct {
	ctx      context.Context
	env      *wsman.Envelope
	hdr      *wsman.Header
	action   string // short name
	user     string
	clientIP string
	rec      *RequestRecord
}

// response is what an action produced: body elements or a fault.
type response struct {
	body  []*wsman.Element
	fault *Fault
	// noResponse is set when the request's connection went away while it
	// was being handled (a long poll whose client left).
	noResponse bool
}

// shortActions maps action URIs to the short names used in the request log
// and injections.
var shortActions = map[string]string{
	wsman.ActionCreate:     "Create",
	wsman.ActionDelete:     "Delete",
	wsman.ActionGet:        "Get",
	wsman.ActionEnumerate:  "Enumerate",
	wsman.ActionPull:       "Pull",
	wsman.ActionRelease:    "Release",
	wsman.ActionCommand:    "Command",
	wsman.ActionSend:       "Send",
	wsman.ActionReceive:    "Receive",
	wsman.ActionSignal:     "Signal",
	wsman.ActionDisconnect: "Disconnect",
	wsman.ActionReconnect:  "Reconnect",
	wsman.ActionConnect:    "Connect",
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), "/wsman") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	clientIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ac, ok := s.authenticate(w, r)
	if !ok {
		// Read the refused request's body (bounded) before the 401 goes
		// out: net/http closes a connection whose unread body exceeds
		// 256 KiB, and NTLM authenticates the connection, so a client
		// sending its body with the handshake legs (NTLM over https://,
		// as pywinrm does against Windows) could never authenticate a
		// large request.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, int64(s.opts.MaxRequestSize)+1))
		s.logRequest(RequestRecord{Time: s.clock.Now(), Action: "(auth)", Status: http.StatusUnauthorized})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxRequestSize)+1))
	if err != nil {
		return
	}
	if len(body) == 0 && ac.authLeg {
		// The AUTHENTICATE leg of an encrypting NTLM client carries no
		// body: Windows answers it with an empty 200.
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	if ac.mustSeal && ac.unseal == nil {
		// A Windows server with AllowUnencrypted=false answers an
		// unencrypted message on an NTLM-authenticated HTTP connection
		// with 401 (hashicorp/packer#6205, traced by J. Borean) and does
		// not handle it.
		s.logger.Debug("wsmantest: unencrypted request refused over plain HTTP (AllowUnencrypted is off)", "user", ac.user)
		s.logRequest(RequestRecord{Time: s.clock.Now(), Action: "(unencrypted)", Status: http.StatusUnauthorized})
		s.challenge(w, "")
		return
	}
	if ac.unseal != nil {
		body, err = ac.unseal(r.Header.Get("Content-Type"), body)
		if err != nil {
			s.logger.Debug("wsmantest: cannot unseal request", "err", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	rec := &RequestRecord{Time: s.clock.Now(), User: ac.user}
	if len(body) > s.opts.MaxRequestSize || len(body) > s.opts.MaxEnvelopeSize {
		rec.Action = "(too large)"
		s.writeResponse(w, ac, rec, &request{hdr: &wsman.Header{}}, &response{fault: FaultEnvelopeTooLarge()})
		return
	}
	env, err := wsman.ParseEnvelopeLimits(body, wsman.Limits{})
	if err != nil {
		rec.Action = "(malformed)"
		s.writeResponse(w, ac, rec, &request{hdr: &wsman.Header{}}, &response{fault: FaultSchemaValidation("The request is not a valid SOAP envelope.")})
		return
	}
	h := &env.Header
	rec.Action = shortActions[h.Action]
	if rec.Action == "" {
		rec.Action = h.Action
	}
	rec.ResourceURI = h.ResourceURI
	rec.ShellID = strings.ToUpper(h.ShellID())
	rec.CommandID = bodyCommandID(env)
	rec.SessionID = h.SessionID
	rec.MessageID = h.MessageID

	if len(h.Invalid) > 0 {
		s.writeResponse(w, ac, rec, &request{hdr: h}, &response{fault: FaultInvalidHeader(
			"The XML contains an invalid value in the SOAP header: " + strings.Join(h.Invalid, ", ") + ".")})
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	req := &request{ctx: ctx, env: env, hdr: h, action: rec.Action, user: ac.user, clientIP: clientIP, rec: rec}

	if in := s.matchInjection(rec); in != nil {
		if in.Delay > 0 {
			rec.Injected = "delay"
			t := s.clock.NewTimer(in.Delay)
			select {
			case <-t.C():
			case <-ctx.Done():
				t.Stop()
				s.logRequest(*rec)
				return
			}
		}
		switch {
		case in.DropBefore:
			rec.Injected = "drop-before"
			s.logRequest(*rec)
			hijackAndReset(w)
			return
		case in.HTTPStatus != 0:
			rec.Injected = "status"
			rec.Status = in.HTTPStatus
			s.logRequest(*rec)
			w.WriteHeader(in.HTTPStatus)
			return
		case in.Fault != nil:
			rec.Injected = "fault"
			s.writeResponse(w, ac, rec, req, &response{fault: in.Fault})
			return
		}
		if in.DropAfter {
			rec.Injected = "drop-after"
			// A retransmission of a request already handled is not run
			// again (its kept response is lost again), as for a
			// retransmission that gets through.
			if _, _, again := s.recall(req); !again {
				if resp := s.dispatch(req); !resp.noResponse {
					status, env := s.buildResponse(rec, req, resp)
					s.remember(req, status, env, len(marshal(env)))
				}
			}
			s.logRequest(*rec)
			hijackAndReset(w)
			return
		}
	}
	if status, plain, ok := s.recall(req); ok {
		// A retransmission (same OperationID and SequenceId) of a request
		// whose response was lost: answer it again without re-running it.
		rec.Injected = "retransmission"
		s.sendResponse(w, ac, rec, status, plain)
		return
	}
	resp := s.dispatch(req)
	if resp.noResponse {
		s.logRequest(*rec)
		return
	}
	s.writeResponse(w, ac, rec, req, resp)
}

// bodyCommandID finds the CommandId a request body names (Command's is
// client-chosen; Send, Receive, Signal, Connect and Reconnect carry one).
func bodyCommandID(env *wsman.Envelope) string {
	b := env.BodyElement()
	if b == nil {
		return ""
	}
	if id, ok := b.Attr("", "CommandId"); ok {
		return strings.ToUpper(id)
	}
	for _, c := range b.Children {
		if id, ok := c.Attr("", "CommandId"); ok {
			return strings.ToUpper(id)
		}
	}
	return ""
}

// dispatch runs the action of a request.
func (s *Server) dispatch(req *request) *response {
	defer s.poke()
	switch req.hdr.Action {
	case wsman.ActionCreate:
		return s.create(req)
	case wsman.ActionDelete:
		return s.delete(req)
	case wsman.ActionGet:
		return s.get(req)
	case wsman.ActionEnumerate:
		return s.enumerate(req)
	case wsman.ActionPull:
		return s.pull(req)
	case wsman.ActionRelease:
		return s.release(req)
	case wsman.ActionCommand:
		return s.command(req)
	case wsman.ActionSend:
		return s.send(req)
	case wsman.ActionReceive:
		return s.receive(req)
	case wsman.ActionSignal:
		return s.signal(req)
	case wsman.ActionDisconnect:
		return s.disconnect(req)
	case wsman.ActionReconnect:
		return s.reconnect(req)
	case wsman.ActionConnect:
		return s.connect(req)
	}
	return &response{fault: FaultActionNotSupported(req.hdr.Action)}
}

// writeResponse sends a response envelope (or fault) echoing the request's
// MessageID in RelatesTo.
func (s *Server) writeResponse(w http.ResponseWriter, ac *authContext, rec *RequestRecord, req *request, resp *response) {
	status, env := s.buildResponse(rec, req, resp)
	plain := marshal(env)
	s.remember(req, status, env, len(plain))
	s.sendResponse(w, ac, rec, status, plain)
}

// buildResponse serializes the response (or fault) envelope, echoing the
// request's MessageID in RelatesTo and its robust-connection headers.
func (s *Server) buildResponse(rec *RequestRecord, req *request, resp *response) (int, *wsman.Envelope) {
	hdr := wsman.Header{
		MessageID: "uuid:" + strings.ToUpper(uuid.NewString()),
		To:        wsman.AnonymousAddress,
		RelatesTo: req.hdr.MessageID,
	}
	if req.hdr.OperationID != "" {
		hdr.OperationID = req.hdr.OperationID
		hdr.SequenceID = req.hdr.SequenceID
	}
	status := http.StatusOK
	env := &wsman.Envelope{}
	if resp.fault != nil {
		hdr.Action = wsman.ActionFault
		if strings.HasPrefix(resp.fault.Subcode, "a:") {
			hdr.Action = wsman.ActionAddressingFault
		}
		env.Body = []*wsman.Element{resp.fault.element(s.machine())}
		status = resp.fault.HTTPStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
		rec.FaultCode = resp.fault.Code
		s.logger.Debug("wsmantest: fault", "action", rec.Action, "shell", rec.ShellID, "code", resp.fault.Code,
			"subcode", resp.fault.Subcode, "reason", resp.fault.Reason)
	} else {
		hdr.Action = wsman.ResponseAction(req.hdr.Action)
		if s.opts.ActivityID {
			hdr.ActivityID = strings.ToUpper(uuid.NewString())
		}
		env.Body = resp.body
	}
	env.Header = hdr
	return status, env
}

func marshal(env *wsman.Envelope) []byte {
	var buf bytes.Buffer
	env.WriteTo(&buf)
	return buf.Bytes()
}

// sendResponse seals (when the request was encrypted) and writes a
// response.
func (s *Server) sendResponse(w http.ResponseWriter, ac *authContext, rec *RequestRecord, status int, plain []byte) {
	out := plain
	contentType := "application/soap+xml;charset=UTF-8"
	if ac != nil && ac.seal != nil {
		var err error
		contentType, out, err = ac.seal(plain)
		if err != nil {
			s.logger.Debug("wsmantest: cannot seal response", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			rec.Status = http.StatusInternalServerError
			s.logRequest(*rec)
			return
		}
	}
	rec.Status = status
	s.logRequest(*rec)
	if s.logger.Enabled(context.Background(), slog.LevelDebug) {
		s.logger.Debug("wsmantest: request", "action", rec.Action, "shell", rec.ShellID, "command", rec.CommandID,
			"user", rec.User, "status", status, "fault", rec.FaultCode, "injected", rec.Injected)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// machine is the Machine attribute of faults.
func (s *Server) machine() string {
	host, _, err := net.SplitHostPort(s.Addr())
	if err != nil {
		return s.opts.ComputerName
	}
	return host
}

// hijackAndReset drops the request's connection without a response.
func hijackAndReset(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	resetConn(c)
}

// poke wakes the janitor so it recomputes its next deadline.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// operationTimeout is the long-poll limit of a request.
func (s *Server) operationTimeout(h *wsman.Header) time.Duration {
	d := h.OperationTimeout
	if d <= 0 {
		d = 60 * time.Second
	}
	if d > s.opts.MaxOperationTimeout {
		d = s.opts.MaxOperationTimeout
	}
	return d
}

// maxPayload is how many raw (pre-base64) output bytes one response may
// carry for this request.
func (s *Server) maxPayload(h *wsman.Header) int {
	env := s.opts.MaxEnvelopeSize
	if h.MaxEnvelopeSize > 0 && h.MaxEnvelopeSize < env {
		env = h.MaxEnvelopeSize
	}
	n := (env - 2048) / 4 * 3
	if n < 512 {
		n = 512
	}
	return n
}

// fragmentSize is the PSRP fragment size the server writes with (the .NET
// server's 32 KiB default, smaller when the envelope is small).
func (s *Server) fragmentSize() int {
	n := (s.opts.MaxEnvelopeSize - 2048) / 4 * 3
	if n > 32<<10 {
		n = 32 << 10
	}
	if n < 256 {
		n = 256
	}
	return n
}

var errGone = errors.New("wsmantest: shell or command is gone")
