package wsman

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// DefaultRetryInterval is the pause between two retransmissions when
// RetryPolicy.Interval is zero. PowerShell's own cadence is not documented;
// "about once a second" is what its client is observed to do.
const DefaultRetryInterval = time.Second

// RetryPolicy retransmits requests that fail for a network reason, the
// client side of MS-WSMV robust connections (3.1.4.1.39). It is a plain
// value in Config.Retry; the zero value is off.
//
// With a positive Window every request carries a wsmv:OperationID (a new
// "uuid:…" per request) and wsmv:SequenceId 1. A server that supports robust
// connections echoes the OperationID in its responses (the pwsh 7.4
// CreateResponse in the ironPosh recordings does) and keeps the responses
// of recent requests; a request sent again with the same OperationID and
// SequenceId, marked as a retransmission (s:mustUnderstand="true" on the
// OperationID), is answered with the kept response instead of being run
// again. So a Receive whose response was lost returns the same output, and
// a Command or Send whose response was lost is not run twice.
//
// When a request fails with a NetworkError, the client sends the same
// envelope (same MessageID, OperationID and SequenceId) again every Interval
// until it gets an answer or Window has passed since the first failure. It
// does so only when that cannot run the request twice: the request certainly
// did not reach the server in any attempt (a refused connection), or its
// action is safe to repeat (see SafeToRetry), or the server has echoed an
// OperationID in an earlier response of this Client (it supports
// retransmission, for the request's ResourceURI: a server supports robust
// connections per ResourceURI). Otherwise the NetworkError is returned at once, with
// Retransmittable false. In particular the first request of a Client (the
// Create) is retransmitted only if it certainly was not sent: the client
// does not know yet whether the server supports robust connections.
//
// A response that is not a network failure (a fault, an authentication
// failure, an HTTP error) ends the retries and is returned as it is; after
// a retransmission of an idempotent request, that may be the fault saying
// the first one was executed (see SafeToRetry). When the window ends, the
// last *NetworkError is returned with Attempts set. Cancelling the context
// ends the retries at once with the context's error; nothing runs after the
// call returns (the waits use a timer, no goroutine).
//
// The server keeps responses for a bounded number of recent requests and a
// bounded time; a retransmission that comes too late is run as a new
// request by a server that forgot it, which for a Receive loses the output
// of the lost response. Package psrp detects such a loss (a gap in the
// ObjectIds) and reports it; see its documentation.
//
// A Client that has never had an answer from its server does not retry a
// request that certainly did not reach it (a refused connection, an unknown
// host): the call fails at once, as PowerShell's New-PSSession does for a
// host that cannot be reached. Retries protect work in progress, not a
// first contact. AssumeSupported (set for a new Client that carries on the
// work of one that reached the server) counts as a contact.
//
// Client.Post (an envelope serialized by the caller) is never retried.
type RetryPolicy struct {
	// Window is how long after the first failure of a request
	// retransmissions are attempted; 0 turns retries off. PowerShell's
	// default is 4 minutes (WSMAN_OPTION_MAX_RETRY_TIME).
	Window time.Duration
	// Interval is the pause between two attempts (DefaultRetryInterval,
	// 1s, when zero).
	Interval time.Duration
	// AssumeSupported treats the server as supporting robust connections
	// before it has echoed an OperationID to this Client: for a new Client
	// to a server another Client has seen support them (see
	// Client.RobustConnections), whose first request (a Connect after a
	// disconnect) must be retransmittable too. Against a server without
	// the support, a retransmitted request that had reached it runs twice.
	AssumeSupported bool
	// OnEvent, when set, is called synchronously, from the goroutine
	// making the request, with every retry event. It must not block for
	// long: the request waits for it.
	OnEvent func(RetryEvent)
}

// RetryEventKind names a retry event, with the names PowerShell uses for
// its robust-connection notifications.
type RetryEventKind int

// Retry events. The Client reports the first three; the last three are
// reported by the layer above (package session) when the window ends
// without an answer, with the same callback type.
const (
	// NetworkFailureDetected: a request failed for a network reason and
	// will be retransmitted within the window.
	NetworkFailureDetected RetryEventKind = iota + 1
	// ConnectionRetryAttempt: a retransmission is being sent.
	ConnectionRetryAttempt
	// ConnectionRetrySucceeded: a retransmission got an answer.
	ConnectionRetrySucceeded
	// AutoDisconnectStarting: the window ended without an answer; the
	// session layer is disconnecting the shell so that its commands
	// survive (never reported by a Client).
	AutoDisconnectStarting
	// AutoDisconnectSucceeded: the shell counts as disconnected: the
	// server acknowledged the Disconnect (Err nil), or it could not be
	// reached and the shell is disconnected on this side only (Err says
	// why); never reported by a Client.
	AutoDisconnectSucceeded
	// InternalErrorAbort: the shell could not be kept (the server no
	// longer has it, or answered the Disconnect with another fault); the
	// session is broken (never reported by a Client).
	InternalErrorAbort
)

// String returns the PowerShell name of the event.
func (k RetryEventKind) String() string {
	switch k {
	case NetworkFailureDetected:
		return "NetworkFailureDetected"
	case ConnectionRetryAttempt:
		return "ConnectionRetryAttempt"
	case ConnectionRetrySucceeded:
		return "ConnectionRetrySucceeded"
	case AutoDisconnectStarting:
		return "AutoDisconnectStarting"
	case AutoDisconnectSucceeded:
		return "AutoDisconnectSucceeded"
	case InternalErrorAbort:
		return "InternalErrorAbort"
	}
	return "RetryEventKind(" + strconv.Itoa(int(k)) + ")"
}

