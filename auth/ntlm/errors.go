package ntlm

import "errors"

// MaxMessageSize bounds every NTLM message this package parses. Real
// messages are a few hundred bytes; 64 KiB leaves room for large AV pair
// lists.
const MaxMessageSize = 64 << 10

// FormatError reports a malformed NTLM message. It never contains
// credentials.
type FormatError struct {
	// Message names the message type: "NEGOTIATE", "CHALLENGE",
	// "AUTHENTICATE", "AV_PAIR" or "signature".
	Message string
	// Reason says what is wrong.
	Reason string
}

// Error describes the problem.
func (e *FormatError) Error() string {
	return "ntlm: malformed " + e.Message + " message: " + e.Reason
}

// Is lets errors.Is(err, ErrMalformed) match any FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrMalformed }

func formatErr(msg, reason string) error { return &FormatError{Message: msg, Reason: reason} }

var (
	// ErrMalformed matches every *FormatError with errors.Is.
	ErrMalformed = errors.New("ntlm: malformed message")
	// ErrAuthenticationFailed means the AUTHENTICATE message did not prove
	// knowledge of the password (wrong password or unknown user; the two are
	// deliberately not told apart).
	ErrAuthenticationFailed = errors.New("ntlm: authentication failed")
	// ErrMICMismatch means the AUTHENTICATE message's MIC did not verify.
	ErrMICMismatch = errors.New("ntlm: message integrity code mismatch")
	// ErrChannelBindingMismatch means the client's channel bindings are
	// missing or do not match the TLS channel.
	ErrChannelBindingMismatch = errors.New("ntlm: channel binding mismatch")
	// ErrUnsupported means the peer asked for something this package does
	// not implement (NTLMv1, LM key, no extended session security, OEM
	// strings, datagram mode).
	ErrUnsupported = errors.New("ntlm: unsupported negotiation")
	// ErrSignature means a sealed or signed message failed verification
	// (bad checksum or wrong sequence number). The session is unusable
	// afterwards.
	ErrSignature = errors.New("ntlm: message signature mismatch")
	// ErrNoSealing means the negotiated flags do not include sealing.
	ErrNoSealing = errors.New("ntlm: sealing was not negotiated")
	// ErrState means a method was called out of order.
	ErrState = errors.New("ntlm: call out of order")
)
