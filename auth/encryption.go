package auth

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// SecurityContext is an established GSS-style security context that can
// seal messages for WinRM message encryption (MS-WSMV 2.2.9.1). NTLM
// provides one (*ntlm.Session satisfies it); a Kerberos implementation can
// plug into the same framing.
//
// Wrap seals and signs plaintext and returns the signature (for Kerberos:
// the wrap token header) and the sealed data separately; Unwrap reverses
// it and verifies. Calls must be made in message order.
type SecurityContext interface {
	Wrap(plaintext []byte) (signature, sealed []byte, err error)
	Unwrap(signature, sealed []byte) ([]byte, error)
}

// Encrypted-message protocols (the protocol parameter of the
// multipart/encrypted Content-Type, and the Content-Type of the first MIME
// part).
const (
	// ProtocolSPNEGO is used with Negotiate (NTLM or Kerberos through
	// SPNEGO).
	ProtocolSPNEGO = "application/HTTP-SPNEGO-session-encrypted"
	// ProtocolKerberos is used with the Kerberos scheme.
	ProtocolKerberos = "application/HTTP-Kerberos-session-encrypted"
	// ProtocolCredSSP is used with CredSSP (not implemented here).
	ProtocolCredSSP = "application/HTTP-CredSSP-session-encrypted"
)

// EncryptedBoundary is the MIME boundary Windows uses.
const EncryptedBoundary = "Encrypted Boundary"

// SOAPContentType is the Content-Type of a plain WinRM request.
const SOAPContentType = "application/soap+xml;charset=UTF-8"

// DefaultMaxEncryptedBody bounds the encrypted bodies ParseEncryptedBody
// accepts when no other limit is given.
const DefaultMaxEncryptedBody = 64 << 20

// EncryptedContentType returns the HTTP Content-Type of an encrypted body:
// multipart/encrypted;protocol="<protocol>";boundary="Encrypted Boundary".
func EncryptedContentType(protocol string) string {
	return `multipart/encrypted;protocol="` + protocol + `";boundary="` + EncryptedBoundary + `"`
}

// ParseEncryptedContentType reports whether contentType is a
// multipart/encrypted WinRM body and returns its protocol. Only the boundary
// Windows uses is accepted.
func ParseEncryptedContentType(contentType string) (protocol string, ok bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/encrypted" {
		return "", false
	}
	if params["boundary"] != EncryptedBoundary || params["protocol"] == "" {
		return "", false
	}
	return params["protocol"], true
}

// EncryptedBodyError reports a malformed or unverifiable encrypted body.
// It matches ErrEncryptedBody with errors.Is.
type EncryptedBodyError struct {
	// Reason says what is wrong with the body, without quoting it.
	Reason string
	// Err is the underlying error, if any (nil for a purely structural
	// problem).
	Err error
}

// Error describes the problem.
func (e *EncryptedBodyError) Error() string {
	s := "auth: malformed encrypted message: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *EncryptedBodyError) Unwrap() error { return e.Err }

// Is matches ErrEncryptedBody.
func (e *EncryptedBodyError) Is(target error) bool { return target == ErrEncryptedBody }

// ErrEncryptedBody matches every *EncryptedBodyError.
var ErrEncryptedBody = errors.New("auth: malformed encrypted message")

func bodyErr(format string, args ...any) error {
	return &EncryptedBodyError{Reason: fmt.Sprintf(format, args...)}
}

// EncryptedBody is a parsed multipart/encrypted body.
type EncryptedBody struct {
	// Protocol is the Content-Type of the first part.
	Protocol string
	// OriginalType is the type of the plaintext, e.g.
	// "application/soap+xml;charset=UTF-8".
	OriginalType string
	// Length is the plaintext length announced in OriginalContent.
	Length int
	// Signature and Sealed are the two parts of the payload.
	Signature, Sealed []byte
}

const (
	boundaryLine = "--" + EncryptedBoundary + "\r\n"
	finalLine    = "--" + EncryptedBoundary + "--"
)

// BuildEncryptedBody returns the body of an encrypted message:
//
//	--Encrypted Boundary\r\n
//	\tContent-Type: <protocol>\r\n
//	\tOriginalContent: type=<originalType>;Length=<len(plaintext)>\r\n
//	--Encrypted Boundary\r\n
//	\tContent-Type: application/octet-stream\r\n
//	<uint32 LE len(signature)><signature><sealed>--Encrypted Boundary--\r\n
func BuildEncryptedBody(protocol, originalType string, plaintextLen int, signature, sealed []byte) []byte {
	const (
		ctPrefix   = "\tContent-Type: "
		origPrefix = "\tOriginalContent: type="
		octetLine  = "\tContent-Type: application/octet-stream\r\n"
	)
	length := strconv.Itoa(plaintextLen)
	size := len(boundaryLine) + len(ctPrefix) + len(protocol) + 2 +
		len(origPrefix) + len(originalType) + len(";Length=") + len(length) + 2 +
		len(boundaryLine) + len(octetLine) + 4 + len(signature) + len(sealed) + len(finalLine) + 2
	b := make([]byte, 0, size)
	b = append(b, boundaryLine...)
	b = append(b, ctPrefix...)
	b = append(b, protocol...)
	b = append(b, "\r\n"...)
	b = append(b, origPrefix...)
	b = append(b, originalType...)
	b = append(b, ";Length="...)
	b = append(b, length...)
	b = append(b, "\r\n"...)
	b = append(b, boundaryLine...)
	b = append(b, octetLine...)
	n := len(signature)
	b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	b = append(b, signature...)
	b = append(b, sealed...)
	b = append(b, finalLine+"\r\n"...)
	return b
}

// SealBody seals plaintext with sc and returns the encrypted body and its
// HTTP Content-Type. originalType is the plaintext's Content-Type (empty
// means SOAPContentType).
func SealBody(sc SecurityContext, protocol, originalType string, plaintext []byte) (body []byte, contentType string, err error) {
	if originalType == "" {
		originalType = SOAPContentType
	}
	sig, sealed, err := sc.Wrap(plaintext)
	if err != nil {
		return nil, "", fmt.Errorf("auth: sealing message: %w", err)
	}
	return BuildEncryptedBody(protocol, originalType, len(plaintext), sig, sealed), EncryptedContentType(protocol), nil
}

// readHeaderLine reads one MIME header line ("\tName: value\r\n"; the
// leading tab Windows writes is optional) and returns name and value.
func readHeaderLine(b []byte) (name, value string, rest []byte, err error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return "", "", nil, bodyErr("header line not terminated")
	}
	line := strings.TrimLeft(string(b[:i]), " \t")
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", nil, bodyErr("header line without a colon")
	}
	return strings.TrimSpace(name), strings.TrimSpace(value), b[i+2:], nil
}

