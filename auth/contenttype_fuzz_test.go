package auth

import "testing"

func FuzzParseEncryptedContentType(f *testing.F) {
	for _, s := range []string{
		EncryptedContentType(ProtocolSPNEGO), EncryptedContentType(ProtocolKerberos),
		`multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`,
		`multipart/encrypted; boundary="Encrypted Boundary"`, SOAPContentType, `;;;=`, `multipart/encrypted;protocol="a\"b";boundary="Encrypted Boundary"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		p, ok := ParseEncryptedContentType(ct)
		if !ok {
			if p != "" {
				t.Fatalf("protocol %q without ok", p)
			}
			return
		}
		if p == "" {
			t.Fatal("ok without a protocol")
		}
		// A protocol without quotes or controls survives a round trip.
		for _, c := range p {
			if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
				return
			}
		}
		if back, ok := ParseEncryptedContentType(EncryptedContentType(p)); !ok || back != p {
			t.Fatalf("%q -> %q -> %q, %v", ct, p, back, ok)
		}
	})
}
