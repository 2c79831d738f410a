package ntlm

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

var signature = []byte("NTLMSSP\x00")

// Message types.
const (
	typeNegotiate    = 1
	typeChallenge    = 2
	typeAuthenticate = 3
)

// Version is the VERSION structure (MS-NLMP 2.2.2.10): 8 bytes, informative
// only.
type Version [8]byte

// DefaultVersion claims Windows 10.0 build 19041, NTLM revision 15.
var DefaultVersion = Version{10, 0, 0x61, 0x4a, 0, 0, 0, 15}

// Negotiate is the NEGOTIATE_MESSAGE (type 1).
type Negotiate struct {
	Flags Flags
	// Domain and Workstation are the client machine's (OEM strings),
	// normally empty.
	Domain, Workstation string
	Version             Version
}

// Challenge is the CHALLENGE_MESSAGE (type 2).
type Challenge struct {
	Flags           Flags
	TargetName      string
	ServerChallenge [8]byte
	// TargetInfo is the parsed AV pair list; TargetInfoRaw the bytes as sent.
	TargetInfo    AvPairs
	TargetInfoRaw []byte
	Version       Version
}

// Authenticate is the AUTHENTICATE_MESSAGE (type 3).
type Authenticate struct {
	Flags                     Flags
	LmChallengeResponse       []byte
	NtChallengeResponse       []byte
	Domain, User, Workstation string
	EncryptedRandomSessionKey []byte
	Version                   Version
	// MIC is the 16-byte message integrity code, or nil when the message
	// has none (no room for it between the fixed fields and the payload).
	MIC []byte
}

// field is a (len, maxlen, offset) triple.
func putField(b []byte, n, off int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

// readField returns the payload a field points at, bounds-checked.
func readField(msg []byte, at int, name, what string) ([]byte, int, error) {
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if n == 0 {
		return nil, 0, nil
	}
	if off < 0 || off > len(msg) || n > len(msg)-off {
		return nil, 0, formatErr(name, fmt.Sprintf("%s field (offset %d, length %d) outside the %d-byte message", what, off, n, len(msg)))
	}
	return msg[off : off+n : off+n], off, nil
}

func checkHeader(msg []byte, typ uint32, name string, minLen int) error {
	if len(msg) > MaxMessageSize {
		return formatErr(name, fmt.Sprintf("%d bytes exceeds the %d-byte limit", len(msg), MaxMessageSize))
	}
	if len(msg) < minLen {
		return formatErr(name, fmt.Sprintf("%d bytes is shorter than the %d-byte header", len(msg), minLen))
	}
	if !bytes.Equal(msg[:8], signature) {
		return formatErr(name, "missing NTLMSSP signature")
	}
	if got := binary.LittleEndian.Uint32(msg[8:]); got != typ {
		return formatErr(name, fmt.Sprintf("message type %d, want %d", got, typ))
	}
	return nil
}

// MessageType returns the NTLM message type (1, 2 or 3) of msg, or 0 when
// msg does not start with the NTLMSSP signature.
func MessageType(msg []byte) int {
	if len(msg) < 12 || !bytes.Equal(msg[:8], signature) {
		return 0
	}
	return int(binary.LittleEndian.Uint32(msg[8:]))
}

// Marshal encodes the message.
func (m *Negotiate) Marshal() []byte {
	const hdr = 40
	f := m.Flags
	if m.Domain != "" {
		f |= FlagOEMDomainSupplied
	}
	if m.Workstation != "" {
		f |= FlagOEMWorkstationSupplied
	}
	b := make([]byte, hdr, hdr+len(m.Domain)+len(m.Workstation))
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeNegotiate)
	binary.LittleEndian.PutUint32(b[12:], uint32(f))
	putField(b[16:], len(m.Domain), hdr)
	putField(b[24:], len(m.Workstation), hdr+len(m.Domain))
	copy(b[32:], m.Version[:])
	b = append(b, m.Domain...)
	return append(b, m.Workstation...)
}

// ParseNegotiate decodes a NEGOTIATE_MESSAGE. Old clients that send the
// 16-byte form (no domain, workstation or version fields) are accepted.
func ParseNegotiate(msg []byte) (*Negotiate, error) {
	const name = "NEGOTIATE"
	if err := checkHeader(msg, typeNegotiate, name, 16); err != nil {
		return nil, err
	}
	m := &Negotiate{Flags: Flags(binary.LittleEndian.Uint32(msg[12:]))}
	if len(msg) >= 32 {
		if m.Flags.Has(FlagOEMDomainSupplied) {
			d, _, err := readField(msg, 16, name, "DomainName")
			if err != nil {
				return nil, err
			}
			m.Domain = string(d)
		}
		if m.Flags.Has(FlagOEMWorkstationSupplied) {
			w, _, err := readField(msg, 24, name, "WorkstationName")
			if err != nil {
				return nil, err
			}
			m.Workstation = string(w)
		}
	}
	if len(msg) >= 40 && m.Flags.Has(FlagVersion) {
		copy(m.Version[:], msg[32:40])
	}
	return m, nil
}

