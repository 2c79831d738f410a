package auth_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
)

// The authenticators through the wsman client, as applications use them.

const testEnvelope = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body/></s:Envelope>`

func trust(cert *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(cert)
	return p
}

func TestWSManKerberosHTTPS(t *testing.T) {
	cfg := auth.KerberosTestUser(t)
	srv := auth.KerberosTestServerTLS(t)
	k, err := auth.NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer k.Close()
	c, err := wsman.NewClient(srv.URL+"/wsman", wsman.Config{Auth: k, RootCAs: trust(srv.Certificate())})
	require.NoError(t, err)
	for range 2 {
		got, err := c.Post(context.Background(), []byte(testEnvelope))
		require.NoError(t, err)
		assert.Equal(t, "echo:"+testEnvelope, string(got))
	}
}

func TestWSManKerberosEncryptedHTTP(t *testing.T) {
	cfg := auth.KerberosTestUser(t)
	srv, received := auth.KerberosTestServerEncrypted(t)
	k, err := auth.NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer k.Close()
	c, err := wsman.NewClient(srv.URL+"/wsman", wsman.Config{Auth: auth.NewNegotiate(k, nil)})
	require.NoError(t, err)
	big := strings.Replace(testEnvelope, "<s:Body/>", "<s:Body>"+strings.Repeat("x", 200000)+"</s:Body>", 1)
	for _, env := range []string{testEnvelope, big} {
		got, err := c.Post(context.Background(), []byte(env))
		require.NoError(t, err)
		assert.Equal(t, "echo:"+env, string(got))
	}
	assert.Equal(t, []string{testEnvelope, big}, received())
}

func TestWSManCertificate(t *testing.T) {
	srv, cert := auth.CertificateTestServer(t, "alice")
	a, err := auth.NewCertificate(cert)
	require.NoError(t, err)
	// wsman puts the certificate in its own TLS configuration
	// (auth.TLSClientCertificateProvider).
	c, err := wsman.NewClient(srv.URL+"/wsman", wsman.Config{Auth: a, RootCAs: trust(srv.Certificate())})
	require.NoError(t, err)
	got, err := c.Post(context.Background(), []byte(testEnvelope))
	require.NoError(t, err)
	assert.Equal(t, "hello alice", string(got))

	// Without the authenticator the handshake fails.
	c, err = wsman.NewClient(srv.URL+"/wsman", wsman.Config{RootCAs: trust(srv.Certificate())})
	require.NoError(t, err)
	_, err = c.Post(context.Background(), []byte(testEnvelope))
	require.Error(t, err)
}
