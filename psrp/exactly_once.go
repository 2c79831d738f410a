package psrp

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// ErrObjectIDGap is matched (errors.Is) by a *GapError: messages of the
// server were lost.
//
// A server numbers the messages it sends on one shell with a single
// ObjectId counter shared by the pool and all its pipelines (MS-PSRP 2.2.4;
// the recordings show it, see TestRecordedObjectIDOrder): the ObjectIds one
// target (the pool, or one pipeline) receives only increase but skip the
// values of the other targets, and across targets they need not arrive in
// order (output queued before a disconnect comes after the later ObjectIds
// of the connect response). A ClientPool therefore keeps the set of
// ObjectIds it has completed and, per pipeline, the range of ObjectIds it
// has seen:
//
//   - A fragment of an ObjectId already completed, or a FragmentId lower
//     than the next one expected for an incomplete message, is a duplicate
//     (a retransmitted or replayed response): it is dropped silently and
//     counted (DroppedDuplicates).
//   - A message that arrives without its first fragments (they were in a
//     lost response) is a *GapError for its ObjectId; the rest of it is
//     skipped and the rest of the payload applied.
//   - An ObjectId missing inside a pipeline's range that no running pipeline can still
//     deliver (each running pipeline has either passed it or may not own
//     it) is a gap: ReceiveData returns a *GapError naming the missing
//     ObjectIds, together with the events of the messages before it. A
//     pipeline whose terminal PIPELINE_STATE arrives with a hole in its
//     range, and no other pipeline running, gets the error with that event.
//
// A pipeline's range starts, for a pipeline this client invoked, right after
// the highest ObjectId the client had received when it invoked it (the
// server numbers the pipeline's messages after that), so a loss of its
// first messages is a hole too; for a pipeline adopted after a Connect
// (whose earlier output another client may have received) it starts at
// the first ObjectId received for it. It ends at the last one received.
//
// The loss of a stream's last messages leaves no hole; the caller, who sees
// the command end at the WS-Management level (CommandState Done), asks
// StreamEnded, which reports a pipeline that has not reached its terminal
// state as a *GapError (Truncated).
//
// Limits: the pool's own stream is received separately (the pool's
// Receive) and a caller may not poll it while a pipeline runs, so a hole is
// attributed to the pool only where the client awaits a pool message: the
// APPLICATION_PRIVATE_DATA Windows sends after a Connect (its one expected
// ObjectId, right after the connect response), and the
// ENCRYPTED_SESSION_KEY of a pending key exchange. Any other pool message
// (a pool host call, a user event, a RUNSPACE_AVAILABILITY reply) still in
// flight on the pool's Receive when a pipeline's later ObjectIds arrive is
// reported as a gap; and if the APPLICATION_PRIVATE_DATA after a Connect
// never comes (a shell without pipelines), a loss of exactly that one
// ObjectId goes unnoticed. A message whose first fragments another client
// received before a disconnect is a gap for the client that connects next
// (see PartialMessages). With several pipelines running at once, a gap in one that has completed
// is reported when the others have passed it, so possibly after its
// Completed event. Messages applied with ReceiveMessage (already
// reassembled, without their ObjectId) are not tracked.
var ErrObjectIDGap = errors.New("psrp: messages missing (ObjectId gap)")

// maxGapList bounds the ObjectIds listed in a GapError.
const maxGapList = 64

// maxObjectIDSpans bounds the runs of consecutive ObjectIds a pool keeps
// (each hole in the received ObjectIds adds one run).
const maxObjectIDSpans = 1 << 14

// GapError reports messages that never arrived: ObjectIds missing from a
// pipeline's stream that no other target can still deliver. When pipelines
// ran at the same time, a hole inside the ranges of several of them is
// reported once, naming one of them (it belonged to one of them).
type GapError struct {
	// Pipeline is the pipeline whose received ObjectIds surround the gap;
	// uuid.Nil when the first fragments of a message were lost (its
	// target is in the lost part).
	Pipeline uuid.UUID
	// First and Last are the lowest and highest ObjectIds it received.
	First, Last uint64
	// Missing lists the missing ObjectIds (at most 64, lowest first);
	// Count is how many there are in all.
	Missing []uint64
	Count   uint64
	// Truncated: the pipeline's stream ended without its terminal state
	// (see ClientPool.StreamEnded); the messages after Last were lost.
	Truncated bool
	// Fragment is the *FragmentError (ErrMissingStart or ErrFragmentGap)
	// of a message that arrived without its first fragments, if that is
	// how the loss showed.
	Fragment error
}

