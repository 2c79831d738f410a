// Package winrmcompat connects github.com/masterzen/winrm configurations to
// the wsman client, so programs that already describe their endpoints with
// masterzen can use this SDK's transport.
//
// Two directions are offered:
//
//   - NewClient (and ConfigFrom) build a *wsman.Client from a
//     *winrm.Endpoint, a user and password and *winrm.Parameters: URL, TLS
//     (CACert, Insecure, TLSServerName, client Cert/Key), the operation
//     timeout, locale, envelope size and dialer are carried over, and the
//     authentication method is derived from Parameters.TransportDecorator
//     (ClientNTLM → auth.NTLM; NewEncryption("ntlm") → auth.NTLM with
//     message encryption; ClientAuthRequest → auth.Certificate; none →
//     auth.Basic).
//   - Transporter is a winrm.Transporter to put in
//     Parameters.TransportDecorator: masterzen's own client (Shell,
//     RunWithContext, …) then sends its requests through this SDK's HTTP
//     stack.
//
// What masterzen/winrm itself cannot do, and how this package avoids it:
//
//   - No context: Transporter.Post has no context.Context and builds requests
//     without one, so an in-flight call cannot be cancelled; only
//     Endpoint.Timeout (a response-header timeout) bounds it. A *wsman.Client
//     from NewClient takes a context on every call. The Transporter cannot
//     get a per-call context from masterzen either: it applies
//     Transporter.Context (cancel it to abort everything in flight) and an
//     HTTP deadline of the operation timeout plus Endpoint.Timeout.
//   - HTTP 500 faults returned as success: masterzen's Post returns a SOAP
//     fault body with a nil error (its deferred error swap has no effect),
//     so CreateShell "succeeds" with an empty shell id. Both directions here
//     turn every fault into a *wsman.Fault error (errors.Is with
//     wsman.ErrShellNotFound, …) and every other non-2xx status into an
//     error.
//   - No escaping: masterzen's soap builder writes text and attribute values
//     unescaped (command text and arguments are only wrapped in CDATA, which
//     breaks on "]]>"; environment variables, working directory and ids are
//     written raw). The wsman client escapes everything it writes. Requests
//     that masterzen's own client builds (through Transporter) are still
//     built by masterzen: they are parsed before sending, and a malformed
//     one is refused with an error instead of being posted.
//   - Unbounded reads, unexported URL and credentials, a new Kerberos login
//     per request: responses are capped (wsman.Config.MaxResponseBytes);
//     credentials are given to this package directly.
//
// Proxies: masterzen keeps a proxy function given to NewClientWithProxyFunc
// or NewClientNTLMWithProxyFunc unexported, so it cannot be carried over;
// the wsman client takes the proxy from the environment (as masterzen does
// by default) unless Options.Base.Proxy sets one.
//
// Requests that masterzen builds itself (through Transporter) are sent as
// masterzen wrote them: they carry no wsmv:SessionId and masterzen has no
// Disconnect, Reconnect or Connect, so disconnected sessions need the
// *wsman.Client (NewClient, or Transporter.Client) instead.
//
// Kerberos (winrm.ClientKerberos) is not mapped automatically: pass an
// auth.Kerberos authenticator in Options.Auth.
package winrmcompat
