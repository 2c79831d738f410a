// Package ntlm implements the parts of the NTLM authentication protocol
// (MS-NLMP) that WinRM needs and that github.com/Azure/go-ntlmssp does not
// provide: NTLMv2 with extended session security, key exchange, the MIC,
// channel bindings (MsvAvChannelBindings), and session security (signing and
// sealing with RC4, per-direction sequence numbers) for WinRM message
// encryption over HTTP.
//
// It has both sides: a [Client] that produces NEGOTIATE and AUTHENTICATE
// messages, and a [Server] that issues CHALLENGE messages and verifies an
// NTLMv2 AUTHENTICATE message against a password lookup. Both produce a
// [Session] that seals and unseals messages.
//
// Only NTLMv2 is implemented. NTLMv1, LM keys, anonymous and datagram
// (connectionless) mode are refused. The package does no I/O: HTTP framing
// lives in package auth.
//
// Limits: messages larger than [MaxMessageSize] are rejected; every field
// offset and length is bounds-checked, so a malformed message gives a
// [*FormatError], never a panic.
package ntlm
