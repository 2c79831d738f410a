package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func certWith(t *testing.T, alg x509.SignatureAlgorithm) *x509.Certificate {
	t.Helper()
	var pub, priv any
	switch alg {
	case x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		pub, priv = &k.PublicKey, k
	case x509.PureEd25519:
		p, k, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		pub, priv = p, k
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		pub, priv = &k.PublicKey, k
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "winrm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		SignatureAlgorithm: alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func TestTLSServerEndPointHash(t *testing.T) {
	for _, tc := range []struct {
		alg  x509.SignatureAlgorithm
		hash crypto.Hash
	}{
		{x509.SHA256WithRSA, crypto.SHA256},
		{x509.SHA384WithRSA, crypto.SHA384},
		{x509.SHA512WithRSA, crypto.SHA512},
		{x509.ECDSAWithSHA256, crypto.SHA256},
		{x509.ECDSAWithSHA384, crypto.SHA384},
		{x509.ECDSAWithSHA512, crypto.SHA512},
		{x509.PureEd25519, crypto.SHA256},
	} {
		t.Run(tc.alg.String(), func(t *testing.T) {
			c := certWith(t, tc.alg)
			h := tc.hash.New()
			h.Write(c.Raw)
			want := append([]byte("tls-server-end-point:"), h.Sum(nil)...)
			assert.Equal(t, want, TLSServerEndPoint(c))

			got, err := TLSChannelBindings(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}})
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("SHA1 and MD5 become SHA-256", func(t *testing.T) {
		c := certWith(t, x509.SHA256WithRSA)
		c.SignatureAlgorithm = x509.SHA1WithRSA // only the algorithm field matters
		h := crypto.SHA256.New()
		h.Write(c.Raw)
		assert.Equal(t, append([]byte("tls-server-end-point:"), h.Sum(nil)...), TLSServerEndPoint(c))
		c.SignatureAlgorithm = x509.MD5WithRSA
		assert.Equal(t, append([]byte("tls-server-end-point:"), h.Sum(nil)...), TLSServerEndPoint(c))
	})
	_, err := TLSChannelBindings(nil)
	require.ErrorIs(t, err, ErrNoServerCertificate)
	_, err = TLSChannelBindings(&tls.ConnectionState{})
	require.ErrorIs(t, err, ErrNoServerCertificate)
}

func TestGSSChannelBindings(t *testing.T) {
	app := []byte("tls-server-end-point:0123456789")
	b := GSSChannelBindings(app)
	require.Len(t, b, 20+len(app))
	assert.Equal(t, make([]byte, 16), b[:16], "no initiator or acceptor address")
	assert.Equal(t, uint32(len(app)), binary.LittleEndian.Uint32(b[16:]))
	assert.Equal(t, app, b[20:])
	assert.Equal(t, md5.Sum(b), ChannelBindingHash(app))
}