// Error implements the error interface.
func (e *GapError) Error() string {
	ids := make([]string, len(e.Missing))
	for i, id := range e.Missing {
		ids[i] = fmt.Sprint(id)
	}
	more := ""
	if e.Count > uint64(len(e.Missing)) {
		more = fmt.Sprintf(" and %d more", e.Count-uint64(len(e.Missing)))
	}
	if e.Fragment != nil {
		return fmt.Sprintf("psrp: message lost: ObjectId %s arrived without its earlier fragments (%v)",
			strings.Join(ids, ", "), e.Fragment)
	}
	if e.Truncated {
		s := fmt.Sprintf("psrp: pipeline %s: the stream ended without the final pipeline state: the messages after ObjectId %d were lost",
			e.Pipeline, e.Last)
		if e.Count > 0 {
			s += fmt.Sprintf(", and ObjectId %s%s", strings.Join(ids, ", "), more)
		}
		return s
	}
	return fmt.Sprintf("psrp: pipeline %s: %d message(s) missing: ObjectId %s%s (received ObjectIds %d to %d)",
		e.Pipeline, e.Count, strings.Join(ids, ", "), more, e.First, e.Last)
}

// Unwrap returns Fragment.
func (e *GapError) Unwrap() error { return e.Fragment }

// Is reports whether target is ErrObjectIDGap.
func (e *GapError) Is(target error) bool { return target == ErrObjectIDGap }

// span is a run of consecutive ObjectIds, lo to hi inclusive.
type span struct{ lo, hi uint64 }

// idSet is a set of ObjectIds kept as sorted, disjoint, non-adjacent runs.
type idSet struct{ spans []span }

// index returns the position of the first span with hi >= id.
func (s *idSet) index(id uint64) int {
	return sort.Search(len(s.spans), func(i int) bool { return s.spans[i].hi >= id })
}

func (s *idSet) has(id uint64) bool {
	i := s.index(id)
	return i < len(s.spans) && s.spans[i].lo <= id
}

// add inserts id; it reports false when the set would exceed
// maxObjectIDSpans runs.
func (s *idSet) add(id uint64) bool {
	i := s.index(id)
	if i < len(s.spans) && s.spans[i].lo <= id {
		return true
	}
	joinPrev := i > 0 && s.spans[i-1].hi+1 == id
	joinNext := i < len(s.spans) && id+1 == s.spans[i].lo
	switch {
	case joinPrev && joinNext:
		s.spans[i-1].hi = s.spans[i].hi
		s.spans = append(s.spans[:i], s.spans[i+1:]...)
	case joinPrev:
		s.spans[i-1].hi = id
	case joinNext:
		s.spans[i].lo = id
	default:
		if len(s.spans) >= maxObjectIDSpans {
			return false
		}
		s.spans = append(s.spans, span{})
		copy(s.spans[i+1:], s.spans[i:])
		s.spans[i] = span{id, id}
	}
	return true
}

// missing returns the ObjectIds in [lo, hi] not in the set (at most limit
// of them) and how many there are.
func (s *idSet) missing(lo, hi uint64, limit int) ([]uint64, uint64) {
	if lo > hi {
		return nil, 0
	}
	var out []uint64
	var n uint64
	next := lo
	note := func(a, b uint64) { // a..b missing
		n += b - a + 1
		for id := a; id <= b && len(out) < limit; id++ {
			out = append(out, id)
		}
	}
	for i := s.index(lo); i < len(s.spans) && next <= hi; i++ {
		sp := s.spans[i]
		if sp.lo > hi {
			break
		}
		if sp.lo > next {
			note(next, sp.lo-1)
		}
		if sp.hi >= hi {
			return out, n
		}
		next = sp.hi + 1
	}
	if next <= hi {
		note(next, hi)
	}
	return out, n
}

// pipeRange is what a pool knows of one pipeline's ObjectIds.
type pipeRange struct {
	first, last uint64
	terminal    bool // its terminal PIPELINE_STATE was applied
}

// receiveTracker is a ClientPool's exactly-once bookkeeping.
type receiveTracker struct {
	got        idSet
	pipes      map[uuid.UUID]*pipeRange
	duplicates int
	poolLast   uint64 // highest ObjectId of a pool message
	// connectAPD is the ObjectId the APPLICATION_PRIVATE_DATA that follows
	// a new-client Connect may still arrive with (0 when none is awaited).
	connectAPD uint64
	appData    bool  // an APPLICATION_PRIVATE_DATA was received
	reported   idSet // holes already reported
	lost       idSet // messages whose first fragments were lost
}

