package psrp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/psrptrace"
	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
)

// Real multi-fragment messages reassemble: the 11-fragment PIPELINE_OUTPUT
// of test_client_fetch_file and the CREATE_PIPELINE that
// test_psrp_small_msg_size splits across rsp:Arguments and rsp:Send.
func TestRecordedMultiFragmentMessages(t *testing.T) {
	tests := []struct {
		file      string
		typ       psrp.MessageType
		fragments int
	}{
		{"test_client_fetch_file", psrp.MessagePipelineOutput, 11},
		{"test_psrp_small_msg_size", psrp.MessageCreatePipeline, 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			msgs, err := psrptrace.Recording(recordings.LoadNamed(t, tc.file))
			require.NoError(t, err)
			found := false
			for _, m := range msgs {
				if m.Message.Type == tc.typ && m.Fragments >= tc.fragments {
					found = true
					_, err := psrp.DecodeMessageData(m.Message)
					require.NoError(t, err)
				}
			}
			assert.True(t, found, "a %s of at least %d fragments", tc.typ, tc.fragments)
		})
	}
}

// Every recorded message survives fragmenting at several sizes, packing into
// payloads and reassembly, in order.
func TestRefragmentRecordedMessages(t *testing.T) {
	all := allRecorded(t)
	var wire [][]byte
	for _, r := range all {
		wire = append(wire, psrp.AppendMessage(nil, r.msg, r.msg.Destination == psrp.DestinationClient))
	}
	for _, size := range []struct{ frag, payload, n int }{
		{psrp.MinFragmentSize, 64, 20}, {200, 1000, len(wire)}, {32 << 10, 150 << 10, len(wire)},
	} {
		wire := wire[:size.n]
		fr := psrp.NewFragmenter(size.frag, nil)
		for _, w := range wire {
			fr.Queue(w)
		}
		d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
		var got [][]byte
		for fr.Len() > 0 {
			p, err := fr.NextPayload(size.payload)
			require.NoError(t, err)
			require.LessOrEqual(t, len(p), size.payload)
			out, err := d.Feed(p)
			require.NoError(t, err)
			got = append(got, out...)
		}
		require.Equal(t, len(wire), len(got), "fragment size %d", size.frag)
		for i := range wire {
			require.Equal(t, wire[i], got[i], "message %d, fragment size %d", i, size.frag)
		}
		assert.Equal(t, 0, d.PartialMessages())
	}
}

// BenchmarkDecodeMessageData decodes the recorded messages (CLIXML and
// protocol objects).
func BenchmarkDecodeMessageData(b *testing.B) {
	dir, err := recordings.Dir()
	if err != nil {
		b.Skip(err)
	}
	files, err := recordings.PypsrpFiles(dir)
	require.NoError(b, err)
	var msgs []*psrp.Message
	size := 0
	for _, f := range files {
		rec, err := recordings.Load(f)
		require.NoError(b, err)
		ms, err := traceRecording(rec)
		require.NoError(b, err)
		for _, m := range ms {
			msgs = append(msgs, m)
			size += len(m.Data)
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := psrp.DecodeMessageData(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
