package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeFallback stands in for NTLM: it marks requests with its own
// Authorization header and records the bodies it sent.
type fakeFallback struct {
	mu     sync.Mutex
	bodies []string
}

func (f *fakeFallback) Scheme() string { return "Fake" }

func (f *fakeFallback) Wrap(next http.RoundTripper, _ WrapOptions) (http.RoundTripper, error) {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body.Close()
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, string(body))
		f.mu.Unlock()
		r := krbWithBody(req, body, "NTLM fake-token")
		return next.RoundTrip(r)
	}), nil
}

func (f *fakeFallback) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ntlmOnlyServer offers only NTLM and accepts the fake fallback's header.
func ntlmOnlyServer(t *testing.T, tlsOn bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "NTLM fake-token" {
			w.Header().Set("WWW-Authenticate", "NTLM")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "ntlm:"+string(b))
	})
	var s *httptest.Server
	if tlsOn {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// offlineKerberos is a Kerberos authenticator for a realm with no KDC, for
// tests where Kerberos must not be reached.
func offlineKerberos(t *testing.T) *Kerberos {
	t.Helper()
	c, err := config.NewFromString("[libdefaults]\n default_realm = OFFLINE.TEST\n dns_lookup_kdc = false\n[realms]\n OFFLINE.TEST = {\n  kdc = 127.0.0.1:1\n }\n")
	require.NoError(t, err)
	k, err := NewKerberosWithPassword("user", "", "pw", KerberosConfig{Krb5Config: c})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	return k
}

func TestNegotiateFallbackWhenServerOffersOnlyNTLM(t *testing.T) {
	srv := ntlmOnlyServer(t, true)
	fb := &fakeFallback{}
	n := NewNegotiate(offlineKerberos(t), fb)
	assert.Equal(t, "Negotiate", n.Scheme())
	c := wrapClient(t, srv, n, WrapOptions{})
	for _, body := range []string{"one", "two"} {
		got, err := post(context.Background(), c, srv.URL, body)
		require.NoError(t, err)
		assert.Equal(t, "ntlm:"+body, got)
	}
	assert.Equal(t, []string{"one", "two"}, fb.sent(), "body replayed to the fallback; then fallback only")

	// Without a fallback: a typed error naming the offered schemes.
	_, err := post(context.Background(), wrapClient(t, srv, NewNegotiate(offlineKerberos(t), nil), WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrKerberosNotOffered)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Contains(t, err.Error(), `"NTLM"`)
}

func TestNegotiatePlainHTTP(t *testing.T) {
	srv := ntlmOnlyServer(t, false)
	fb := &fakeFallback{}
	got, err := post(context.Background(), wrapClient(t, srv, NewNegotiate(offlineKerberos(t), fb), WrapOptions{}), srv.URL, "p")
	require.NoError(t, err)
	assert.Equal(t, "ntlm:p", got)
	assert.Equal(t, []string{"p"}, fb.sent())

	// Without a fallback, Kerberos encryption is attempted and the KDC
	// error returned.
	_, err = post(context.Background(), wrapClient(t, srv, NewNegotiate(offlineKerberos(t), nil), WrapOptions{}), srv.URL, "p")
	require.ErrorIs(t, err, ErrKerberosKDCUnreachable)
}

func TestNegotiateKDCUnreachableFallsBack(t *testing.T) {
	srv := newKRBServer(t, nil, true, func(s *krbServer) { s.offer = []string{"Negotiate", "NTLM"} })
	// The krbServer cannot verify without a keytab, but the fake fallback
	// header is not a Negotiate token: make the server accept it.
	fbSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "NTLM fake-token" {
			io.WriteString(w, "fallback")
			return
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer fbSrv.Close()
	fb := &fakeFallback{}
	got, err := post(context.Background(), wrapClient(t, fbSrv, NewNegotiate(offlineKerberos(t), fb), WrapOptions{}), fbSrv.URL, "q")
	require.NoError(t, err)
	assert.Equal(t, "fallback", got)
	assert.Equal(t, []string{"q"}, fb.sent())

	// Kerberos alone reports the unreachable KDC.
	_, err = post(context.Background(), wrapClient(t, fbSrv, offlineKerberos(t), WrapOptions{}), fbSrv.URL, "q")
	require.ErrorIs(t, err, ErrKerberosKDCUnreachable)
}

func TestNegotiateKerberos(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	kt := testServiceKeytab(t, k)
	srv := newKRBServer(t, kt, true, func(s *krbServer) { s.offer = []string{"Negotiate", "NTLM"} })
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	fb := &fakeFallback{}
	got, err := post(context.Background(), wrapClient(t, srv.Server, NewNegotiate(a, fb), WrapOptions{}), srv.URL, "k")
	require.NoError(t, err)
	assert.Equal(t, "echo:k", got)
	assert.Empty(t, fb.sent(), "Kerberos worked: no fallback")

	// An unknown SPN falls back.
	cfg := krbConfig(t, k)
	cfg.Hostname = "unknown-host.example"
	u, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer u.Close()
	fbSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "NTLM fake-token" {
			io.WriteString(w, "fallback")
			return
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer fbSrv.Close()
	got, err = post(context.Background(), wrapClient(t, fbSrv, NewNegotiate(u, fb), WrapOptions{}), fbSrv.URL, "s")
	require.NoError(t, err)
	assert.Equal(t, "fallback", got)

	// A wrong password does not fall back.
	bad, err := NewKerberosWithPassword("alice", "", "not-the-password", krbConfig(t, k))
	require.NoError(t, err)
	defer bad.Close()
	fb2 := &fakeFallback{}
	_, err = post(context.Background(), wrapClient(t, srv.Server, NewNegotiate(bad, fb2), WrapOptions{}), srv.URL, "w")
	require.ErrorIs(t, err, ErrKerberosCredentials)
	assert.NotContains(t, err.Error(), "not-the-password")
	assert.Empty(t, fb2.sent())
}

func TestNegotiateWithoutKerberos(t *testing.T) {
	_, err := NewNegotiate(nil, nil).Wrap(nil, WrapOptions{})
	require.ErrorIs(t, err, ErrKerberosConfig)
	srv := ntlmOnlyServer(t, true)
	fb := &fakeFallback{}
	got, err := post(context.Background(), wrapClient(t, srv, NewNegotiate(nil, fb), WrapOptions{}), srv.URL, "f")
	require.NoError(t, err)
	assert.Equal(t, "ntlm:f", got)
}

// With this package's NTLM as the fallback and no reachable KDC, Negotiate
// completes with NTLM over HTTPS against the NTLM server middleware.
func TestNegotiateFallsBackToNTLM(t *testing.T) {
	srvAuth := NewNTLMServer(NTLMServerConfig{Users: map[string]string{`CORP\alice`: "Alice-NTLM-1"}})
	srv := httptest.NewUnstartedServer(srvAuth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := AuthenticatedUser(r.Context())
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, user+":"+string(b))
	})))
	srv.Config.ConnState = srvAuth.ConnState
	srv.StartTLS()
	defer srv.Close()

	n := NewNegotiate(offlineKerberos(t), &NTLM{Username: `CORP\alice`, Password: "Alice-NTLM-1"})
	c := wrapClient(t, srv, n, WrapOptions{})
	for _, body := range []string{"a", "b"} {
		got, err := post(context.Background(), c, srv.URL, body)
		require.NoError(t, err)
		assert.Equal(t, `CORP\alice:`+body, got)
	}
}
