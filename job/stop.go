package job

import (
	"context"
	"sync"
)

// Stop stops the job, as Stop-Job does: a job that has finished is left as
// it is (Stop returns nil); otherwise the job goes to Stopping, its
// Controller's Stop is called, and the job goes to Stopped (unless the
// producer reported another finished state meanwhile). If the Controller
// fails, the job returns to the state it had and Stop returns that error.
// A Stop while another is in progress waits for it. For a parent, Stop
// stops every unfinished child concurrently and returns their errors joined;
// the parent's state follows from the children's. Stop honours ctx.
func (j *Job[T]) Stop(ctx context.Context) error {
	if j.children != nil {
		return stopAll(ctx, j.children)
	}
	for {
		j.mu.Lock()
		if j.state.IsFinished() {
			j.mu.Unlock()
			return nil
		}
		if j.stopping == nil {
			break
		}
		inProgress := j.stopping
		j.mu.Unlock()
		select {
		case <-inProgress: // ended; look again (it may have failed)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	prev, prevReason := j.state, j.reason
	stopping := make(chan struct{})
	j.stopping = stopping
	j.transitionLocked(Stopping, nil)
	j.mu.Unlock()
	j.afterChange()

	var err error
	if j.ctl != nil {
		err = j.ctl.Stop(ctx)
	}

	j.mu.Lock()
	j.stopping = nil
	close(stopping)
	if err != nil {
		if j.state == Stopping {
			j.transitionLocked(prev, prevReason)
		}
	} else if !j.state.IsFinished() {
		j.transitionLocked(Stopped, nil)
	}
	j.mu.Unlock()
	j.afterChange()
	return err
}

// stopAll stops jobs concurrently and waits for every Stop to return.
func stopAll[T any](ctx context.Context, jobs []*Job[T]) error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, c := range jobs {
		if c.State().IsFinished() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Stop(ctx)
		}()
	}
	wg.Wait()
	return joinErrors(errs)
}