// ParseEncryptedBody parses an encrypted body without unsealing it. It
// checks the structure strictly (boundaries, the first part's protocol,
// OriginalContent with a Length, the octet-stream part, the signature
// length prefix against the data, the closing boundary) and returns an
// *EncryptedBodyError for anything else. maxLen <= 0 means
// DefaultMaxEncryptedBody.
func ParseEncryptedBody(protocol string, body []byte, maxLen int) (*EncryptedBody, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxEncryptedBody
	}
	if len(body) > maxLen {
		return nil, bodyErr("%d bytes exceeds the %d-byte limit", len(body), maxLen)
	}
	b, ok := bytes.CutPrefix(body, []byte(boundaryLine))
	if !ok {
		return nil, bodyErr("does not start with the %q boundary", EncryptedBoundary)
	}
	eb := &EncryptedBody{Length: -1}
	// First part headers up to the second boundary.
	for !bytes.HasPrefix(b, []byte(boundaryLine)) {
		var name, value string
		var err error
		if name, value, b, err = readHeaderLine(b); err != nil {
			return nil, err
		}
		switch strings.ToLower(name) {
		case "content-type":
			eb.Protocol = value
		case "originalcontent":
			for _, p := range strings.Split(value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				switch strings.ToLower(k) {
				case "type":
					eb.OriginalType = v
				case "length":
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return nil, bodyErr("bad OriginalContent Length %q", v)
					}
					eb.Length = n
				default:
					if eb.OriginalType != "" && k != "" {
						eb.OriginalType += ";" + strings.TrimSpace(p)
					}
				}
			}
		}
	}
	if !strings.EqualFold(eb.Protocol, protocol) {
		return nil, bodyErr("first part has Content-Type %q, want %q", eb.Protocol, protocol)
	}
	if eb.Length < 0 {
		return nil, bodyErr("no OriginalContent Length")
	}
	b = b[len(boundaryLine):]
	name, value, b, err := readHeaderLine(b)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(name, "content-type") || !strings.EqualFold(value, "application/octet-stream") {
		return nil, bodyErr("second part is %s: %q, want Content-Type: application/octet-stream", name, value)
	}
	// The payload runs to the closing boundary at the end of the body.
	end := bytes.LastIndex(b, []byte(finalLine))
	if end < 0 || len(bytes.TrimRight(b[end+len(finalLine):], "\r\n")) != 0 {
		return nil, bodyErr("missing closing boundary")
	}
	payload := b[:end]
	if len(payload) < 4 {
		return nil, bodyErr("payload of %d bytes has no signature length", len(payload))
	}
	sigLen := int(uint32(payload[0]) | uint32(payload[1])<<8 | uint32(payload[2])<<16 | uint32(payload[3])<<24)
	if sigLen > len(payload)-4 {
		return nil, bodyErr("signature length %d exceeds the %d-byte payload", sigLen, len(payload)-4)
	}
	eb.Signature = payload[4 : 4+sigLen : 4+sigLen]
	eb.Sealed = payload[4+sigLen:]
	return eb, nil
}

// UnsealBody parses an encrypted body, unseals it with sc and returns the
// plaintext and its original Content-Type. Any structural or
// cryptographic failure is an *EncryptedBodyError; the plaintext is never
// returned unverified.
func UnsealBody(sc SecurityContext, protocol string, body []byte, maxLen int) (plaintext []byte, originalType string, err error) {
	eb, err := ParseEncryptedBody(protocol, body, maxLen)
	if err != nil {
		return nil, "", err
	}
	plain, err := sc.Unwrap(eb.Signature, eb.Sealed)
	if err != nil {
		return nil, "", &EncryptedBodyError{Reason: "unsealing failed", Err: err}
	}
	if len(plain) != eb.Length {
		return nil, "", bodyErr("plaintext is %d bytes, OriginalContent says %d", len(plain), eb.Length)
	}
	return plain, eb.OriginalType, nil
}
