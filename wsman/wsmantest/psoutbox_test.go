package wsmantest

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
)

// The outbox fragments and counts exactly as psrp.Fragmenter does: same
// payload bytes for the same payload sizes, and size equal to Pending.
func TestPSOutboxMatchesFragmenter(t *testing.T) {
	const frag = 64
	per := frag - psrp.FragmentHeaderSize
	f := psrp.NewFragmenter(frag, &psrp.ObjectIDCounter{})
	var o psOutbox
	for i, n := range []int{0, 1, 43, 44, 100, 300, 5} {
		msg := bytes.Repeat([]byte{byte('a' + i)}, n)
		id := f.Queue(msg)
		o.push(psOutMsg{objectID: id, data: msg}, per)
		require.Equal(t, f.Pending(), o.size, "after queueing %d bytes", n)
	}
	for _, maxPayload := range []int{22, 30, 64, 100, 200, 1000, 1000} {
		want, err := f.NextPayload(maxPayload)
		require.NoError(t, err)
		got := o.take(maxPayload, frag)
		require.Equal(t, want, got, "payload of at most %d bytes", maxPayload)
		require.Equal(t, f.Pending(), o.size)
	}
	assert.True(t, o.empty())
	assert.Zero(t, o.size)
	assert.Nil(t, o.take(1000, frag))
}

func TestPSOutboxDropOldestUnsent(t *testing.T) {
	const frag = 64
	per := frag - psrp.FragmentHeaderSize
	var o psOutbox
	for id := uint64(1); id <= 3; id++ {
		o.push(psOutMsg{objectID: id, data: bytes.Repeat([]byte{'x'}, 100)}, per)
	}
	full := o.size
	// Message 1 is partly sent: Drop keeps it (the client holds its first
	// fragments) and discards message 2.
	first := o.take(frag, frag)
	require.NotEmpty(t, first)
	require.True(t, o.dropOldestUnsent(per))
	require.Len(t, o.msgs, 2)
	assert.Equal(t, uint64(1), o.msgs[0].objectID)
	assert.Equal(t, uint64(3), o.msgs[1].objectID)
	assert.Less(t, o.size, full)
	require.True(t, o.dropOldestUnsent(per))
	require.Len(t, o.msgs, 1)
	assert.Equal(t, uint64(1), o.msgs[0].objectID)
	assert.False(t, o.dropOldestUnsent(per), "only a partly sent message is left")

	// The rest of message 1 still reassembles with its first fragment.
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	rest := o.take(1000, frag)
	msgs, err := d.Feed(append(first, rest...))
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, bytes.Repeat([]byte{'x'}, 100), msgs[0])
	assert.Zero(t, o.size)
}
