package job

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"
)

// ReceiveOptions are Receive-Job's parameters that apply to a job object.
type ReceiveOptions struct {
	// Keep leaves the results in the job, so a later Receive returns them
	// again (Receive-Job -Keep). Without it, the results returned are
	// removed from the job and no Receive returns them again.
	Keep bool
	// Wait waits until the job has finished and returns its results as they
	// come (Receive-Job -Wait); without it, Receive returns the results the
	// job holds now and does not wait. Without Force the wait also ends
	// when the job is Suspended or Disconnected, as Receive-Job -Wait does.
	Wait bool
	// Force, with Wait, goes on waiting while the job is Suspended or
	// Disconnected, until it finishes (Receive-Job -Force).
	Force bool
	// AutoRemove, with Wait, removes the job from its Table once it has
	// finished and its results were returned (Receive-Job -AutoRemoveJob).
	// It requires Wait (ErrAutoRemoveWithoutWait otherwise).
	AutoRemove bool
	// Location, if not empty, limits a parent's Receive to the children
	// whose Location is one of these (case-insensitive), as Receive-Job
	// -Location and -ComputerName do. It is ignored for a job without
	// children.
	Location []string
}

// Receive returns the job's results, as Receive-Job does; see
// ReceiveOptions for Keep and Wait. Without Wait it returns the results the
// job holds when it starts and does not wait. Results come in the order
// they were emitted. For a parent, Receive returns its children's results:
// each child's in emission order, the children in the order given to
// NewParent, taking at most the child's MaxBuffered results from one child
// before turning to the next (so with Wait, children that keep producing
// interleave and none starves the others).
//
// A failed job's results (those emitted before the failure) are returned
// as any others, and then, as Receive-Job writes a failed job's Reason as
// an error record after its results, Receive returns a *FailedError that
// wraps the Reason (errors.Join of one per failed child for a parent) as
// its error, with the results: on every Receive of a failed job, like
// Receive-Job. A job that failed with a nil Reason gives no error.
//
// Otherwise the error is non-nil only if ctx ended while waiting (then the
// results received until then are returned with it; without Keep they have
// been taken from the job) or for invalid options.
func (j *Job[T]) Receive(ctx context.Context, opts ReceiveOptions) ([]T, error) {
	var out []T
	err := j.receive(ctx, opts, 0, func(vals []T) bool {
		out = append(out, vals...)
		return true
	})
	return out, err
}

// Results is Receive as an iterator: it yields the results one by one
// (with Wait, until the job has finished, as they come) and ends. If ctx
// ends while it waits, or the options are invalid, it yields the zero T
// with the error and ends; likewise, after the results of a failed job, it
// yields the zero T with the *FailedError (see Receive). Without Keep a result is taken from the job only
// when it is yielded, so a consumer that stops early leaves the results it
// did not see in the job. The iterator starts no goroutine.
func (j *Job[T]) Results(ctx context.Context, opts ReceiveOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		batch := 1 // take one at a time so that a break loses nothing
		if opts.Keep {
			batch = 0
		}
		err := j.receive(ctx, opts, batch, func(vals []T) bool {
			for _, v := range vals {
				if !yield(v, nil) {
					return false
				}
			}
			return true
		})
		if err != nil && !errors.Is(err, errConsumerStopped) {
			var zero T
			yield(zero, err)
		}
	}
}

// FailedError is the error Receive returns (with the results) for a job
// that has failed: Receive-Job writes a failed job's Reason as an error
// record (JobStateFailed) after its results. It wraps the job's Reason.
type FailedError struct {
	JobID    int    // Id of the failed job (the child, for a parent)
	Name     string // its Name
	Location string // its Location
	Reason   error  // its Reason
}

// Error says which job failed, where, and why.
func (e *FailedError) Error() string {
	where := ""
	if e.Location != "" {
		where = " on " + e.Location
	}
	return fmt.Sprintf("job: %s (Id %d)%s failed: %v", e.Name, e.JobID, where, e.Reason)
}

// Unwrap returns the job's Reason.
func (e *FailedError) Unwrap() error { return e.Reason }

var errConsumerStopped = errors.New("job: consumer stopped")

