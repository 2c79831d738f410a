package psrp

import (
	"fmt"
	"math"
	"sort"
)

// DefaultResponseLimit is the response size the package's memory defaults
// are sized for: 16 MiB, the default of wsman.Config.MaxResponseBytes
// (wsman.DefaultMaxResponseBytes). psrp does not import wsman: a caller
// whose transport has another limit passes it down
// (ClientPoolConfig.ResponseLimit, DefragmenterOptionsFor), so that what a
// hostile server can make the client hold stays in proportion to the one
// limit the caller chose.
const DefaultResponseLimit = 16 << 20

// Defaults for DefragmenterOptions, sized for DefaultResponseLimit (see
// DefragmenterOptionsFor): a peer can make a Defragmenter hold at most
// about one response limit in incomplete messages, and no message larger
// than that is reassembled. PowerShell's own client refuses objects above
// 10 MB by default (MaximumReceivedObjectSize).
const (
	DefaultMaxMessageSize     = DefaultResponseLimit
	DefaultMaxPartialMessages = 1024
	DefaultMaxBufferedBytes   = DefaultResponseLimit
)

// DefragmenterOptions bounds what a Defragmenter holds. Zero fields take the
// defaults.
type DefragmenterOptions struct {
	// MaxMessageSize is the largest reassembled message accepted, in bytes
	// (default DefaultMaxMessageSize, 16 MiB).
	MaxMessageSize int
	// MaxPartialMessages is the most incomplete messages held at one time
	// (default DefaultMaxPartialMessages, 1024).
	MaxPartialMessages int
	// MaxBufferedBytes is the most bytes held in incomplete messages
	// altogether (default DefaultMaxBufferedBytes, 16 MiB). Each non-empty
	// fragment held counts its blob plus BufferedFragmentOverhead, so that a
	// stream of tiny fragments cannot hold much more memory than this.
	MaxBufferedBytes int
}

// DefragmenterOptionsFor returns the default limits for a transport whose
// responses are at most responseLimit bytes (wsman.Client.MaxResponseBytes):
// MaxMessageSize and MaxBufferedBytes equal to it, MaxPartialMessages
// DefaultMaxPartialMessages. responseLimit <= 0 means DefaultResponseLimit.
func DefragmenterOptionsFor(responseLimit int64) DefragmenterOptions {
	if responseLimit <= 0 {
		responseLimit = DefaultResponseLimit
	}
	n := int(min(responseLimit, math.MaxInt))
	return DefragmenterOptions{MaxMessageSize: n, MaxPartialMessages: DefaultMaxPartialMessages, MaxBufferedBytes: n}
}

// or fills the zero fields of o from d.
func (o DefragmenterOptions) or(d DefragmenterOptions) DefragmenterOptions {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = d.MaxMessageSize
	}
	if o.MaxPartialMessages <= 0 {
		o.MaxPartialMessages = d.MaxPartialMessages
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = d.MaxBufferedBytes
	}
	return o
}

// BufferedFragmentOverhead is what each non-empty fragment held in an
// incomplete message counts against DefragmenterOptions.MaxBufferedBytes on
// top of its blob: the bookkeeping a held fragment costs (a slice header and
// a small allocation). Empty fragments are not held and count nothing.
const BufferedFragmentOverhead = 48

func (o DefragmenterOptions) withDefaults() DefragmenterOptions {
	return o.or(DefragmenterOptions{MaxMessageSize: DefaultMaxMessageSize,
		MaxPartialMessages: DefaultMaxPartialMessages, MaxBufferedBytes: DefaultMaxBufferedBytes})
}

// Defragmenter reassembles PSRP messages from fragments, keyed by ObjectId.
// Fragments of several messages may be interleaved, in one payload or across
// payloads, and ObjectIds need not arrive in increasing order (Windows
// delivers output queued before a disconnect after later ObjectIds). Within
// one ObjectId the FragmentIds must arrive in order from 0; gaps,
// duplicates and misplaced start flags are rejected.
//
// A Defragmenter is not safe for concurrent use.
type Defragmenter struct {
	opts     DefragmenterOptions
	partial  map[uint64]*partialMessage
	buffered int // bytes held in partial messages
}

// partialMessage holds copies of the fragments received so far; they are
// joined once, when the last fragment arrives, so each byte is copied at
// most twice whatever the number of fragments.
type partialMessage struct {
	nextFragID uint64
	chunks     [][]byte
	size       int // message bytes received so far
	held       int // what the message counts against MaxBufferedBytes
}

// heldCost is what holding blob counts against MaxBufferedBytes.
func heldCost(blob []byte) int {
	if len(blob) == 0 {
		return 0
	}
	return len(blob) + BufferedFragmentOverhead
}

// NewDefragmenter returns a Defragmenter with the given limits.
func NewDefragmenter(opts DefragmenterOptions) *Defragmenter {
	return &Defragmenter{opts: opts.withDefaults(), partial: make(map[uint64]*partialMessage)}
}

// Options returns the limits in effect (defaults filled in).
func (d *Defragmenter) Options() DefragmenterOptions { return d.opts }

// PartialMessages returns how many incomplete messages are held.
func (d *Defragmenter) PartialMessages() int { return len(d.partial) }

