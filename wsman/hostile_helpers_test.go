package wsman

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"github.com/psremoting/psremoting/auth"
)

// testNTLMUser and testNTLMPassword are the credentials the hostile NTLM
// servers below accept.
const (
	testNTLMUser     = "alice"
	testNTLMPassword = "Pa55-w0rd!hostile"
)

// ntlmHostileServer starts an http:// server that completes a genuine NTLM
// handshake (auth.NTLMServer) and then answers every sealed request with
// respond, which may do anything a hostile server would.
func ntlmHostileServer(t *testing.T, respond http.HandlerFunc) *httptest.Server {
	t.Helper()
	ns := auth.NewNTLMServer(auth.NTLMServerConfig{Users: map[string]string{testNTLMUser: testNTLMPassword}})
	handshake := ns.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.ParseEncryptedContentType(r.Header.Get("Content-Type")); ok {
			respond(w, r)
			return
		}
		handshake.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = ns.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// writeGarbage answers with n bytes of garbage labelled as an encrypted
// body, announced by Content-Length or (chunked) not, written from one
// small buffer so that the server side allocates next to nothing.
func writeGarbage(w http.ResponseWriter, n int64, withLength bool) {
	w.Header().Set("Content-Type", auth.EncryptedContentType(auth.ProtocolSPNEGO))
	if withLength {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 32<<10)
	for i := range buf {
		buf[i] = 'x'
	}
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

// delta returns the growth of HeapAlloc (after a GC: what is still held)
// and the bytes allocated since newHeapMeter.
func (m *heapMeter) delta() (held int64, allocated uint64) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	allocated = after.TotalAlloc - m.before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(m.before.HeapAlloc), allocated
}

const mib = 1 << 20