// Marshal encodes the message. TargetInfoRaw is used when set, else
// TargetInfo is encoded. TargetName is written as Unicode.
func (m *Challenge) Marshal() []byte {
	const hdr = 56
	name := utf16le(m.TargetName)
	ti := m.TargetInfoRaw
	if ti == nil {
		ti = m.TargetInfo.Marshal()
	}
	b := make([]byte, hdr, hdr+len(name)+len(ti))
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeChallenge)
	putField(b[12:], len(name), hdr)
	binary.LittleEndian.PutUint32(b[20:], uint32(m.Flags))
	copy(b[24:32], m.ServerChallenge[:])
	putField(b[40:], len(ti), hdr+len(name))
	copy(b[48:], m.Version[:])
	b = append(b, name...)
	return append(b, ti...)
}

// ParseChallenge decodes a CHALLENGE_MESSAGE. Every field is bounds-checked.
func ParseChallenge(msg []byte) (*Challenge, error) {
	const name = "CHALLENGE"
	if err := checkHeader(msg, typeChallenge, name, 32); err != nil {
		return nil, err
	}
	m := &Challenge{Flags: Flags(binary.LittleEndian.Uint32(msg[20:]))}
	copy(m.ServerChallenge[:], msg[24:32])
	tn, _, err := readField(msg, 12, name, "TargetName")
	if err != nil {
		return nil, err
	}
	if m.Flags.Has(FlagUnicode) {
		m.TargetName = fromUTF16le(tn)
	} else {
		m.TargetName = string(tn)
	}
	if len(msg) >= 48 {
		ti, _, err := readField(msg, 40, name, "TargetInfo")
		if err != nil {
			return nil, err
		}
		if len(ti) > 0 {
			m.TargetInfoRaw = ti
			if m.TargetInfo, err = ParseAvPairs(ti); err != nil {
				return nil, err
			}
		}
	}
	if len(msg) >= 56 && m.Flags.Has(FlagVersion) {
		copy(m.Version[:], msg[48:56])
	}
	return m, nil
}

// authHeaderLen is the fixed part of an AUTHENTICATE message with Version
// and MIC; micOffset is where the MIC sits.
const (
	authHeaderLen = 88
	micOffset     = 72
)

// Marshal encodes the message with a Version and a MIC field (zeros when
// MIC is nil). Strings are written as Unicode.
func (m *Authenticate) Marshal() []byte {
	dom, user, ws := utf16le(m.Domain), utf16le(m.User), utf16le(m.Workstation)
	n := authHeaderLen + len(m.LmChallengeResponse) + len(m.NtChallengeResponse) + len(dom) + len(user) + len(ws) + len(m.EncryptedRandomSessionKey)
	b := make([]byte, authHeaderLen, n)
	copy(b, signature)
	binary.LittleEndian.PutUint32(b[8:], typeAuthenticate)
	off := authHeaderLen
	for i, p := range [][]byte{m.LmChallengeResponse, m.NtChallengeResponse, dom, user, ws, m.EncryptedRandomSessionKey} {
		putField(b[12+8*i:], len(p), off)
		off += len(p)
	}
	binary.LittleEndian.PutUint32(b[60:], uint32(m.Flags))
	copy(b[64:72], m.Version[:])
	copy(b[micOffset:authHeaderLen], m.MIC)
	for _, p := range [][]byte{m.LmChallengeResponse, m.NtChallengeResponse, dom, user, ws, m.EncryptedRandomSessionKey} {
		b = append(b, p...)
	}
	return b
}

// ParseAuthenticate decodes an AUTHENTICATE_MESSAGE. The MIC is read when
// the payload starts at or after byte 88, the layout every current client
// uses when it sends one.
func ParseAuthenticate(msg []byte) (*Authenticate, error) {
	const name = "AUTHENTICATE"
	if err := checkHeader(msg, typeAuthenticate, name, 64); err != nil {
		return nil, err
	}
	m := &Authenticate{Flags: Flags(binary.LittleEndian.Uint32(msg[60:]))}
	minOff := len(msg)
	var parts [6][]byte
	names := [6]string{"LmChallengeResponse", "NtChallengeResponse", "DomainName", "UserName", "Workstation", "EncryptedRandomSessionKey"}
	for i := range parts {
		p, off, err := readField(msg, 12+8*i, name, names[i])
		if err != nil {
			return nil, err
		}
		if p != nil && off < minOff {
			minOff = off
		}
		if p != nil && off < 64 {
			return nil, formatErr(name, names[i]+" field overlaps the header")
		}
		parts[i] = p
	}
	if !m.Flags.Has(FlagUnicode) {
		return nil, fmt.Errorf("%w: OEM strings in AUTHENTICATE", ErrUnsupported)
	}
	m.LmChallengeResponse, m.NtChallengeResponse = parts[0], parts[1]
	m.Domain, m.User, m.Workstation = fromUTF16le(parts[2]), fromUTF16le(parts[3]), fromUTF16le(parts[4])
	if parts[5] != nil {
		m.EncryptedRandomSessionKey = parts[5]
	}
	if minOff >= 72 && len(msg) >= 72 {
		copy(m.Version[:], msg[64:72])
	}
	if minOff >= authHeaderLen && len(msg) >= authHeaderLen {
		m.MIC = msg[micOffset:authHeaderLen:authHeaderLen]
	}
	return m, nil
}
