package psrp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"unicode/utf16"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// The SecureString key exchange of MS-PSRP 3.1.4.8 / 3.2.5.4.x:
//
//  1. the client makes an RSA key pair and sends the public key in a
//     PUBLIC_KEY message as a CryptoAPI PUBLICKEYBLOB (MS-PSRP 2.2.2.3);
//  2. the server makes a 256-bit AES session key, encrypts it for that public
//     key with RSA PKCS #1 v1.5, and sends it in ENCRYPTED_SESSION_KEY as a
//     CryptoAPI SIMPLEBLOB (MS-PSRP 2.2.2.4);
//  3. both sides then encrypt every SecureString (<SS>) with AES-256-CBC under
//     that key: the UTF-16LE text, PKCS #7 padding, and an all-zero IV, as
//     Windows PowerShell does (MS-PSRP 2.2.5.1.24).
//
// The PUBLIC_KEY and ENCRYPTED_SESSION_KEY messages carry the blobs as base64
// text; the functions here work on the raw blob bytes.

// CryptoAPI constants used in the key exchange blobs.
const (
	blobTypeSimple    = 0x01       // SIMPLEBLOB
	blobTypePublicKey = 0x06       // PUBLICKEYBLOB
	blobVersion       = 0x02       // CUR_BLOB_VERSION
	algRSAKeyX        = 0x0000A400 // CALG_RSA_KEYX
	algAES256         = 0x00006610 // CALG_AES_256
	rsa1Magic         = 0x31415352 // "RSA1"
	blobHeaderSize    = 8          // BLOBHEADER
	rsaPubKeySize     = 12         // RSAPUBKEY
)

// SessionKeySize is the size in bytes of the AES-256 session key.
const SessionKeySize = 32

// DefaultSessionKeyBits is the RSA modulus size ClientKeyExchange uses, the
// size Windows PowerShell uses.
const DefaultSessionKeyBits = 2048

// maxExchangeKeyBits bounds the RSA modulus a server accepts in a PUBLIC_KEY
// blob so that a hostile client cannot make it do huge exponentiations.
const maxExchangeKeyBits = 16384

// ErrKeyBlob is wrapped by every error about a malformed PUBLIC_KEY or
// ENCRYPTED_SESSION_KEY blob.
var ErrKeyBlob = errors.New("psrp: malformed key exchange blob")

// ErrSecureString is wrapped by errors decrypting a SecureString.
var ErrSecureString = errors.New("psrp: cannot decrypt SecureString")

// ClientKeyExchange is the client side of the session key exchange: an RSA
// key pair whose public half goes to the server in PUBLIC_KEY.
type ClientKeyExchange struct {
	key *rsa.PrivateKey
}

// NewClientKeyExchange generates a 2048-bit RSA key pair from rnd
// (crypto/rand.Reader when nil).
func NewClientKeyExchange(rnd io.Reader) (*ClientKeyExchange, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	k, err := rsa.GenerateKey(rnd, DefaultSessionKeyBits)
	if err != nil {
		return nil, fmt.Errorf("psrp: generating session key pair: %w", err)
	}
	return &ClientKeyExchange{key: k}, nil
}

// NewClientKeyExchangeFromKey uses an existing RSA private key, for example
// one generated once and reused across pools.
func NewClientKeyExchangeFromKey(k *rsa.PrivateKey) *ClientKeyExchange {
	return &ClientKeyExchange{key: k}
}

// PublicKeyBlob returns the PUBLICKEYBLOB to send in PUBLIC_KEY (before
// base64 encoding).
func (c *ClientKeyExchange) PublicKeyBlob() []byte {
	return EncodePublicKeyBlob(&c.key.PublicKey)
}

// DecryptSessionKey decrypts the SIMPLEBLOB of an ENCRYPTED_SESSION_KEY
// message and returns the 32-byte AES session key.
func (c *ClientKeyExchange) DecryptSessionKey(blob []byte) ([]byte, error) {
	enc, err := parseSimpleBlob(blob)
	if err != nil {
		return nil, err
	}
	if len(enc) != c.key.Size() {
		return nil, fmt.Errorf("%w: encrypted key is %d bytes, want %d", ErrKeyBlob, len(enc), c.key.Size())
	}
	key, err := rsa.DecryptPKCS1v15(nil, c.key, reverse(enc))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyBlob, err)
	}
	if len(key) != SessionKeySize {
		return nil, fmt.Errorf("%w: session key is %d bytes, want %d", ErrKeyBlob, len(key), SessionKeySize)
	}
	return key, nil
}

