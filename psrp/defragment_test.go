package psrp_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
)

func frag(obj, id uint64, s, e bool, blob string) psrp.Fragment {
	return psrp.Fragment{ObjectID: obj, FragmentID: id, Start: s, End: e, Blob: []byte(blob)}
}

func payload(frags ...psrp.Fragment) []byte {
	var b []byte
	for i := range frags {
		b = frags[i].AppendTo(b)
	}
	return b
}

func feedStrings(t *testing.T, d *psrp.Defragmenter, p []byte) []string {
	t.Helper()
	msgs, err := d.Feed(p)
	require.NoError(t, err)
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m)
	}
	return out
}

func TestDefragmenterInterleavedAndOutOfOrder(t *testing.T) {
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	// One payload: two messages interleaved, plus a single-fragment one.
	got := feedStrings(t, d, payload(
		frag(8, 0, true, false, "aa"),
		frag(9, 0, true, false, "bb"),
		frag(10, 0, true, true, "c"),
		frag(9, 1, false, true, "BB"),
		frag(8, 1, false, false, "AA"),
	))
	assert.Equal(t, []string{"c", "bbBB"}, got, "completion order")
	assert.Equal(t, []uint64{8}, d.PartialObjectIDs())
	// Windows delivers ObjectId 4 (queued before a disconnect) after 8-10.
	got = feedStrings(t, d, payload(frag(4, 0, true, true, "progress"), frag(8, 2, false, true, "!")))
	assert.Equal(t, []string{"progress", "aaAA!"}, got)
	assert.Equal(t, 0, d.PartialMessages())
}

// Messages split across payloads, as in a Receive that returns one fragment
// per rsp:Stream element.
func TestDefragmenterAcrossPayloads(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	frags := psrp.SplitMessage(3, msg, 1000)
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	for i, f := range frags {
		out, err := d.Feed(f.AppendTo(nil))
		require.NoError(t, err)
		if i < len(frags)-1 {
			assert.Empty(t, out)
			assert.Equal(t, 1, d.PartialMessages())
		} else {
			require.Len(t, out, 1)
			assert.Equal(t, msg, out[0])
		}
	}
}

func TestDefragmenterErrors(t *testing.T) {
	tests := []struct {
		name   string
		opts   psrp.DefragmenterOptions
		frags  []psrp.Fragment
		want   error
		before []string // messages completed before the error
	}{
		{"gap", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(1, 0, true, false, "a"), frag(1, 2, false, true, "c")},
			psrp.ErrFragmentGap, nil},
		{"duplicate", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(1, 0, true, false, "a"), frag(1, 1, false, false, "b"),
			frag(1, 1, false, true, "b")}, psrp.ErrDuplicateFragment, nil},
		{"duplicate start", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(1, 0, true, false, "a"), frag(1, 0, true, false, "a")},
			psrp.ErrDuplicateFragment, nil},
		{"missing start", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(5, 1, false, true, "x")}, psrp.ErrMissingStart, nil},
		{"id 0 without start", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(5, 0, false, true, "x")}, psrp.ErrMissingStart, nil},
		{"start flag on later id", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(5, 3, true, true, "x")},
			psrp.ErrUnexpectedStart, nil},
		{"start in the middle", psrp.DefragmenterOptions{}, []psrp.Fragment{frag(1, 0, true, false, "a"), frag(1, 1, true, false, "b")},
			psrp.ErrUnexpectedStart, nil},
		{"too large single", psrp.DefragmenterOptions{MaxMessageSize: 4}, []psrp.Fragment{frag(1, 0, true, true, "ok"),
			frag(2, 0, true, true, "12345")}, psrp.ErrMessageTooLarge, []string{"ok"}},
		{"too large reassembled", psrp.DefragmenterOptions{MaxMessageSize: 4}, []psrp.Fragment{frag(1, 0, true, false, "123"),
			frag(1, 1, false, true, "45")}, psrp.ErrMessageTooLarge, nil},
		{"too many partial", psrp.DefragmenterOptions{MaxPartialMessages: 2}, []psrp.Fragment{frag(1, 0, true, false, "a"),
			frag(2, 0, true, false, "b"), frag(3, 0, true, true, "whole"), frag(4, 0, true, false, "d")},
			psrp.ErrTooManyPartialMessages, []string{"whole"}},
		{"buffer limit on start", psrp.DefragmenterOptions{MaxBufferedBytes: psrp.BufferedFragmentOverhead + 5},
			[]psrp.Fragment{frag(1, 0, true, false, "abc"), frag(2, 0, true, false, "def")}, psrp.ErrTooMuchBuffered, nil},
		{"buffer limit on middle", psrp.DefragmenterOptions{MaxBufferedBytes: psrp.BufferedFragmentOverhead + 5},
			[]psrp.Fragment{frag(1, 0, true, false, "abc"), frag(1, 1, false, false, "def")}, psrp.ErrTooMuchBuffered, nil},
		// Tiny fragments count their bookkeeping, not just their bytes.
		{"buffer limit on tiny fragments", psrp.DefragmenterOptions{MaxBufferedBytes: 2*psrp.BufferedFragmentOverhead + 2},
			[]psrp.Fragment{frag(1, 0, true, false, "a"), frag(1, 1, false, false, "b"), frag(1, 2, false, false, "c")},
			psrp.ErrTooMuchBuffered, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := psrp.NewDefragmenter(tc.opts)
			p := payload(tc.frags...)
			msgs, err := d.Feed(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var fe *psrp.FragmentError
			require.ErrorAs(t, err, &fe)
			last := tc.frags[len(tc.frags)-1]
			assert.Equal(t, last.ObjectID, fe.ObjectID)
			assert.Equal(t, last.FragmentID, fe.FragmentID)
			assert.Equal(t, len(p)-last.Size(), fe.Offset, "offset of the bad fragment")
			assert.Contains(t, err.Error(), "ObjectId")
			var got []string
			for _, m := range msgs {
				got = append(got, string(m))
			}
			assert.Equal(t, tc.before, got)
		})
	}
}

