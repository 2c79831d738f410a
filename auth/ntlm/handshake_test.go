package ntlm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testServer(policy ChannelBindingPolicy) *Server {
	return NewServer(ServerConfig{
		Lookup: PasswordTable(map[string]string{
			`CORP\alice`:      "s3cret!",
			"bob":             "hunter2",
			"carol@corp.test": "pässwörd",
		}),
		ChannelBinding: policy,
	})
}

func handshake(t *testing.T, srv *Server, cfg ClientConfig, serverCB []byte) (*Client, *Result, error) {
	t.Helper()
	c, err := NewClient(cfg)
	require.NoError(t, err)
	h := srv.NewHandshake()
	chal, err := h.Challenge(c.Negotiate())
	require.NoError(t, err)
	auth, err := c.Authenticate(chal)
	require.NoError(t, err)
	res, err := h.Authenticate(auth, serverCB)
	return c, res, err
}

func TestHandshakeUserForms(t *testing.T) {
	srv := testServer(ChannelBindingRelaxed)
	for _, tc := range []struct {
		user, password, wantUser, wantDomain string
	}{
		{`CORP\alice`, "s3cret!", "alice", "CORP"},
		{`corp\ALICE`, "s3cret!", "ALICE", "corp"},
		{"bob", "hunter2", "bob", ""},
		{`ANY\bob`, "hunter2", "bob", "ANY"},
		{"carol@corp.test", "pässwörd", "carol@corp.test", ""},
	} {
		t.Run(tc.user, func(t *testing.T) {
			c, res, err := handshake(t, srv, ClientConfig{User: tc.user, Password: tc.password}, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.wantUser, res.User)
			assert.Equal(t, tc.wantDomain, res.Domain)
			require.NotNil(t, res.Session)
			assert.True(t, res.Flags.Has(FlagSeal|FlagKeyExchange|Flag128))

			// Both directions, several messages: RC4 state and sequence
			// numbers must stay in step.
			for i, msg := range []string{"first", "", strings.Repeat("x", 5000), "last"} {
				sig, sealed, err := c.Session().Wrap([]byte(msg))
				require.NoError(t, err)
				if len(msg) > 4 {
					assert.NotContains(t, string(sealed), msg[:4])
				}
				plain, err := res.Session.Unwrap(sig, sealed)
				require.NoError(t, err, "message %d", i)
				assert.Equal(t, msg, string(plain))

				sig, sealed, err = res.Session.Wrap([]byte("reply " + msg))
				require.NoError(t, err)
				plain, err = c.Session().Unwrap(sig, sealed)
				require.NoError(t, err)
				assert.Equal(t, "reply "+msg, string(plain))
			}
			out, in := c.Session().Sequence()
			assert.Equal(t, [2]uint32{4, 4}, [2]uint32{out, in})
		})
	}
}

func TestHandshakeFailures(t *testing.T) {
	cb := []byte("bindings of the channel")
	for _, tc := range []struct {
		name     string
		policy   ChannelBindingPolicy
		cfg      ClientConfig
		serverCB []byte
		want     error
	}{
		{"wrong password", ChannelBindingRelaxed, ClientConfig{User: `CORP\alice`, Password: "wrong-pass"}, nil, ErrAuthenticationFailed},
		{"unknown user", ChannelBindingRelaxed, ClientConfig{User: "mallory", Password: "x"}, nil, ErrAuthenticationFailed},
		{"wrong domain table entry", ChannelBindingRelaxed, ClientConfig{User: `OTHER\alice`, Password: "s3cret!"}, nil, ErrAuthenticationFailed},
		{"cbt mismatch", ChannelBindingRelaxed, ClientConfig{User: "bob", Password: "hunter2", ChannelBindings: []byte("other")}, cb, ErrChannelBindingMismatch},
		{"cbt missing strict", ChannelBindingStrict, ClientConfig{User: "bob", Password: "hunter2"}, cb, ErrChannelBindingMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := handshake(t, testServer(tc.policy), tc.cfg, tc.serverCB)
			require.ErrorIs(t, err, tc.want)
			if tc.cfg.Password != "" {
				assert.NotContains(t, err.Error(), tc.cfg.Password)
			}
		})
	}
	t.Run("cbt match", func(t *testing.T) {
		_, res, err := handshake(t, testServer(ChannelBindingStrict), ClientConfig{User: "bob", Password: "hunter2", ChannelBindings: cb}, cb)
		require.NoError(t, err)
		assert.True(t, res.ChannelBound)
	})
	t.Run("target name", func(t *testing.T) {
		_, res, err := handshake(t, testServer(ChannelBindingRelaxed), ClientConfig{User: "bob", Password: "hunter2", TargetSPN: "HTTP/host.example"}, nil)
		require.NoError(t, err)
		assert.Equal(t, "HTTP/host.example", res.TargetName)
	})
	t.Run("cbt missing relaxed", func(t *testing.T) {
		_, res, err := handshake(t, testServer(ChannelBindingRelaxed), ClientConfig{User: "bob", Password: "hunter2"}, cb)
		require.NoError(t, err)
		assert.False(t, res.ChannelBound)
	})
}