// receive runs Receive-Job over j: it takes results (at most batch at a
// time from one job; 0 means all) and hands them to emit, waiting for more
// if opts.Wait.
func (j *Job[T]) receive(ctx context.Context, opts ReceiveOptions, batch int, emit func([]T) bool) error {
	if opts.AutoRemove && !opts.Wait {
		return ErrAutoRemoveWithoutWait
	}
	leaves := j.leaves(opts.Location)
	cursors := make([]uint64, len(leaves))
	for {
		var ch <-chan struct{}
		j.mu.Lock()
		st := j.state
		if opts.Wait {
			ch = j.waitChLocked()
		}
		j.mu.Unlock()

		// st was read before taking: a job takes no results after it has
		// finished, so when st is final a pass that takes everything ends it.
		var failed []error
		full := false // a job gave its quota: the pass did not take everything
		for i, l := range leaves {
			l.mu.Lock()
			lst, reason := l.state, l.reason
			upto := uint64(math.MaxUint64)
			if !opts.Wait {
				// Receive without Wait returns what the job holds now,
				// not what arrives while it takes.
				upto = l.base + uint64(len(l.results))
			}
			l.mu.Unlock()
			if lst == Failed && reason != nil {
				failed = append(failed, &FailedError{JobID: l.id, Name: l.info.Name, Location: l.info.Location, Reason: reason})
			}
			// At most maxBuf results from one job per pass, so that a
			// child that keeps producing does not starve its siblings.
			for taken := 0; ; {
				if opts.Wait && taken >= l.maxBuf {
					full = true
					break
				}
				vals, next := l.take(cursors[i], upto, opts.Keep, batch)
				if len(vals) == 0 {
					break
				}
				taken += len(vals)
				cursors[i] = next
				if !emit(vals) {
					return errConsumerStopped
				}
			}
		}
		if full {
			continue
		}
		if !opts.Wait {
			return joinFailed(failed)
		}
		if st.IsFinished() || (!opts.Force && st.IsPersistent()) {
			if opts.AutoRemove && st.IsFinished() {
				j.unregister()
			}
			return joinFailed(failed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// joinFailed returns nil, the one *FailedError, or several joined.
func joinFailed(failed []error) error {
	if len(failed) == 1 {
		return failed[0]
	}
	return errors.Join(failed...)
}

// leaves returns the jobs that hold results for a Receive on j.
func (j *Job[T]) leaves(locations []string) []*Job[T] {
	if j.children == nil {
		return []*Job[T]{j}
	}
	var out []*Job[T]
	for _, c := range j.children {
		if len(locations) > 0 && !containsFold(locations, c.Location()) {
			continue
		}
		out = append(out, c.leaves(nil)...)
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// take returns results of a job made by New, with sequence numbers below
// upto, at most limit of them (0: no limit), and the sequence number after
// the last one returned. With keep it returns them from sequence number
// from on (or from the oldest it holds) and leaves them in the job, marked
// received; without keep it takes them from the oldest on (from is
// ignored) and removes them.
func (j *Job[T]) take(from, upto uint64, keep bool, limit int) ([]T, uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	start := 0
	if from > j.base {
		start = int(min(from-j.base, uint64(len(j.results))))
	}
	if !keep {
		start = 0
	}
	end := len(j.results)
	if upto < j.base+uint64(end) {
		end = 0
		if upto > j.base {
			end = int(upto - j.base)
		}
	}
	if end < start {
		end = start
	}
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	if start == end {
		return nil, from
	}
	out := append([]T(nil), j.results[start:end]...)
	next := j.base + uint64(end)
	if keep {
		if end > j.kept {
			j.kept = end
			j.broadcastLocked() // unreceived count fell: a blocked Emit may go on
		}
		return out, next
	}
	clear(j.results[:end])
	j.results = j.results[end:]
	j.base += uint64(end)
	j.kept = max(0, j.kept-end)
	if len(j.results) == 0 {
		j.results = nil // let the array go
	}
	j.broadcastLocked()
	return out, next
}

// Wait waits until the job has finished (Completed, Failed or Stopped) and
// returns that state. This is Wait-Job -Force: it goes on waiting while the
// job is Blocked, Suspended or Disconnected (a disconnected job resumes when
// its session connects). Use WaitPersistent for Wait-Job without -Force. If
// ctx ends first, Wait returns the current state and ctx's error.
func (j *Job[T]) Wait(ctx context.Context) (State, error) {
	select {
	case <-j.done:
		return j.State(), nil
	case <-ctx.Done():
		return j.State(), ctx.Err()
	}
}

// WaitPersistent waits until the job is finished, Suspended or Disconnected
// (a persistent state) and returns that state: Wait-Job without -Force. If
// ctx ends first, it returns the current state and ctx's error.
func (j *Job[T]) WaitPersistent(ctx context.Context) (State, error) {
	for {
		j.mu.Lock()
		st := j.state
		ch := j.waitChLocked()
		j.mu.Unlock()
		if st.IsPersistent() {
			return st, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return j.State(), ctx.Err()
		}
	}
}
