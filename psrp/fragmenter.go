package psrp

import (
	"errors"
	"fmt"
)

// DefaultMaxFragmentSize is the fragment size a Fragmenter uses until told
// otherwise: 32 KiB, the .NET server default (BaseTransportManager
// DefaultFragmentSize). Clients normally set it from the negotiated
// MaxEnvelopeSize (MS-WSMV 3.1.4.1.7; see PayloadSizeForEnvelope).
const DefaultMaxFragmentSize = 32 << 10

// ObjectIDCounter hands out fragment ObjectIds. One counter serves a whole
// runspace pool (pool and pipeline messages), so several Fragmenters can share
// one. The zero value starts at 1. It is not safe for concurrent use.
type ObjectIDCounter struct {
	next uint64
}

// Next returns the next ObjectId and advances the counter.
func (c *ObjectIDCounter) Next() uint64 {
	if c.next == 0 {
		c.next = 1
	}
	id := c.next
	c.next++
	return id
}

// Peek returns the ObjectId Next would return.
func (c *ObjectIDCounter) Peek() uint64 {
	if c.next == 0 {
		return 1
	}
	return c.next
}

// Reset makes the counter start again at 1, as a client does when it
// connects to an existing pool from a new client session.
func (c *ObjectIDCounter) Reset() { c.next = 1 }

// Set makes the next ObjectId id (0 means 1).
func (c *ObjectIDCounter) Set(id uint64) { c.next = id }

// ErrPayloadTooSmall is returned when queued messages must go in one payload
// but do not fit the size given, or when a payload size cannot hold even one
// fragment header and one byte.
var ErrPayloadTooSmall = errors.New("psrp: payload size too small for the queued messages")

// Fragmenter turns PSRP messages into fragments and packs them into
// payloads of bounded size, in the order the messages were queued. A message
// larger than the space left in a payload is split: the payload gets as much
// as fits and the rest goes in the next payload.
//
// A Fragmenter is a plain value holder with no goroutines; it is not safe
// for concurrent use.
type Fragmenter struct {
	maxFragment int
	ids         *ObjectIDCounter
	queue       []queuedMessage
	pending     int // message bytes still queued
	frags       int // fragments still needed at the current size (see fragCount)
}

type queuedMessage struct {
	objectID   uint64
	nextFragID uint64
	data       []byte // remaining bytes of the message
}

// NewFragmenter returns a Fragmenter whose fragments are at most
// maxFragmentSize bytes (header included; 0 means DefaultMaxFragmentSize)
// and which takes ObjectIds from ids (nil means a counter of its own).
func NewFragmenter(maxFragmentSize int, ids *ObjectIDCounter) *Fragmenter {
	if ids == nil {
		ids = &ObjectIDCounter{}
	}
	f := &Fragmenter{ids: ids}
	f.SetMaxFragmentSize(maxFragmentSize)
	return f
}

// MaxFragmentSizeLimit is the largest fragment size a Fragmenter uses: the
// blob length field is 32 bits, and .NET uses signed 32-bit sizes.
const MaxFragmentSizeLimit = 1<<31 - 1

// SetMaxFragmentSize changes the largest fragment (header included) for
// fragments produced from now on; 0 means DefaultMaxFragmentSize, values
// below MinFragmentSize are raised to it and values above
// MaxFragmentSizeLimit lowered to it.
func (f *Fragmenter) SetMaxFragmentSize(n int) {
	if n == 0 {
		n = DefaultMaxFragmentSize
	}
	f.maxFragment = min(max(n, MinFragmentSize), MaxFragmentSizeLimit)
	f.frags = 0
	for _, q := range f.queue {
		f.frags += f.fragCount(len(q.data))
	}
}

// fragCount is the number of fragments n remaining message bytes need at the
// current fragment size (at least one: an empty message is one fragment).
func (f *Fragmenter) fragCount(n int) int {
	per := f.maxFragment - FragmentHeaderSize
	return max((n+per-1)/per, 1)
}

// MaxFragmentSize returns the current largest fragment size.
func (f *Fragmenter) MaxFragmentSize() int { return f.maxFragment }

// ObjectIDs returns the counter the Fragmenter takes ObjectIds from.
func (f *Fragmenter) ObjectIDs() *ObjectIDCounter { return f.ids }

