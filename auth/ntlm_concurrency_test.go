package auth

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With MaxConnections 1, concurrent callers share one authenticated, sealed
// connection: requests are serialized so the RC4 streams and sequence
// numbers stay in step.
func TestNTLMConcurrentCallersOneConnection(t *testing.T) {
	f := newNTLMFixture(t, false, NTLMServerConfig{})
	c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxConnections: 1}, WrapOptions{})
	postConcurrently(t, c, f.srv.URL, 8, 5, "<g%d i%d/>", func(body string) string { return "echo:" + SOAPContentType + ":" + body })
	assert.Equal(t, int32(1), f.negotiates.Load())
}

// A request cancelled in flight returns promptly; the connection and the
// sealing state are abandoned, and the next request authenticates again.
func TestNTLMCancelInFlightThenRecover(t *testing.T) {
	arrived := make(chan struct{}, 1)
	unblock := make(chan struct{})
	defer close(unblock)
	ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}})
	var negotiates int
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Negotiate TlRMTVNTUAAB") {
			mu.Lock()
			negotiates++
			mu.Unlock()
		}
		ns.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if string(b) == "hang" {
				arrived <- struct{}{}
				select {
				case <-unblock:
				case <-r.Context().Done():
				}
				return
			}
			_, _ = w.Write(b)
		})).ServeHTTP(w, r)
	}))
	srv.Config.ConnState = ns.ConnState
	srv.Start()
	defer srv.Close()

	rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(srv.Client().Transport, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := postSOAP(ctx, c, srv.URL, "hang")
		done <- err
	}()
	<-arrived
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	_, got, err := postSOAP(context.Background(), c, srv.URL, "after")
	require.NoError(t, err)
	assert.Equal(t, "after", got)
	mu.Lock()
	assert.Equal(t, 2, negotiates, "the abandoned sealing state is not reused")
	mu.Unlock()
}

// Debug logs on both sides never contain the password.
func TestNTLMLogsHaveNoPassword(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug})
	logger := slog.New(h)
	const pw = "Sup3r-S3cret-Pw"
	f := newNTLMFixture(t, false, NTLMServerConfig{Users: map[string]string{"u": pw}, Logger: logger})
	ok := f.client(t, &NTLM{Username: "u", Password: pw}, WrapOptions{Logger: logger})
	_, _, err := postSOAP(context.Background(), ok, f.srv.URL, "<x/>")
	require.NoError(t, err)
	f.ntlm.Forget()
	_, _, err = postSOAP(context.Background(), ok, f.srv.URL, "<y/>") // re-authenticates
	require.NoError(t, err)
	bad := f.client(t, &NTLM{Username: "u", Password: pw + "-wrong"}, WrapOptions{Logger: logger})
	_, _, err = postSOAP(context.Background(), bad, f.srv.URL, "<z/>")
	require.Error(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "authenticating again", "the re-authentication was logged")
	assert.Contains(t, logs.String(), "authentication failed", "the server logged the failure")
	assert.NotContains(t, logs.String(), pw)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestNTLMSchemeNegotiation(t *testing.T) {
	t.Run("server offers only the NTLM scheme", func(t *testing.T) {
		ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}})
		inner := ns.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
		var schemes []string
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := r.Header.Get("Authorization")
			mu.Lock()
			schemes = append(schemes, strings.Split(a, " ")[0])
			mu.Unlock()
			if strings.HasPrefix(a, "Negotiate ") {
				w.Header().Set("WWW-Authenticate", "NTLM")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		}))
		defer srv.Close()
		rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(srv.Client().Transport, WrapOptions{})
		require.NoError(t, err)
		_, got, err := postSOAP(context.Background(), &http.Client{Transport: rt}, srv.URL, "<x/>")
		require.NoError(t, err)
		assert.Equal(t, "ok", got)
		mu.Lock()
		assert.Equal(t, []string{"Negotiate", "NTLM", "NTLM", ""}, schemes)
		mu.Unlock()
	})
	t.Run("server offers only Basic", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(srv.Client().Transport, WrapOptions{})
		require.NoError(t, err)
		_, _, err = postSOAP(context.Background(), &http.Client{Transport: rt}, srv.URL, "<x/>")
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Contains(t, err.Error(), "offered: Basic")
	})
}

func TestNTLMResponseLimit(t *testing.T) {
	for _, tls := range []bool{false, true} {
		f := newNTLMFixture(t, tls, NTLMServerConfig{})
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!", MaxResponseBytes: 400}, WrapOptions{})
		_, _, err := postSOAP(context.Background(), c, f.srv.URL, strings.Repeat("x", 1000))
		require.ErrorIs(t, err, ErrResponseTooLarge, "tls=%v", tls)
		// Small responses (the limit counts the sealed bytes) still work after
		// the failure, authenticating again.
		_, got, err := postSOAP(context.Background(), c, f.srv.URL, "<a/>")
		require.NoError(t, err)
		assert.Equal(t, "echo:"+SOAPContentType+":<a/>", got)
	}
}
