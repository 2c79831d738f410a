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
