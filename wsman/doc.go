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
// by default), redirection (off unless AllowRedirection, at most
// MaxRedirects), a response size cap, OperationTimeout (sent in the header)
// kept separate from the HTTP deadline, and an optional *slog.Logger.
// Credentials are never logged or put in errors.
//
// Each action is a Client method taking a context.Context; cancelling it
// aborts the request in flight. Each Client sends one wsmv:SessionId on
// every request (a new Client gets a new one; Config.SessionID reuses
// another's, for Reconnect from another process). Per-request headers
// (for example MS-WSMV robust-connection headers) are added through
// Config.RequestHook or Request.Headers with Invoke; WithOperationTimeout
// changes the OperationTimeout of the calls made with a context.
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
// most 1 KiB of the body; a 401 is an *AuthError (errors.Is
// ErrUnauthorized). Malformed XML is an *XMLError.
//
// Not covered yet: WS-Eventing, CredSSP, and MS-WSMV robust-connection
// retransmission logic (only the hooks to send its headers exist).
package wsman
