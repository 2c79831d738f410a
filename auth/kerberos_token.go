package auth

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSS-API flags (RFC 4121 4.1.1.1) this client asks for in the Kerberos
// authenticator checksum. Integrity and confidentiality are what Windows
// clients request for WinRM; mutual authentication is not requested because
// the AP-REP is not verified (gokrb5 has no AP-REP support).
const kerberosGSSFlags = uint32(gssapi.ContextFlagInteg | gssapi.ContextFlagConf)

// krb5TokenIDAPReq is the RFC 1964/4121 token id of an AP-REQ inner token.
var krb5TokenIDAPReq = []byte{0x01, 0x00}

// maxNegotiateTokenLen bounds the base64 text of a server's Negotiate token
// that this package decodes (Windows tokens are a few KiB at most).
const maxNegotiateTokenLen = 64 << 10

// kerberosAuthenticatorChecksum builds the 24-byte GSS checksum (RFC 4121
// 4.1.1): Lgth = 16, the channel binding hash (zero when there are none) and
// the context flags, all little-endian.
func kerberosAuthenticatorChecksum(bindings *[16]byte, flags uint32) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:4], 16)
	if bindings != nil {
		copy(b[4:20], bindings[:])
	}
	binary.LittleEndian.PutUint32(b[20:24], flags)
	return b
}

// newKerberosSPNEGOToken builds the SPNEGO NegTokenInit carrying a Kerberos
// AP-REQ for the service ticket tkt, with the channel binding hash in the
// authenticator checksum when bindings is not nil. gokrb5's own
// spnego.NewNegTokenInitKRB5 cannot carry channel bindings, which is why the
// authenticator is built here.
func newKerberosSPNEGOToken(creds *credentials.Credentials, tkt messages.Ticket, key types.EncryptionKey, bindings *[16]byte) ([]byte, error) {
	a, err := types.NewAuthenticator(creds.Domain(), creds.CName())
	if err != nil {
		return nil, fmt.Errorf("build authenticator: %w", err)
	}
	krbSetAuthenticatorTime(&a)
	a.Cksum = types.Checksum{
		CksumType: chksumtype.GSSAPI,
		Checksum:  kerberosAuthenticatorChecksum(bindings, kerberosGSSFlags),
	}
	apReq, err := messages.NewAPReq(tkt, key, a)
	if err != nil {
		return nil, fmt.Errorf("build AP-REQ: %w", err)
	}
	return marshalKerberosSPNEGO(apReq)
}

// negotiateChallenge is what a response's WWW-Authenticate headers offer.
type negotiateChallenge struct {
	// Schemes lists the offered scheme names as sent, in order.
	Schemes []string
	// Negotiate reports whether "Negotiate" is offered.
	Negotiate bool
	// NTLM reports whether "NTLM" is offered.
	NTLM bool
	// Kerberos reports whether "Kerberos" is offered.
	Kerberos bool
	// NegotiateToken is the decoded token of a "Negotiate <base64>"
	// challenge, nil when the challenge had none.
	NegotiateToken []byte
}

// parseNegotiateChallenge reads WWW-Authenticate header values. Each value may
// hold several comma-separated challenges (RFC 7235); a scheme token is a
// word at the start of a challenge, and an auth-param list ("realm=..") is
// skipped. A Negotiate token that is not valid base64 or longer than
// maxNegotiateTokenLen is an error.
func parseNegotiateChallenge(values []string) (negotiateChallenge, error) {
	var c negotiateChallenge
	for _, v := range values {
		for _, part := range splitNegotiateChallenges(v) {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			scheme, rest, _ := strings.Cut(part, " ")
			if strings.Contains(scheme, "=") {
				// An auth-param of the previous challenge, not a scheme.
				continue
			}
			c.Schemes = append(c.Schemes, scheme)
			switch strings.ToLower(scheme) {
			case "negotiate":
				c.Negotiate = true
				rest = strings.TrimSpace(rest)
				if rest == "" || c.NegotiateToken != nil {
					continue
				}
				if len(rest) > maxNegotiateTokenLen {
					return c, fmt.Errorf("Negotiate token longer than %d bytes", maxNegotiateTokenLen)
				}
				tok, err := base64.StdEncoding.DecodeString(rest)
				if err != nil {
					return c, errors.New("Negotiate token is not valid base64")
				}
				c.NegotiateToken = tok
			case "ntlm":
				c.NTLM = true
			case "kerberos":
				c.Kerberos = true
			}
		}
	}
	return c, nil
}

// splitNegotiateChallenges splits a header value at commas outside quoted strings.
func splitNegotiateChallenges(v string) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				parts = append(parts, v[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, v[start:])
}

// negotiateResponseState decodes the SPNEGO token a server returns with its
// final response and reports its negotiation state. Only a NegTokenResp is
// valid there.
func negotiateResponseState(tok []byte) (state spnego.NegState, err error) {
	// The token comes from the server; gokrb5's ASN.1 decoder is not
	// hardened against hostile input, so a panic in it becomes an error.
	defer func() {
		if r := recover(); r != nil {
			state, err = 0, errors.New("server Negotiate token is not a valid SPNEGO token")
		}
	}()
	isInit, nt, err := spnego.UnmarshalNegToken(tok)
	if err != nil {
		return 0, errors.New("server Negotiate token is not a valid SPNEGO token")
	}
	if isInit {
		return 0, errors.New("server sent a NegTokenInit where a NegTokenResp was expected")
	}
	resp, ok := nt.(spnego.NegTokenResp)
	if !ok {
		return 0, errors.New("server Negotiate token has an unexpected type")
	}
	return resp.State(), nil
}
