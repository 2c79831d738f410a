package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth/ntlm"
)

const testSOAP = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>secret-payload-ÄÖ</s:Body></s:Envelope>`

// ntlmFixture is an httptest server with NTLMServer in front of an echo
// handler, recording what crossed the wire.
type ntlmFixture struct {
	srv        *httptest.Server
	ntlm       *NTLMServer
	negotiates atomic.Int32
	mu         sync.Mutex
	wire       [][]byte // raw request bodies as received
	wireCT     []string
	users      []string
	status     int // status the inner handler answers with
	// closeChallenges is how many of the next NEGOTIATE legs are answered
	// with "Connection: close", so the AUTHENTICATE leg goes out on a new
	// connection.
	closeChallenges atomic.Int32
	// closeAuthenticates is the same for the AUTHENTICATE legs' answers.
	closeAuthenticates atomic.Int32
}

func newNTLMFixture(t testing.TB, tlsOn bool, cfg NTLMServerConfig) *ntlmFixture {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{`CORP\alice`: "s3cret!", "bob@corp.test": "hunter2"}
	}
	f := &ntlmFixture{status: http.StatusOK}
	f.ntlm = NewNTLMServer(cfg)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, _ := AuthenticatedUser(r.Context())
		f.mu.Lock()
		f.users = append(f.users, u)
		status := f.status
		f.mu.Unlock()
		w.Header().Set("Content-Type", SOAPContentType)
		w.WriteHeader(status)
		_, _ = w.Write(append([]byte("echo:"+r.Header.Get("Content-Type")+":"), b...))
	})
	wrapped := f.ntlm.Handler(inner)
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Negotiate "); ok && strings.HasPrefix(tok, "TlRMTVNTUAAB") {
			f.negotiates.Add(1)
			if f.closeChallenges.Add(-1) >= 0 {
				w.Header().Set("Connection", "close")
			}
		}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Negotiate "); ok && strings.HasPrefix(tok, "TlRMTVNTUAAD") {
			if f.closeAuthenticates.Add(-1) >= 0 {
				w.Header().Set("Connection", "close")
			}
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.wire = append(f.wire, b)
		f.wireCT = append(f.wireCT, r.Header.Get("Content-Type"))
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		wrapped.ServeHTTP(w, r)
	})
	f.srv = httptest.NewUnstartedServer(outer)
	f.srv.Config.ConnState = f.ntlm.ConnState
	if tlsOn {
		f.srv.StartTLS()
		f.ntlm.SetServerCertificate(f.srv.Certificate())
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *ntlmFixture) client(t testing.TB, a Authenticator, opts WrapOptions) *http.Client {
	t.Helper()
	rt, err := a.Wrap(f.srv.Client().Transport, opts)
	require.NoError(t, err)
	return &http.Client{Transport: rt}
}

func postSOAP(ctx context.Context, c *http.Client, url, body string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/wsman", strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", SOAPContentType)
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestNTLMOverHTTPWithEncryption(t *testing.T) {
	for _, user := range []string{`CORP\alice`, `corp\alice`, "bob@corp.test"} {
		t.Run(user, func(t *testing.T) {
			f := newNTLMFixture(t, false, NTLMServerConfig{})
			pw := map[string]string{`CORP\alice`: "s3cret!", `corp\alice`: "s3cret!", "bob@corp.test": "hunter2"}[user]
			c := f.client(t, &NTLM{Username: user, Password: pw}, WrapOptions{})
			for i := range 3 {
				body := testSOAP + strings.Repeat(" ", i*1000)
				resp, got, err := postSOAP(context.Background(), c, f.srv.URL, body)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, SOAPContentType, resp.Header.Get("Content-Type"))
				assert.Equal(t, "echo:"+SOAPContentType+":"+body, got)
			}
			assert.Equal(t, int32(1), f.negotiates.Load(), "one handshake for the connection")
			f.mu.Lock()
			defer f.mu.Unlock()
			// Handshake legs carried no body; every message was sealed.
			require.Len(t, f.wire, 5)
			assert.Empty(t, f.wire[0])
			assert.Empty(t, f.wire[1])
			for i, w := range f.wire[2:] {
				assert.Equal(t, EncryptedContentType(ProtocolSPNEGO), f.wireCT[i+2])
				assert.NotContains(t, string(w), "secret-payload")
				assert.True(t, bytes.HasPrefix(w, []byte("--Encrypted Boundary\r\n")))
			}
			u, _ := ntlm.SplitUser(user)
			assert.Contains(t, strings.ToLower(f.users[0]), strings.ToLower(u))
		})
	}
}

func TestNTLMEncryptedFaultOn500(t *testing.T) {
	f := newNTLMFixture(t, false, NTLMServerConfig{})
	f.status = http.StatusInternalServerError
	c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{})
	resp, got, err := postSOAP(context.Background(), c, f.srv.URL, "<fault/>")
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "echo:"+SOAPContentType+":<fault/>", got)
}

func TestNTLMWrongPassword(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"http-encrypted", false}, {"https-azure", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newNTLMFixture(t, tc.tls, NTLMServerConfig{})
			const bad = "Wr0ng-Pa55word"
			c := f.client(t, &NTLM{Username: `CORP\alice`, Password: bad}, WrapOptions{})
			_, _, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnauthorized)
			var ae *AuthError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
			assert.NotContains(t, err.Error(), bad)
			assert.Empty(t, f.users, "the handler must not run")
		})
	}
}

func TestNTLMOverHTTPSChannelBinding(t *testing.T) {
	t.Run("bound", func(t *testing.T) {
		f := newNTLMFixture(t, true, NTLMServerConfig{ChannelBinding: ntlm.ChannelBindingStrict})
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{})
		for range 2 {
			_, got, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
			require.NoError(t, err)
			assert.Equal(t, "echo:"+SOAPContentType+":"+testSOAP, got)
		}
		assert.Equal(t, int32(1), f.negotiates.Load())
		f.mu.Lock()
		defer f.mu.Unlock()
		// The Azure path replays the body on both legs, then plain over TLS.
		require.Len(t, f.wire, 3)
		assert.Equal(t, testSOAP, string(f.wire[0]))
		assert.Equal(t, testSOAP, string(f.wire[1]))
	})
	t.Run("strict server, bindings disabled", func(t *testing.T) {
		f := newNTLMFixture(t, true, NTLMServerConfig{ChannelBinding: ntlm.ChannelBindingStrict})
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", DisableChannelBinding: true}, WrapOptions{})
		_, _, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
		require.ErrorIs(t, err, ErrUnauthorized)
	})
	t.Run("wrong certificate", func(t *testing.T) {
		f := newNTLMFixture(t, true, NTLMServerConfig{ChannelBinding: ntlm.ChannelBindingRelaxed})
		f.ntlm.SetServerCertificate(selfSignedCert(t)) // as if a proxy terminated TLS
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{})
		_, _, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
		require.ErrorIs(t, err, ErrUnauthorized)
	})
	t.Run("sealing over https", func(t *testing.T) {
		f := newNTLMFixture(t, true, NTLMServerConfig{ChannelBinding: ntlm.ChannelBindingStrict})
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: EncryptionAlways}, WrapOptions{})
		_, got, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
		require.NoError(t, err)
		assert.Equal(t, "echo:"+SOAPContentType+":"+testSOAP, got)
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.NotContains(t, string(f.wire[len(f.wire)-1]), "secret-payload")
	})
}

func TestNTLMReauthenticatesAfterConnectionLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
		drop func(f *ntlmFixture)
	}{
		{"closed connections", false, func(f *ntlmFixture) { f.srv.CloseClientConnections() }},
		{"server forgot", false, func(f *ntlmFixture) { f.ntlm.Forget() }},
		{"server forgot https", true, func(f *ntlmFixture) { f.ntlm.Forget() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newNTLMFixture(t, tc.tls, NTLMServerConfig{})
			c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{})
			_, _, err := postSOAP(context.Background(), c, f.srv.URL, "<one/>")
			require.NoError(t, err)
			tc.drop(f)
			var got string
			require.Eventually(t, func() bool { // a closed idle connection is noticed asynchronously
				_, got, err = postSOAP(context.Background(), c, f.srv.URL, "<two/>")
				return err == nil
			}, 5*time.Second, 10*time.Millisecond)
			assert.Equal(t, "echo:"+SOAPContentType+":<two/>", got)
			assert.Equal(t, int32(2), f.negotiates.Load())
		})
	}
}

func TestNTLMRefusesPlainHTTPWithoutOptIn(t *testing.T) {
	f := newNTLMFixture(t, false, NTLMServerConfig{})
	c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: EncryptionNever}, WrapOptions{})
	_, _, err := postSOAP(context.Background(), c, f.srv.URL, testSOAP)
	require.ErrorIs(t, err, ErrInsecureTransport)
	assert.Zero(t, f.negotiates.Load(), "nothing sent")

	// Opted in, but the server (AllowUnencrypted=false) refuses plaintext.
	c = f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: EncryptionNever}, WrapOptions{AllowUnencrypted: true})
	_, _, err = postSOAP(context.Background(), c, f.srv.URL, testSOAP)
	require.ErrorIs(t, err, ErrUnauthorized)

	// Both sides allow it.
	f2 := newNTLMFixture(t, false, NTLMServerConfig{AllowUnencrypted: true})
	c = f2.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", Encryption: EncryptionNever}, WrapOptions{AllowUnencrypted: true})
	_, got, err := postSOAP(context.Background(), c, f2.srv.URL, testSOAP)
	require.NoError(t, err)
	assert.Equal(t, "echo:"+SOAPContentType+":"+testSOAP, got)
}

// hostileAfterAuth authenticates through NTLMServer, then answers
// encrypted requests with the given raw response.
func hostileServer(t *testing.T, respond func(w http.ResponseWriter)) string {
	t.Helper()
	ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}})
	auth := ns.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := ParseEncryptedContentType(r.Header.Get("Content-Type")); ok {
			respond(w)
			return
		}
		auth.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestNTLMHostileResponses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		respond func(w http.ResponseWriter)
	}{
		{"plaintext 200", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", SOAPContentType)
			_, _ = w.Write([]byte("<s:Envelope/>"))
		}},
		{"plaintext 500 fault", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", SOAPContentType)
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<s:Fault/>"))
		}},
		{"truncated encrypted", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", EncryptedContentType(ProtocolSPNEGO))
			_, _ = w.Write([]byte("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"))
		}},
		{"garbage sealed data", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", EncryptedContentType(ProtocolSPNEGO))
			_, _ = w.Write(BuildEncryptedBody(ProtocolSPNEGO, SOAPContentType, 5, make([]byte, 16), []byte("hello")))
		}},
		{"huge signature length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", EncryptedContentType(ProtocolSPNEGO))
			b := BuildEncryptedBody(ProtocolSPNEGO, SOAPContentType, 5, make([]byte, 16), []byte("hello"))
			i := bytes.Index(b, []byte("octet-stream\r\n")) + len("octet-stream\r\n")
			copy(b[i:], []byte{0xff, 0xff, 0xff, 0xff})
			_, _ = w.Write(b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := hostileServer(t, tc.respond)
			rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(http.DefaultTransport, WrapOptions{})
			require.NoError(t, err)
			_, _, err = postSOAP(context.Background(), &http.Client{Transport: rt}, url, testSOAP)
			require.ErrorIs(t, err, ErrEncryptedBody)
		})
	}
}

func TestNTLMContextCancelledWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}})
	srv := httptest.NewServer(ns.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Content-Type"), "soap") {
			b, _ := io.ReadAll(r.Body)
			if string(b) == "block" {
				<-release
			}
		}
		_, _ = w.Write([]byte("ok"))
	})))
	defer srv.Close()
	defer close(release)
	rt, err := (&NTLM{Username: "u", Password: "p", MaxConnections: 1}).Wrap(srv.Client().Transport, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}

	done := make(chan error, 1)
	go func() {
		_, _, err := postSOAP(context.Background(), c, srv.URL, "block")
		done <- err
	}()
	// Wait until the first request holds the only connection.
	require.Eventually(t, func() bool { return rt.(*ntlmTransport).pool.inUse() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = postSOAP(ctx, c, srv.URL, "second")
	require.ErrorIs(t, err, context.Canceled)
	release <- struct{}{}
	require.NoError(t, <-done)
}

func TestBasic(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "admin" || p != "pa55" {
			w.Header().Set("WWW-Authenticate", "Basic")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("hello " + u))
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	secure := httptest.NewTLSServer(handler)
	defer secure.Close()

	wrap := func(b *Basic, srv *httptest.Server, opts WrapOptions) *http.Client {
		rt, err := b.Wrap(srv.Client().Transport, opts)
		require.NoError(t, err)
		return &http.Client{Transport: rt}
	}
	ctx := context.Background()

	_, _, err := postSOAP(ctx, wrap(&Basic{Username: "admin", Password: "pa55"}, plain, WrapOptions{}), plain.URL, "x")
	require.ErrorIs(t, err, ErrInsecureTransport)

	_, got, err := postSOAP(ctx, wrap(&Basic{Username: "admin", Password: "pa55"}, plain, WrapOptions{AllowUnencrypted: true}), plain.URL, "x")
	require.NoError(t, err)
	assert.Equal(t, "hello admin", got)

	_, got, err = postSOAP(ctx, wrap(&Basic{Username: "admin", Password: "pa55"}, secure, WrapOptions{}), secure.URL, "x")
	require.NoError(t, err)
	assert.Equal(t, "hello admin", got)

	_, _, err = postSOAP(ctx, wrap(&Basic{Username: "admin", Password: "nope-secret"}, secure, WrapOptions{}), secure.URL, "x")
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), "nope-secret")
	var ae *AuthError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, 401, ae.StatusCode)

	_, err = (&Basic{}).Wrap(nil, WrapOptions{})
	require.Error(t, err)
}

func selfSignedCert(t testing.TB) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "other"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}
