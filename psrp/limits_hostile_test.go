package psrp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
)

// hostileReceiveServer is a WinRM server that answers every request with a
// ReceiveResponse whose stdout carries next(): PSRP fragments of its
// choosing.
func hostileReceiveServer(t *testing.T, next func() []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := wsman.ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rr := &wsman.ReceiveResponse{Streams: []wsman.Stream{{Name: wsman.StreamStdout, Data: next()}}}
		w.Header().Set("Content-Type", auth.SOAPContentType)
		_, _ = w.Write(wsman.NewResponse(req, rr.Element()).Marshal())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A hostile server feeds the client pool fragments that never finish a
// message: one message whose fragments never end, or ever more messages
// that never end. Whatever the caller's response limit, the pool refuses
// the stream with a typed error once it holds about that limit (the
// Defragmenter defaults follow ClientPoolConfig.ResponseLimit), and the
// memory it pins stays in proportion.
//
// With a caller's limit of 2 MiB the fragments come from a hostile WinRM
// server through wsman.Client; with the default limit (16 MiB) they are fed
// to the pool directly, which is the same to the pool and keeps the test
// quick under the race detector.
func TestHostileServerCannotPinMoreThanTheResponseLimit(t *testing.T) {
	require.EqualValues(t, wsman.DefaultMaxResponseBytes, psrp.DefaultResponseLimit,
		"psrp's defaults are sized for wsman's default response limit")
	for _, tc := range []struct {
		name     string
		maxResp  int64 // wsman.Config.MaxResponseBytes; 0 = the default
		overHTTP bool  // through a hostile server and wsman.Client
		endless  bool  // one endless message, else many unfinished ones
		wantErrs []error
	}{
		{"endless message, default limit", 0, false, true, []error{psrp.ErrMessageTooLarge, psrp.ErrTooMuchBuffered}},
		{"unfinished messages, default limit", 0, false, false, []error{psrp.ErrTooMuchBuffered}},
		{"endless message, 2 MiB limit, over HTTP", 2 << 20, true, true, []error{psrp.ErrMessageTooLarge, psrp.ErrTooMuchBuffered}},
		{"unfinished messages, 2 MiB limit, over HTTP", 2 << 20, true, false, []error{psrp.ErrTooMuchBuffered}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.maxResp
			if limit == 0 {
				limit = wsman.DefaultMaxResponseBytes
			}
			// Each response carries a quarter of the limit in fragments
			// (at most 1 MiB), so that base64 and SOAP fit in the limit.
			perResponse := int(min(limit/4, 1<<20))
			chunk := perResponse / 4
			var objectID, fragmentID uint64 = 1, 0
			blob := bytes.Repeat([]byte{'x'}, chunk)
			next := func() []byte {
				var p []byte
				for range 4 {
					f := psrp.Fragment{ObjectID: objectID, FragmentID: fragmentID, Start: fragmentID == 0, Blob: blob}
					p = f.AppendTo(p)
					if tc.endless {
						fragmentID++
					} else {
						objectID++
					}
				}
				return p
			}
			cfg := psrp.ClientPoolConfig{RunspacePoolID: uuid.New()} // ResponseLimit 0: the default
			receive := next
			if tc.overHTTP {
				srv := hostileReceiveServer(t, next)
				wc, err := wsman.NewClient(srv.URL, wsman.Config{MaxResponseBytes: tc.maxResp, Proxy: wsman.NoProxy})
				require.NoError(t, err)
				t.Cleanup(wc.CloseIdleConnections)
				require.Equal(t, limit, wc.MaxResponseBytes())
				cfg.ResponseLimit = wc.MaxResponseBytes()
				ref := wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: strings.ToUpper(cfg.RunspacePoolID.String())}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				t.Cleanup(cancel)
				receive = func() []byte {
					rr, err := wc.Receive(ctx, ref, &wsman.Receive{})
					require.NoError(t, err)
					return rr.StreamData(wsman.StreamStdout, "")
				}
			}
			pool, err := psrp.NewClientPool(cfg)
			require.NoError(t, err)
			require.NoError(t, pool.Open())

			base := heapInUse()
			var fed int64
			var pinned uint64
			for {
				// A hang guard, far beyond any limit: the old defaults
				// (256 MiB) are reached long before.
				require.Less(t, fed, 64*limit, "the hostile stream was never refused")
				data := receive()
				_, err = pool.ReceiveData(data)
				if err != nil {
					var fe *psrp.FragmentError
					require.ErrorAs(t, err, &fe, "a typed error")
					matched := false
					for _, want := range tc.wantErrs {
						matched = matched || errors.Is(err, want)
					}
					assert.True(t, matched, "unexpected error %v", err)
					break
				}
				fed += int64(len(data))
				if h := heapInUse(); h > base && h-base > pinned {
					pinned = h - base
				}
			}
			t.Logf("response limit %d MiB: refused after %.1f MiB of fragments; heap pinned at most %.1f MiB (old defaults: 64 MiB per message, 256 MiB in all)",
				limit>>20, float64(fed)/(1<<20), float64(pinned)/(1<<20))
			opts := pool.DefragmenterOptions()
			assert.EqualValues(t, limit, opts.MaxBufferedBytes)
			assert.EqualValues(t, limit, opts.MaxMessageSize)
			assert.LessOrEqual(t, fed, limit+int64(perResponse), "refused once about the response limit is held")
			// Generous: the Defragmenter holds up to the limit; twice the
			// limit leaves room for the runtime and the HTTP client.
			assert.Less(t, pinned, 2*uint64(limit), "heap pinned")
		})
	}
}

// ClientPoolConfig.CLIXML bounds the decoding of the messages the pool
// decodes itself.
func TestClientPoolCLIXMLLimits(t *testing.T) {
	id := uuid.New()
	capMsg := func() []byte {
		m, err := psrp.NewMessageFor(psrp.DestinationClient, id, uuid.Nil, &psrp.SessionCapability{ProtocolVersion: "2.3",
			PSVersion: "2.0", SerializationVersion: "1.1.0.1"})
		require.NoError(t, err)
		return psrp.AppendMessage(nil, m, false)
	}
	open := func(cfg psrp.ClientPoolConfig) *psrp.ClientPool {
		cfg.RunspacePoolID = id
		p, err := psrp.NewClientPool(cfg)
		require.NoError(t, err)
		require.NoError(t, p.Open())
		return p
	}
	f := psrp.Fragment{ObjectID: 1, Start: true, End: true, Blob: capMsg()}
	p := open(psrp.ClientPoolConfig{})
	_, err := p.ReceiveData(f.AppendTo(nil))
	require.NoError(t, err, "the default limits take a SESSION_CAPABILITY")

	p = open(psrp.ClientPoolConfig{CLIXML: clixml.DecoderOptions{MaxInputSize: 16}})
	assert.Equal(t, int64(16), p.CLIXMLOptions().MaxInputSize)
	_, err = p.ReceiveData(f.AppendTo(nil))
	var le *clixml.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "MaxInputSize", le.Limit)
}
