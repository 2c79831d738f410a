package wsmantest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/psremoting/psremoting/internal/recordings"
)

// FuzzServeRequest feeds arbitrary request bodies to the server's HTTP
// handler (seeded with the client requests of the recordings): every input
// must get an HTTP answer, never a panic or a hang.
func FuzzServeRequest(f *testing.F) {
	if _, err := recordings.Dir(); err == nil {
		for _, rec := range recordings.LoadAll(f) {
			for i, ex := range rec.Messages {
				if i < 4 && ex.Request != "" {
					f.Add([]byte(ex.Request))
				}
			}
		}
	}
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body/></s:Envelope>`))
	f.Add([]byte(`not xml`))
	f.Add([]byte{})

	srv := NewServer(Options{MaxOperationTimeout: time.Millisecond, InactivityWindow: -1, OutputBufferSize: 4096,
		DisableBuiltins: true}) // the built-ins have their own fuzz target
	defer srv.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/wsman", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.serveHTTP(rec, req)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("request took %v", d)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusInternalServerError && rec.Code != http.StatusBadRequest {
			t.Fatalf("unexpected status %d", rec.Code)
		}
		if rec.Code == http.StatusInternalServerError && !bytes.Contains(rec.Body.Bytes(), []byte("Fault")) {
			t.Fatalf("HTTP 500 without a SOAP fault: %q", rec.Body.String())
		}
	})
}
