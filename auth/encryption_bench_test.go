package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// BenchmarkSealUnseal measures sealing and unsealing a 150 KiB SOAP message
// (a common MaxEnvelopeSize).
func BenchmarkSealUnseal(b *testing.B) {
	msg := []byte(strings.Repeat("<rsp:Stream>AAAA</rsp:Stream>", 150<<10/29))
	c, s := sessionPair(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		body, _, err := SealBody(c, ProtocolSPNEGO, "", msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := UnsealBody(s, ProtocolSPNEGO, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNTLMHandshake measures a full NEGOTIATE/CHALLENGE/AUTHENTICATE
// exchange with verification, without HTTP.
func BenchmarkNTLMHandshake(b *testing.B) {
	srv := ntlm.NewServer(ntlm.ServerConfig{Lookup: ntlm.PasswordTable(map[string]string{"u": "p"})})
	b.ReportAllocs()
	for b.Loop() {
		c, _ := ntlm.NewClient(ntlm.ClientConfig{User: "u", Password: "p"})
		h := srv.NewHandshake()
		chal, err := h.Challenge(c.Negotiate())
		if err != nil {
			b.Fatal(err)
		}
		a, err := c.Authenticate(chal)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Authenticate(a, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNTLMEncryptedRoundTrip measures one sealed 4 KiB request and
// response over a loopback httptest server on an authenticated connection.
func BenchmarkNTLMEncryptedRoundTrip(b *testing.B) {
	f := newNTLMFixture(b, false, NTLMServerConfig{})
	c := f.client(b, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{})
	body := strings.Repeat("x", 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := postSOAP(context.Background(), c, f.srv.URL, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.negotiates.Load()), "handshakes")
}
