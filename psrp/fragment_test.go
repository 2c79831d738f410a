package psrp_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
)

// The first fragment of a Create (test_psrp_disconnect_runspaces, exchange
// 0), in the MS-PSRP 2.2.4 layout.
func TestFragmentHeaderWorkedExample(t *testing.T) {
	hdr, _ := hex.DecodeString("0000000000000001" + "0000000000000000" + "03" + "000000C7")
	payload := append(hdr, make([]byte, 199)...)
	f, n, err := psrp.DecodeFragment(payload)
	require.NoError(t, err)
	assert.Equal(t, 21+199, n)
	assert.Equal(t, uint64(1), f.ObjectID)
	assert.Equal(t, uint64(0), f.FragmentID)
	assert.True(t, f.Start)
	assert.True(t, f.End)
	assert.Len(t, f.Blob, 199)
	assert.Equal(t, payload, f.AppendTo(nil))
}

func TestFragmentEncodeFlags(t *testing.T) {
	tests := []struct {
		start, end bool
		flags      byte
	}{{true, true, 3}, {true, false, 1}, {false, true, 2}, {false, false, 0}}
	for _, tc := range tests {
		f := psrp.Fragment{ObjectID: 0x0102030405060708, FragmentID: 9, Start: tc.start, End: tc.end, Blob: []byte("xyz")}
		b := f.AppendTo(nil)
		require.Len(t, b, 24)
		assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, b[0:8])
		assert.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 9}, b[8:16])
		assert.Equal(t, tc.flags, b[16])
		assert.Equal(t, []byte{0, 0, 0, 3}, b[17:21])
		g, n, err := psrp.DecodeFragment(b)
		require.NoError(t, err)
		assert.Equal(t, 24, n)
		assert.Equal(t, f, g)
	}
}

func TestDecodeFragmentTruncated(t *testing.T) {
	full := (&psrp.Fragment{ObjectID: 1, Start: true, End: true, Blob: []byte("hello")}).AppendTo(nil)
	for _, n := range []int{0, 5, 20, 21, 25} {
		_, _, err := psrp.DecodeFragment(full[:n])
		require.Error(t, err, "length %d", n)
		assert.True(t, errors.Is(err, psrp.ErrTruncatedFragment))
	}
	frags, err := psrp.DecodeFragments(append(full, full[:10]...))
	assert.Len(t, frags, 1, "the complete fragment before the truncated one is returned")
	var fe *psrp.FragmentError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, len(full), fe.Offset)
}

var (
	hexHeaderRE = regexp.MustCompile(`^\s*fragment header: ([0-9a-f ]+)$`)
	hexAnnotRE  = regexp.MustCompile(`ObjectId=(\d+) .*FragmentId=(\d+) .*flags=0x([0-9a-f]+) \(S=(\d) E=(\d)\) BlobLength=(\d+)`)
	msgHeaderRE = regexp.MustCompile(`^\s*message header : ([0-9a-f ]+)\|([0-9a-f ]+)$`)
	msgAnnotRE  = regexp.MustCompile(`Destination=(\d+) .*MessageType=0x([0-9A-Fa-f]+) (\S+)`)
	rpidAnnotRE = regexp.MustCompile(`RPID bytes as \.NET GUID \(bytes_le\)=([0-9A-F-]+)`)
	pidAnnotRE  = regexp.MustCompile(`PID  bytes as \.NET GUID \(bytes_le\)=([0-9A-F-]+)`)
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	require.NoError(t, err)
	return b
}

