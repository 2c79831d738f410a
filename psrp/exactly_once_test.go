package psrp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp/clixml"
)

// runningPipelines returns an opened client with n invoked pipelines.
func runningPipelines(t *testing.T, n int) (*ClientPool, []*ClientPipeline) {
	t.Helper()
	c, cv := openedClient(t)
	var pls []*ClientPipeline
	for range n {
		pl, err := c.NewPipeline(uuid.Nil, scriptPipeline("x"))
		require.NoError(t, err)
		require.NoError(t, pl.Invoke())
		pls = append(pls, pl)
	}
	cv.toServer()
	return c, pls
}

// base returns the next ObjectId the server would use.
func base(c *ClientPool) uint64 { return c.tracker().got.highest() + 1 }

func outputPayload(t testing.TB, id uint64, pl *ClientPipeline, s string) []byte {
	return serverPayload(t, id, DestinationClient, testPoolID, pl.ID(), clixml.String(s), MessagePipelineOutput)
}

func completedPayload(t testing.TB, id uint64, pl *ClientPipeline) []byte {
	return serverPayload(t, id, DestinationClient, testPoolID, pl.ID(), &PipelineStateInfo{State: PSInvocationCompleted},
		MessagePipelineState)
}

func outputs(t testing.TB, ev []Event) []string {
	var out []string
	for _, e := range ev {
		if o, ok := e.(PipelineOutputReceived); ok {
			v, err := clixml.Unmarshal(o.Message.Data)
			require.NoError(t, err)
			out = append(out, string(v.(clixml.String)))
		}
	}
	return out
}

func completed(ev []Event) bool {
	for _, e := range ev {
		if s, ok := e.(PipelineStateChanged); ok && s.New == PSInvocationCompleted {
			return true
		}
	}
	return false
}

// A payload received twice (a retransmitted Receive response) delivers its
// messages once; the repeat is dropped and counted.
func TestDuplicateMessagesDropped(t *testing.T) {
	c, pls := runningPipelines(t, 1)
	id0 := base(c)
	pl := pls[0]
	p := append(outputPayload(t, id0+0, pl, "a"), outputPayload(t, id0+1, pl, "b")...)
	ev, err := c.ReceiveData(p)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, outputs(t, ev))
	ev, err = c.ReceiveData(p)
	require.NoError(t, err)
	assert.Empty(t, ev, "a repeated payload delivers nothing")
	assert.Equal(t, 2, c.DroppedDuplicates())
	ev, err = c.ReceiveData(completedPayload(t, id0+2, pl))
	require.NoError(t, err)
	assert.True(t, completed(ev))
	// A duplicate after the pipeline finished is still dropped, not an
	// "unknown pipeline" error.
	ev, err = c.ReceiveData(completedPayload(t, id0+2, pl))
	require.NoError(t, err)
	assert.Empty(t, ev)
	assert.Equal(t, 3, c.DroppedDuplicates())
}

// Fragments of a message already partly received are dropped when they come
// again; the message completes once.
func TestDuplicateFragmentsDropped(t *testing.T) {
	c, pls := runningPipelines(t, 1)
	id0 := base(c)
	pl := pls[0]
	m, err := NewMessage(DestinationClient, MessagePipelineOutput, testPoolID, pl.ID(), clixml.String("a long enough value"))
	require.NoError(t, err)
	blob := AppendMessage(nil, m, true)
	third := len(blob) / 3
	frag := func(i uint64, b []byte, start, end bool) []byte {
		return (&Fragment{ObjectID: id0, FragmentID: i, Start: start, End: end, Blob: b}).AppendTo(nil)
	}
	f0, f1, f2 := frag(0, blob[:third], true, false), frag(1, blob[third:2*third], false, false), frag(2, blob[2*third:], false, true)
	ev, err := c.ReceiveData(append(append([]byte{}, f0...), f1...))
	require.NoError(t, err)
	assert.Empty(t, ev)
	ev, err = c.ReceiveData(append(append(append([]byte{}, f0...), f1...), f2...))
	require.NoError(t, err)
	assert.Equal(t, []string{"a long enough value"}, outputs(t, ev))
	assert.Equal(t, 2, c.DroppedDuplicates())
	ev, err = c.ReceiveData(append(append(append([]byte{}, f0...), f1...), f2...))
	require.NoError(t, err)
	assert.Empty(t, ev)
	assert.Equal(t, 5, c.DroppedDuplicates())
}

