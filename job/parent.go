package job

import (
	"errors"
	"strings"
)

// NewParent makes a parent job over children, as PowerShell's remote job
// (PSRemotingJob) has one child job per session when a command runs in
// several sessions. The parent holds no results of its own: Receive returns
// its children's, HasMoreData is true while any child has more data, Stop
// stops every child, and its State is derived from the children's states:
//
//   - no children: Completed;
//   - every child finished: Failed if any failed (Reason joins their
//     reasons; PowerShell leaves the parent's Reason empty), else Stopped
//     if any was stopped (PowerShell: if Stop was called on the parent),
//     else Completed;
//   - else Blocked if any child is Blocked, else AtBreakpoint if any is
//     (PowerShell's PSRemotingJob decides by the order of the changes when
//     children are Blocked and Disconnected at once: the last change wins;
//     this rule depends on the states only);
//   - else, if every unfinished child is Disconnected: Disconnected
//     (likewise Suspended, Stopping, Suspending);
//   - else NotStarted if no child has started, else Running.
//
// The children leave the tables they were registered in (Get-Job lists
// parent jobs; Table.Get and ByInstanceID still find children by Id) and
// the parent is registered in opts.Table (Default if nil). An empty
// info.Location becomes the children's locations joined by ",".
// opts.MaxBuffered does not apply to a parent. A child should belong to one
// parent only.
func NewParent[T any](info Info, opts Options, children ...*Job[T]) *Job[T] {
	p := newJob[T](info, nil, 0)
	p.children = append(make([]*Job[T], 0, len(children)), children...)
	if p.info.Location == "" {
		locs := make([]string, 0, len(children))
		for _, c := range children {
			if l := c.Location(); l != "" {
				locs = append(locs, l)
			}
		}
		p.info.Location = strings.Join(locs, ",")
	}
	// The initial state, without notification (nobody can have subscribed).
	p.mu.Lock()
	s, r := p.deriveLocked()
	p.state, p.reason = s, r
	if s.IsFinished() {
		close(p.done)
	}
	p.mu.Unlock()
	for _, c := range p.children {
		c.mu.Lock()
		c.parents = append(c.parents, p)
		c.mu.Unlock()
		c.unregister()
	}
	p.recompute() // a child may have changed before it knew its parent
	t := opts.Table
	if t == nil {
		t = Default
	}
	t.Add(p)
	return p
}

// recompute derives the parent's state again after a child changed.
func (p *Job[T]) recompute() {
	p.mu.Lock()
	s, r := p.deriveLocked()
	if s != p.state && !p.state.IsFinished() {
		p.transitionLocked(s, r)
	} else {
		p.broadcastLocked()
	}
	p.mu.Unlock()
	p.afterChange()
}

// deriveLocked computes the parent's state from its children's. p.mu must
// be held (the lock order is parent, then child).
func (p *Job[T]) deriveLocked() (State, error) {
	states := make([]State, len(p.children))
	reasons := make([]error, len(p.children))
	for i, c := range p.children {
		c.mu.Lock()
		states[i], reasons[i] = c.state, c.reason
		c.mu.Unlock()
	}
	return deriveState(states, reasons)
}

// deriveState is the parent-state rule documented on NewParent.
func deriveState(states []State, reasons []error) (State, error) {
	n := len(states)
	if n == 0 {
		return Completed, nil
	}
	count := make(map[State]int)
	finished := 0
	var failed []error
	for i, s := range states {
		count[s]++
		if s.IsFinished() {
			finished++
		}
		if s == Failed && reasons[i] != nil {
			failed = append(failed, reasons[i])
		}
	}
	if finished == n {
		switch {
		case count[Failed] > 0:
			return Failed, errors.Join(failed...)
		case count[Stopped] > 0:
			return Stopped, nil
		default:
			return Completed, nil
		}
	}
	if count[Blocked] > 0 {
		return Blocked, nil
	}
	if count[AtBreakpoint] > 0 {
		return AtBreakpoint, nil
	}
	unfinished := n - finished
	for _, s := range []State{Disconnected, Suspended, Stopping, Suspending} {
		if count[s] == unfinished {
			return s, nil
		}
	}
	if count[NotStarted] == n {
		return NotStarted, nil
	}
	return Running, nil
}

// joinErrors joins the non-nil errors, or returns nil.
func joinErrors(errs []error) error { return errors.Join(errs...) }
