package job

import "slices"

// Subscribe registers fn to be called on every later state change of the
// job (PowerShell's StateChanged event). Calls for one job are made in the
// order of the changes, one at a time (never concurrently), and never while
// the job's lock is held, so fn may call the job's methods; a slow fn delays
// the delivery of this job's later notifications. cancel unregisters fn: fn
// is not called for notifications delivered after cancel returns, though a
// call in progress is not waited for.
func (j *Job[T]) Subscribe(fn func(StateChange)) (cancel func()) {
	j.mu.Lock()
	if j.subs == nil {
		j.subs = make(map[int]func(StateChange))
	}
	id := j.nextSub
	j.nextSub++
	j.subs[id] = fn
	j.mu.Unlock()
	return func() {
		j.mu.Lock()
		delete(j.subs, id)
		j.mu.Unlock()
	}
}

// flush delivers the queued state changes to the subscribers, outside the
// lock. Only one goroutine delivers at a time; another one that finds a
// delivery in progress leaves its changes to it, which keeps them in order.
func (j *Job[T]) flush() {
	j.mu.Lock()
	if j.delivering {
		j.mu.Unlock()
		return
	}
	j.delivering = true
	defer func() { // also on a panicking callback
		j.pending = nil
		j.delivering = false
		j.mu.Unlock()
	}()
	for len(j.pending) > 0 {
		sc := j.pending[0]
		j.pending = j.pending[1:]
		ids := make([]int, 0, len(j.subs))
		for id := range j.subs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fn, ok := j.subs[id]
			if !ok {
				continue
			}
			j.callUnlocked(fn, sc)
		}
	}
}

// callUnlocked calls fn with j.mu released; j.mu is held again when it
// returns or panics.
func (j *Job[T]) callUnlocked(fn func(StateChange), sc StateChange) {
	j.mu.Unlock()
	defer j.mu.Lock()
	fn(sc)
}
