package auth

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// RFC 4121 4.2.6.2 wrap token constants.
const (
	krbWrapHeaderLen          = 16
	krbWrapFlagSentByAcceptor = 0x01
	krbWrapFlagSealed         = 0x02
	krbWrapFlagAcceptorSubkey = 0x04
	// krbWrapRRC is the right rotation count Windows uses for sealed
	// tokens with AES (MS-KILE 3.4.5.4.1): the encrypted header copy (16)
	// and the HMAC (12) move in front of the encrypted data, so that the
	// data part of a WinRM message is as long as the plaintext.
	krbWrapRRC = 28
	// krbWrapConfounderLen is the AES block size, the RFC 3961 confounder.
	krbWrapConfounderLen = 16
	// krbWrapHMACLen is the length of the truncated HMAC-SHA1-96.
	krbWrapHMACLen = 12
)

// ErrKerberosWrapToken is wrapped by the errors of a malformed, forged,
// replayed or out-of-order Kerberos wrap token.
var ErrKerberosWrapToken = errors.New("invalid Kerberos wrap token")

// kerberosSealer is the RFC 4121 GSS wrap/unwrap of an established
// Kerberos context with confidentiality, in the layout Windows uses for
// WinRM message encryption (MS-KILE 3.4.5.4.1, MS-WSMV 2.2.9.1): a sealed
// token is the 16-byte header followed by the ciphertext of
// (plaintext | filler | header copy) and its HMAC, rotated right by RRC+EC.
// The WinRM "signature" is the first 16+EC+16+12+16 bytes of the token
// (header, encrypted filler and header copy, HMAC, encrypted confounder);
// the rest is the encrypted data, as long as the plaintext.
//
// Tokens sent here use EC = 0 and RRC = 28, for which MS-KILE's rotation
// by RRC+EC and RFC 4121's rotation by RRC agree; this is also the form MIT
// Kerberos sends (MS-KILE's recommended EC of 16 is optional for the
// sender: "the recipient must follow the EC field"). Tokens received are
// accepted with either rotation, EC filler of any length, and must carry
// the next expected sequence number. Only the AES128/AES256-CTS-HMAC-SHA1-96
// encryption types are supported (RC4-HMAC uses the different RFC 4757
// token format).
//
// It implements SecurityContext for the multipart/encrypted framing.
type kerberosSealer struct {
	key       types.EncryptionKey
	et        etype.EType
	initiator bool // true on the client
	// acceptorSubkey: the key is the acceptor's subkey from the AP-REP,
	// which both sides flag in every token.
	acceptorSubkey bool

	mu      sync.Mutex
	sendSeq uint64
	recvSeq uint64
}

// newKerberosSealer returns a sealer for key. sendSeq and recvSeq are the
// initial sequence numbers of this side and of the peer.
func newKerberosSealer(key types.EncryptionKey, initiator, acceptorSubkey bool, sendSeq, recvSeq uint64) (*kerberosSealer, error) {
	switch key.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96:
	default:
		return nil, fmt.Errorf("Kerberos message encryption with encryption type %d is not supported (only AES128/AES256-CTS-HMAC-SHA1-96)", key.KeyType)
	}
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	if len(key.KeyValue) != et.GetKeyByteSize() {
		return nil, fmt.Errorf("Kerberos key has %d bytes, want %d", len(key.KeyValue), et.GetKeyByteSize())
	}
	return &kerberosSealer{key: key, et: et, initiator: initiator, acceptorSubkey: acceptorSubkey, sendSeq: sendSeq, recvSeq: recvSeq}, nil
}

// flags returns the token flags this side sends (or, with peer, expects).
func (s *kerberosSealer) flags(peer bool) byte {
	f := byte(krbWrapFlagSealed)
	if s.acceptorSubkey {
		f |= krbWrapFlagAcceptorSubkey
	}
	if s.initiator == peer { // sent by the acceptor
		f |= krbWrapFlagSentByAcceptor
	}
	return f
}

// usages returns the key usages of sealing and of unsealing on this side.
func (s *kerberosSealer) usages() (seal, unseal uint32) {
	if s.initiator {
		return keyusage.GSSAPI_INITIATOR_SEAL, keyusage.GSSAPI_ACCEPTOR_SEAL
	}
	return keyusage.GSSAPI_ACCEPTOR_SEAL, keyusage.GSSAPI_INITIATOR_SEAL
}

// krbWrapHeader builds a wrap token header.
func krbWrapHeader(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, krbWrapHeaderLen)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:6], ec)
	binary.BigEndian.PutUint16(h[6:8], rrc)
	binary.BigEndian.PutUint64(h[8:16], seq)
	return h
}

// krbWrapTokenHeader is a parsed wrap token header.
type krbWrapTokenHeader struct {
	Flags byte
	EC    uint16
	RRC   uint16
	Seq   uint64
}

// parseKrbWrapHeader checks and parses the first 16 bytes of a wrap token.
func parseKrbWrapHeader(tok []byte) (krbWrapTokenHeader, error) {
	var h krbWrapTokenHeader
	if len(tok) < krbWrapHeaderLen {
		return h, fmt.Errorf("%w: %d bytes, shorter than the header", ErrKerberosWrapToken, len(tok))
	}
	if tok[0] != 0x05 || tok[1] != 0x04 {
		return h, fmt.Errorf("%w: token id %02x%02x is not a wrap token", ErrKerberosWrapToken, tok[0], tok[1])
	}
	if tok[3] != 0xff {
		return h, fmt.Errorf("%w: filler byte %02x", ErrKerberosWrapToken, tok[3])
	}
	h.Flags = tok[2]
	h.EC = binary.BigEndian.Uint16(tok[4:6])
	h.RRC = binary.BigEndian.Uint16(tok[6:8])
	h.Seq = binary.BigEndian.Uint64(tok[8:16])
	return h, nil
}

