package auth

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth/ntlm"
	"github.com/psremoting/psremoting/internal/recordings"
)

func sessionPair(t testing.TB) (client, server *ntlm.Session) {
	t.Helper()
	key := bytes.Repeat([]byte{0x42}, 16)
	c, err := ntlm.NewSession(key, ntlm.DefaultClientFlags, true)
	require.NoError(t, err)
	s, err := ntlm.NewSession(key, ntlm.DefaultClientFlags, false)
	require.NoError(t, err)
	return c, s
}

// realEncryptedBody is a multipart/encrypted request body captured from a
// real client (ironPosh recordings), hex-encoded.
func realEncryptedBody(t testing.TB) []byte {
	t.Helper()
	dir := recordings.DirOrSkip(t)
	h, err := os.ReadFile(filepath.Join(dir, "ironposh", "winrm", "real_encrypted_soap.txt"))
	if os.IsNotExist(err) {
		t.Skip("real_encrypted_soap.txt not in the recordings")
	}
	require.NoError(t, err)
	b, err := hex.DecodeString(strings.TrimSpace(string(h)))
	require.NoError(t, err)
	return b
}

func TestParseRealEncryptedBody(t *testing.T) {
	raw := realEncryptedBody(t)
	eb, err := ParseEncryptedBody(ProtocolSPNEGO, raw, 0)
	require.NoError(t, err)
	assert.Equal(t, ProtocolSPNEGO, eb.Protocol)
	assert.Equal(t, SOAPContentType, eb.OriginalType)
	assert.Equal(t, 2162, eb.Length)
	assert.Len(t, eb.Signature, 16)
	assert.Equal(t, []byte{1, 0, 0, 0}, eb.Signature[:4], "NTLMSSP_MESSAGE_SIGNATURE version 1")
	assert.Len(t, eb.Sealed, 2162, "NTLM sealing keeps the length")

	// Our framing reproduces the captured body byte for byte.
	rebuilt := BuildEncryptedBody(ProtocolSPNEGO, SOAPContentType, eb.Length, eb.Signature, eb.Sealed)
	assert.Equal(t, raw, rebuilt)
}

func TestSealUnsealRoundTrip(t *testing.T) {
	c, s := sessionPair(t)
	for i, msg := range []string{testSOAP, "", strings.Repeat("<a>x</a>", 10000), "--Encrypted Boundary--\r\n"} {
		body, ct, err := SealBody(c, ProtocolSPNEGO, "", []byte(msg))
		require.NoError(t, err)
		assert.Equal(t, `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`, ct)
		p, ok := ParseEncryptedContentType(ct)
		require.True(t, ok)
		assert.Equal(t, ProtocolSPNEGO, p)
		if len(msg) > 10 && !strings.HasPrefix(msg, "--") {
			assert.NotContains(t, string(body), msg[:10])
		}
		plain, typ, err := UnsealBody(s, ProtocolSPNEGO, body, 0)
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, msg, string(plain))
		assert.Equal(t, SOAPContentType, typ)

		// And back.
		body, _, err = SealBody(s, ProtocolSPNEGO, "application/soap+xml;charset=UTF-16", []byte("r"+msg))
		require.NoError(t, err)
		plain, typ, err = UnsealBody(c, ProtocolSPNEGO, body, 0)
		require.NoError(t, err)
		assert.Equal(t, "r"+msg, string(plain))
		assert.Equal(t, "application/soap+xml;charset=UTF-16", typ)
	}
}

func TestParseEncryptedContentType(t *testing.T) {
	for ct, want := range map[string]string{
		EncryptedContentType(ProtocolSPNEGO):   ProtocolSPNEGO,
		EncryptedContentType(ProtocolKerberos): ProtocolKerberos,
		`multipart/encrypted; protocol="application/HTTP-SPNEGO-session-encrypted"; boundary="Encrypted Boundary"`: ProtocolSPNEGO,
		`multipart/encrypted;protocol="x";boundary="other"`:                                                        "",
		SOAPContentType: "",
		"":              "",
		`multipart/encrypted;boundary="Encrypted Boundary"`: "",
	} {
		got, ok := ParseEncryptedContentType(ct)
		assert.Equal(t, want != "", ok, ct)
		assert.Equal(t, want, got, ct)
	}
}

