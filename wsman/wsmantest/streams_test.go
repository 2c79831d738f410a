package wsmantest_test

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// TestRecordedStreamsCarryOneFragment states, from the recordings, the fact
// the fake server's default follows: in every Receive response of a
// PowerShell shell, each rsp:Stream element carries exactly one PSRP
// fragment (Windows never packs several into one element).
func TestRecordedStreamsCarryOneFragment(t *testing.T) {
	recs := recordings.LoadAll(t)
	streams, perCount := 0, map[int]int{}
	for _, rec := range recs {
		for i, ex := range rec.Messages {
			if ex.Response == "" || !strings.Contains(ex.Request, "http://schemas.microsoft.com/powershell/") ||
				!strings.Contains(ex.Response, "ReceiveResponse") {
				continue
			}
			env, err := wsman.ParseEnvelope([]byte(ex.Response))
			require.NoError(t, err, "%s #%d", rec.Name, i)
			rr, err := wsman.ParseReceiveResponse(env.BodyElement())
			require.NoError(t, err, "%s #%d", rec.Name, i)
			for _, st := range rr.Streams {
				if st.Name != wsman.StreamStdout || len(st.Data) == 0 {
					continue
				}
				frags, err := psrp.DecodeFragments(st.Data)
				require.NoError(t, err, "%s #%d", rec.Name, i)
				streams++
				perCount[len(frags)]++
			}
		}
	}
	t.Logf("%d recordings: %d PowerShell stdout Stream elements; fragments per element: %v", len(recs), streams, perCount)
	require.Equal(t, map[int]int{1: 473}, perCount, "recorded PowerShell stdout Stream elements by fragment count")
}

// sizeRecorder is an http.RoundTripper that remembers the largest response
// body it passed on.
type sizeRecorder struct {
	mu      sync.Mutex
	largest int
}

func (r *sizeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.largest = max(r.largest, len(b))
	r.mu.Unlock()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp, nil
}

// receiveElements runs a pipeline that writes 300 small strings and one of
// 100 KB (several fragments) and receives it as a client that feeds the
// pool one rsp:Stream element at a time would. It returns the number of
// fragments in each Stream element, the output received and the largest
// response envelope.
func receiveElements(t *testing.T, opts wsmantest.Options, maxEnvelope int) (perElement map[int]int, output []string, largest int) {
	srv := wsmantest.NewServer(opts)
	defer srv.Close()
	big := strings.Repeat("b", 100_000)
	srv.HandleScript("produce", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		for i := range 300 {
			if err := inv.WriteOutput(clixml.String("s" + strings.Repeat("x", i%7))); err != nil {
				return err
			}
		}
		return inv.WriteOutput(clixml.String(big))
	}))
	rec := &sizeRecorder{}
	wc, err := wsman.NewClient(srv.URL, wsman.Config{OperationTimeout: 5 * time.Second, Transport: rec,
		MaxEnvelopeSize: maxEnvelope, AllowUnencrypted: true})
	require.NoError(t, err)
	c := openPool(t, wc, "", 0)
	ctx := testCtx(t)
	pl := c.start(ctx, "produce", false)
	cid := upperID(pl)
	perElement = map[int]int{}
	res := &result{records: map[psrp.MessageType][]string{}}
	for done := false; !done; {
		rr, err := wc.Receive(ctx, c.ref, &wsman.Receive{CommandID: cid})
		require.NoError(t, err)
		for _, st := range rr.Streams {
			if st.Name != wsman.StreamStdout || len(st.Data) == 0 {
				continue
			}
			frags, err := psrp.DecodeFragments(st.Data)
			require.NoError(t, err)
			perElement[len(frags)]++
			ev, err := c.pool.ReceiveData(st.Data)
			require.NoError(t, err)
			c.apply(ctx, res, ev, pl, nil)
		}
		done = rr.CommandState.Done()
	}
	require.Equal(t, psrp.PSInvocationCompleted, res.state)
	for _, v := range res.output {
		s, ok := v.(clixml.String)
		require.True(t, ok, "output %T", v)
		output = append(output, string(s))
	}
	return perElement, output, rec.largest
}

// TestReceiveOneFragmentPerStream checks that the fake server sends one
// fragment per rsp:Stream element, as Windows does (see
// TestRecordedStreamsCarryOneFragment), for small and multi-fragment
// messages and for a small envelope, where the elements' markup must still
// fit; and that PackFragments packs.
func TestReceiveOneFragmentPerStream(t *testing.T) {
	for _, maxEnv := range []int{0, 8192} {
		perElement, output, largest := receiveElements(t, wsmantest.Options{}, maxEnv)
		require.Len(t, output, 301)
		assert.Equal(t, strings.Repeat("b", 100_000), output[300])
		assert.Equal(t, []int{1}, keys(perElement), "fragments per Stream element (envelope %d)", maxEnv)
		assert.Greater(t, perElement[1], 301, "the large object spans several fragments")
		if maxEnv > 0 {
			assert.LessOrEqual(t, largest, maxEnv, "largest response envelope")
		}
	}

	perElement, output, _ := receiveElements(t, wsmantest.Options{PackFragments: true}, 0)
	require.Len(t, output, 301)
	assert.NotEqual(t, []int{1}, keys(perElement), "PackFragments packs several fragments into an element: %v", perElement)
}

func keys(m map[int]int) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