// Queue adds the wire form of a message (see AppendMessage) and returns the
// ObjectId assigned to it. The Fragmenter keeps msg until it is sent: the
// caller must not modify it.
func (f *Fragmenter) Queue(msg []byte) uint64 {
	id := f.ids.Next()
	f.queue = append(f.queue, queuedMessage{objectID: id, data: msg})
	f.pending += len(msg)
	f.frags += f.fragCount(len(msg))
	return id
}

// QueueMessage encodes m (with a UTF-8 byte order mark before the data when
// bom is true) and queues it, returning its ObjectId.
func (f *Fragmenter) QueueMessage(m *Message, bom bool) uint64 {
	return f.Queue(AppendMessage(nil, m, bom))
}

// Len returns the number of messages not completely handed out yet.
func (f *Fragmenter) Len() int { return len(f.queue) }

// Pending returns the number of bytes (fragment headers included) needed to
// send everything still queued at the current fragment size, assuming each
// payload holds at least one full-size fragment. It takes constant time.
func (f *Fragmenter) Pending() int {
	return f.frags*FragmentHeaderSize + f.pending
}

// NextPayload returns the next payload of at most maxPayload bytes: whole
// fragments, taken from the queued messages in order, each at most the
// maximum fragment size. It returns nil when nothing is queued. A payload
// size that cannot hold a fragment header and one byte of blob gives
// ErrPayloadTooSmall.
func (f *Fragmenter) NextPayload(maxPayload int) ([]byte, error) {
	if len(f.queue) == 0 {
		return nil, nil
	}
	if maxPayload < MinFragmentSize {
		return nil, fmt.Errorf("%w: %d bytes cannot hold a fragment", ErrPayloadTooSmall, maxPayload)
	}
	buf := make([]byte, 0, min(maxPayload, f.Pending()))
	for len(f.queue) > 0 {
		room := maxPayload - len(buf)
		if room < MinFragmentSize {
			break
		}
		q := &f.queue[0]
		n := min(len(q.data), f.maxFragment-FragmentHeaderSize, room-FragmentHeaderSize)
		fr := Fragment{ObjectID: q.objectID, FragmentID: q.nextFragID, Start: q.nextFragID == 0,
			End: n == len(q.data), Blob: q.data[:n]}
		buf = fr.AppendTo(buf)
		f.frags -= f.fragCount(len(q.data))
		q.data = q.data[n:]
		q.nextFragID++
		f.pending -= n
		if !fr.End {
			f.frags += f.fragCount(len(q.data))
		}
		if fr.End {
			f.queue[0] = queuedMessage{}
			f.queue = f.queue[1:]
		}
	}
	if len(f.queue) == 0 {
		f.queue = nil
	}
	return buf, nil
}

// NextPayloadAll returns one payload holding everything queued, or
// ErrPayloadTooSmall (and leaves the queue as it was) when that needs more
// than maxPayload bytes. A client uses it for the connectXml of a new-client
// connect, where SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL must travel in
// one payload.
func (f *Fragmenter) NextPayloadAll(maxPayload int) ([]byte, error) {
	if need := f.Pending(); need > maxPayload {
		return nil, fmt.Errorf("%w: %d messages need %d bytes, payload limit is %d", ErrPayloadTooSmall,
			len(f.queue), need, maxPayload)
	}
	return f.NextPayload(maxPayload)
}

// Reset drops every queued message and makes ObjectIds start again at 1.
func (f *Fragmenter) Reset() {
	f.queue = nil
	f.pending = 0
	f.frags = 0
	f.ids.Reset()
}

// PayloadSizeForEnvelope returns the largest PSRP payload (fragments with
// their headers) that fits, base64-encoded, in a WS-Management envelope of
// maxEnvelopeSize bytes of which envelopeOverhead bytes are taken by the
// rest of the SOAP message: floor((maxEnvelopeSize-envelopeOverhead)/4)*3.
// PSWSMan reserves 2048 bytes of overhead; pypsrp the size of its Send
// envelope skeleton plus 256. The result is at least
// MinFragmentSize.
func PayloadSizeForEnvelope(maxEnvelopeSize, envelopeOverhead int) int {
	n := (maxEnvelopeSize - envelopeOverhead) / 4 * 3
	return max(n, MinFragmentSize)
}
