package wsmantest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// newClientCert makes a CA and a client certificate for commonName signed
// by it.
func newClientCert(t *testing.T, commonName string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: commonName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSServerClientCertificateAndNTLMChannelBinding(t *testing.T) {
	cas, cert := newClientCert(t, "alice-cert")
	srv := wsmantest.NewTLSServer(wsmantest.Options{
		Users:            map[string]string{"alice": "alice-pw"},
		CertificateUsers: map[string]string{"alice-cert": "alice"},
		ClientCAs:        cas,
	})
	defer srv.Close()
	srv.HandleScript("whoami", wsmantest.HandlerFunc(func(_ context.Context, inv *wsmantest.Invocation) error {
		return inv.WriteOutput(clixml.String(inv.User))
	}))
	require.NotNil(t, srv.Certificate())
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	// Client certificate mapped to alice.
	ca, err := auth.NewCertificate(cert)
	require.NoError(t, err)
	wc, err := wsman.NewClient(srv.URL, wsman.Config{Auth: ca, RootCAs: roots, OperationTimeout: 5 * time.Second})
	require.NoError(t, err)
	c := openPool(t, wc, "", 0)
	res := c.run("whoami")
	assert.Equal(t, []clixml.Value{clixml.String("alice")}, res.output)
	assert.Equal(t, psrp.PSInvocationCompleted, res.state)

	// NTLM over HTTPS with channel binding.
	nc, err := wsman.NewClient(srv.URL, wsman.Config{Auth: &auth.NTLM{Username: "alice", Password: "alice-pw"}, RootCAs: roots, OperationTimeout: 5 * time.Second})
	require.NoError(t, err)
	c2 := openPool(t, nc, "", 0)
	assert.Equal(t, []clixml.Value{clixml.String("alice")}, c2.run("whoami").output)

	// No credentials at all: 401.
	anon, err := wsman.NewClient(srv.URL, wsman.Config{RootCAs: roots})
	require.NoError(t, err)
	_, err = anon.EnumerateShells(testCtx(t))
	require.Error(t, err)

	// The server's certificate is verified by default: an untrusting client fails.
	untrusting, err := wsman.NewClient(srv.URL, wsman.Config{Auth: ca})
	require.NoError(t, err)
	_, err = untrusting.EnumerateShells(testCtx(t))
	require.Error(t, err)
}