func (p *ClientPool) tracker() *receiveTracker {
	if p.track == nil {
		p.track = &receiveTracker{pipes: make(map[uuid.UUID]*pipeRange)}
	}
	return p.track
}

// DroppedDuplicates returns how many fragments ReceiveData dropped as
// duplicates (of a message already completed, or a FragmentId already
// received).
func (p *ClientPool) DroppedDuplicates() int {
	if p.track == nil {
		return 0
	}
	return p.track.duplicates
}

// MissingObjectIDs returns the ObjectIds missing inside the range a
// pipeline has received (at most 64), whether or not another target may
// still deliver them; nil when there is none or the pipeline is unknown.
func (p *ClientPool) MissingObjectIDs(pipeline uuid.UUID) []uint64 {
	if p.track == nil {
		return nil
	}
	r := p.track.pipes[pipeline]
	if r == nil {
		return nil
	}
	ids, _ := p.track.got.missing(r.first, r.last, maxGapList)
	return ids
}

// StreamEnded tells the pool that the server ended a pipeline's output
// stream: the WS-Management command reported CommandState Done. If the
// pipeline has not reached a terminal state, the messages after the last
// one received (at least its final PIPELINE_STATE) were lost, and the
// result is a *GapError with Truncated set (a loss no hole can show). It
// returns nil for a pipeline that ended, or that the pool does not know.
// It returns nil too for an adopted pipeline (AdoptPipeline) of which this
// pool received no message: the server sends each message once, to the
// client connected at the time, so all of them, the final PIPELINE_STATE
// included, may have gone to the client that was connected before (it
// received them before it disconnected); nothing shows a loss.
func (p *ClientPool) StreamEnded(pipeline uuid.UUID) error {
	pl := p.pipes[pipeline]
	if pl == nil || pl.state.Terminal() {
		return nil
	}
	r := p.tracker().pipes[pipeline]
	if r == nil && pl.adopted {
		return nil
	}
	e := &GapError{Pipeline: pipeline, Truncated: true}
	if r != nil {
		e.First, e.Last = r.first, r.last
		e.Missing, e.Count = p.track.got.missing(r.first, r.last, maxGapList)
	}
	return e
}

// PartialMessages returns how many messages the pool holds in part (some
// of their fragments received). A message half received by one client
// cannot be completed by another: a caller that disconnects on purpose to
// continue from a new client should first receive until this is 0, or the
// new client gets a *GapError for the rest of that message.
func (p *ClientPool) PartialMessages() int { return p.defrag.PartialMessages() }

// completedMessage is a reassembled message with its ObjectId.
type completedMessage struct {
	id  uint64
	raw []byte
}

// feed is Defragmenter.Feed with duplicate fragments dropped and the
// ObjectId of each completed message kept. A message whose earlier
// fragments were lost (ErrMissingStart or ErrFragmentGap for an ObjectId not
// completed: the rest of a message whose first part was in a lost response)
// is reported as a *GapError in gaps and its remaining fragments skipped;
// the rest of the payload is still read.
func (p *ClientPool) feed(payload []byte) (out []completedMessage, gaps []error, err error) {
	t := p.tracker()
	d := p.defrag
	var now map[uint64]bool // ObjectIds completed in this payload, once there are many
	for off := 0; off < len(payload); {
		f, n, err := DecodeFragment(payload[off:])
		if err == nil && t.lost.has(f.ObjectID) {
			off += n // the rest of a message already reported lost
			continue
		}
		if err == nil {
			if pm := d.partial[f.ObjectID]; t.got.has(f.ObjectID) || completedIn(out, now, f.ObjectID) ||
				(pm != nil && f.FragmentID < pm.nextFragID) {
				t.duplicates++
				off += n
				continue
			}
			var msg []byte
			var done bool
			msg, done, err = d.AddFragment(f)
			if err != nil && (errors.Is(err, ErrMissingStart) || errors.Is(err, ErrFragmentGap)) {
				if !t.lost.add(f.ObjectID) {
					return out, gaps, p.stateErr("ReceiveData", 0, "too many lost messages")
				}
				t.reported.add(f.ObjectID)
				gaps = append(gaps, &GapError{Missing: []uint64{f.ObjectID}, Count: 1, First: f.ObjectID,
					Last: f.ObjectID, Fragment: err})
				off += n
				continue
			}
			if done {
				out = append(out, completedMessage{id: f.ObjectID, raw: msg})
				if now == nil && len(out) > 16 {
					now = make(map[uint64]bool, 2*len(out))
					for _, c := range out {
						now[c.id] = true
					}
				} else if now != nil {
					now[f.ObjectID] = true
				}
			}
		}
		if err != nil {
			if fe, ok := err.(*FragmentError); ok {
				fe.Offset = off
			}
			return out, gaps, err
		}
		off += n
	}
	return out, gaps, nil
}