// Every fragment and message header annotated in the recordings' hexdumps
// (the connect/disconnect payloads, the multi-fragment CREATE_PIPELINE of
// test_psrp_small_msg_size, the pwsh 7.4 creationXml) decodes to the
// annotated values and re-encodes to the same bytes.
func TestHexdumpHeaders(t *testing.T) {
	dir := recordings.DirOrSkip(t)
	files, err := filepath.Glob(filepath.Join(dir, "hexdumps", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var nFrag, nMsg, nMulti int
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		require.NoError(t, sc.Err())
		f.Close()
		for i, line := range lines {
			where := fmt.Sprintf("%s:%d", filepath.Base(file), i+1)
			if m := hexHeaderRE.FindStringSubmatch(line); m != nil && i+1 < len(lines) {
				hdr := mustHex(t, m[1])
				require.Len(t, hdr, psrp.FragmentHeaderSize, where)
				a := hexAnnotRE.FindStringSubmatch(lines[i+1])
				require.NotNil(t, a, "annotation after %s", where)
				blobLen, _ := strconv.Atoi(a[6])
				fr, n, err := psrp.DecodeFragment(append(hdr, make([]byte, blobLen)...))
				require.NoError(t, err, where)
				assert.Equal(t, psrp.FragmentHeaderSize+blobLen, n, where)
				assert.Equal(t, a[1], strconv.FormatUint(fr.ObjectID, 10), where)
				assert.Equal(t, a[2], strconv.FormatUint(fr.FragmentID, 10), where)
				assert.Equal(t, a[4] == "1", fr.Start, where)
				assert.Equal(t, a[5] == "1", fr.End, where)
				assert.Equal(t, hdr, fr.AppendTo(nil)[:psrp.FragmentHeaderSize], where)
				if !(fr.Start && fr.End) {
					nMulti++
				}
				nFrag++
			}
			if m := msgHeaderRE.FindStringSubmatch(line); m != nil && i+3 < len(lines) {
				hdr := append(mustHex(t, m[1]), mustHex(t, m[2])...)
				require.Len(t, hdr, psrp.MessageHeaderSize, where)
				msg, err := psrp.DecodeMessage(hdr)
				require.NoError(t, err, where)
				a := msgAnnotRE.FindStringSubmatch(lines[i+1])
				require.NotNil(t, a, where)
				assert.Equal(t, a[1], strconv.Itoa(int(msg.Destination)), where)
				assert.Equal(t, a[3], msg.Type.String(), where)
				r := rpidAnnotRE.FindStringSubmatch(lines[i+2])
				p := pidAnnotRE.FindStringSubmatch(lines[i+3])
				require.NotNil(t, r, where)
				require.NotNil(t, p, where)
				assert.Equal(t, uuid.MustParse(r[1]), msg.RunspacePoolID, where)
				assert.Equal(t, uuid.MustParse(p[1]), msg.PipelineID, where)
				assert.Equal(t, hdr, psrp.AppendMessage(nil, msg, false), where)
				nMsg++
			}
		}
	}
	assert.Greater(t, nFrag, 10)
	assert.Greater(t, nMsg, 10)
	assert.Greater(t, nMulti, 0, "the hexdumps include a fragment of a multi-fragment message")
}

func TestSplitMessage(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 10) // 100 bytes
	tests := []struct {
		max   int
		sizes []int
	}{
		{1000, []int{100}},
		{21 + 100, []int{100}},
		{21 + 99, []int{99, 1}},
		{21 + 30, []int{30, 30, 30, 10}},
		{0, []int{1, 1, 1}}, // raised to MinFragmentSize: only check the start
	}
	for _, tc := range tests {
		frags := psrp.SplitMessage(7, msg, tc.max)
		if tc.max == 0 {
			require.Len(t, frags, 100)
			continue
		}
		require.Len(t, frags, len(tc.sizes), "max %d", tc.max)
		var joined []byte
		for i, f := range frags {
			assert.Equal(t, uint64(7), f.ObjectID)
			assert.Equal(t, uint64(i), f.FragmentID)
			assert.Equal(t, i == 0, f.Start)
			assert.Equal(t, i == len(frags)-1, f.End)
			assert.Len(t, f.Blob, tc.sizes[i])
			assert.LessOrEqual(t, f.Size(), tc.max)
			joined = append(joined, f.Blob...)
		}
		assert.Equal(t, msg, joined)
	}
}

