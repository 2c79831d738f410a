package psrp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// FragmentHeaderSize is the size of the fixed header in front of every
// fragment blob (MS-PSRP 2.2.4): ObjectId (8), FragmentId (8), flags (1) and
// BlobLength (4), all big-endian.
const FragmentHeaderSize = 21

// Fragment flag bits (MS-PSRP 2.2.4).
const (
	fragmentFlagStart = 0x01
	fragmentFlagEnd   = 0x02
)

// MinFragmentSize is the smallest fragment size a Fragmenter accepts: the
// header plus one byte of blob.
const MinFragmentSize = FragmentHeaderSize + 1

// Fragment is one MS-PSRP 2.2.4 fragment: a slice of a PSRP message with the
// ObjectId shared by all fragments of the message and a FragmentId counting
// from 0.
type Fragment struct {
	ObjectID   uint64 // the message's ObjectId, shared by all its fragments
	FragmentID uint64 // position of the fragment in its message, from 0
	Start      bool   // first fragment of the message (S flag)
	End        bool   // last fragment of the message (E flag)
	Blob       []byte // this fragment's slice of the message bytes
}

// Size returns the encoded size of f: the header plus the blob.
func (f *Fragment) Size() int { return FragmentHeaderSize + len(f.Blob) }

// AppendTo appends the wire form of f to dst and returns the result.
func (f *Fragment) AppendTo(dst []byte) []byte {
	var hdr [FragmentHeaderSize]byte
	binary.BigEndian.PutUint64(hdr[0:8], f.ObjectID)
	binary.BigEndian.PutUint64(hdr[8:16], f.FragmentID)
	if f.Start {
		hdr[16] |= fragmentFlagStart
	}
	if f.End {
		hdr[16] |= fragmentFlagEnd
	}
	binary.BigEndian.PutUint32(hdr[17:21], uint32(len(f.Blob)))
	dst = append(dst, hdr[:]...)
	return append(dst, f.Blob...)
}

// Errors about fragments. They are wrapped in a *FragmentError; test for
// them with errors.Is.
var (
	// ErrTruncatedFragment: the payload ends inside a fragment header or
	// before the number of blob bytes the header announces.
	ErrTruncatedFragment = errors.New("psrp: truncated fragment")
	// ErrFragmentGap: a FragmentId is higher than the next one expected for
	// its ObjectId (a fragment is missing).
	ErrFragmentGap = errors.New("psrp: fragment missing (FragmentId gap)")
	// ErrDuplicateFragment: a FragmentId is lower than the next one expected
	// for its ObjectId (already received).
	ErrDuplicateFragment = errors.New("psrp: duplicate fragment")
	// ErrMissingStart: the first fragment seen for an ObjectId does not have
	// the start flag, or FragmentId 0 comes without it.
	ErrMissingStart = errors.New("psrp: fragment sequence does not begin with a start fragment")
	// ErrUnexpectedStart: a start flag on a fragment other than FragmentId 0,
	// or a new start while the ObjectId's message is incomplete.
	ErrUnexpectedStart = errors.New("psrp: start flag in the middle of a message")
	// ErrMessageTooLarge: the reassembled message would exceed
	// DefragmenterOptions.MaxMessageSize.
	ErrMessageTooLarge = errors.New("psrp: reassembled message exceeds the size limit")
	// ErrTooManyPartialMessages: more incomplete messages than
	// DefragmenterOptions.MaxPartialMessages would be held.
	ErrTooManyPartialMessages = errors.New("psrp: too many incomplete messages")
	// ErrTooMuchBuffered: the incomplete messages would hold more than
	// DefragmenterOptions.MaxBufferedBytes altogether.
	ErrTooMuchBuffered = errors.New("psrp: incomplete messages exceed the buffer limit")
)

// FragmentError describes a rejected fragment. Err is one of the Err*
// sentinels of this file.
type FragmentError struct {
	Offset     int    // byte offset of the fragment in the payload, -1 if unknown
	ObjectID   uint64 // ObjectId of the rejected fragment
	FragmentID uint64 // FragmentId of the rejected fragment
	Detail     string // what was expected, or the limit, for the message
	Err        error  // one of the Err* sentinels above
}

// Error implements error.
func (e *FragmentError) Error() string {
	s := fmt.Sprintf("%v (ObjectId %d, FragmentId %d", e.Err, e.ObjectID, e.FragmentID)
	if e.Offset >= 0 {
		s += fmt.Sprintf(", payload offset %d", e.Offset)
	}
	s += ")"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *FragmentError) Unwrap() error { return e.Err }

// DecodeFragment reads one fragment from the start of b and returns it with
// the number of bytes it occupies. The Blob aliases b.
func DecodeFragment(b []byte) (Fragment, int, error) {
	if len(b) < FragmentHeaderSize {
		return Fragment{}, 0, &FragmentError{Offset: 0, Err: ErrTruncatedFragment,
			Detail: fmt.Sprintf("%d bytes left, header needs %d", len(b), FragmentHeaderSize)}
	}
	f := Fragment{
		ObjectID:   binary.BigEndian.Uint64(b[0:8]),
		FragmentID: binary.BigEndian.Uint64(b[8:16]),
		Start:      b[16]&fragmentFlagStart != 0,
		End:        b[16]&fragmentFlagEnd != 0,
	}
	n := binary.BigEndian.Uint32(b[17:21])
	if uint64(n) > uint64(len(b)-FragmentHeaderSize) {
		return Fragment{}, 0, &FragmentError{Offset: 0, ObjectID: f.ObjectID, FragmentID: f.FragmentID,
			Err: ErrTruncatedFragment, Detail: fmt.Sprintf("BlobLength %d but %d bytes left", n, len(b)-FragmentHeaderSize)}
	}
	end := FragmentHeaderSize + int(n)
	f.Blob = b[FragmentHeaderSize:end:end]
	return f, end, nil
}

// DecodeFragments splits a payload (the bytes of one creationXml, Arguments,
// Stream or connectXml element) into its fragments. Blobs alias payload.
func DecodeFragments(payload []byte) ([]Fragment, error) {
	var out []Fragment
	for off := 0; off < len(payload); {
		f, n, err := DecodeFragment(payload[off:])
		if err != nil {
			var fe *FragmentError
			if errors.As(err, &fe) {
				fe.Offset = off
			}
			return out, err
		}
		out = append(out, f)
		off += n
	}
	return out, nil
}

// SplitMessage cuts the wire form of one PSRP message into fragments of at
// most maxFragmentSize bytes each (header included), all with the given
// ObjectId. maxFragmentSize is kept between MinFragmentSize and
// MaxFragmentSizeLimit. Blobs alias msg.
func SplitMessage(objectID uint64, msg []byte, maxFragmentSize int) []Fragment {
	maxFragmentSize = min(max(maxFragmentSize, MinFragmentSize), MaxFragmentSizeLimit)
	per := maxFragmentSize - FragmentHeaderSize
	n := (len(msg) + per - 1) / per
	if n == 0 {
		n = 1
	}
	out := make([]Fragment, 0, n)
	for i := 0; i < n; i++ {
		lo := i * per
		hi := min(lo+per, len(msg))
		out = append(out, Fragment{ObjectID: objectID, FragmentID: uint64(i), Start: i == 0, End: i == n-1,
			Blob: msg[lo:hi:hi]})
	}
	return out
}
