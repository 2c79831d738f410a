package wsman

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psremoting/psremoting/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func selfSignedClientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "winrm-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func mutualTLSServer(t *testing.T, sawCN *atomic.Value) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, err := ParseEnvelope(b)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if len(r.TLS.PeerCertificates) > 0 {
			sawCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestClientCertificates(t *testing.T) {
	var cn atomic.Value
	srv := mutualTLSServer(t, &cn)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cert := selfSignedClientCert(t)
	ctx := context.Background()

	c := newTestClient(t, srv.URL, Config{RootCAs: pool})
	require.Error(t, c.Delete(ctx, testRef), "the server requires a client certificate")

	c = newTestClient(t, srv.URL, Config{RootCAs: pool, ClientCertificates: []tls.Certificate{cert}})
	require.NoError(t, c.Delete(ctx, testRef))
	assert.Equal(t, "winrm-client", cn.Load())

	// auth.Certificate reaches the handshake through
	// auth.TLSClientCertificateProvider.
	cn.Store("")
	ac, err := auth.NewCertificate(cert)
	require.NoError(t, err)
	c = newTestClient(t, srv.URL, Config{RootCAs: pool, Auth: ac})
	require.NoError(t, c.Delete(ctx, testRef))
	assert.Equal(t, "winrm-client", cn.Load())
}

func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, _ := ParseEnvelope(b)
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	for i := 0; i < 10; i++ {
		require.NoError(t, c.Delete(context.Background(), testRef))
	}
	assert.EqualValues(t, 1, conns.Load(), "sequential requests share one connection")
}

func TestBasicRefusedOverHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Auth: &auth.Basic{Username: "u", Password: "hunter2"}})
	err := c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, ErrUnauthorized)
	require.ErrorIs(t, err, auth.ErrInsecureTransport)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Zero(t, hits.Load(), "nothing was sent")
}

func TestCustomTransportAndDialer(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) { return 200, NewResponse(req) })
	var dials atomic.Int32
	c := newTestClient(t, "http://winrm.invalid:5985/wsman", Config{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	})
	require.NoError(t, c.Delete(context.Background(), testRef))
	assert.EqualValues(t, 1, dials.Load())

	var used atomic.Int32
	c = newTestClient(t, srv.URL, Config{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})})
	require.NoError(t, c.Delete(context.Background(), testRef))
	assert.EqualValues(t, 1, used.Load())
}
