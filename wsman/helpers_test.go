package wsman

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/psremoting/psremoting/internal/recordings"
)

func itoa(i int) string { return strconv.Itoa(i) }
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }

var (
	recOnce  sync.Once
	recCache []*recordings.Recording
	recErr   error
)

// allRecordings loads the pypsrp recordings once per test binary (parsing
// the YAML is the slow part under -race), or skips where they are absent.
func allRecordings(tb testing.TB) []*recordings.Recording {
	tb.Helper()
	dir := recordings.DirOrSkip(tb)
	recOnce.Do(func() {
		files, err := recordings.PypsrpFiles(dir)
		if err != nil {
			recErr = err
			return
		}
		for _, f := range files {
			r, err := recordings.Load(f)
			if err != nil {
				recErr = err
				return
			}
			recCache = append(recCache, r)
		}
	})
	if recErr != nil {
		tb.Fatal(recErr)
	}
	if len(recCache) == 0 {
		tb.Skipf("skipping: no pypsrp recordings under %s", dir)
	}
	return recCache
}

// soapServerB serves a fixed response body for benchmarks.
func soapServerB(b *testing.B, body []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
