package job

import (
	"context"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/wildcard"
)

// Handle is the part of a job that does not depend on its result type: what
// a Table holds, since one table holds jobs of different result types.
// Every *Job[T] is a Handle; use Lookup (or a type assertion) to get the
// typed job back. Only this package implements Handle.
type Handle interface {
	ID() int
	InstanceID() uuid.UUID
	Name() string
	Command() string
	Location() string
	TypeName() string
	State() State
	Reason() error
	HasMoreData() bool
	Done() <-chan struct{}
	Wait(ctx context.Context) (State, error)
	Stop(ctx context.Context) error
	// ChildHandles returns the job's children as Handles (nil if none).
	ChildHandles() []Handle

	setTable(t *Table) (old *Table)
	tableOf() *Table
}

// ChildHandles returns the job's children as Handles (nil for a job made by New).
func (j *Job[T]) ChildHandles() []Handle {
	if j.children == nil {
		return nil
	}
	out := make([]Handle, len(j.children))
	for i, c := range j.children {
		out[i] = c
	}
	return out
}

func (j *Job[T]) setTable(t *Table) *Table {
	j.mu.Lock()
	defer j.mu.Unlock()
	old := j.table
	j.table = t
	return old
}

func (j *Job[T]) tableOf() *Table {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.table
}

// unregister removes j from the table it is in, if any.
func (j *Job[T]) unregister() {
	if t := j.setTable(nil); t != nil {
		t.drop(j)
	}
}

// Table is a job repository: what Get-Job lists and Remove-Job removes. It
// holds top-level jobs (jobs made by New that have no parent, and parent
// jobs) of any result type. It is safe for concurrent use; the zero value
// is an empty table.
type Table struct {
	mu   sync.Mutex
	jobs []Handle // in the order added
}

// Default is the table jobs are registered in when Options.Table is nil.
var Default = &Table{}

// Add registers jobs in t (a job is in one table at most: Add moves it from
// the one it was in). New and NewParent call it; call it to register a job
// removed earlier. Adding a job already in t does nothing.
func (t *Table) Add(jobs ...Handle) {
	for _, h := range jobs {
		if h == nil {
			continue
		}
		old := h.setTable(t)
		if old == t {
			continue
		}
		if old != nil {
			old.drop(h)
		}
		t.mu.Lock()
		t.jobs = append(t.jobs, h)
		t.mu.Unlock()
	}
}

// drop removes h from t's list without touching h.
func (t *Table) drop(h Handle) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.Index(t.jobs, h)
	if i < 0 {
		return false
	}
	t.jobs = slices.Delete(t.jobs, i, i+1)
	return true
}

// List returns the table's top-level jobs in increasing Id order (Get-Job).
func (t *Table) List() []Handle {
	t.mu.Lock()
	out := slices.Clone(t.jobs)
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Handle) int { return a.ID() - b.ID() })
	return out
}

// Get returns the job with this Id (Get-Job -Id): a top-level job of the
// table or a child of one.
func (t *Table) Get(id int) (Handle, bool) {
	return t.find(func(h Handle) bool { return h.ID() == id })
}

// ByInstanceID returns the job with this InstanceId (Get-Job -InstanceId):
// a top-level job of the table or a child of one.
func (t *Table) ByInstanceID(id uuid.UUID) (Handle, bool) {
	return t.find(func(h Handle) bool { return h.InstanceID() == id })
}

func (t *Table) find(match func(Handle) bool) (Handle, bool) {
	var walk func([]Handle) Handle
	walk = func(hs []Handle) Handle {
		for _, h := range hs {
			if match(h) {
				return h
			}
			if c := walk(h.ChildHandles()); c != nil {
				return c
			}
		}
		return nil
	}
	h := walk(t.List())
	return h, h != nil
}

// ByName returns the top-level jobs whose name matches pattern, in
// increasing Id order (Get-Job -Name). pattern is a PowerShell wildcard
// pattern, matched case-insensitively: * any run of characters, ? one
// character, [abc] and [a-z] one character of a set, and ` (backtick)
// escaping the next character. A malformed pattern (an unclosed [) is an
// error, as PowerShell's WildcardPattern reports one.
func (t *Table) ByName(pattern string) ([]Handle, error) {
	w, err := wildcard.Compile(pattern)
	if err != nil {
		return nil, err
	}
	var out []Handle
	for _, h := range t.List() {
		if w.Match(h.Name()) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Remove removes a top-level job from the table, as Remove-Job does. A job
// that has not finished is refused with ErrNotFinished unless force is set;
// with force it is stopped first (Stop, honouring ctx; if Stop fails the
// job stays in the table and its error is returned). A job that is not a
// top-level job of t (a child job, or a job of another table) gives
// ErrNotInTable. The job object itself stays usable: its results can still
// be received.
func (t *Table) Remove(ctx context.Context, h Handle, force bool) error {
	if h == nil || h.tableOf() != t {
		return ErrNotInTable
	}
	if !h.State().IsFinished() {
		if !force {
			return ErrNotFinished
		}
		if err := h.Stop(ctx); err != nil {
			return err
		}
	}
	if h.tableOf() != t {
		return ErrNotInTable
	}
	h.setTable(nil)
	t.drop(h)
	return nil
}

// Lookup returns the job with this Id in t (as Get) if its result type is T.
func Lookup[T any](t *Table, id int) (*Job[T], bool) {
	h, ok := t.Get(id)
	if !ok {
		return nil, false
	}
	j, ok := h.(*Job[T])
	return j, ok
}

// ErrBadPattern is returned by Table.ByName for a malformed wildcard
// pattern (an unclosed or empty [ set).
var ErrBadPattern = wildcard.ErrBadPattern
