// Package wsman is a WS-Management (MS-WSMV) client for WinRM shells: SOAP
// envelopes, every shell action PowerShell remoting uses (Create, Command,
// Send, Receive, Signal, Delete, Get, Enumerate/Pull, Disconnect, Reconnect,
// Connect), typed faults and an HTTP transport with context cancellation.
//
// PSRP payloads are opaque bytes at this layer.
//
// # Messages
//
// Element is a small namespace-resolved XML tree; ParseElement parses one
// with Limits on size, depth and element count. Envelope and Header map
// the SOAP envelope and the WS-Management headers (Action, To, ReplyTo,
// MessageID, RelatesTo, ResourceURI, MaxEnvelopeSize, OperationTimeout,
// Locale, DataLocale, wsmv:SessionId, OperationID, SequenceId, SelectorSet,
// OptionSet, and any other header in Header.Extra). Every action has a body
// type with an Element method to build it and a Parse function to read it:
// Shell, CommandLine, Stream/SendElement, Receive, ReceiveResponse, Signal,
// Disconnect, Reconnect, Connect, ConnectResponse, Enumerate, Pull,
// EnumerationResult, CommandInfo, ServiceConfig and Fault. Envelopes are
// written with the prefixes Windows uses (s:, a:, x:, n:, w:, p:, rsp:, f:)
// and with correct escaping. The same types serve a server: ParseEnvelope,
// Envelope.DecodeRequestBody, NewResponse (RelatesTo = the request's
// MessageID) and NewFaultResponse; wsman/wsmantest is built on them.
//
// # Client
//
// NewClient takes a ConnectionUri ("https://server:5986/wsman", "server",
// see ParseConnectionURI and BuildURL) and a Config: an auth.Authenticator
// (whose RoundTripper wraps the HTTP transport), TLS options (CA pool,
// client certificates, an explicit InsecureSkipVerify), proxy (environment
// by default), redirection (see below), a response size cap
// (MaxResponseBytes, which the authenticators apply too, to sealed bodies
// as they arrive), OperationTimeout (sent in the header) kept separate from
// the HTTP deadline, and an optional *slog.Logger, which gets a debug line
// for every request and every failure (action and error). Credentials are
// never logged or put in errors.
//
// # Redirects
//
// PowerShell follows a redirect only with -AllowRedirection, up to
// MaximumConnectionRedirectionCount (5) times, and then to any URI, with
// the session's credentials. This client follows one only with
// Config.AllowRedirection, at most Config.MaxRedirects (5) times, posting
// the same envelope again; and, like net/http, it sends the credentials
// only to the endpoint's own origin (scheme, host and port): a Location on
// another origin fails with ErrCrossHostRedirect before anything is sent
// there, unless Config.AllowCrossHostRedirection opts in (Exchange
// Online-style endpoints that redirect to the server holding a mailbox
// need it). A redirect from https to http is always refused
// (ErrInsecureRedirect).
//
// Each action is a Client method taking a context.Context; cancelling it
// aborts the request in flight. Each Client sends one wsmv:SessionId on
// every request (a new Client gets a new one; Config.SessionID reuses
// another's, for Reconnect from another process). Per-request headers
// (for example MS-WSMV robust-connection headers) are added through
// Config.RequestHook or Request.Headers with Invoke. Per-call options are
// fields of the call: Receive.OperationTimeout (or Request.OperationTimeout
// with Invoke) changes one request's OperationTimeout.
//
// The package knows nothing of PSRP versions: the protocolversion option
// of CreatePowerShell and Connect is sent only when the caller gives it
// (package session does), and DiscoverMaxEnvelopeSize falls back to the
// size the caller names.
//
// # Network failures and robust connections
//
// A request that fails for a network reason (refused, reset, closed in the
// middle of the response, the HTTP deadline of one exchange, a proxy or
// gateway that cannot reach the server, a cut TLS handshake) returns a
// *NetworkError: the action, the cause (usually a *url.Error wrapping a
// *net.OpError) and MaybeSent, false only when the request certainly did
// not reach the server. IsNetworkError tells these from authentication
// failures, faults, HTTP errors and malformed responses, which are never
// retried. SafeToRetry, like pgconn's, says whether the request may be sent
// again as a new request: when it was not sent, or for the idempotent
// actions (Get, Enumerate, Release, Delete, Disconnect, Reconnect). Create,
// Command, Send, Signal, Receive, Pull and Connect are not repeated blindly.
//
// Config.Retry (a RetryPolicy: Window, Interval, OnEvent) turns on the
// client side of MS-WSMV robust connections (3.1.4.1.39): every request
// carries a new wsmv:OperationID and wsmv:SequenceId 1; a request that
// fails for a network reason is sent again, the same envelope (same
// MessageID, OperationID and SequenceId, the OperationID marked
// s:mustUnderstand="true" as a retransmission), about once per Interval
// until Window has passed since the failure. A server that supports robust
// connections (it echoes the OperationID, as the pwsh 7.4 CreateResponse in
// the recordings does) answers a retransmission with the response it kept,
// so a lost Receive response loses no output and a lost Command response
// does not start a second pipeline. The client retransmits a request that
// may have reached the server only when that server has echoed an
// OperationID before, or the action is idempotent. Events
// NetworkFailureDetected, ConnectionRetryAttempt and
// ConnectionRetrySucceeded (PowerShell's names) go to OnEvent and the
// logger; when the window ends the last *NetworkError is returned with
// Attempts set, and the caller (package session) disconnects or gives up.
// Cancelling the context ends the retries at once; no goroutine is left.
//
// Guarantees and limits: with a server that keeps responses (the fake
// server keeps the last 64; how long Windows keeps them is not documented
// in the sources examined), a request is executed at most once and its
// response delivered once. Without that support, a Receive or Pull whose
// response was lost is not retransmitted; its output is gone from the
// server, and package psrp reports the loss as a gap in the ObjectIds
// (never a silent success). The first request of a Client (usually the
// Create) that may have been sent is not retransmitted: support is not
// known yet. Which SequenceId a retransmission should carry is not settled
// by the sources examined (MS-WSMV numbers the server's response messages
// with it; the client here repeats the original value, which the fake
// server keys its cache on). Client.Post is never retried.
//
// # Errors
//
// A SOAP fault is a *Fault (whatever the HTTP status: an HTTP 500 is never a
// success) carrying the SOAP code, subcode, reason, the WSManFault code,
// machine and message and nested provider faults; errors.Is matches the
// sentinels ErrShellNotFound (2150858843), ErrOperationTimeout
// (2150858793), ErrShellBusy, ErrSessionIDMismatch, ErrAccessDenied,
// ErrInvalidState and others. Client.Receive reports the w:TimedOut fault
// as ReceiveResponse.TimedOut ("nothing yet, receive again") rather than
// as an error. Other HTTP errors are an *HTTPError with the status and at
// most 1 KiB of the body; a 401, and an authenticator's own refusal, is an
// *AuthError, which is auth.AuthError (errors.Is ErrUnauthorized matches it
// and the Kerberos and certificate errors too). A response over
// MaxResponseBytes, found here or in an authenticator, is
// ErrResponseTooLarge, which is auth.ErrResponseTooLarge. Malformed XML is
// an *XMLError.
//
// Not covered yet: WS-Eventing, CredSSP, and the streaming side of MS-WSMV
// robust connections (several response messages per operation,
// AcknowledgeRequest), which PowerShell remoting does not use.
package wsman
