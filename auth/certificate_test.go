package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is a throw-away certificate authority for client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

// issue returns a client certificate for user (the UPN-style subject
// alternative name WinRM certificate mappings use is not needed here).
func (ca *testCA) issue(t *testing.T, user string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: user},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// newMutualTLSServer starts an HTTPS server that requires and verifies a
// client certificate issued by ca and records the Authorization header and
// the client's subject.
func newMutualTLSServer(t *testing.T, ca *testCA) (*httptest.Server, func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != CertificateAuthorization {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if cn == "unmapped" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen = append(seen, cn)
		mu.Unlock()
		io.WriteString(w, "hello "+cn)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func getBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestCertificateMutualTLS(t *testing.T) {
	ca := newTestCA(t, "test CA")
	srv, seen := newMutualTLSServer(t, ca)
	cert := ca.issue(t, "alice")
	a, err := NewCertificate(cert)
	require.NoError(t, err)
	assert.Equal(t, "Certificate", a.Scheme())
	sum := sha1.Sum(cert.Certificate[0])
	assert.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), a.Thumbprint())
	assert.Equal(t, cert.Certificate[0], a.TLSClientCertificate().Certificate[0])
	var _ TLSClientCertificateProvider = a

	// A plain *http.Transport without a client certificate: Wrap adds it
	// to a clone and leaves the original alone.
	base := srv.Client().Transport.(*http.Transport)
	rt, err := a.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	assert.Empty(t, base.TLSClientConfig.Certificates, "caller's transport not modified")
	got, err := getBody(&http.Client{Transport: rt}, srv.URL+"/wsman")
	require.NoError(t, err)
	assert.Equal(t, "hello alice", got)
	assert.Equal(t, []string{"alice"}, seen())

	// A transport that already presents the certificate (what the wsman
	// transport does with TLSClientCertificateProvider) is used as is.
	owned := base.Clone()
	owned.TLSClientConfig.Certificates = []tls.Certificate{a.TLSClientCertificate()}
	rt, err = a.Wrap(owned, WrapOptions{})
	require.NoError(t, err)
	assert.Same(t, owned, rt.(*certificateTransport).next)
	got, err = getBody(&http.Client{Transport: rt}, srv.URL+"/wsman")
	require.NoError(t, err)
	assert.Equal(t, "hello alice", got)
}

func TestCertificateFailures(t *testing.T) {
	ca := newTestCA(t, "test CA")
	srv, _ := newMutualTLSServer(t, ca)
	base := srv.Client().Transport.(*http.Transport)

	// Without a certificate the TLS handshake fails.
	_, err := getBody(&http.Client{Transport: base}, srv.URL)
	require.Error(t, err)

	// A certificate from another CA is refused in the handshake.
	stranger, err := NewCertificate(newTestCA(t, "other CA").issue(t, "mallory"))
	require.NoError(t, err)
	rt, err := stranger.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	_, err = getBody(&http.Client{Transport: rt}, srv.URL)
	require.Error(t, err)

	// A valid certificate the server does not map to a user: 401.
	unmapped, err := NewCertificate(ca.issue(t, "unmapped"))
	require.NoError(t, err)
	rt, err = unmapped.Wrap(base, WrapOptions{})
	require.NoError(t, err)
	_, err = getBody(&http.Client{Transport: rt}, srv.URL)
	require.ErrorIs(t, err, ErrCertificateRejected)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), unmapped.Thumbprint())

	// Plain HTTP is refused even with AllowUnencrypted; nothing is sent.
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer plain.Close()
	ok, err := NewCertificate(ca.issue(t, "alice"))
	require.NoError(t, err)
	rt, err = ok.Wrap(plain.Client().Transport, WrapOptions{AllowUnencrypted: true})
	require.NoError(t, err)
	_, err = getBody(&http.Client{Transport: rt}, plain.URL)
	require.ErrorIs(t, err, ErrCertificateNeedsHTTPS)
	require.ErrorIs(t, err, ErrInsecureTransport)
	assert.Zero(t, hits.Load())
}

func TestNewCertificateInvalid(t *testing.T) {
	_, err := NewCertificate(tls.Certificate{})
	require.ErrorIs(t, err, ErrCertificateInvalid)
	_, err = NewCertificate(tls.Certificate{Certificate: [][]byte{[]byte("not DER")}})
	require.ErrorIs(t, err, ErrCertificateInvalid)
	ca := newTestCA(t, "test CA")
	c := ca.issue(t, "alice")
	c.PrivateKey = nil
	_, err = NewCertificate(c)
	require.ErrorIs(t, err, ErrCertificateInvalid)
}

func TestNewCertificateFromFiles(t *testing.T) {
	ca := newTestCA(t, "test CA")
	c := ca.issue(t, "alice")
	dir := t.TempDir()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.pem"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k.pem"), keyPEM, 0o600))

	a, err := NewCertificateFromFiles(filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"))
	require.NoError(t, err)
	assert.Equal(t, "alice", a.Leaf().Subject.CommonName)

	_, err = NewCertificateFromFiles(filepath.Join(dir, "c.pem"), filepath.Join(dir, "missing.pem"))
	require.ErrorIs(t, err, ErrCertificateInvalid)
}