// RetryEvent reports progress of a retransmitted request.
type RetryEvent struct {
	Kind   RetryEventKind
	Action string // short action name ("Receive", …)
	// OperationID is the request's wsmv:OperationID ("" when it has none).
	OperationID string
	// Attempt is the retransmission number (1 for the first; 0 for
	// NetworkFailureDetected).
	Attempt int
	// Elapsed is the time since the first failure; Window the policy's.
	Elapsed, Window time.Duration
	// Err is the network failure (NetworkFailureDetected) or the failure
	// of the previous attempt.
	Err error
}

const (
	robustUnknown int32 = iota
	robustYes
	robustNo
)

// robustState returns what the server showed of robust connections for a
// ResourceURI (MS-WSMV 3.1.4.1.39: a server supports them per ResourceURI).
func (c *Client) robustState(resourceURI string) int32 {
	if v, ok := c.robust.Load(strings.ToLower(resourceURI)); ok {
		return v.(int32)
	}
	return robustUnknown
}

// noteRobust records whether the server echoed the request's OperationID.
func (c *Client) noteRobust(req, resp *Envelope) {
	if req.Header.OperationID == "" || resp == nil {
		return
	}
	key := strings.ToLower(req.Header.ResourceURI)
	if strings.EqualFold(strings.TrimSpace(resp.Header.OperationID), req.Header.OperationID) {
		c.robust.Store(key, robustYes)
	} else if resp.Header.OperationID == "" {
		c.robust.LoadOrStore(key, robustNo)
	}
}

// RobustConnections reports whether the server has shown that it supports
// MS-WSMV robust connections for a ResourceURI (it echoed the OperationID
// of a request of this Client to it); false until a response with
// Config.Retry on has been received.
func (c *Client) RobustConnections(resourceURI string) bool {
	return c.robustState(resourceURI) == robustYes
}

// send sends env, retransmitting it under Config.Retry.
func (c *Client) send(ctx context.Context, env *Envelope) (*Envelope, error) {
	out, err := c.roundTrip(ctx, env)
	if err == nil {
		c.reached.Store(true)
		c.noteRobust(env, out)
		return out, nil
	}
	pol := c.cfg.Retry
	var ne *NetworkError
	if !errors.As(err, &ne) {
		c.reached.Store(true) // an answer: a fault, an HTTP or authentication error
		return nil, err
	}
	if pol.Window <= 0 || (!ne.MaybeSent && !c.reached.Load() && !pol.AssumeSupported) {
		// A server this Client has never reached, and that the request
		// did not reach either (refused, no route, no such host): fail at
		// once, as New-PSSession does for a host that cannot be reached,
		// instead of waiting out the window.
		return nil, err
	}
	action := shortAction(env.Header.Action)
	maybeSent := ne.MaybeSent
	state := c.robustState(env.Header.ResourceURI)
	retransmittable := env.Header.OperationID != "" &&
		(state == robustYes || (state == robustUnknown && pol.AssumeSupported))
	ne.Retransmittable = retransmittable
	if maybeSent && !retransmittable && !idempotentAction(action) {
		return nil, err
	}
	interval := pol.Interval
	if interval <= 0 {
		interval = DefaultRetryInterval
	}
	start := time.Now()
	c.retryEvent(ctx, pol, RetryEvent{Kind: NetworkFailureDetected, Action: action,
		OperationID: env.Header.OperationID, Window: pol.Window, Err: err})
	timer := time.NewTimer(interval)
	defer timer.Stop()
	last := ne
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wsman: %s: %w (retrying after: %v)", action, ctx.Err(), last.Err)
		case <-timer.C:
		}
		elapsed := time.Since(start)
		if elapsed > pol.Window {
			last.Attempts = attempt - 1
			last.MaybeSent = maybeSent
			return nil, last
		}
		if maybeSent && env.Header.OperationID != "" {
			env.Header.Retransmission = true
		}
		c.retryEvent(ctx, pol, RetryEvent{Kind: ConnectionRetryAttempt, Action: action,
			OperationID: env.Header.OperationID, Attempt: attempt, Elapsed: elapsed, Window: pol.Window, Err: last})
		out, err = c.roundTrip(ctx, env)
		if err == nil {
			c.reached.Store(true)
			c.noteRobust(env, out)
			c.retryEvent(ctx, pol, RetryEvent{Kind: ConnectionRetrySucceeded, Action: action,
				OperationID: env.Header.OperationID, Attempt: attempt, Elapsed: time.Since(start), Window: pol.Window})
			return out, nil
		}
		if !errors.As(err, &ne) {
			return nil, err // an answer: a fault, an HTTP or authentication error
		}
		ne.Retransmittable = retransmittable
		maybeSent = maybeSent || ne.MaybeSent
		if maybeSent && !retransmittable && !idempotentAction(action) {
			ne.MaybeSent = true
			ne.Attempts = attempt
			return nil, ne
		}
		last = ne
		timer.Reset(interval)
	}
}

// retryEvent delivers a retry event to the policy's callback and the logger.
func (c *Client) retryEvent(ctx context.Context, pol RetryPolicy, ev RetryEvent) {
	if c.log != nil {
		attrs := []slog.Attr{
			slog.String("event", ev.Kind.String()),
			slog.String("action", ev.Action),
			slog.String("url", c.url.Redacted()),
			slog.Int("attempt", ev.Attempt),
			slog.Duration("elapsed", ev.Elapsed),
			slog.Duration("window", ev.Window),
		}
		if ev.Err != nil {
			attrs = append(attrs, slog.String("error", ev.Err.Error()))
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "wsman robust connection", attrs...)
	}
	if pol.OnEvent != nil {
		pol.OnEvent(ev)
	}
}
