package job

import "context"

// Producer is the narrow producing side of a job made by New: the code that
// runs the command (the session) delivers results with Emit and reports the
// command's state with SetState. It is safe for concurrent use, though
// results from concurrent Emit calls are stored in no defined order.
type Producer[T any] struct {
	j *Job[T]
}

// Job returns the job this producer feeds.
func (p *Producer[T]) Job() *Job[T] { return p.j }

// Emit stores one result in the job. While the job holds MaxBuffered results
// that no Receive has taken yet it blocks (back-pressure) until a Receive
// takes some, the job finishes, or ctx ends (then it returns ctx's error and
// stores nothing). Emit returns ErrFinished, storing nothing, once the job is
// in a finished state. Emit is accepted in every other state (a producer may
// deliver results that arrived with a disconnect, for example).
func (p *Producer[T]) Emit(ctx context.Context, v T) error {
	j := p.j
	j.mu.Lock()
	for {
		if j.state.IsFinished() {
			j.mu.Unlock()
			return ErrFinished
		}
		if len(j.results)-j.kept < j.maxBuf {
			break
		}
		ch := j.waitChLocked()
		j.mu.Unlock()
		if j.emitWaits != nil {
			j.emitWaits()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		j.mu.Lock()
	}
	j.results = append(j.results, v)
	j.broadcastLocked()
	parents := j.parents
	j.mu.Unlock()
	for _, pj := range parents {
		pj.wake()
	}
	return nil
}

// SetState reports the command's state: for example Running once it starts,
// Disconnected when its session disconnects and Running again when the
// session connects (the same job resumes), Blocked, Suspended, and finally
// Completed, Failed (with the reason) or Stopped. reason is kept as the
// job's Reason for the new state. Setting the current state again does
// nothing. A finished state is final: any later change returns ErrFinished.
// A value that is not a State, or a change back to NotStarted, returns
// ErrInvalidState. State-change callbacks run before SetState returns unless
// another goroutine is delivering this job's notifications at that moment
// (then that goroutine delivers them, in order).
func (p *Producer[T]) SetState(s State, reason error) error {
	j := p.j
	if !s.valid() {
		return ErrInvalidState
	}
	j.mu.Lock()
	switch {
	case j.state.IsFinished():
		j.mu.Unlock()
		return ErrFinished
	case s == j.state:
		j.mu.Unlock()
		return nil
	case s == NotStarted:
		j.mu.Unlock()
		return ErrInvalidState
	}
	j.transitionLocked(s, reason)
	j.mu.Unlock()
	j.afterChange()
	return nil
}

// Finish ends the job: Completed if err is nil, else Failed with err as
// its Reason. It is SetState(Completed, nil) or SetState(Failed, err).
func (p *Producer[T]) Finish(err error) error {
	if err != nil {
		return p.SetState(Failed, err)
	}
	return p.SetState(Completed, nil)
}

// transitionLocked moves the job to state s with reason, queues the
// notification and wakes waiters. j.mu must be held; call afterChange once
// it is released.
func (j *Job[T]) transitionLocked(s State, reason error) {
	prev := j.state
	if prev == s {
		return
	}
	j.state = s
	j.reason = reason
	j.pending = append(j.pending, StateChange{Previous: prev, State: s, Reason: reason})
	if s.IsFinished() {
		close(j.done)
	}
	j.broadcastLocked()
}

// afterChange delivers queued notifications and lets parents recompute
// their state. It must be called without holding j.mu.
func (j *Job[T]) afterChange() {
	j.flush()
	j.mu.Lock()
	parents := j.parents
	j.mu.Unlock()
	for _, p := range parents {
		p.recompute()
	}
}
