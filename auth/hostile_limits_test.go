package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mib = 1 << 20

// writeGarbage answers with n bytes of garbage labelled as an encrypted
// body, announced by Content-Length or (chunked) not, from one small
// buffer.
func writeGarbage(w http.ResponseWriter, n int64, withLength bool) {
	w.Header().Set("Content-Type", EncryptedContentType(ProtocolSPNEGO))
	if withLength {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(http.StatusOK)
	buf := []byte(strings.Repeat("x", 32<<10))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := w.Write(buf[:k]); err != nil {
			return
		}
		n -= k
	}
}

// heapMeter measures the heap across a test step.
type heapMeter struct{ before runtime.MemStats }

func newHeapMeter() *heapMeter {
	m := &heapMeter{}
	runtime.GC()
	runtime.ReadMemStats(&m.before)
	return m
}

// held is the growth of HeapAlloc after a GC: what is still referenced.
func (m *heapMeter) held() int64 {
	var now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&now)
	return int64(now.HeapAlloc) - int64(m.before.HeapAlloc)
}

// allocated is what was allocated since newHeapMeter.
func (m *heapMeter) allocated() uint64 {
	var now runtime.MemStats
	runtime.ReadMemStats(&now)
	return now.TotalAlloc - m.before.TotalAlloc
}

// WrapOptions.MaxResponseBytes, the caller's limit, bounds what the
// Kerberos transport buffers of a sealed response: 60 MiB of garbage
// after a genuine authentication cost about the limit.
func TestKerberosSealedResponseHonoursCallerLimit(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	for _, withLength := range []bool{true, false} {
		name := "chunked"
		if withLength {
			name = "content-length"
		}
		t.Run(name, func(t *testing.T) {
			srv := newKRBEncServer(t, testServiceKeytab(t, k))
			srv.respond = func(w http.ResponseWriter, _ *http.Request) { writeGarbage(w, 60*mib, withLength) }
			a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
			require.NoError(t, err)
			defer a.Close()
			c := wrapClient(t, srv.Server, a, WrapOptions{MaxResponseBytes: 1 * mib})
			m := newHeapMeter()
			_, err = post(context.Background(), c, srv.URL, "<a/>")
			allocated := m.allocated()
			t.Logf("Kerberos %s: 60 MiB sealed body, limit 1 MiB: allocated %.1f MiB", name, float64(allocated)/mib)
			assert.Less(t, allocated, uint64(16*mib), "the transport buffered far more than the caller's limit")
			require.ErrorIs(t, err, ErrResponseTooLarge)
		})
	}
}

// The caller's limit applies to the plaintext: a sealed response whose
// plaintext is exactly the limit passes (the framing around it is
// allowed for), one byte more fails, for NTLM and Kerberos.
func TestSealedResponseLimitIsOnThePlaintext(t *testing.T) {
	const limit = 64 << 10
	check := func(t *testing.T, send func(body string) (string, error), prefix int) {
		body := strings.Repeat("y", limit-prefix)
		got, err := send(body)
		require.NoError(t, err, "a plaintext of exactly the limit")
		require.Len(t, got, limit)
		_, err = send(body + "y")
		require.ErrorIs(t, err, ErrResponseTooLarge)
	}
	t.Run("NTLM", func(t *testing.T) {
		f := newNTLMFixture(t, false, NTLMServerConfig{})
		c := f.client(t, &NTLM{Username: `CORP\alice`, Password: "s3cret!"}, WrapOptions{MaxResponseBytes: limit})
		check(t, func(body string) (string, error) {
			_, got, err := postSOAP(context.Background(), c, f.srv.URL, body)
			return got, err
		}, len("echo:"+SOAPContentType+":"))
	})
	t.Run("Kerberos", func(t *testing.T) {
		k := testKDC(t)
		testPrincipal(t, k, "alice", "Alice-Pass-1")
		srv := newKRBEncServer(t, testServiceKeytab(t, k))
		a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
		require.NoError(t, err)
		defer a.Close()
		c := wrapClient(t, srv.Server, a, WrapOptions{MaxResponseBytes: limit})
		check(t, func(body string) (string, error) {
			return post(context.Background(), c, srv.URL, body)
		}, len("echo:"))
	})
}

// signalFirstRead wraps a transport: the body of every encrypted response
// signals on its first Read, which the NTLM transport makes only after it
// has sized its buffer.
type signalFirstRead struct {
	next    http.RoundTripper
	reading chan struct{}
}

func (s *signalFirstRead) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		if _, ok := ParseEncryptedContentType(resp.Header.Get("Content-Type")); ok {
			resp.Body = &signalBody{ReadCloser: resp.Body, reading: s.reading}
		}
	}
	return resp, err
}

type signalBody struct {
	io.ReadCloser
	reading chan struct{}
	once    sync.Once
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.once.Do(func() { b.reading <- struct{}{} })
	return b.ReadCloser.Read(p)
}

// A hostile server authenticates, announces a 48 MiB sealed body and
// sends nothing more: while the client waits for it, it holds little
// memory, and the request ends when its context is cancelled.
func TestStalledSealedBodyReservesLittle(t *testing.T) {
	const announced = 48 * mib
	ns := NewNTLMServer(NTLMServerConfig{Users: map[string]string{"u": "p"}})
	handshake := ns.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := ParseEncryptedContentType(r.Header.Get("Content-Type")); !ok {
			handshake.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", EncryptedContentType(ProtocolSPNEGO))
		w.Header().Set("Content-Length", strconv.Itoa(announced))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
	}))
	t.Cleanup(srv.Close)
	base := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	sig := &signalFirstRead{next: base, reading: make(chan struct{})}
	rt, err := (&NTLM{Username: "u", Password: "p"}).Wrap(sig, WrapOptions{})
	require.NoError(t, err)
	c := &http.Client{Transport: rt}

	const requests = 4
	m := newHeapMeter()
	var maxHeld int64
	for i := range requests {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, _, err := postSOAP(ctx, c, srv.URL, testSOAP)
			done <- err
		}()
		select {
		case <-sig.reading: // headers in, buffer sized, waiting for bytes
		case err := <-done:
			cancel()
			t.Fatalf("request %d ended before the body was read: %v", i, err)
		}
		maxHeld = max(maxHeld, m.held())
		cancel()
		require.ErrorIs(t, <-done, context.Canceled, "request %d", i)
	}
	allocated := m.allocated()
	t.Logf("%d requests stalled on a %d MiB Content-Length: held at most %.1f MiB while waiting, allocated %.1f MiB in all",
		requests, announced/mib, float64(maxHeld)/mib, float64(allocated)/mib)
	assert.Less(t, maxHeld, int64(8*mib), "memory reserved for a body that never came")
	assert.Less(t, allocated, uint64(32*mib))
}