func TestTamperedAuthenticate(t *testing.T) {
	srv := testServer(ChannelBindingRelaxed)
	c, err := NewClient(ClientConfig{User: "bob", Password: "hunter2"})
	require.NoError(t, err)
	h := srv.NewHandshake()
	chal, err := h.Challenge(c.Negotiate())
	require.NoError(t, err)
	auth, err := c.Authenticate(chal)
	require.NoError(t, err)

	// Flip a negotiate flag: the NTProofStr still verifies, the MIC must not.
	bad := append([]byte(nil), auth...)
	bad[61] ^= byte(FlagAlwaysSign >> 8) // NegotiateFlags is at offset 60
	_, err = h.Authenticate(bad, nil)
	require.ErrorIs(t, err, ErrMICMismatch)

	// Flip a byte inside the NT response: the proof fails.
	am, err := ParseAuthenticate(auth)
	require.NoError(t, err)
	i := bytes.Index(auth, am.NtChallengeResponse)
	bad = append([]byte(nil), auth...)
	bad[i+20] ^= 1
	_, err = h.Authenticate(bad, nil)
	require.ErrorIs(t, err, ErrAuthenticationFailed)

	// The genuine message still passes.
	_, err = h.Authenticate(auth, nil)
	require.NoError(t, err)
}

// Azure's go-ntlmssp is what the HTTPS path uses for the handshake; the
// server must accept its AUTHENTICATE (no MIC, no key exchange, no sealing).
func TestServerAcceptsAzureClient(t *testing.T) {
	srv := testServer(ChannelBindingRelaxed)
	neg, err := ntlmssp.NewNegotiateMessage("", "")
	require.NoError(t, err)
	h := srv.NewHandshake()
	chal, err := h.Challenge(neg)
	require.NoError(t, err)
	ch, err := ParseChallenge(chal)
	require.NoError(t, err)
	assert.False(t, ch.Flags.Has(FlagKeyExchange), "server must not select key exchange the client did not offer")

	auth, err := ntlmssp.NewAuthenticateMessage(chal, `CORP\alice`, "s3cret!", nil)
	require.NoError(t, err)
	res, err := h.Authenticate(auth, nil)
	require.NoError(t, err)
	assert.Equal(t, "alice", res.User)
	assert.Nil(t, res.Session)

	h = srv.NewHandshake()
	chal, err = h.Challenge(neg)
	require.NoError(t, err)
	auth, err = ntlmssp.NewAuthenticateMessage(chal, `CORP\alice`, "nope", nil)
	require.NoError(t, err)
	_, err = h.Authenticate(auth, nil)
	require.ErrorIs(t, err, ErrAuthenticationFailed)
}

func TestSessionRejectsReplayAndTamper(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	c, err := NewSession(key, DefaultClientFlags, true)
	require.NoError(t, err)
	s, err := NewSession(key, DefaultClientFlags, false)
	require.NoError(t, err)

	sig, sealed, err := c.Wrap([]byte("hello"))
	require.NoError(t, err)
	sealed[0] ^= 1
	_, err = s.Unwrap(sig, sealed)
	require.ErrorIs(t, err, ErrSignature)
	_, err = s.Unwrap(sig, sealed) // broken afterwards
	require.ErrorIs(t, err, ErrSignature)

	s2, err := NewSession(key, DefaultClientFlags, false)
	require.NoError(t, err)
	c2, err := NewSession(key, DefaultClientFlags, true)
	require.NoError(t, err)
	sig1, sealed1, _ := c2.Wrap([]byte("one"))
	sig2, sealed2, _ := c2.Wrap([]byte("two"))
	_, err = s2.Unwrap(sig2, sealed2) // out of order
	require.ErrorIs(t, err, ErrSignature)
	_ = sig1
	_ = sealed1

	_, err = s2.Unwrap(make([]byte, 3), nil)
	require.True(t, errors.Is(err, ErrMalformed))
}

