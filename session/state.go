package session

import "strconv"

// State is PowerShell's RunspaceState of a PSSession, relative to this
// client: Disconnected means not connected to this client; it may be
// connected to another one (see Availability).
type State int

// Session states (the values of RunspaceState).
const (
	// StateBeforeOpen: created locally, not opened yet.
	StateBeforeOpen State = iota
	// StateOpening: New or Connect is in progress.
	StateOpening
	// StateOpened: connected to this client.
	StateOpened
	// StateClosed: closed or removed.
	StateClosed
	// StateClosing: Close or Remove is in progress.
	StateClosing
	// StateBroken: the server or the transport failed.
	StateBroken
	// StateDisconnecting: Disconnect is in progress.
	StateDisconnecting
	// StateDisconnected: not connected to this client.
	StateDisconnected
	// StateConnecting: Connect (or a Receive that connects) is in progress.
	StateConnecting
)

var stateNames = []string{"BeforeOpen", "Opening", "Opened", "Closed", "Closing", "Broken", "Disconnecting",
	"Disconnected", "Connecting"}

// String returns PowerShell's name of the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Availability is PowerShell's RunspaceAvailability of a PSSession: whether
// anyone may use or connect to it.
type Availability int

// Availability values.
const (
	// AvailabilityNone: not connected to this client. For a disconnected
	// session it means that it can be connected (no client holds it).
	AvailabilityNone Availability = iota
	// AvailabilityAvailable: connected to this client and idle.
	AvailabilityAvailable
	// AvailabilityAvailableForNestedCommand: PowerShell's value for a
	// runspace inside a nested prompt; never reported by this package.
	AvailabilityAvailableForNestedCommand
	// AvailabilityBusy: connected to this client and running commands, or
	// (for a session got from the server) connected to another client, so
	// that it cannot be connected from here.
	AvailabilityBusy
)

// String returns PowerShell's name of the availability.
func (a Availability) String() string {
	switch a {
	case AvailabilityNone:
		return "None"
	case AvailabilityAvailable:
		return "Available"
	case AvailabilityAvailableForNestedCommand:
		return "AvailableForNestedCommand"
	case AvailabilityBusy:
		return "Busy"
	}
	return "Availability(" + strconv.Itoa(int(a)) + ")"
}
