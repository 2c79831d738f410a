package psrptrace

import (
	"fmt"

	"github.com/psremoting/psremoting/psrp"
)

// reassembled is one complete PSRP message out of a reassembler.
type reassembled struct {
	objectID  uint64
	fragments int
	data      []byte
}

// reassembler feeds the fragments of payloads to a psrp.Defragmenter one at
// a time, so that each completed message can be reported with its ObjectId
// and fragment count.
type reassembler struct {
	d      *psrp.Defragmenter
	counts map[uint64]int
}

func newReassembler() *reassembler {
	return &reassembler{d: psrp.NewDefragmenter(psrp.DefragmenterOptions{}), counts: map[uint64]int{}}
}

// feed accepts one payload and returns the messages it completes, in
// completion order, with the error that stopped it, if any.
func (r *reassembler) feed(b []byte) ([]reassembled, error) {
	var out []reassembled
	for off := 0; off < len(b); {
		f, n, err := psrp.DecodeFragment(b[off:])
		if err != nil {
			return out, fmt.Errorf("payload offset %d: %w", off, err)
		}
		off += n
		msg, done, err := r.d.AddFragment(f)
		if err != nil {
			delete(r.counts, f.ObjectID)
			return out, fmt.Errorf("payload offset %d: %w", off-n, err)
		}
		r.counts[f.ObjectID]++
		if done {
			out = append(out, reassembled{objectID: f.ObjectID, fragments: r.counts[f.ObjectID], data: msg})
			delete(r.counts, f.ObjectID)
		}
	}
	return out, nil
}

// pending returns the number of partial messages held.
func (r *reassembler) pending() int { return r.d.PartialMessages() }