// After an error the ObjectId's partial message is dropped and the
// Defragmenter keeps working for other ObjectIds.
func TestDefragmenterRecoversAfterError(t *testing.T) {
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	_, err := d.Feed(payload(frag(1, 0, true, false, "a"), frag(2, 0, true, false, "x")))
	require.NoError(t, err)
	_, err = d.Feed(payload(frag(1, 5, false, true, "z")))
	require.ErrorIs(t, err, psrp.ErrFragmentGap)
	assert.Equal(t, []uint64{2}, d.PartialObjectIDs())
	assert.Equal(t, 1+psrp.BufferedFragmentOverhead, d.BufferedBytes())
	assert.Equal(t, []string{"xy"}, feedStrings(t, d, payload(frag(2, 1, false, true, "y"))))
	assert.Equal(t, 0, d.BufferedBytes())
	_, err = d.Feed(payload(frag(3, 0, true, false, "abc")))
	require.NoError(t, err)
	d.Reset()
	assert.Equal(t, 0, d.BufferedBytes())
	assert.Equal(t, 0, d.PartialMessages())
}

func TestDefragmenterTruncatedPayload(t *testing.T) {
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	p := payload(frag(1, 0, true, true, "whole"), frag(2, 0, true, true, "cut"))
	msgs, err := d.Feed(p[:len(p)-1])
	assert.ErrorIs(t, err, psrp.ErrTruncatedFragment)
	require.Len(t, msgs, 1)
	assert.Equal(t, "whole", string(msgs[0]))
}

func TestDefragmenterDefaults(t *testing.T) {
	o := psrp.NewDefragmenter(psrp.DefragmenterOptions{}).Options()
	assert.Equal(t, 16<<20, o.MaxMessageSize, "the wsman response limit")
	assert.Equal(t, 1024, o.MaxPartialMessages)
	assert.Equal(t, 16<<20, o.MaxBufferedBytes, "the wsman response limit")
	assert.Equal(t, o, psrp.DefragmenterOptionsFor(0))
	assert.Equal(t, psrp.DefragmenterOptions{MaxMessageSize: 1 << 20, MaxPartialMessages: 1024, MaxBufferedBytes: 1 << 20},
		psrp.DefragmenterOptionsFor(1<<20))
}

func TestDefragmenterFeedMessagesBadHeader(t *testing.T) {
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	_, err := d.FeedMessages(payload(frag(1, 0, true, true, "short")))
	assert.True(t, errors.Is(err, psrp.ErrShortMessage))
}

// recordedPayloads returns the PSRP payloads of a few recordings (among them
// the 11-fragment message of test_client_fetch_file and the CREATE_PIPELINE
// split over Command and Send of test_psrp_small_msg_size), or nothing when
// the recordings are absent.
func recordedPayloads() [][]byte {
	dir, err := recordings.Dir()
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, name := range []string{"test_client_fetch_file", "test_psrp_small_msg_size", "test_psrp_disconnected_commands"} {
		rec, err := recordings.Load(filepath.Join(dir, "pypsrp", "responses", name+".yml"))
		if err != nil {
			continue
		}
		for _, ex := range rec.Messages {
			for _, side := range []string{ex.Request, ex.Response} {
				env, err := psrptrace.ScanEnvelope([]byte(side))
				if err != nil {
					continue
				}
				for _, pl := range env.Payloads {
					if b, err := pl.Bytes(); err == nil && len(b) > 0 {
						out = append(out, b)
					}
				}
			}
		}
	}
	return out
}

