// Package job holds jobs: commands that run somewhere (a remote session)
// and produce results that the caller receives later, with the semantics of
// PowerShell's job cmdlets and Job class.
//
// A job made by New has a state machine with PowerShell's JobState values
// (State), a result store with Receive-Job's Keep semantics, Wait, Stop and
// state-change notifications (Subscribe). The code that runs the command
// (package session) feeds it through the narrow Producer side: Emit stores
// a result, SetState reports the command's state. A job made by NewParent
// is a parent over one child job per session, as PowerShell's remote job
// (PSRemotingJob) is: its state and HasMoreData derive from its children,
// Receive returns the children's results and Stop stops them all.
//
// The package is a leaf: it imports only the standard library and
// github.com/google/uuid, and knows nothing of sessions. It is generic over
// the result type T, which belongs to the producer. It starts no goroutine
// per job (Stop on a parent runs one per unfinished child and waits for
// them); the Results iterator ends cleanly when its consumer stops.
//
// # Back-pressure
//
// A job holds at most Options.MaxBuffered results that no Receive has taken
// (DefaultMaxBuffered if 0): Emit blocks at that bound until a Receive
// takes results, the job finishes or Emit's context ends. The session stops
// reading from the server while Emit blocks, so memory stays bounded.
// Results a Receive with Keep returned stay in the job but no longer count
// against the bound (otherwise Receive with Wait and Keep could never see a
// job end); a caller who keeps everything holds everything, as in PowerShell.
//
// # Disconnected jobs
//
// When its session disconnects the producer sets the job Disconnected: the
// job keeps the results it has (Receive returns them; HasMoreData stays
// true) and gets no new ones. When the session connects again in this
// process the producer sets it Running and emits into the same job object,
// so a later Receive returns the new results (Receive-PSSession's Example 6).
//
// # Cmdlets and this API
//
// Receive-Job maps to Job.Receive and Job.Results with ReceiveOptions:
//   - -Job, -Id, -Name, -InstanceId: the job value; find it with Table.Get,
//     ByName, ByInstanceID or Lookup.
//   - a failed job's Reason, which Receive-Job writes as an error record
//     after the results: Receive returns a *FailedError with the results.
//   - -Keep: ReceiveOptions.Keep. -Wait: Wait. -Force: Force.
//     -AutoRemoveJob: AutoRemove (requires Wait, as in PowerShell).
//   - -Location, -ComputerName: ReceiveOptions.Location (the children's
//     Location is the computer name). -Session: receive from the child job
//     of that session (Job.Children), since sessions are not known here.
//   - -NoRecurse: not applicable: a parent holds no results of its own, so
//     -NoRecurse would return nothing; receive from the parent or a child.
//   - -WriteEvents, -WriteJobInResults: not applicable: Subscribe delivers
//     state changes, and the caller already holds the job value.
//
// Wait-Job maps to Job.Wait (Wait-Job -Force: until Completed, Failed or
// Stopped) and Job.WaitPersistent (Wait-Job without -Force: also ends at
// Suspended or Disconnected); -Timeout is the context's deadline; -Any and
// waiting for several jobs are a select over their Done channels; -State
// and -Filter select jobs from Table.List.
//
// Stop-Job maps to Job.Stop (a finished job is left as it is; -PassThru:
// the caller holds the job); -State and -Filter select jobs from Table.List.
//
// Get-Job maps to Table.List (top-level jobs in Id order), Table.Get (-Id),
// Table.ByName (-Name, PowerShell wildcards, case-insensitive),
// Table.ByInstanceID (-InstanceId); -IncludeChildJob and -ChildJobState are
// Job.Children / Handle.ChildHandles; -State, -Command, -HasMoreData,
// -Before, -After, -Newest and -Filter are filters over List that the
// caller writes.
//
// Remove-Job maps to Table.Remove: an unfinished job is refused
// (ErrNotFinished) unless force is set, which stops it first (-Force).
// Child jobs are removed with their parent. Jobs are in Default unless
// Options.Table names another table; as in a PowerShell session, a table
// keeps its jobs (and their results) until they are removed, so a
// long-running program removes the jobs it is done with (or receives with
// AutoRemove).
//
// Each job has an Id that increases across the process (PowerShell's Ids
// increase per session), a random InstanceId, a Name ("Job<Id>" by
// default), Command, Location and TypeName (PSJobTypeName).
package job
