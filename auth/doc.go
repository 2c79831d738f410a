// Package auth provides the HTTP authentication methods WinRM accepts (Basic,
// NTLM, Kerberos/Negotiate, client certificates) and WinRM message encryption
// over HTTP, as Authenticators that plug into the wsman transport.
//
// Security is on by default: Basic is refused over plain HTTP, NTLM and
// Kerberos over plain HTTP use message encryption, and credentials never
// appear in logs or error strings.
package auth
