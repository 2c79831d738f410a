package psrp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
)

// Empty fragments are accepted in sequence but hold nothing: a stream of
// them cannot grow the Defragmenter, and the message still reassembles.
func TestAuditDefragmenterEmptyFragmentsHoldNothing(t *testing.T) {
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{MaxBufferedBytes: psrp.BufferedFragmentOverhead + 2})
	frags := []psrp.Fragment{frag(1, 0, true, false, "a")}
	for i := uint64(1); i <= 10000; i++ {
		frags = append(frags, frag(1, i, false, false, ""))
	}
	p := payload(frags...)
	out, err := d.Feed(p)
	require.NoError(t, err)
	assert.Empty(t, out)
	assert.Equal(t, 1+psrp.BufferedFragmentOverhead, d.BufferedBytes())
	out, err = d.Feed(payload(frag(1, 10001, false, true, "z")))
	require.NoError(t, err)
	assert.Equal(t, []string{"az"}, []string{string(out[0])})
	assert.Equal(t, 0, d.BufferedBytes())
}

// A hostile stream of one-byte fragments is stopped by MaxBufferedBytes
// long before it holds many times the limit in bookkeeping.
func TestAuditDefragmenterTinyFragmentsBounded(t *testing.T) {
	const limit = 64 << 10
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{MaxBufferedBytes: limit})
	frags := []psrp.Fragment{frag(1, 0, true, false, "x")}
	for i := uint64(1); i < limit; i++ {
		frags = append(frags, frag(1, i, false, false, "x"))
	}
	p := payload(frags...)
	_, err := d.Feed(p)
	require.ErrorIs(t, err, psrp.ErrTooMuchBuffered)
	var fe *psrp.FragmentError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, uint64(limit/(1+psrp.BufferedFragmentOverhead)), fe.FragmentID, "fragments held before the limit")
	assert.Equal(t, 0, d.BufferedBytes(), "the failed message is dropped")
}
