package ntlm

import (
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

func seedMessages(f *testing.F) (neg, chal, auth []byte) {
	c, err := NewClient(ClientConfig{User: `CORP\alice`, Password: "s3cret!", ChannelBindings: []byte("cb")})
	if err != nil {
		f.Fatal(err)
	}
	neg = c.Negotiate()
	h := testServer(ChannelBindingRelaxed).NewHandshake()
	if chal, err = h.Challenge(neg); err != nil {
		f.Fatal(err)
	}
	if auth, err = c.Authenticate(chal); err != nil {
		f.Fatal(err)
	}
	return neg, chal, auth
}

func FuzzParseChallenge(f *testing.F) {
	neg, chal, auth := seedMessages(f)
	for _, s := range [][]byte{neg, chal, auth, chal[:40], {}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseChallenge(b)
		if err != nil {
			return
		}
		// A parsed challenge must re-encode and drive a client without
		// panicking.
		if _, err := ParseChallenge(m.Marshal()); err != nil {
			t.Fatalf("re-encoded challenge does not parse: %v", err)
		}
		c, _ := NewClient(ClientConfig{User: "u", Password: "p"})
		c.Negotiate()
		_, _ = c.Authenticate(b)
	})
}

func FuzzParseAuthenticate(f *testing.F) {
	neg, _, auth := seedMessages(f)
	azNeg, _ := ntlmssp.NewNegotiateMessage("", "")
	azChal, err := testServer(ChannelBindingRelaxed).NewHandshake().Challenge(azNeg)
	if err != nil {
		f.Fatal(err)
	}
	az, err := ntlmssp.NewAuthenticateMessage(azChal, "bob", "hunter2", nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{auth, az, neg, auth[:70], {}} {
		f.Add(s)
	}
	srv := testServer(ChannelBindingRelaxed)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseAuthenticate(b)
		h := srv.NewHandshake()
		if _, err := h.Challenge(neg); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Authenticate(b, []byte("cb")); err == nil {
			// Only a message computed from the password can pass, and
			// the server challenge is fresh, so fuzzed input never does.
			t.Fatalf("fuzzed AUTHENTICATE accepted")
		}
	})
}

func FuzzParseNegotiate(f *testing.F) {
	neg, chal, _ := seedMessages(f)
	az, _ := ntlmssp.NewNegotiateMessage("DOM", "WS")
	for _, s := range [][]byte{neg, az, chal, {}} {
		f.Add(s)
	}
	srv := testServer(ChannelBindingRelaxed)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseNegotiate(b)
		_, _ = srv.NewHandshake().Challenge(b)
	})
}
