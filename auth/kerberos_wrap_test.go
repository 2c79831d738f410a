package auth

import (
	"bytes"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSealers returns a client and a server sealer sharing an acceptor
// subkey, as after a mutual context set-up.
func testSealers(t testing.TB, keyType int32, keyLen int) (client, server *kerberosSealer) {
	t.Helper()
	key := types.EncryptionKey{KeyType: keyType, KeyValue: bytes.Repeat([]byte{0x5a}, keyLen)}
	c, err := newKerberosSealer(key, true, true, 1000, 7)
	require.NoError(t, err)
	s, err := newKerberosSealer(key, false, true, 7, 1000)
	require.NoError(t, err)
	return c, s
}

func TestKerberosSealerRoundTrip(t *testing.T) {
	for _, kt := range []struct {
		id  int32
		len int
	}{{etypeID.AES256_CTS_HMAC_SHA1_96, 32}, {etypeID.AES128_CTS_HMAC_SHA1_96, 16}} {
		c, s := testSealers(t, kt.id, kt.len)
		for _, ec := range []uint16{0, 16} {
			for _, n := range []int{0, 1, 16, 17, 100, 4096} {
				msg := bytes.Repeat([]byte{byte(n)}, n)
				sig, sealed, err := c.seal(msg, ec)
				require.NoError(t, err)
				assert.Len(t, sig, 60+int(ec))
				assert.Len(t, sealed, n)
				if n >= 16 {
					assert.NotContains(t, string(sealed), string(msg[:16]), "data is encrypted")
				}
				got, err := s.Unwrap(sig, sealed)
				require.NoError(t, err, "etype %d ec %d n %d", kt.id, ec, n)
				assert.Equal(t, string(msg), string(got))

				sig, sealed, err = s.seal(msg, ec)
				require.NoError(t, err)
				got, err = c.Unwrap(sig, sealed)
				require.NoError(t, err)
				assert.Equal(t, string(msg), string(got))
			}
		}
	}
}

// An RFC 4121 sender with EC filler that rotates by RRC alone (not RRC+EC
// as Windows does) is accepted too.
func TestKerberosUnwrapRFCRotation(t *testing.T) {
	c, s := testSealers(t, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	msg := []byte("rotated by RRC only")
	const ec = 16
	inner := append(append(append([]byte{}, msg...), make([]byte, ec)...), krbWrapHeader(s.flags(false), ec, 0, s.sendSeq)...)
	_, ct, err := s.et.EncryptMessage(s.key.KeyValue, inner, keyusage.GSSAPI_ACCEPTOR_SEAL)
	require.NoError(t, err)
	tok := append(krbWrapHeader(s.flags(false), ec, krbWrapRRC, s.sendSeq), rotateRight(ct, krbWrapRRC)...)
	got, err := c.Unwrap(tok[:10], tok[10:])
	require.NoError(t, err)
	assert.Equal(t, msg, got)
}

func TestKerberosUnwrapRejects(t *testing.T) {
	c, s := testSealers(t, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	sig, sealed, err := c.Wrap([]byte("hello, server"))
	require.NoError(t, err)
	tok := append(append([]byte{}, sig...), sealed...)

	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, tok...)) }
	tests := map[string][]byte{
		"empty":            nil,
		"short header":     tok[:10],
		"header only":      tok[:16],
		"too short":        tok[:40],
		"token id":         mutate(func(b []byte) []byte { b[0] = 0x04; return b }),
		"filler":           mutate(func(b []byte) []byte { b[3] = 0; return b }),
		"not sealed":       mutate(func(b []byte) []byte { b[2] &^= krbWrapFlagSealed; return b }),
		"sent by acceptor": mutate(func(b []byte) []byte { b[2] |= krbWrapFlagSentByAcceptor; return b }),
		"ciphertext":       mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
		"hmac":             mutate(func(b []byte) []byte { b[20] ^= 1; return b }),
		"seq in header":    mutate(func(b []byte) []byte { b[15] ^= 1; return b }),
		"huge EC":          mutate(func(b []byte) []byte { b[4], b[5] = 0xff, 0xff; return b }),
		"huge RRC":         mutate(func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }),
	}
	for name, b := range tests {
		// A fresh receiver each time, expecting the token's sequence.
		_, srv := testSealers(t, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
		_, err := srv.Unwrap(b, nil)
		assert.ErrorIs(t, err, ErrKerberosWrapToken, name)
	}

	// The genuine token is accepted once, then it is a replay.
	_, err = s.Unwrap(sig, sealed)
	require.NoError(t, err)
	_, err = s.Unwrap(sig, sealed)
	require.ErrorIs(t, err, ErrKerberosWrapToken)

	// A token sealed with the other direction's key usage is refused: a
	// client cannot unwrap its own token.
	c2, _ := testSealers(t, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	_, err = c2.Unwrap(sig, sealed)
	require.ErrorIs(t, err, ErrKerberosWrapToken)
}

func TestNewKerberosSealerEtypes(t *testing.T) {
	_, err := newKerberosSealer(types.EncryptionKey{KeyType: etypeID.RC4_HMAC, KeyValue: make([]byte, 16)}, true, true, 0, 0)
	require.ErrorContains(t, err, "not supported")
	_, err = newKerberosSealer(types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: make([]byte, 16)}, true, true, 0, 0)
	require.Error(t, err)
}

func TestRotate(t *testing.T) {
	b := []byte("0123456789")
	for n := 0; n < 25; n++ {
		assert.Equal(t, b, rotateLeft(rotateRight(b, n), n))
	}
	assert.Equal(t, []byte("7890123456"), rotateRight(b, 3))
	assert.Nil(t, rotateRight(nil, 3))
}

func FuzzKerberosUnwrap(f *testing.F) {
	c, _ := testSealers(f, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	for _, n := range []int{0, 5, 40} {
		sig, sealed, err := c.Wrap(bytes.Repeat([]byte("x"), n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(sig, sealed...))
	}
	f.Add([]byte{0x05, 0x04, 0x06, 0xff, 0, 0, 0, 28})
	f.Fuzz(func(t *testing.T, tok []byte) {
		_, s := testSealers(t, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
		s.recvSeq = 1000
		pt, err := s.Unwrap(tok, nil)
		if err == nil && len(pt) > len(tok) {
			t.Fatalf("plaintext longer than the token")
		}
	})
}
