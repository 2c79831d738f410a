package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"strings"
	"unicode/utf16"
)

// utf16le encodes s as UTF-16 little endian, as NTLM's Unicode strings are.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	return b
}

// fromUTF16le decodes UTF-16 little endian; an odd trailing byte is dropped.
func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// NTHash returns MD4(UTF-16LE(password)), the NT one-way function of NTLMv1
// and the key of NTOWFv2.
func NTHash(password string) [16]byte { return md4Sum(utf16le(password)) }

// NTOWFv2 is MS-NLMP 3.3.2's NTOWFv2(Passwd, User, UserDom):
// HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) + UserDom)).
// LMOWFv2 is the same function.
func NTOWFv2(password, user, domain string) []byte {
	h := NTHash(password)
	return ntowfv2FromHash(h[:], user, domain)
}

func ntowfv2FromHash(ntHash []byte, user, domain string) []byte {
	return hmacMD5(ntHash, utf16le(strings.ToUpper(user)+domain))
}

// ntlmv2Temp builds the "temp" structure of MS-NLMP 3.3.2
// (NTLMv2_CLIENT_CHALLENGE): Responserversion, HiResponserversion, Z(6),
// Time, ClientChallenge, Z(4), ServerName (AV pairs), Z(4).
func ntlmv2Temp(timestamp, clientChallenge, avPairs []byte) []byte {
	t := make([]byte, 0, 28+len(avPairs)+4)
	t = append(t, 1, 1, 0, 0, 0, 0, 0, 0)
	t = append(t, timestamp...)
	t = append(t, clientChallenge...)
	t = append(t, 0, 0, 0, 0)
	t = append(t, avPairs...)
	t = append(t, 0, 0, 0, 0)
	return t
}

// ntProofStr is HMAC_MD5(ResponseKeyNT, ServerChallenge || temp).
func ntProofStr(responseKeyNT, serverChallenge, temp []byte) []byte {
	return hmacMD5(responseKeyNT, serverChallenge, temp)
}

// lmv2Response is HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge.
func lmv2Response(responseKeyLM, serverChallenge, clientChallenge []byte) []byte {
	return append(hmacMD5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge...)
}

// rc4Once encrypts data with a fresh RC4 key (RC4K of MS-NLMP 6).
func rc4Once(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		// rc4 refuses only keys of length 0 or above 256 bytes; every
		// caller passes a 5-, 7-, 8- or 16-byte NTLM key, so this cannot
		// happen. Return no bytes rather than panic: the caller's MAC or
		// key check then fails cleanly.
		return nil
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// Magic constants of MS-NLMP 3.4.5.2 and 3.4.5.3 (with their trailing NUL).
const (
	clientSignMagic = "session key to client-to-server signing key magic constant\x00"
	serverSignMagic = "session key to server-to-client signing key magic constant\x00"
	clientSealMagic = "session key to client-to-server sealing key magic constant\x00"
	serverSealMagic = "session key to server-to-client sealing key magic constant\x00"
)

// signKey is SIGNKEY for extended session security.
func signKey(exportedSessionKey []byte, magic string) []byte {
	h := md5.Sum(append(append([]byte{}, exportedSessionKey...), magic...))
	return h[:]
}

// sealKey is SEALKEY for extended session security: the key is cut to 16,
// 7 or 5 bytes by NEGOTIATE_128 / NEGOTIATE_56 before hashing.
func sealKey(flags Flags, exportedSessionKey []byte, magic string) []byte {
	k := exportedSessionKey
	switch {
	case flags.Has(Flag128):
	case flags.Has(Flag56):
		k = k[:7]
	default:
		k = k[:5]
	}
	h := md5.Sum(append(append([]byte{}, k...), magic...))
	return h[:]
}