func TestParseEncryptedBodyMalformed(t *testing.T) {
	c, _ := sessionPair(t)
	good, _, err := SealBody(c, ProtocolSPNEGO, "", []byte(testSOAP))
	require.NoError(t, err)
	octet := bytes.Index(good, []byte("octet-stream\r\n")) + len("octet-stream\r\n")
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, body := range map[string][]byte{
		"empty":               nil,
		"no boundary":         []byte("hello"),
		"wrong protocol":      bytes.Replace(good, []byte("SPNEGO"), []byte("Kerberos"), 1),
		"no length":           bytes.Replace(good, []byte(";Length="), []byte(";Lenx="), 1),
		"negative length":     bytes.Replace(good, []byte(";Length="), []byte(";Length=-"), 1),
		"second part type":    bytes.Replace(good, []byte("octet-stream"), []byte("text/plain12"), 1),
		"no closing":          good[:len(good)-10],
		"trailing junk":       append(append([]byte(nil), good...), "junk"...),
		"short payload":       mutate(func(b []byte) []byte { return append(b[:octet+2], []byte(finalLine+"\r\n")...) }),
		"sig too long":        mutate(func(b []byte) []byte { b[octet+1] = 0x7f; return b }),
		"header unterminated": []byte("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted"),
		"header no colon":     []byte("--Encrypted Boundary\r\n\tbogus\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseEncryptedBody(ProtocolSPNEGO, body, 0)
			require.ErrorIs(t, err, ErrEncryptedBody)
		})
	}
	t.Run("too large", func(t *testing.T) {
		_, err := ParseEncryptedBody(ProtocolSPNEGO, good, 10)
		require.ErrorIs(t, err, ErrEncryptedBody)
	})
	t.Run("length mismatch after unseal", func(t *testing.T) {
		c, s := sessionPair(t)
		sig, sealed, err := c.Wrap([]byte("abc"))
		require.NoError(t, err)
		_, _, err = UnsealBody(s, ProtocolSPNEGO, BuildEncryptedBody(ProtocolSPNEGO, SOAPContentType, 4, sig, sealed), 0)
		require.ErrorIs(t, err, ErrEncryptedBody)
	})
	t.Run("tampered", func(t *testing.T) {
		c, s := sessionPair(t)
		body, _, err := SealBody(c, ProtocolSPNEGO, "", []byte(testSOAP))
		require.NoError(t, err)
		body[octet+30] ^= 0x55
		_, _, err = UnsealBody(s, ProtocolSPNEGO, body, 0)
		require.ErrorIs(t, err, ErrEncryptedBody)
		require.ErrorIs(t, err, ntlm.ErrSignature)
	})
}

func FuzzParseEncryptedBody(f *testing.F) {
	c, _ := sessionPair(f)
	good, _, err := SealBody(c, ProtocolSPNEGO, "", []byte(testSOAP))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("--Encrypted Boundary\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		eb, err := ParseEncryptedBody(ProtocolSPNEGO, b, 1<<20)
		if err != nil {
			return
		}
		// Whatever parses re-frames and parses to the same parts.
		again, err := ParseEncryptedBody(ProtocolSPNEGO, BuildEncryptedBody(eb.Protocol, eb.OriginalType, eb.Length, eb.Signature, eb.Sealed), 1<<20)
		if err != nil {
			t.Fatalf("re-framed body does not parse: %v", err)
		}
		if !bytes.Equal(again.Signature, eb.Signature) || !bytes.Equal(again.Sealed, eb.Sealed) || again.Length != eb.Length {
			t.Fatalf("re-framed body differs")
		}
		// Unsealing random data must fail cleanly (or, vanishingly
		// unlikely, succeed), never panic.
		_, s := sessionPair(t)
		_, _, _ = UnsealBody(s, ProtocolSPNEGO, b, 1<<20)
	})
}