// EncodePublicKeyBlob encodes pub as a CryptoAPI PUBLICKEYBLOB: BLOBHEADER
// (PUBLICKEYBLOB, version 2, CALG_RSA_KEYX), RSAPUBKEY ("RSA1", bit length,
// public exponent), then the modulus little-endian.
func EncodePublicKeyBlob(pub *rsa.PublicKey) []byte {
	size := pub.Size()
	b := make([]byte, blobHeaderSize+rsaPubKeySize+size)
	b[0] = blobTypePublicKey
	b[1] = blobVersion
	binary.LittleEndian.PutUint32(b[4:8], algRSAKeyX)
	binary.LittleEndian.PutUint32(b[8:12], rsa1Magic)
	binary.LittleEndian.PutUint32(b[12:16], uint32(size*8))
	binary.LittleEndian.PutUint32(b[16:20], uint32(pub.E))
	mod := b[20:]
	pub.N.FillBytes(mod)
	reverseInPlace(mod)
	return b
}

// ParsePublicKeyBlob decodes a CryptoAPI PUBLICKEYBLOB as sent in PUBLIC_KEY.
func ParsePublicKeyBlob(b []byte) (*rsa.PublicKey, error) {
	if len(b) < blobHeaderSize+rsaPubKeySize {
		return nil, fmt.Errorf("%w: PUBLICKEYBLOB is %d bytes", ErrKeyBlob, len(b))
	}
	if b[0] != blobTypePublicKey || b[1] != blobVersion {
		return nil, fmt.Errorf("%w: blob type 0x%02X version %d, want PUBLICKEYBLOB version 2", ErrKeyBlob, b[0], b[1])
	}
	if b[2] != 0 || b[3] != 0 {
		return nil, fmt.Errorf("%w: reserved field is not zero", ErrKeyBlob)
	}
	if alg := binary.LittleEndian.Uint32(b[4:8]); alg != algRSAKeyX {
		return nil, fmt.Errorf("%w: key algorithm 0x%08X, want CALG_RSA_KEYX", ErrKeyBlob, alg)
	}
	if m := binary.LittleEndian.Uint32(b[8:12]); m != rsa1Magic {
		return nil, fmt.Errorf("%w: magic 0x%08X, want RSA1", ErrKeyBlob, m)
	}
	bits := binary.LittleEndian.Uint32(b[12:16])
	if bits == 0 || bits%8 != 0 || bits > maxExchangeKeyBits {
		return nil, fmt.Errorf("%w: bit length %d", ErrKeyBlob, bits)
	}
	exp := binary.LittleEndian.Uint32(b[16:20])
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, fmt.Errorf("%w: public exponent %d", ErrKeyBlob, exp)
	}
	mod := b[20:]
	if len(mod) != int(bits/8) {
		return nil, fmt.Errorf("%w: modulus is %d bytes, bit length says %d", ErrKeyBlob, len(mod), bits/8)
	}
	n := new(big.Int).SetBytes(reverse(mod))
	if n.BitLen() < 512 || n.BitLen() <= int(bits)-8 || n.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: modulus of %d bits (bit length says %d) is not a usable RSA modulus", ErrKeyBlob, n.BitLen(), bits)
	}
	return &rsa.PublicKey{N: n, E: int(exp)}, nil
}

// NewSessionKey returns a fresh random AES-256 session key read from rnd
// (crypto/rand.Reader when nil).
func NewSessionKey(rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	k := make([]byte, SessionKeySize)
	if _, err := io.ReadFull(rnd, k); err != nil {
		return nil, fmt.Errorf("psrp: generating session key: %w", err)
	}
	return k, nil
}

// EncryptSessionKey is the server side of the exchange: it encrypts
// sessionKey (32 bytes) for the client's PUBLICKEYBLOB with RSA PKCS #1 v1.5
// and returns the SIMPLEBLOB for ENCRYPTED_SESSION_KEY. rnd is the padding's
// randomness (crypto/rand.Reader when nil).
func EncryptSessionKey(rnd io.Reader, publicKeyBlob, sessionKey []byte) ([]byte, error) {
	if len(sessionKey) != SessionKeySize {
		return nil, fmt.Errorf("psrp: session key is %d bytes, want %d", len(sessionKey), SessionKeySize)
	}
	pub, err := ParsePublicKeyBlob(publicKeyBlob)
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	enc, err := rsa.EncryptPKCS1v15(rnd, pub, sessionKey)
	if err != nil {
		return nil, fmt.Errorf("psrp: encrypting session key: %w", err)
	}
	b := make([]byte, 12+len(enc))
	b[0] = blobTypeSimple
	b[1] = blobVersion
	binary.LittleEndian.PutUint32(b[4:8], algAES256)
	binary.LittleEndian.PutUint32(b[8:12], algRSAKeyX)
	copy(b[12:], enc)
	reverseInPlace(b[12:])
	return b, nil
}

