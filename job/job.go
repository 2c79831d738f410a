package job

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// DefaultMaxBuffered is the number of unreceived results a job holds before
// Producer.Emit blocks, when Options.MaxBuffered is 0.
const DefaultMaxBuffered = 1024

// Info describes a job: what PowerShell shows in Get-Job's columns.
type Info struct {
	// Name is the job's friendly name; empty means "Job<Id>", as PowerShell
	// names jobs.
	Name string
	// Command is the command the job runs (PowerShell's Job.Command).
	Command string
	// Location is where the job runs, e.g. the computer name (Job.Location).
	// For a parent job, empty means the children's locations joined by ","
	// (as PSRemotingJob shows them).
	Location string
	// TypeName is PowerShell's PSJobTypeName, e.g. "RemoteJob".
	TypeName string
}

// Controller is the producer's side of Stop: Job.Stop calls it to stop the
// running command. It returns once the command is stopped (or the stop is
// acknowledged); an error leaves the job in the state it had before Stop.
type Controller interface {
	Stop(ctx context.Context) error
}

// Options configure a new job.
type Options struct {
	// MaxBuffered is the number of unreceived results the job holds before
	// Producer.Emit blocks until a Receive takes some (back-pressure);
	// 0 means DefaultMaxBuffered. Results kept by a Receive with Keep are
	// received: they stay in the job but no longer count against this bound.
	// Ignored by NewParent (a parent holds no results of its own).
	MaxBuffered int
	// Table is the job repository the job is registered in; nil means Default.
	Table *Table
}

// lastID numbers jobs process-wide, as PowerShell numbers jobs in a session.
var lastID atomic.Int64

// Job is a job: a command running somewhere that produces results of type T,
// with PowerShell's job state machine, Receive-Job's result store (Keep
// semantics), Wait-Job and Stop-Job. A Job made by New is fed by its
// Producer; a Job made by NewParent derives everything from its children.
// A Job is safe for concurrent use. It starts no goroutine.
type Job[T any] struct {
	id         int
	instanceID uuid.UUID
	info       Info
	ctl        Controller
	maxBuf     int
	children   []*Job[T] // nil for a job made by New

	mu       sync.Mutex
	table    *Table // the table it is registered in, nil once removed or adopted by a parent
	state    State
	reason   error
	results  []T    // results still held; results[:kept] were delivered with Keep
	base     uint64 // sequence number of results[0]
	kept     int
	sig      chan struct{} // closed and cleared on every change; nil when nobody waits
	done     chan struct{} // closed on reaching a finished state
	parents  []*Job[T]     // parent jobs to wake on change
	stopping chan struct{} // non-nil while a Stop is in progress; closed when it ends

	// emitWaits, if set (by tests, before use), is called each time Emit
	// is about to wait for room.
	emitWaits func()

	// state-change notification, see notify.go
	subs       map[int]func(StateChange)
	nextSub    int
	pending    []StateChange
	delivering bool
}

func newJob[T any](info Info, ctl Controller, maxBuf int) *Job[T] {
	if maxBuf <= 0 {
		maxBuf = DefaultMaxBuffered
	}
	j := &Job[T]{
		id:         int(lastID.Add(1)),
		instanceID: uuid.New(),
		info:       info,
		ctl:        ctl,
		maxBuf:     maxBuf,
		done:       make(chan struct{}),
	}
	if j.info.Name == "" {
		j.info.Name = "Job" + strconv.Itoa(j.id)
	}
	return j
}

// New makes a job in state NotStarted, registers it in opts.Table (Default
// if nil) and returns it with its producer side, which the code running the
// command uses to deliver results and report state. ctl, which may be nil,
// is called by Job.Stop.
func New[T any](info Info, ctl Controller, opts Options) (*Job[T], *Producer[T]) {
	j := newJob[T](info, ctl, opts.MaxBuffered)
	t := opts.Table
	if t == nil {
		t = Default
	}
	t.Add(j)
	return j, &Producer[T]{j: j}
}

// ID returns the job's Id: a process-wide, increasing number, like the Id
// PowerShell gives jobs.
func (j *Job[T]) ID() int { return j.id }

// InstanceID returns the job's InstanceId, a random UUID.
func (j *Job[T]) InstanceID() uuid.UUID { return j.instanceID }

// Name returns the job's name ("Job<Id>" unless Info.Name was given).
func (j *Job[T]) Name() string { return j.info.Name }

// Command returns the command the job runs.
func (j *Job[T]) Command() string { return j.info.Command }

// Location returns where the job runs.
func (j *Job[T]) Location() string { return j.info.Location }

// TypeName returns the job's PSJobTypeName, e.g. "RemoteJob".
func (j *Job[T]) TypeName() string { return j.info.TypeName }

// State returns the job's current state.
func (j *Job[T]) State() State {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

// Reason returns the reason given with the job's current state
// (PowerShell's JobStateInfo.Reason): why it failed, which is kept since
// Failed is final, or for example why it was disconnected; nil if none. For
// a parent it joins the reasons of its failed children once it has failed.
func (j *Job[T]) Reason() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.reason
}

// HasMoreData reports, as PowerShell's job does, whether a Receive may still
// return something: true while the job has not finished (a Running or
// Disconnected job with no result yet included, since its result store is
// still open) and, once it has finished, while it holds results (results
// kept by Receive with Keep count). For a parent: whether any child has more data.
func (j *Job[T]) HasMoreData() bool {
	if j.children != nil {
		for _, c := range j.children {
			if c.HasMoreData() {
				return true
			}
		}
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return !j.state.IsFinished() || len(j.results) > 0
}

// Children returns the job's child jobs (nil for a job made by New). The
// slice is a copy.
func (j *Job[T]) Children() []*Job[T] {
	if j.children == nil {
		return nil
	}
	return append([]*Job[T](nil), j.children...)
}

// Done returns a channel closed when the job reaches a finished state.
func (j *Job[T]) Done() <-chan struct{} { return j.done }

// waitChLocked returns the channel closed at the next change of the job.
// j.mu must be held.
func (j *Job[T]) waitChLocked() <-chan struct{} {
	if j.sig == nil {
		j.sig = make(chan struct{})
	}
	return j.sig
}

// broadcastLocked wakes everyone waiting for a change. j.mu must be held.
func (j *Job[T]) broadcastLocked() {
	if j.sig != nil {
		close(j.sig)
		j.sig = nil
	}
}

// wake wakes everyone waiting for a change of j.
func (j *Job[T]) wake() {
	j.mu.Lock()
	j.broadcastLocked()
	j.mu.Unlock()
}
