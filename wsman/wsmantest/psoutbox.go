package wsmantest

import (
	"math"

	"github.com/psremoting/psremoting/psrp"
)

// psOutbox is the output buffer of a PowerShell pipeline. The messages psrp
// queues for the pipeline are moved here (psDrainLocked) and fragmented
// when a Receive takes them, so that the buffered size is known in O(1)
// for the Block and Drop policies: psrp.Fragmenter.Pending walks its whole
// queue, which made every write cost O(buffered messages).
type psOutbox struct {
	msgs []psOutMsg
	// size is the bytes needed to send everything queued, fragment headers
	// included, counted as psrp.Fragmenter.Pending counts them.
	size int
}

// psOutMsg is one queued message: its ObjectId and the bytes not sent yet.
type psOutMsg struct {
	objectID uint64
	data     []byte
	nextFrag uint64 // FragmentId of the next fragment; > 0 once partly sent
}

// cost is what a message adds to psOutbox.size with blobs of per bytes.
func (m *psOutMsg) cost(per int) int {
	n := max((len(m.data)+per-1)/per, 1)
	return n*psrp.FragmentHeaderSize + len(m.data)
}

func (o *psOutbox) empty() bool { return len(o.msgs) == 0 }

func (o *psOutbox) push(m psOutMsg, per int) {
	o.msgs = append(o.msgs, m)
	o.size += m.cost(per)
}

// take returns the next payload of at most maxPayload bytes: whole
// fragments of at most maxFragment bytes, from the queued messages in order
// (as psrp.Fragmenter.NextPayload does). It returns nil when nothing is
// queued or maxPayload cannot hold a fragment.
func (o *psOutbox) take(maxPayload, maxFragment int) []byte {
	return o.takeFragments(maxPayload, maxFragment, -1)
}

// takeOne returns the next fragment alone (what one rsp:Stream element of a
// Windows server carries), at most maxPayload bytes long, or nil as take.
func (o *psOutbox) takeOne(maxPayload, maxFragment int) []byte {
	return o.takeFragments(maxPayload, maxFragment, 1)
}

// takeFragments is take limited to limit fragments (no limit if negative).
func (o *psOutbox) takeFragments(maxPayload, maxFragment, limit int) []byte {
	per := maxFragment - psrp.FragmentHeaderSize
	var buf []byte
	for ; len(o.msgs) > 0 && limit != 0; limit-- {
		room := maxPayload - len(buf)
		if room < psrp.MinFragmentSize {
			break
		}
		q := &o.msgs[0]
		n := min(len(q.data), per, room-psrp.FragmentHeaderSize)
		fr := psrp.Fragment{ObjectID: q.objectID, FragmentID: q.nextFrag, Start: q.nextFrag == 0,
			End: n == len(q.data), Blob: q.data[:n]}
		o.size -= q.cost(per)
		buf = fr.AppendTo(buf)
		q.data = q.data[n:]
		q.nextFrag++
		if fr.End {
			o.msgs[0] = psOutMsg{}
			o.msgs = o.msgs[1:]
		} else {
			o.size += q.cost(per)
		}
	}
	if len(o.msgs) == 0 {
		o.msgs = nil
	}
	return buf
}

// dropOldestUnsent discards the oldest message none of which was sent yet
// (only the first can be partly sent) and reports whether there was one.
func (o *psOutbox) dropOldestUnsent(per int) bool {
	switch {
	case len(o.msgs) > 0 && o.msgs[0].nextFrag == 0:
		o.size -= o.msgs[0].cost(per)
		o.msgs[0] = psOutMsg{}
		o.msgs = o.msgs[1:]
	case len(o.msgs) > 1:
		o.size -= o.msgs[1].cost(per)
		o.msgs[1] = o.msgs[0]
		o.msgs[0] = psOutMsg{}
		o.msgs = o.msgs[1:]
	default:
		return false
	}
	if len(o.msgs) == 0 {
		o.msgs = nil
	}
	return true
}

// psDrainLocked moves the messages psrp queued for a command's pipeline
// into the command's outbox. Their ObjectIds are kept.
func (s *Server) psDrainLocked(c *command) {
	if c.sh.ps == nil || c.ps == nil || !c.ps.started {
		return
	}
	s.psDrainTo(c.sh.ps.pool, psTarget(c), &c.ps.out)
}

// psDrainTo moves the messages psrp queued for a target (a pipeline or the
// pool) into an outbox, keeping their ObjectIds.
func (s *Server) psDrainTo(pool *psrp.ServerPool, t psrp.Target, out *psOutbox) {
	if pool.PendingMessages(t) == 0 {
		return
	}
	b, err := pool.NextPayload(t, math.MaxInt32)
	if err != nil {
		return
	}
	frags, err := psrp.DecodeFragments(b)
	if err != nil {
		return // psrp wrote them: cannot happen
	}
	per := s.fragmentSize() - psrp.FragmentHeaderSize
	var cur *psOutMsg
	for _, f := range frags {
		switch {
		case f.Start && f.End:
			out.push(psOutMsg{objectID: f.ObjectID, data: f.Blob}, per)
		case f.Start:
			cur = &psOutMsg{objectID: f.ObjectID, data: append([]byte(nil), f.Blob...)}
		case cur != nil:
			cur.data = append(cur.data, f.Blob...)
			if f.End {
				out.push(*cur, per)
				cur = nil
			}
		}
	}
}
