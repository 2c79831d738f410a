package psrptrace

import (
	"encoding/binary"
	"fmt"
)

// reassembled is one complete PSRP message out of a reassembler.
type reassembled struct {
	objectID  uint64
	fragments int
	data      []byte
}

// reassembler turns payloads of PSRP fragments into complete messages.
//
// TEMPORARY: this minimal stand-in exists only until psrp's Defragmenter
// lands; it will be replaced by it so that the conformance test exercises the
// codec's own defragmenter.
type reassembler struct {
	partial map[uint64]*reassembled
	next    map[uint64]uint64
}

const (
	fragmentHeaderSize = 21
	maxTraceMessage    = 64 << 20
	maxTracePartials   = 1024
)

func newReassembler() *reassembler {
	return &reassembler{partial: map[uint64]*reassembled{}, next: map[uint64]uint64{}}
}

// feed accepts one payload and returns the messages it completes.
func (r *reassembler) feed(b []byte) ([]reassembled, error) {
	var out []reassembled
	for len(b) > 0 {
		if len(b) < fragmentHeaderSize {
			return out, fmt.Errorf("truncated fragment header (%d bytes)", len(b))
		}
		oid := binary.BigEndian.Uint64(b[0:8])
		fid := binary.BigEndian.Uint64(b[8:16])
		flags := b[16]
		n := binary.BigEndian.Uint32(b[17:21])
		if uint64(n) > uint64(len(b)-fragmentHeaderSize) {
			return out, fmt.Errorf("fragment ObjectId=%d FragmentId=%d: blob length %d exceeds the %d bytes left", oid, fid, n, len(b)-fragmentHeaderSize)
		}
		blob := b[fragmentHeaderSize : fragmentHeaderSize+int(n)]
		b = b[fragmentHeaderSize+int(n):]
		start, end := flags&1 != 0, flags&2 != 0
		p := r.partial[oid]
		switch {
		case start && fid != 0:
			return out, fmt.Errorf("fragment ObjectId=%d: start fragment has FragmentId %d", oid, fid)
		case start && p != nil:
			return out, fmt.Errorf("fragment ObjectId=%d: start fragment while a message is in progress", oid)
		case !start && p == nil:
			return out, fmt.Errorf("fragment ObjectId=%d FragmentId=%d: no start fragment", oid, fid)
		case !start && fid != r.next[oid]:
			return out, fmt.Errorf("fragment ObjectId=%d: FragmentId %d, want %d", oid, fid, r.next[oid])
		}
		if p == nil {
			if len(r.partial) >= maxTracePartials {
				return out, fmt.Errorf("more than %d partial messages", maxTracePartials)
			}
			p = &reassembled{objectID: oid}
			r.partial[oid] = p
		}
		if len(p.data)+len(blob) > maxTraceMessage {
			return out, fmt.Errorf("fragment ObjectId=%d: message larger than %d bytes", oid, maxTraceMessage)
		}
		p.data = append(p.data, blob...)
		p.fragments++
		r.next[oid] = fid + 1
		if end {
			out = append(out, *p)
			delete(r.partial, oid)
			delete(r.next, oid)
		}
	}
	return out, nil
}

// pending returns the number of partial messages held.
func (r *reassembler) pending() int { return len(r.partial) }