// Wrap seals plaintext into the next token and returns it split for the
// WinRM framing: the signature and the sealed data.
func (s *kerberosSealer) Wrap(plaintext []byte) (signature, sealed []byte, err error) {
	return s.seal(plaintext, 0)
}

// seal is Wrap with ec filler bytes (Windows itself sends EC = 16), rotated
// by RRC+EC as MS-KILE describes.
func (s *kerberosSealer) seal(plaintext []byte, ec uint16) (signature, sealed []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sealUsage, _ := s.usages()
	msg := make([]byte, 0, len(plaintext)+int(ec)+krbWrapHeaderLen)
	msg = append(msg, plaintext...)
	msg = append(msg, make([]byte, ec)...)
	msg = append(msg, krbWrapHeader(s.flags(false), ec, 0, s.sendSeq)...)
	_, ct, err := s.et.EncryptMessage(s.key.KeyValue, msg, sealUsage)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	tok := make([]byte, 0, krbWrapHeaderLen+len(ct))
	tok = append(tok, krbWrapHeader(s.flags(false), ec, krbWrapRRC, s.sendSeq)...)
	tok = append(tok, rotateRight(ct, krbWrapRRC+int(ec))...)
	s.sendSeq++
	sigLen := krbWrapHeaderLen + int(ec) + krbWrapRRC + krbWrapConfounderLen
	return tok[:sigLen:sigLen], tok[sigLen:], nil
}

// Unwrap verifies and decrypts the token signature|sealed and returns the
// plaintext. It enforces the flags, the header copy and the sequence.
func (s *kerberosSealer) Unwrap(signature, sealed []byte) ([]byte, error) {
	tok := make([]byte, 0, len(signature)+len(sealed))
	tok = append(tok, signature...)
	tok = append(tok, sealed...)
	return s.unwrapToken(tok)
}

func (s *kerberosSealer) unwrapToken(tok []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := parseKrbWrapHeader(tok)
	if err != nil {
		return nil, err
	}
	if want := s.flags(true); h.Flags != want {
		return nil, fmt.Errorf("%w: flags %#x, want %#x", ErrKerberosWrapToken, h.Flags, want)
	}
	body := tok[krbWrapHeaderLen:]
	if len(body) < krbWrapConfounderLen+int(h.EC)+krbWrapHeaderLen+krbWrapHMACLen {
		return nil, fmt.Errorf("%w: %d bytes of ciphertext are too few for EC %d", ErrKerberosWrapToken, len(body), h.EC)
	}
	_, unsealUsage := s.usages()
	// MS-KILE rotates by RRC+EC, RFC 4121 by RRC; they agree when EC is 0.
	// The HMAC decides which one the sender used.
	rotations := []int{int(h.RRC) + int(h.EC)}
	if h.EC != 0 {
		rotations = append(rotations, int(h.RRC))
	}
	var pt []byte
	for _, r := range rotations {
		pt, err = krbDecrypt(s.et, s.key.KeyValue, rotateLeft(body, r), unsealUsage)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKerberosWrapToken, err)
	}
	if len(pt) < int(h.EC)+krbWrapHeaderLen {
		return nil, fmt.Errorf("%w: decrypted token too short", ErrKerberosWrapToken)
	}
	copyHdr := pt[len(pt)-krbWrapHeaderLen:]
	// The encrypted copy must equal the header, except RRC (0 in the copy
	// per RFC 4121, not checked since senders differ).
	if subtle.ConstantTimeCompare(copyHdr[:6], tok[:6]) != 1 || subtle.ConstantTimeCompare(copyHdr[8:16], tok[8:16]) != 1 {
		return nil, fmt.Errorf("%w: header copy does not match the header", ErrKerberosWrapToken)
	}
	if h.Seq != s.recvSeq {
		return nil, fmt.Errorf("%w: sequence number %d, want %d (replayed or out of order)", ErrKerberosWrapToken, h.Seq, s.recvSeq)
	}
	s.recvSeq++
	return pt[:len(pt)-int(h.EC)-krbWrapHeaderLen], nil
}

// krbDecrypt is the RFC 3961 decryption of ciphertext|HMAC, with a recover
// since gokrb5's decryption assumes well-formed input.
func krbDecrypt(et etype.EType, key, ct []byte, usage uint32) (pt []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pt, err = nil, errors.New("malformed ciphertext")
		}
	}()
	if len(ct) < krbWrapConfounderLen+krbWrapHMACLen {
		return nil, errors.New("ciphertext too short")
	}
	return et.DecryptMessage(key, ct, usage)
}

// rotateRight returns b rotated right by n bytes (RFC 4121 4.2.5).
func rotateRight(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	out := make([]byte, 0, len(b))
	out = append(out, b[len(b)-n:]...)
	return append(out, b[:len(b)-n]...)
}

// rotateLeft undoes rotateRight.
func rotateLeft(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	out := make([]byte, 0, len(b))
	out = append(out, b[n:]...)
	return append(out, b[:n]...)
}