func TestFragmenterPacksPayloads(t *testing.T) {
	ids := &psrp.ObjectIDCounter{}
	fr := psrp.NewFragmenter(21+50, ids)
	a := bytes.Repeat([]byte("a"), 120) // 3 fragments: 50, 50, 20
	b := bytes.Repeat([]byte("b"), 10)  // 1 fragment
	assert.Equal(t, uint64(1), fr.Queue(a))
	assert.Equal(t, uint64(2), fr.Queue(b))
	assert.Equal(t, 4*21+130, fr.Pending())

	// A 100-byte payload holds one full fragment (71 bytes) and a
	// 29-byte piece (8 bytes of blob).
	p1, err := fr.NextPayload(100)
	require.NoError(t, err)
	assert.Len(t, p1, 100)
	frags, err := psrp.DecodeFragments(p1)
	require.NoError(t, err)
	require.Len(t, frags, 2)
	assert.Len(t, frags[0].Blob, 50)
	assert.Len(t, frags[1].Blob, 8)

	var all []byte
	all = append(all, p1...)
	for fr.Len() > 0 {
		p, err := fr.NextPayload(100)
		require.NoError(t, err)
		require.LessOrEqual(t, len(p), 100)
		all = append(all, p...)
	}
	p, err := fr.NextPayload(100)
	require.NoError(t, err)
	assert.Nil(t, p, "nothing left")

	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	msgs, err := d.Feed(all)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	assert.Equal(t, a, msgs[0])
	assert.Equal(t, b, msgs[1])
	assert.Equal(t, 0, d.PartialMessages())

	_, err = fr.NextPayload(10)
	assert.NoError(t, err, "empty queue: no error")
	fr.Queue(b)
	_, err = fr.NextPayload(psrp.MinFragmentSize - 1)
	assert.ErrorIs(t, err, psrp.ErrPayloadTooSmall)
}

// SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL must travel in one connectXml
// payload: NextPayloadAll refuses to split them and leaves the queue intact.
func TestFragmenterNextPayloadAll(t *testing.T) {
	fr := psrp.NewFragmenter(0, nil)
	assert.Equal(t, psrp.DefaultMaxFragmentSize, fr.MaxFragmentSize())
	cap1 := make([]byte, 199)
	conn := make([]byte, 45)
	fr.Queue(cap1)
	fr.Queue(conn)
	need := 2*21 + 199 + 45
	_, err := fr.NextPayloadAll(need - 1)
	require.ErrorIs(t, err, psrp.ErrPayloadTooSmall)
	assert.Equal(t, 2, fr.Len())
	p, err := fr.NextPayloadAll(need)
	require.NoError(t, err)
	assert.Len(t, p, need)
	assert.Equal(t, 0, fr.Len())
}

// A new client's ObjectIds restart at 1; pool and pipeline fragmenters share
// one counter.
func TestFragmenterObjectIDs(t *testing.T) {
	ids := &psrp.ObjectIDCounter{}
	pool := psrp.NewFragmenter(0, ids)
	pipe := psrp.NewFragmenter(0, ids)
	assert.Equal(t, uint64(1), pool.Queue([]byte("x")))
	assert.Equal(t, uint64(2), pipe.Queue([]byte("y")))
	assert.Equal(t, uint64(3), pool.Queue([]byte("z")))
	assert.Equal(t, uint64(4), ids.Peek())
	pool.Reset()
	assert.Equal(t, 0, pool.Len())
	assert.Equal(t, uint64(1), pipe.Queue([]byte("w")), "counter restarted at 1")
	pool.SetMaxFragmentSize(1 << 40)
	assert.Equal(t, psrp.MaxFragmentSizeLimit, pool.MaxFragmentSize())
	pool.SetMaxFragmentSize(3)
	assert.Equal(t, psrp.MinFragmentSize, pool.MaxFragmentSize())
	ids.Set(10)
	assert.Equal(t, uint64(10), ids.Next())
	assert.Same(t, ids, pool.ObjectIDs())
}

func TestFragmenterQueueMessage(t *testing.T) {
	fr := psrp.NewFragmenter(0, nil)
	m := &psrp.Message{Destination: psrp.DestinationClient, Type: psrp.MessagePipelineOutput, Data: []byte("<S>a</S>")}
	fr.QueueMessage(m, true)
	p, err := fr.NextPayload(1 << 16)
	require.NoError(t, err)
	d := psrp.NewDefragmenter(psrp.DefragmenterOptions{})
	msgs, err := d.FeedMessages(p)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "<S>a</S>", string(msgs[0].Data), "BOM stripped on decode")
}

func TestPayloadSizeForEnvelope(t *testing.T) {
	assert.Equal(t, (512000-2048)/4*3, psrp.PayloadSizeForEnvelope(512000, 2048))
	assert.Equal(t, 113385, psrp.PayloadSizeForEnvelope(153600, 2420))
	assert.Equal(t, psrp.MinFragmentSize, psrp.PayloadSizeForEnvelope(100, 2048))
}
