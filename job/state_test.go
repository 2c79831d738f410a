package job

import (
	"strconv"
	"testing"
)

func TestStateValuesAndNames(t *testing.T) {
	// The numeric values of System.Management.Automation.JobState.
	tests := []struct {
		s                  State
		value              int
		name               string
		finished, persists bool
	}{
		{NotStarted, 0, "NotStarted", false, false},
		{Running, 1, "Running", false, false},
		{Completed, 2, "Completed", true, true},
		{Failed, 3, "Failed", true, true},
		{Stopped, 4, "Stopped", true, true},
		{Blocked, 5, "Blocked", false, false},
		{Suspended, 6, "Suspended", false, true},
		{Disconnected, 7, "Disconnected", false, true},
		{Suspending, 8, "Suspending", false, false},
		{Stopping, 9, "Stopping", false, false},
		{AtBreakpoint, 10, "AtBreakpoint", false, false},
	}
	for _, tt := range tests {
		if int(tt.s) != tt.value {
			t.Errorf("%s = %d, want %d", tt.name, int(tt.s), tt.value)
		}
		if got := tt.s.String(); got != tt.name {
			t.Errorf("State(%d).String() = %q, want %q", tt.value, got, tt.name)
		}
		if got := tt.s.IsFinished(); got != tt.finished {
			t.Errorf("%s.IsFinished() = %v", tt.name, got)
		}
		if got := tt.s.IsPersistent(); got != tt.persists {
			t.Errorf("%s.IsPersistent() = %v", tt.name, got)
		}
	}
	for _, s := range []State{-1, 11} {
		if got, want := s.String(), "State("+strconv.Itoa(int(s))+")"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		if s.valid() {
			t.Errorf("%d valid", int(s))
		}
	}
}