func FuzzDefragmenter(f *testing.F) {
	for _, p := range recordedPayloads() {
		f.Add(p, uint16(65535), uint8(16))
	}
	f.Add(payload(frag(1, 0, true, true, "abc")), uint16(100), uint8(4))
	f.Add(payload(frag(8, 0, true, false, "aa"), frag(9, 0, true, true, "b"), frag(8, 1, false, true, "AA")), uint16(3), uint8(1))
	f.Add(payload(frag(1, 0, true, false, "a"), frag(1, 2, false, true, "c")), uint16(100), uint8(4))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF}, uint16(100), uint8(4))
	f.Fuzz(func(t *testing.T, p []byte, maxSize uint16, maxPartial uint8) {
		opts := psrp.DefragmenterOptions{MaxMessageSize: int(maxSize) + 1, MaxPartialMessages: int(maxPartial) + 1,
			MaxBufferedBytes: int(maxSize)/2 + 1}
		d := psrp.NewDefragmenter(opts)
		// Feed the payload twice, split at an arbitrary point the second
		// time, to exercise state carried between calls.
		for _, cut := range []int{len(p), len(p) / 2} {
			msgs, err := d.Feed(p[:cut])
			if err != nil && !errors.Is(err, psrp.ErrTruncatedFragment) && !errors.Is(err, psrp.ErrFragmentGap) &&
				!errors.Is(err, psrp.ErrDuplicateFragment) && !errors.Is(err, psrp.ErrMissingStart) &&
				!errors.Is(err, psrp.ErrUnexpectedStart) && !errors.Is(err, psrp.ErrMessageTooLarge) &&
				!errors.Is(err, psrp.ErrTooManyPartialMessages) && !errors.Is(err, psrp.ErrTooMuchBuffered) {
				t.Fatalf("untyped error: %v", err)
			}
			for _, m := range msgs {
				if len(m) > opts.MaxMessageSize {
					t.Fatalf("message of %d bytes over the %d limit", len(m), opts.MaxMessageSize)
				}
			}
			if d.PartialMessages() > opts.MaxPartialMessages {
				t.Fatalf("%d partial messages over the %d limit", d.PartialMessages(), opts.MaxPartialMessages)
			}
			if d.BufferedBytes() > opts.MaxBufferedBytes || d.BufferedBytes() < 0 {
				t.Fatalf("%d buffered bytes, limit %d", d.BufferedBytes(), opts.MaxBufferedBytes)
			}
			_, _ = d.FeedMessages(p[cut:])
		}
	})
}

func benchMessages(n, size int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte('a' + i%26)}, size)
	}
	return msgs
}

func BenchmarkFragment(b *testing.B) {
	for _, bc := range []struct {
		name            string
		msgSize, maxPay int
	}{{"1KiB-msgs", 1 << 10, 150 << 10}, {"256KiB-msgs", 256 << 10, 150 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			msgs := benchMessages(16, bc.msgSize)
			b.SetBytes(int64(16 * bc.msgSize))
			b.ReportAllocs()
			for b.Loop() {
				fr := psrp.NewFragmenter(bc.maxPay, nil)
				for _, m := range msgs {
					fr.Queue(m)
				}
				for fr.Len() > 0 {
					if _, err := fr.NextPayload(bc.maxPay); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkDefragment(b *testing.B) {
	for _, bc := range []struct {
		name            string
		msgSize, maxPay int
	}{{"1KiB-msgs", 1 << 10, 150 << 10}, {"256KiB-msgs-32KiB-frags", 256 << 10, 32 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			msgs := benchMessages(16, bc.msgSize)
			fr := psrp.NewFragmenter(bc.maxPay, nil)
			for _, m := range msgs {
				fr.Queue(m)
			}
			var payloads [][]byte
			total := 0
			for fr.Len() > 0 {
				p, _ := fr.NextPayload(bc.maxPay)
				payloads = append(payloads, p)
				total += len(p)
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
				for _, p := range payloads {
					out, err := d.Feed(p)
					if err != nil {
						b.Fatal(err)
					}
					n += len(out)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
