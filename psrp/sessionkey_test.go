package psrp

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp/clixml"
)

// testKeyExchange is shared by the tests: RSA key generation is slow.
var testKeyExchange = func() *ClientKeyExchange {
	k, err := NewClientKeyExchange(nil)
	if err != nil {
		panic(err)
	}
	return k
}()

// specBlob reads the base64 value of element N=name from a spec example.
func specBlob(t *testing.T, file, name string) []byte {
	t.Helper()
	dir := recordings.DirOrSkip(t)
	b, err := os.ReadFile(filepath.Join(dir, "spec", file))
	if err != nil {
		t.Skipf("skipping: spec example absent: %v", err)
	}
	m := regexp.MustCompile(`N="` + name + `">([A-Za-z0-9+/=]+)<`).FindSubmatch(b)
	require.NotNil(t, m, "no %s in %s", name, file)
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	require.NoError(t, err)
	return raw
}

func TestPublicKeyBlobSpecExample(t *testing.T) {
	blob := specBlob(t, "MS-PSRP_2.2.2.3_PUBLIC_KEY_example.xml", "PublicKey")
	require.Len(t, blob, 276)
	pub, err := ParsePublicKeyBlob(blob)
	require.NoError(t, err)
	assert.Equal(t, 65537, pub.E)
	assert.Equal(t, 2048, pub.N.BitLen())
	// The first modulus byte on the wire is the least significant one.
	assert.Equal(t, uint(blob[20]), uint(pub.N.Bytes()[len(pub.N.Bytes())-1]))
	assert.Equal(t, blob, EncodePublicKeyBlob(pub), "re-encoding must reproduce the spec bytes")

	// A server can encrypt a session key for the spec's key; the result has
	// the spec's SIMPLEBLOB shape.
	key, err := NewSessionKey(nil)
	require.NoError(t, err)
	enc, err := EncryptSessionKey(nil, blob, key)
	require.NoError(t, err)
	spec := specBlob(t, "MS-PSRP_2.2.2.4_ENCRYPTED_SESSION_KEY_example.xml", "EncryptedSessionKey")
	require.Len(t, spec, 268)
	assert.Len(t, enc, len(spec))
	assert.Equal(t, spec[:12], enc[:12], "SIMPLEBLOB header")
	_, err = parseSimpleBlob(spec)
	assert.NoError(t, err)
}

func TestSessionKeyExchangeRoundTrip(t *testing.T) {
	pubBlob := testKeyExchange.PublicKeyBlob()
	require.Len(t, pubBlob, 276)
	assert.Equal(t, []byte{0x06, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00, 'R', 'S', 'A', '1', 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00}, pubBlob[:20])

	key, err := NewSessionKey(nil)
	require.NoError(t, err)
	enc, err := EncryptSessionKey(nil, pubBlob, key)
	require.NoError(t, err)
	got, err := testKeyExchange.DecryptSessionKey(enc)
	require.NoError(t, err)
	assert.Equal(t, key, got)

	// Someone else's private key cannot decrypt it.
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	enc2, err := EncryptSessionKey(nil, EncodePublicKeyBlob(&other.PublicKey), key)
	require.NoError(t, err)
	_, err = testKeyExchange.DecryptSessionKey(enc2)
	assert.ErrorIs(t, err, ErrKeyBlob)
}