func TestParseMalformed(t *testing.T) {
	c, err := NewClient(ClientConfig{User: "bob", Password: "hunter2"})
	require.NoError(t, err)
	neg := c.Negotiate()
	chal, err := testServer(0).NewHandshake().Challenge(neg)
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		parse func([]byte) error
		msg   []byte
	}{
		{"empty challenge", func(b []byte) error { _, err := ParseChallenge(b); return err }, nil},
		{"negotiate as challenge", func(b []byte) error { _, err := ParseChallenge(b); return err }, neg},
		{"truncated challenge", func(b []byte) error { _, err := ParseChallenge(b); return err }, chal[:len(chal)-3]},
		{"challenge offset overflow", func(b []byte) error { _, err := ParseChallenge(b); return err }, func() []byte {
			b := append([]byte(nil), chal...)
			b[44], b[45], b[46], b[47] = 0xff, 0xff, 0xff, 0x7f
			return b
		}()},
		{"short authenticate", func(b []byte) error { _, err := ParseAuthenticate(b); return err }, []byte("NTLMSSP\x00\x03\x00\x00\x00")},
		{"bad signature", func(b []byte) error { _, err := ParseNegotiate(b); return err }, []byte("NTLMSSX\x00\x01\x00\x00\x00\x00\x00\x00\x00")},
		{"av pairs unterminated", func(b []byte) error { _, err := ParseAvPairs(b); return err }, []byte{1, 0, 2, 0, 'a', 0}},
		{"av pair overrun", func(b []byte) error { _, err := ParseAvPairs(b); return err }, []byte{1, 0, 9, 0, 'a', 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.parse(tc.msg), ErrMalformed)
		})
	}
}

func TestClientRejectsOversizedNames(t *testing.T) {
	c, err := NewClient(ClientConfig{User: strings.Repeat("u", 40000), Password: "p"})
	require.NoError(t, err)
	chal, err := testServer(0).NewHandshake().Challenge(c.Negotiate())
	require.NoError(t, err)
	_, err = c.Authenticate(chal)
	require.ErrorIs(t, err, ErrUnsupported)
}

// Negotiation variants: without key exchange (the session key is the key
// exchange key and checksums are not RC4-encrypted) and with weaker key
// lengths (SEALKEY truncation).
func TestHandshakeFlagVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
	}{
		{"no key exchange", DefaultClientFlags &^ FlagKeyExchange},
		{"56-bit", DefaultClientFlags &^ Flag128},
		{"40-bit", DefaultClientFlags &^ (Flag128 | Flag56)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, res, err := handshake(t, testServer(ChannelBindingRelaxed), ClientConfig{User: "bob", Password: "hunter2", Flags: tc.flags}, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.flags&(FlagKeyExchange|Flag128|Flag56), res.Flags&(FlagKeyExchange|Flag128|Flag56))
			for _, msg := range []string{"a", "bb", "ccc"} {
				sig, sealed, err := c.Session().Wrap([]byte(msg))
				require.NoError(t, err)
				plain, err := res.Session.Unwrap(sig, sealed)
				require.NoError(t, err)
				assert.Equal(t, msg, string(plain))
			}
		})
	}
	t.Run("server without sealing", func(t *testing.T) {
		c, err := NewClient(ClientConfig{User: "bob", Password: "hunter2"})
		require.NoError(t, err)
		c.Negotiate()
		ch := &Challenge{Flags: FlagUnicode | FlagNTLM | FlagExtendedSessionSecurity | FlagTargetInfo | FlagSign, TargetInfo: AvPairs{{ID: AvNbDomainName, Value: utf16le("D")}}}
		_, err = c.Authenticate(ch.Marshal())
		require.ErrorIs(t, err, ErrNoSealing)
	})
	t.Run("server without extended session security", func(t *testing.T) {
		c, err := NewClient(ClientConfig{User: "bob", Password: "hunter2"})
		require.NoError(t, err)
		c.Negotiate()
		ch := &Challenge{Flags: FlagUnicode | FlagNTLM | FlagTargetInfo | FlagSeal, TargetInfo: AvPairs{{ID: AvNbDomainName, Value: utf16le("D")}}}
		_, err = c.Authenticate(ch.Marshal())
		require.ErrorIs(t, err, ErrUnsupported)
	})
	t.Run("authenticate before negotiate", func(t *testing.T) {
		c, err := NewClient(ClientConfig{User: "bob", Password: "hunter2"})
		require.NoError(t, err)
		_, err = c.Authenticate(nil)
		require.ErrorIs(t, err, ErrState)
	})
}
