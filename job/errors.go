package job

import "errors"

// Errors returned by this package. Test for them with errors.Is.
var (
	// ErrFinished is returned by Producer.Emit and Producer.SetState once the
	// job is in a finished state (Completed, Failed, Stopped): finished states
	// are final, and a finished job takes no more results.
	ErrFinished = errors.New("job: the job has finished")
	// ErrInvalidState is returned by Producer.SetState for a value that is not
	// a State, or for a change back to NotStarted.
	ErrInvalidState = errors.New("job: invalid state change")
	// ErrNotFinished is returned by Table.Remove for a job that has not
	// finished when force is false, as Remove-Job refuses to remove a running job.
	ErrNotFinished = errors.New("job: the job has not finished; stop it first or remove it with force")
	// ErrNotInTable is returned by Table.Remove for a job that is not a
	// top-level job of that table (child jobs are removed with their parent,
	// as Remove-Job does).
	ErrNotInTable = errors.New("job: the job is not in this table")
	// ErrAutoRemoveWithoutWait is returned by Receive and Results when
	// ReceiveOptions.AutoRemove is set without Wait, as Receive-Job
	// -AutoRemoveJob requires -Wait.
	ErrAutoRemoveWithoutWait = errors.New("job: AutoRemove requires Wait")
)
