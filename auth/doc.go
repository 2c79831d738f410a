// Package auth provides the HTTP authentication methods WinRM accepts (Basic,
// NTLM, Kerberos/Negotiate, client certificates) and WinRM message encryption
// over HTTP, as Authenticators that plug into the wsman transport.
//
// Security is on by default: Basic is refused over plain HTTP, NTLM and
// Kerberos over plain HTTP use message encryption, and credentials never
// appear in logs or error strings.
//
// # Redirects, limits, logs and errors
//
// An authenticator sends credentials on a redirect that net/http follows
// (http.Request.Response set) only to the origin (scheme, host and port) of
// the request that began the chain, unless WrapOptions.AllowCrossHostRedirect
// is set; otherwise the request fails with ErrCrossHostRedirect before
// anything is sent. (The wsman client follows redirects itself and applies
// the same rule first; see wsman.Config.AllowRedirection. PowerShell's
// -AllowRedirection has no such check.)
//
// The NTLM and Kerberos transports buffer each response; they apply the
// smaller of WrapOptions.MaxResponseBytes (the caller's limit) and their
// own MaxResponseBytes to the plaintext, and that limit plus a few KiB of
// framing to a sealed body as it arrives. A Content-Length above it fails
// before any read; below it, at most 1 MiB is reserved before the bytes
// arrive. Either way the error is ErrResponseTooLarge.
//
// With WrapOptions.Logger set, every failed request or authentication
// leaves a debug line (scheme, URL without user info, error). An
// authentication failure is an *AuthError (also wsman.AuthError), a
// *KerberosError or a *CertificateError; errors.Is(err, ErrUnauthorized)
// matches all three when the server refused the credentials.
//
// # NTLM
//
// [NTLM] uses two code paths. Without message encryption (https:// by
// default) the handshake is done by github.com/Azure/go-ntlmssp, with the
// RFC 5929 channel binding added to the target info it echoes. With message
// encryption (http:// by default, what a Windows server with
// AllowUnencrypted=false requires on port 5985) Azure cannot help: v0.1.1
// has no session key, signing, sealing or key exchange. That path uses
// auth/ntlm, this module's own NTLMv2 implementation (extended session
// security, key exchange, MIC, channel bindings, RC4 sealing and HMAC-MD5
// signing with per-direction sequence numbers), verified against the
// MS-NLMP 4.2.4 test vectors.
//
// NTLM and Kerberos authenticate a TCP connection, so their transports
// keep a small pool of independently authenticated connections
// (NTLM.MaxConnections, default [DefaultNTLMMaxConnections];
// KerberosConfig.MaxConnections, default [DefaultKerberosMaxConnections]),
// each with its own sealing state: a long-polling Receive holds one
// connection while other requests of the same client use the others.
//
// # Message encryption
//
// [SealBody] and [UnsealBody] frame any [SecurityContext] in the
// multipart/encrypted format of MS-WSMV 2.2.9.1, so other mechanisms can
// reuse them. [NTLMServer] is the server side (NTLM handshake, unsealing
// requests, sealing responses) for test servers such as wsman/wsmantest.
package auth
