package job

import "strconv"

// State is the state of a job. Its values and their order are those of
// PowerShell's System.Management.Automation.JobState enumeration, so a State
// converts to and from the numeric JobState PowerShell reports.
type State int

// The job states, in the order and with the values of PowerShell's JobState.
const (
	// NotStarted: the command of the job has not started.
	NotStarted State = iota
	// Running: the command is running.
	Running
	// Completed: the command completed (in every child job, for a parent).
	Completed
	// Failed: the command failed; Job.Reason says why.
	Failed
	// Stopped: the job was stopped (Job.Stop, or the producer reported it).
	Stopped
	// Blocked: the command waits for something, e.g. an answer to a host call.
	Blocked
	// Suspended: the command is suspended.
	Suspended
	// Disconnected: the job's session is disconnected from this client; the
	// job keeps the results it already has and gets new ones only after the
	// session connects again (the same job object resumes: Disconnected -> Running).
	Disconnected
	// Suspending: a suspend is in progress.
	Suspending
	// Stopping: a stop is in progress (Job.Stop was called and has not finished).
	Stopping
	// AtBreakpoint: the command is halted at a debugger breakpoint.
	AtBreakpoint
)

var stateNames = [...]string{
	NotStarted:   "NotStarted",
	Running:      "Running",
	Completed:    "Completed",
	Failed:       "Failed",
	Stopped:      "Stopped",
	Blocked:      "Blocked",
	Suspended:    "Suspended",
	Disconnected: "Disconnected",
	Suspending:   "Suspending",
	Stopping:     "Stopping",
	AtBreakpoint: "AtBreakpoint",
}

// String returns the PowerShell name of the state ("Running", ...), or
// "State(n)" for a value outside the enumeration.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// IsFinished reports whether s is a finished state: Completed, Failed or
// Stopped (PowerShell's Job.IsFinishedState). A finished state is final.
func (s State) IsFinished() bool {
	return s == Completed || s == Failed || s == Stopped
}

// IsPersistent reports whether s is a finished state or Suspended or
// Disconnected (PowerShell's Job.IsPersistentState): the states at which
// Wait-Job and Receive-Job -Wait stop waiting unless -Force is given.
func (s State) IsPersistent() bool {
	return s.IsFinished() || s == Suspended || s == Disconnected
}

// valid reports whether s is one of the defined states.
func (s State) valid() bool { return s >= NotStarted && s <= AtBreakpoint }

// StateChange describes one change of a job's state, as PowerShell's
// JobStateEventArgs does: the state before, the state after, and the reason
// (non-nil for Failed; may be set for other states).
type StateChange struct {
	Previous State
	State    State
	Reason   error
}
