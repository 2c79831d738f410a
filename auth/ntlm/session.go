package ntlm

import (
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"sync"
)

// SignatureSize is the size of an NTLMSSP_MESSAGE_SIGNATURE.
const SignatureSize = 16

// Session is NTLM session security (MS-NLMP 3.4) for one established
// connection-oriented context with extended session security: it seals
// (RC4) and signs (HMAC-MD5, RC4-encrypted checksum when key exchange was
// negotiated) outgoing messages and verifies and unseals incoming ones.
//
// The RC4 streams and the sequence numbers run on across messages, one per
// direction, so messages must be unwrapped in the order the peer wrapped
// them. A Session is safe for concurrent use, but concurrent Wrap calls are
// ordered arbitrarily. After a failed Unwrap the session is broken (the RC4
// stream is out of step) and every later call fails.
type Session struct {
	mu      sync.Mutex
	flags   Flags
	signOut []byte
	signIn  []byte
	sealOut *rc4.Cipher
	sealIn  *rc4.Cipher
	seqOut  uint32
	seqIn   uint32
	broken  bool
}

// NewSession derives the signing and sealing keys of one side from the
// exported session key. client selects the direction: the client signs and
// seals with the client-to-server keys and verifies with the
// server-to-client keys; the server the other way round.
func NewSession(exportedSessionKey []byte, flags Flags, client bool) (*Session, error) {
	if len(exportedSessionKey) != 16 {
		return nil, fmt.Errorf("%w: session key of %d bytes", ErrState, len(exportedSessionKey))
	}
	if !flags.Has(FlagExtendedSessionSecurity) {
		return nil, fmt.Errorf("%w: session security without extended session security", ErrUnsupported)
	}
	outSign, inSign, outSeal, inSeal := clientSignMagic, serverSignMagic, clientSealMagic, serverSealMagic
	if !client {
		outSign, inSign, outSeal, inSeal = inSign, outSign, inSeal, outSeal
	}
	s := &Session{
		flags:   flags,
		signOut: signKey(exportedSessionKey, outSign),
		signIn:  signKey(exportedSessionKey, inSign),
	}
	var err error
	if s.sealOut, err = rc4.NewCipher(sealKey(flags, exportedSessionKey, outSeal)); err != nil {
		return nil, err
	}
	if s.sealIn, err = rc4.NewCipher(sealKey(flags, exportedSessionKey, inSeal)); err != nil {
		return nil, err
	}
	return s, nil
}

// Flags returns the negotiated flags.
func (s *Session) Flags() Flags { return s.flags }

// mac computes MS-NLMP 3.4.4.2's signature with extended session security.
func (s *Session) mac(h *rc4.Cipher, key []byte, seq uint32, msg []byte) []byte {
	var seqb [4]byte
	binary.LittleEndian.PutUint32(seqb[:], seq)
	sum := hmacMD5(key, seqb[:], msg)[:8]
	if s.flags.Has(FlagKeyExchange) {
		h.XORKeyStream(sum, sum)
	}
	sig := make([]byte, SignatureSize)
	binary.LittleEndian.PutUint32(sig, 1)
	copy(sig[4:12], sum)
	copy(sig[12:], seqb[:])
	return sig
}

// Wrap seals plaintext and returns the 16-byte signature and the sealed
// bytes (the same length as plaintext), advancing the outgoing sequence
// number. This is GSS_WrapEx with one buffer, as WinRM uses it.
func (s *Session) Wrap(plaintext []byte) (sig, sealed []byte, err error) {
	if !s.flags.Has(FlagSeal) {
		return nil, nil, ErrNoSealing
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return nil, nil, fmt.Errorf("%w: session broken by an earlier failure", ErrSignature)
	}
	sealed = make([]byte, len(plaintext))
	s.sealOut.XORKeyStream(sealed, plaintext)
	sig = s.mac(s.sealOut, s.signOut, s.seqOut, plaintext)
	s.seqOut++
	return sig, sealed, nil
}

// Unwrap unseals sealed, verifies sig against the plaintext and the
// expected incoming sequence number, and returns the plaintext.
func (s *Session) Unwrap(sig, sealed []byte) ([]byte, error) {
	if !s.flags.Has(FlagSeal) {
		return nil, ErrNoSealing
	}
	if len(sig) != SignatureSize {
		return nil, formatErr("signature", fmt.Sprintf("%d bytes, want %d", len(sig), SignatureSize))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return nil, fmt.Errorf("%w: session broken by an earlier failure", ErrSignature)
	}
	plain := make([]byte, len(sealed))
	s.sealIn.XORKeyStream(plain, sealed)
	want := s.mac(s.sealIn, s.signIn, s.seqIn, plain)
	if !hmac.Equal(want, sig) {
		s.broken = true
		return nil, fmt.Errorf("%w (sequence number %d)", ErrSignature, s.seqIn)
	}
	s.seqIn++
	return plain, nil
}

// Sequence returns the next outgoing and expected incoming sequence numbers.
func (s *Session) Sequence() (out, in uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqOut, s.seqIn
}