// PartialObjectIDs returns the ObjectIds of the incomplete messages, sorted.
func (d *Defragmenter) PartialObjectIDs() []uint64 {
	ids := make([]uint64, 0, len(d.partial))
	for id := range d.partial {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// BufferedBytes returns how many bytes the incomplete messages hold, as
// counted against MaxBufferedBytes (blobs plus BufferedFragmentOverhead per
// non-empty fragment).
func (d *Defragmenter) BufferedBytes() int { return d.buffered }

// Reset drops every incomplete message.
func (d *Defragmenter) Reset() {
	clear(d.partial)
	d.buffered = 0
}

func (d *Defragmenter) drop(id uint64, p *partialMessage) {
	delete(d.partial, id)
	d.buffered -= p.held
}

// AddFragment adds one fragment. When it completes a message, the message's
// bytes are returned with done true. A message that is a single fragment is
// returned as f.Blob itself (no copy); otherwise the bytes are the
// Defragmenter's own. On error the ObjectId's incomplete message, if any, is
// dropped.
func (d *Defragmenter) AddFragment(f Fragment) (msg []byte, done bool, err error) {
	p := d.partial[f.ObjectID]
	fail := func(sentinel error, detail string) ([]byte, bool, error) {
		if p != nil {
			d.drop(f.ObjectID, p)
		}
		return nil, false, &FragmentError{Offset: -1, ObjectID: f.ObjectID, FragmentID: f.FragmentID, Err: sentinel,
			Detail: detail}
	}
	if p == nil {
		switch {
		case !f.Start:
			return fail(ErrMissingStart, "no earlier fragments of this ObjectId were received")
		case f.FragmentID != 0:
			return fail(ErrUnexpectedStart, "start flag on a FragmentId other than 0")
		}
		if len(f.Blob) > d.opts.MaxMessageSize {
			return fail(ErrMessageTooLarge, fmt.Sprintf("%d bytes, limit %d", len(f.Blob), d.opts.MaxMessageSize))
		}
		if f.End {
			return f.Blob, true, nil
		}
		if len(d.partial) >= d.opts.MaxPartialMessages {
			return fail(ErrTooManyPartialMessages, fmt.Sprintf("limit %d", d.opts.MaxPartialMessages))
		}
		cost := heldCost(f.Blob)
		if cost > d.opts.MaxBufferedBytes-d.buffered {
			return fail(ErrTooMuchBuffered, fmt.Sprintf("limit %d bytes", d.opts.MaxBufferedBytes))
		}
		p = &partialMessage{nextFragID: 1, size: len(f.Blob), held: cost}
		if len(f.Blob) > 0 {
			p.chunks = [][]byte{clone(f.Blob)}
		}
		d.partial[f.ObjectID] = p
		d.buffered += cost
		return nil, false, nil
	}
	switch {
	case f.FragmentID > p.nextFragID:
		return fail(ErrFragmentGap, fmt.Sprintf("expected FragmentId %d", p.nextFragID))
	case f.FragmentID < p.nextFragID:
		return fail(ErrDuplicateFragment, fmt.Sprintf("expected FragmentId %d", p.nextFragID))
	case f.Start:
		return fail(ErrUnexpectedStart, "start flag while the message is incomplete")
	}
	if len(f.Blob) > d.opts.MaxMessageSize-p.size {
		return fail(ErrMessageTooLarge, fmt.Sprintf("more than %d bytes", d.opts.MaxMessageSize))
	}
	cost := heldCost(f.Blob)
	if !f.End && cost > d.opts.MaxBufferedBytes-d.buffered {
		return fail(ErrTooMuchBuffered, fmt.Sprintf("limit %d bytes", d.opts.MaxBufferedBytes))
	}
	p.nextFragID++
	if !f.End {
		if len(f.Blob) > 0 {
			p.chunks = append(p.chunks, clone(f.Blob))
		}
		p.size += len(f.Blob)
		p.held += cost
		d.buffered += cost
		return nil, false, nil
	}
	d.drop(f.ObjectID, p)
	buf := make([]byte, 0, p.size+len(f.Blob))
	for _, c := range p.chunks {
		buf = append(buf, c...)
	}
	return append(buf, f.Blob...), true, nil
}

// Feed adds every fragment of a payload and returns the messages completed,
// in completion order. Messages that are a single fragment alias payload.
// On error, the messages completed before the bad fragment are returned
// together with the error (they are not lost), and the rest of the payload
// is not read.
func (d *Defragmenter) Feed(payload []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(payload); {
		f, n, err := DecodeFragment(payload[off:])
		if err == nil {
			var msg []byte
			var done bool
			msg, done, err = d.AddFragment(f)
			if done {
				out = append(out, msg)
			}
		}
		if err != nil {
			if fe, ok := err.(*FragmentError); ok {
				fe.Offset = off
			}
			return out, err
		}
		off += n
	}
	return out, nil
}

// FeedMessages is Feed followed by DecodeMessage on each completed message.
// On error the messages decoded so far are returned with it.
func (d *Defragmenter) FeedMessages(payload []byte) ([]*Message, error) {
	raw, ferr := d.Feed(payload)
	out := make([]*Message, 0, len(raw))
	for _, b := range raw {
		m, err := DecodeMessage(b)
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, ferr
}

func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
