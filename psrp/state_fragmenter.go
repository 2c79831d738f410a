package psrp

// Small additions to Fragmenter that the state machines need (kept here so
// as not to touch fragmenter.go).

// discard drops every queued message but, unlike Reset, leaves the shared
// ObjectId counter alone.
func (f *Fragmenter) discard() {
	clear(f.queue)
	f.queue = nil
	f.pending = 0
	f.frags = 0
}

// dropOldestUnsent removes the oldest queued message of which no fragment
// has been handed out yet, and reports whether there was one.
func (f *Fragmenter) dropOldestUnsent() bool {
	for i := range f.queue {
		if f.queue[i].nextFragID == 0 {
			f.pending -= len(f.queue[i].data)
			f.frags -= f.fragCount(len(f.queue[i].data))
			f.queue = append(f.queue[:i:i], f.queue[i+1:]...)
			if len(f.queue) == 0 {
				f.queue = nil
			}
			return true
		}
	}
	return false
}

// queueAs queues msg under an ObjectId handed out before, without taking a
// new one from the counter: a server re-sending a message it already sent
// (see ServerPool.SendConnectAnnouncement).
func (f *Fragmenter) queueAs(msg []byte, id uint64) {
	f.queue = append(f.queue, queuedMessage{objectID: id, data: msg})
	f.pending += len(msg)
	f.frags += f.fragCount(len(msg))
}