// completedIn reports whether id is among the messages completed so far
// in this payload (not yet recorded as received): out, or now when set.
func completedIn(out []completedMessage, now map[uint64]bool, id uint64) bool {
	if now != nil {
		return now[id]
	}
	for i := range out {
		if out[i].id == id {
			return true
		}
	}
	return false
}

// highest returns the highest ObjectId received (0 when none).
func (s *idSet) highest() uint64 {
	if len(s.spans) == 0 {
		return 0
	}
	return s.spans[len(s.spans)-1].hi
}

// invoked starts the range of a pipeline this client creates: the server
// numbers its messages after every ObjectId it had assigned when it got
// CREATE_PIPELINE, so after every one the client had received then; a loss
// of its first messages is then a hole too.
func (p *ClientPool) invoked(id uuid.UUID) {
	t := p.tracker()
	next := t.got.highest() + 1
	t.pipes[id] = &pipeRange{first: next, last: next - 1}
}

// received records a completed and applied message and checks for gaps.
func (p *ClientPool) received(id uint64, m *Message) error {
	t := p.tracker()
	if !t.got.add(id) {
		return p.stateErr("ReceiveData", m.Type, fmt.Sprintf("more than %d runs of ObjectIds (too many gaps)", maxObjectIDSpans))
	}
	if m.PipelineID == uuid.Nil {
		t.poolLast = max(t.poolLast, id)
		switch {
		case m.Type == MessageApplicationPrivateData:
			t.appData, t.connectAPD = true, 0
		case p.connectedNew && !t.appData:
			// Windows sends the pool's APPLICATION_PRIVATE_DATA after
			// a Connect on the pool's own Receive, numbered right after
			// the connect response, when the shell has pipelines
			// (test_psrp_disconnected_commands).
			t.connectAPD = t.poolLast + 1
		}
	} else {
		r := t.pipes[m.PipelineID]
		if r == nil {
			r = &pipeRange{first: id, last: id}
			t.pipes[m.PipelineID] = r
		}
		r.first, r.last = min(r.first, id), max(r.last, id)
		if pl := p.pipes[m.PipelineID]; pl == nil || pl.state.Terminal() {
			r.terminal = true
		}
	}
	return p.checkGaps()
}

// checkGaps returns a *GapError for the first pipeline with ObjectIds
// missing that no running pipeline can still deliver, and forgets pipelines
// that ended without a hole.
func (p *ClientPool) checkGaps() error {
	t := p.track
	var ids []uuid.UUID
	for id := range t.pipes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return t.pipes[ids[i]].first < t.pipes[ids[j]].first })
	for _, id := range ids {
		r := t.pipes[id]
		missing, n := t.got.missing(r.first, r.last, maxGapList)
		// A hole already reported (in another pipeline's range too) is
		// reported once.
		kept := missing[:0]
		for _, h := range missing {
			if !t.reported.has(h) {
				kept = append(kept, h)
			}
		}
		n -= uint64(len(missing) - len(kept))
		missing = kept
		if n == 0 {
			if r.terminal {
				delete(t.pipes, id)
			}
			continue
		}
		if p.mayStillDeliver(id, missing[0]) {
			continue
		}
		delete(t.pipes, id) // reported once
		for _, h := range missing {
			t.reported.add(h) // bounded: at most maxGapList per report
		}
		return &GapError{Pipeline: id, First: r.first, Last: r.last, Missing: missing, Count: n}
	}
	return nil
}

// mayStillDeliver reports whether a target other than pipeline id can still
// deliver ObjectId h: a running pipeline that has received nothing yet, or
// only ObjectIds below h (a target's ObjectIds only increase), or the pool
// when it awaits a message: the APPLICATION_PRIVATE_DATA after a Connect,
// or the ENCRYPTED_SESSION_KEY of a key exchange.
func (p *ClientPool) mayStillDeliver(id uuid.UUID, h uint64) bool {
	t := p.track
	if h == t.connectAPD || (p.kex != nil && p.cipher == nil && h > t.poolLast) {
		return true // a pool message still expected on the pool's Receive
	}
	for _, pl := range p.order {
		if pl.id == id || pl.state.Terminal() || pl.state == PSInvocationNotStarted {
			continue // a pipeline not created on the server owns no ObjectId
		}
		r := p.track.pipes[pl.id]
		if r == nil || r.last < h {
			return true
		}
	}
	return false
}
