package auth

import (
	"bytes"
	"context"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

// BenchmarkKerberosSeal measures sealing and unsealing a 64 KiB message
// (a WinRM envelope of the default MaxEnvelopeSize is 500 KiB at most).
func BenchmarkKerberosSeal(b *testing.B) {
	c, s := testSealers(b, etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	msg := bytes.Repeat([]byte("<s:Envelope/>"), 64<<10/13)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		sig, sealed, err := c.Wrap(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Unwrap(sig, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKerberosToken measures building an Authorization header from a
// cached service ticket (what a per-request server costs the client).
func BenchmarkKerberosToken(b *testing.B) {
	k := testKDC(b)
	testPrincipal(b, k, "benchuser", "Bench-Pass-1")
	testPrincipal(b, k, "HTTP/bench.example", "")
	cfg, err := k.Config()
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewKerberosWithPassword("benchuser", "", "Bench-Pass-1", KerberosConfig{Krb5Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if _, err := a.token(ctx, "HTTP/bench.example", nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.token(ctx, "HTTP/bench.example", []byte("tls-server-end-point:x")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
