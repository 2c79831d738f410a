package session

import (
	"context"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// HostHandler answers a host call that expects an answer (Read-Host,
// PromptForCredential, PromptForChoice, ...): it returns the value (mr) or
// an error, which the remote command sees as an exception. It is called
// from the session's goroutines; it must honour ctx.
//
// Host calls buffered by the server while no client was connected arrive
// when a client connects and receives, and are answered then.
//
// Default policy (HostHandler nil): every call that expects an answer is
// answered at once with a HostException ("no interactive host"), so the
// remote command gets an error rather than waiting for a host that does
// not exist. Calls that expect no answer (Write-Host and the other Write*
// and Set* methods) are delivered to the consumer as KindHostCall
// results, in both cases.
type HostHandler func(ctx context.Context, call *psrp.HostCall) (clixml.Value, error)

// answerHostCall answers a host call of the pool (c nil) or a command.
func (s *Session) answerHostCall(ctx context.Context, c *RunningCommand, e psrp.HostCallReceived) {
	if e.CallID < 0 || e.Method.Voids() {
		return
	}
	resp := &psrp.HostResponse{CallID: e.CallID, MethodID: e.Method}
	var herr error = errNoHost
	if s.host != nil {
		v, err := clixml.Unmarshal(e.Message.Data)
		if err == nil {
			var hc *psrp.HostCall
			if hc, err = psrp.DecodeHostCall(v); err == nil {
				resp.Return, herr = s.host(ctx, hc)
			}
		}
		if err != nil {
			herr = err
		}
	}
	if herr != nil {
		resp.Return = nil
		resp.Exception = psrp.NewErrorRecord(herr.Error(), "HostException", psrp.ErrorCategoryNotImplemented,
			"System.Management.Automation.Host.HostException").ToCLIXML()
	}
	s.mu.Lock()
	var err error
	t := psrp.Target{Stream: psrp.StreamPromptResponse}
	cid := ""
	switch {
	case s.pool == nil:
		s.mu.Unlock()
		return
	case c == nil || e.Pipeline.String() == "00000000-0000-0000-0000-000000000000":
		err = s.pool.HostResponse(resp)
	default:
		if pl := s.pool.Pipeline(c.id); pl != nil {
			err = pl.HostResponse(resp)
			t.Pipeline = c.id
			cid = upper(c.id)
		}
	}
	s.mu.Unlock()
	if err == nil {
		err = s.flush(ctx, t, cid)
	}
	if err != nil {
		s.log.Debug("host response not sent", "id", s.id, "method", e.Method.String(), "err", err)
	}
}

type hostError string

// Error returns the message.
func (e hostError) Error() string { return string(e) }

// errNoHost is the default policy's answer.
const errNoHost = hostError("the remote command asked for host input, but the client has no interactive host (session.HostHandler is not set)")
