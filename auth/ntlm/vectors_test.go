package ntlm

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// MS-NLMP 4.2.1 common values and 4.2.4 NTLMv2 values.
var (
	tvUser            = "User"
	tvDomain          = "Domain"
	tvPassword        = "Password"
	tvServerChallenge = "0123456789abcdef"
	tvClientChallenge = "aaaaaaaaaaaaaaaa"
	tvRandomKey       = "55555555555555555555555555555555"
	tvTime            = "0000000000000000"
	// 4.2.4: challenge flags and the AV pairs of the CHALLENGE message
	// (MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server").
	tvFlags = FlagKeyExchange | Flag56 | Flag128 | FlagVersion | FlagTargetInfo |
		FlagExtendedSessionSecurity | FlagTargetTypeServer | FlagAlwaysSign | FlagNTLM |
		FlagSeal | FlagSign | FlagOEM | FlagUnicode
)

func tvTargetInfo() []byte {
	return AvPairs{
		{ID: AvNbDomainName, Value: utf16le("Domain")},
		{ID: AvNbComputerName, Value: utf16le("Server")},
	}.Marshal()
}

func TestMD4RFC1320(t *testing.T) {
	for in, want := range map[string]string{
		"":    "31d6cfe0d16ae931b73c59d7e0c089c0",
		"a":   "bde52cb31de33e46245e05fbdbd6fb24",
		"abc": "a448017aaf21d8525fc10ae87aa6729d",
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890": "e33b4ddc9c38f2199c3e7b164fcc0536",
	} {
		got := md4Sum([]byte(in))
		assert.Equal(t, want, hex.EncodeToString(got[:]), "MD4(%q)", in)
	}
}

func TestNLMPv2Vectors(t *testing.T) {
	assert.Equal(t, uint32(0xe28a8233), uint32(tvFlags), "4.2.4 flags")

	nt := NTHash(tvPassword) // 4.2.2.1.2
	assert.Equal(t, "a4f49c406510bdcab6824ee7c30fd852", hex.EncodeToString(nt[:]))

	key := NTOWFv2(tvPassword, tvUser, tvDomain) // 4.2.4.1.1
	assert.Equal(t, "0c868a403bfd7a93a3001ef22ef02e3f", hex.EncodeToString(key))

	sc, cc := unhex(t, tvServerChallenge), unhex(t, tvClientChallenge)
	lm := lmv2Response(key, sc, cc) // 4.2.4.2.1
	assert.Equal(t, "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa", hex.EncodeToString(lm))

	temp := ntlmv2Temp(unhex(t, tvTime), cc, tvTargetInfo())
	proof := ntProofStr(key, sc, temp) // 4.2.4.2.2
	assert.Equal(t, "68cd0ab851e51c96aabc927bebef6a1c", hex.EncodeToString(proof))

	base := hmacMD5(key, proof) // 4.2.4.1.2 session base key
	assert.Equal(t, "8de40ccadbc14a82f15cb0ad0de95ca3", hex.EncodeToString(base))

	enc := rc4Once(base, unhex(t, tvRandomKey)) // 4.2.4.2.3, KXKEY = session base key
	assert.Equal(t, "c5dad2544fc9799094ce1ce90bc9d03e", hex.EncodeToString(enc))

	exported := unhex(t, tvRandomKey)
	assert.Equal(t, "59f600973cc4960a25480a7c196e4c58", hex.EncodeToString(sealKey(tvFlags, exported, clientSealMagic)))
	assert.Equal(t, "4788dc861b4782f35d43fd98fe1a2d39", hex.EncodeToString(signKey(exported, clientSignMagic)))

	// 4.2.4.4 GSS_WrapEx: "Plaintext" in UTF-16LE, sequence number 0.
	s, err := NewSession(exported, tvFlags, true)
	require.NoError(t, err)
	sig, sealed, err := s.Wrap(utf16le("Plaintext"))
	require.NoError(t, err)
	assert.Equal(t, "54e50165bf1936dc996020c1811b0f06fb5f", hex.EncodeToString(sealed))
	assert.Equal(t, "010000007fb38ec5c55d497600000000", hex.EncodeToString(sig))

	// The server side unwraps what the client wrapped.
	srv, err := NewSession(exported, tvFlags, false)
	require.NoError(t, err)
	plain, err := srv.Unwrap(sig, sealed)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(utf16le("Plaintext"), plain))
}