// parseSimpleBlob checks the SIMPLEBLOB header of ENCRYPTED_SESSION_KEY and
// returns the encrypted key bytes (still in CryptoAPI little-endian order).
func parseSimpleBlob(b []byte) ([]byte, error) {
	if len(b) < 12+1 {
		return nil, fmt.Errorf("%w: SIMPLEBLOB is %d bytes", ErrKeyBlob, len(b))
	}
	if b[0] != blobTypeSimple || b[1] != blobVersion {
		return nil, fmt.Errorf("%w: blob type 0x%02X version %d, want SIMPLEBLOB version 2", ErrKeyBlob, b[0], b[1])
	}
	if alg := binary.LittleEndian.Uint32(b[4:8]); alg != algAES256 {
		return nil, fmt.Errorf("%w: session key algorithm 0x%08X, want CALG_AES_256", ErrKeyBlob, alg)
	}
	if alg := binary.LittleEndian.Uint32(b[8:12]); alg != algRSAKeyX {
		return nil, fmt.Errorf("%w: exchange algorithm 0x%08X, want CALG_RSA_KEYX", ErrKeyBlob, alg)
	}
	return b[12:], nil
}

// SecureStringCipher encrypts and decrypts SecureString values with a
// negotiated session key. It is safe for concurrent use.
type SecureStringCipher struct {
	block cipher.Block
}

// NewSecureStringCipher returns a cipher for the 32-byte session key.
func NewSecureStringCipher(sessionKey []byte) (*SecureStringCipher, error) {
	if len(sessionKey) != SessionKeySize {
		return nil, fmt.Errorf("psrp: session key is %d bytes, want %d", len(sessionKey), SessionKeySize)
	}
	b, err := aes.NewCipher(sessionKey)
	if err != nil {
		return nil, err
	}
	return &SecureStringCipher{block: b}, nil
}

// Encrypt returns the <SS> bytes for s: UTF-16LE, PKCS #7 padded,
// AES-256-CBC with an all-zero IV.
func (c *SecureStringCipher) Encrypt(s string) []byte {
	units := utf16.Encode([]rune(s))
	n := len(units) * 2
	pad := aes.BlockSize - n%aes.BlockSize
	buf := make([]byte, n+pad)
	for i, u := range units {
		binary.LittleEndian.PutUint16(buf[2*i:], u)
	}
	for i := n; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	var iv [aes.BlockSize]byte
	cipher.NewCBCEncrypter(c.block, iv[:]).CryptBlocks(buf, buf)
	return buf
}

// Decrypt returns the text of the <SS> bytes b. A wrong key or corrupt data
// gives an error wrapping ErrSecureString (most wrong keys are detected by
// the padding check, not all).
func (c *SecureStringCipher) Decrypt(b []byte) (string, error) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: %d bytes is not a whole number of AES blocks", ErrSecureString, len(b))
	}
	buf := make([]byte, len(b))
	var iv [aes.BlockSize]byte
	cipher.NewCBCDecrypter(c.block, iv[:]).CryptBlocks(buf, b)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", fmt.Errorf("%w: bad padding", ErrSecureString)
	}
	for _, p := range buf[len(buf)-pad:] {
		if int(p) != pad {
			return "", fmt.Errorf("%w: bad padding", ErrSecureString)
		}
	}
	buf = buf[:len(buf)-pad]
	if len(buf)%2 != 0 {
		return "", fmt.Errorf("%w: odd UTF-16 length", ErrSecureString)
	}
	units := make([]uint16, len(buf)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(buf[2*i:])
	}
	clear(buf)
	return string(utf16.Decode(units)), nil
}

// EncryptValue returns s as the CLIXML <SS> value.
func (c *SecureStringCipher) EncryptValue(s string) clixml.SecureString {
	return clixml.SecureString(c.Encrypt(s))
}

// DecryptValue returns the text of a CLIXML <SS> value.
func (c *SecureStringCipher) DecryptValue(v clixml.SecureString) (string, error) {
	return c.Decrypt([]byte(v))
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i, v := range b {
		r[len(b)-1-i] = v
	}
	return r
}

func reverseInPlace(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}