func TestKeyBlobErrors(t *testing.T) {
	good := testKeyExchange.PublicKeyBlob()
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":        nil,
		"short":        good[:19],
		"type":         mut(func(b []byte) []byte { b[0] = 7; return b }),
		"version":      mut(func(b []byte) []byte { b[1] = 3; return b }),
		"algorithm":    mut(func(b []byte) []byte { b[5] = 0x66; return b }),
		"magic":        mut(func(b []byte) []byte { b[11] = '2'; return b }),
		"bits zero":    mut(func(b []byte) []byte { b[12], b[13] = 0, 0; return b }),
		"bits huge":    mut(func(b []byte) []byte { b[15] = 0x10; return b }),
		"even exp":     mut(func(b []byte) []byte { b[16] = 2; return b }),
		"truncated":    good[:len(good)-1],
		"trailing":     append(bytes.Clone(good), 0),
		"tiny modulus": mut(func(b []byte) []byte { b[12], b[13] = 0x00, 0x01; return b[:20+32] }),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePublicKeyBlob(b)
			assert.ErrorIs(t, err, ErrKeyBlob)
			_, err = EncryptSessionKey(nil, b, make([]byte, SessionKeySize))
			assert.ErrorIs(t, err, ErrKeyBlob)
		})
	}
	key := make([]byte, SessionKeySize)
	enc, err := EncryptSessionKey(nil, good, key)
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"short":     enc[:12],
		"type":      append([]byte{6}, enc[1:]...),
		"algorithm": append(append(bytes.Clone(enc[:4]), 0x0E, 0x66), enc[6:]...),
		"exchange":  append(append(bytes.Clone(enc[:8]), 0, 0xA5), enc[10:]...),
		"length":    enc[:len(enc)-1],
	} {
		t.Run("simple "+name, func(t *testing.T) {
			_, err := testKeyExchange.DecryptSessionKey(b)
			assert.ErrorIs(t, err, ErrKeyBlob)
		})
	}
	_, err = EncryptSessionKey(nil, good, key[:16])
	assert.Error(t, err)
}

func TestSecureString(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, SessionKeySize)
	c, err := NewSecureStringCipher(key)
	require.NoError(t, err)
	for _, s := range []string{"", "a", "P@ssw0rd!", "exactly8", "ünïcødé 😀 密码", string(make([]byte, 100))} {
		enc := c.Encrypt(s)
		assert.Zero(t, len(enc)%aes.BlockSize)
		assert.Greater(t, len(enc), 2*len(utf16.Encode([]rune(s)))-1)
		got, err := c.Decrypt(enc)
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	// Known structure: with a zero IV the first block is AES-ECB of the
	// first 16 plaintext bytes ("abcdefgh" in UTF-16LE).
	blk, err := aes.NewCipher(key)
	require.NoError(t, err)
	want := make([]byte, 16)
	blk.Encrypt(want, []byte("a\x00b\x00c\x00d\x00e\x00f\x00g\x00h\x00"))
	assert.Equal(t, want, c.Encrypt("abcdefgh")[:16])
	assert.Len(t, c.Encrypt("abcdefgh"), 32, "a full block of padding follows 16 bytes of text")

	wrong, err := NewSecureStringCipher(bytes.Repeat([]byte{0x43}, SessionKeySize))
	require.NoError(t, err)
	_, err = wrong.Decrypt(c.Encrypt("secret text here"))
	assert.ErrorIs(t, err, ErrSecureString)
	for _, b := range [][]byte{nil, make([]byte, 15), make([]byte, 17)} {
		_, err = c.Decrypt(b)
		assert.ErrorIs(t, err, ErrSecureString)
	}
	_, err = NewSecureStringCipher(key[:16])
	assert.Error(t, err)

	// Through CLIXML: <SS> carries the encrypted bytes in base64.
	enc, err := clixml.Marshal(c.EncryptValue("in xml"))
	require.NoError(t, err)
	v, err := clixml.Unmarshal(enc)
	require.NoError(t, err)
	ss, ok := v.(clixml.SecureString)
	require.True(t, ok, "%T", v)
	got, err := c.DecryptValue(ss)
	require.NoError(t, err)
	assert.Equal(t, "in xml", got)
}

func FuzzParsePublicKeyBlob(f *testing.F) {
	f.Add(testKeyExchange.PublicKeyBlob())
	f.Add([]byte{6, 2, 0, 0, 0, 0xa4, 0, 0, 'R', 'S', 'A', '1', 0, 1, 0, 0, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKeyBlob(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodePublicKeyBlob(pub), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzSecureStringDecrypt(f *testing.F) {
	c, _ := NewSecureStringCipher(make([]byte, SessionKeySize))
	f.Add(c.Encrypt("hello"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := c.Decrypt(b)
		if err == nil && len(c.Encrypt(s)) > len(b)+16 {
			t.Fatalf("re-encryption longer than input")
		}
	})
}