// A Receive response lost without retransmission: the pipeline's
// Completed arrives while an earlier ObjectId never came. The events are
// delivered, with a *GapError naming the missing ObjectId.
func TestGapAtCompletion(t *testing.T) {
	c, pls := runningPipelines(t, 1)
	id0 := base(c)
	pl := pls[0]
	ev, err := c.ReceiveData(outputPayload(t, id0+0, pl, "a"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, outputs(t, ev))
	// 101 ("b") is lost.
	ev, err = c.ReceiveData(completedPayload(t, id0+2, pl))
	require.Error(t, err)
	assert.True(t, completed(ev), "the events are not lost with the error")
	assert.ErrorIs(t, err, ErrObjectIDGap)
	var ge *GapError
	require.True(t, errors.As(err, &ge))
	assert.Equal(t, pl.ID(), ge.Pipeline)
	assert.Equal(t, []uint64{id0 + 1}, ge.Missing)
	assert.Equal(t, uint64(1), ge.Count)
	assert.Contains(t, err.Error(), fmt.Sprintf("ObjectId %d", id0+1))
}

// With no other pipeline running, a skipped ObjectId is a gap as soon as a
// later one arrives.
func TestGapDetectedBeforeCompletion(t *testing.T) {
	c, pls := runningPipelines(t, 1)
	id0 := base(c)
	pl := pls[0]
	_, err := c.ReceiveData(outputPayload(t, id0+0, pl, "a"))
	require.NoError(t, err)
	assert.Empty(t, c.MissingObjectIDs(pl.ID()))
	ev, err := c.ReceiveData(append(outputPayload(t, id0+3, pl, "d"), outputPayload(t, id0+4, pl, "e")...))
	assert.ErrorIs(t, err, ErrObjectIDGap)
	assert.Equal(t, []string{"d", "e"}, outputs(t, ev), "the payload is applied in full")
	var ge *GapError
	require.True(t, errors.As(err, &ge))
	assert.Equal(t, []uint64{id0 + 1, id0 + 2}, ge.Missing)
}

// Two pipelines share the shell's ObjectId counter: a hole in one is the
// other's until that one has passed it.
func TestHoleOwnedByAnotherPipeline(t *testing.T) {
	c, pls := runningPipelines(t, 2)
	id0 := base(c)
	a, b := pls[0], pls[1]
	for _, p := range [][]byte{outputPayload(t, id0+0, a, "a1"), outputPayload(t, id0+2, a, "a2"), completedPayload(t, id0+3, a)} {
		_, err := c.ReceiveData(p)
		require.NoError(t, err, "101 may be b's")
	}
	assert.Equal(t, []uint64{id0 + 1}, c.MissingObjectIDs(a.ID()))
	ev, err := c.ReceiveData(outputPayload(t, id0+1, b, "b1"))
	require.NoError(t, err)
	assert.Equal(t, []string{"b1"}, outputs(t, ev))
	ev, err = c.ReceiveData(completedPayload(t, id0+4, b))
	require.NoError(t, err)
	assert.True(t, completed(ev))
}

// When the other pipeline passes the hole without filling it, the gap is
// reported then.
func TestDeferredGapReported(t *testing.T) {
	c, pls := runningPipelines(t, 2)
	id0 := base(c)
	a, b := pls[0], pls[1]
	for _, p := range [][]byte{outputPayload(t, id0+0, a, "a1"), outputPayload(t, id0+2, a, "a2"), completedPayload(t, id0+3, a)} {
		_, err := c.ReceiveData(p)
		require.NoError(t, err)
	}
	ev, err := c.ReceiveData(outputPayload(t, id0+4, b, "b1"))
	assert.Equal(t, []string{"b1"}, outputs(t, ev))
	var ge *GapError
	require.True(t, errors.As(err, &ge), "id0+1 can no longer arrive: %v", err)
	assert.Contains(t, []uuid.UUID{a.ID(), b.ID()}, ge.Pipeline, "the hole is in both ranges")
	assert.Equal(t, []uint64{id0 + 1}, ge.Missing)
	ev, err = c.ReceiveData(completedPayload(t, id0+5, b))
	require.NoError(t, err, "the gap is reported once")
	assert.True(t, completed(ev))
}

// The ObjectId set against a map model.
func TestIDSetModel(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 7))
		var s idSet
		model := map[uint64]bool{}
		for range 300 {
			id := uint64(r.IntN(120))
			require.True(t, s.add(id))
			model[id] = true
			lo := uint64(r.IntN(120))
			hi := lo + uint64(r.IntN(40))
			got, n := s.missing(lo, hi, 1000)
			var want []uint64
			for x := lo; x <= hi; x++ {
				if !model[x] {
					want = append(want, x)
				}
			}
			require.Equal(t, want, got, "seed %d [%d,%d]", seed, lo, hi)
			require.Equal(t, uint64(len(want)), n)
			for i := 1; i < len(s.spans); i++ {
				require.Greater(t, s.spans[i].lo, s.spans[i-1].hi+1, "spans sorted, disjoint, not adjacent")
			}
		}
		for x := range uint64(130) {
			require.Equal(t, model[x], s.has(x))
		}
	}
}

// FuzzExactlyOnce delivers a pipeline's messages with some duplicated and
// some lost, as the fuzz input decides. Whatever the input: nothing is
// delivered twice, what is delivered is in order, and if a message other
// than the last was lost, an ErrObjectIDGap is returned by the time the
// stream ends (never a silent Completed).
func FuzzExactlyOnce(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 1, 0, 2, 0, 0})
	f.Add([]byte{1, 1, 1, 0, 2, 1})
	f.Fuzz(func(t *testing.T, plan []byte) {
		if len(plan) > 64 {
			plan = plan[:64]
		}
		c, pls := runningPipelines(t, 1)
		id0 := base(c)
		pl := pls[0]
		var delivered []string
		var gap error
		lostBeforeLast := false
		n := len(plan)
		for i, op := range plan {
			id := id0 + uint64(i)
			var p []byte
			if i == n-1 {
				p = completedPayload(t, id, pl)
			} else {
				p = outputPayload(t, id, pl, string(rune('A'+i%26))+itoa(i))
			}
			switch op % 3 {
			case 2: // lost
				if i < n-1 {
					lostBeforeLast = true
				}
				continue
			case 1: // duplicated
				p = append(append([]byte{}, p...), p...)
			}
			ev, err := c.ReceiveData(p)
			delivered = append(delivered, outputs(t, ev)...)
			if err != nil {
				require.ErrorIs(t, err, ErrObjectIDGap)
				gap = err
				break
			}
		}
		seen := map[string]bool{}
		for _, d := range delivered {
			require.False(t, seen[d], "%s delivered twice", d)
			seen[d] = true
		}
		if lostBeforeLast && plan[n-1]%3 != 2 {
			require.Error(t, gap, "a lost message must not end in a silent success")
		}
		if !lostBeforeLast {
			require.NoError(t, gap)
			require.Len(t, delivered, max(0, n-1))
		}
	})
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
