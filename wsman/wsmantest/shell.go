package wsmantest

import (
	"context"

	"github.com/psremoting/psremoting/wsman"
	"strings"
	"time"
)

// Shell states, as reported in rsp:State.
const (
	stateConnected    = "Connected"
	stateDisconnected = "Disconnected"
)

// shell is one WinRS shell: a PowerShell runspace pool or a cmd shell. All
// fields are guarded by Server.mu.
type shell struct {
	id          string // upper-case GUID
	kind        Kind
	resourceURI string
	config      string // PowerShell configuration name
	name        string
	owner       string // authenticated user
	clientIP    string
	processID   int
	created     time.Time
	seq         uint64    // creation order (ties of created on a manual clock)
	lastActive  time.Time // last request about this shell (ShellInactivity, inactivity window)

	idleTimeout    time.Duration
	bufferMode     string // "Block" or "Drop"
	state          string // stateConnected / stateDisconnected
	sessionID      string // client session that holds (or disconnected) the shell
	disconnectedAt time.Time
	inputStreams   string
	outputStreams  string
	locale         string
	dataLocale     string
	noProfile      bool
	workingDir     string
	env            []wsman.EnvVar

	receivers int // Receive requests waiting on this shell or its commands

	commands []*command // in creation order

	ctx    context.Context // cancelled when the shell is deleted
	cancel context.CancelFunc

	// changed is closed and replaced whenever something a waiter may care
	// about changes: output queued or taken, state changes, command end.
	changed chan struct{}

	ps *psShell // PowerShell engine state (nil for cmd)
}

func (sh *shell) broadcast() {
	close(sh.changed)
	sh.changed = make(chan struct{})
}

func (sh *shell) command(id string) *command {
	for _, c := range sh.commands {
		if strings.EqualFold(c.id, id) {
			return c
		}
	}
	return nil
}

func (sh *shell) removeCommand(c *command) {
	for i, x := range sh.commands {
		if x == c {
			sh.commands = append(sh.commands[:i], sh.commands[i+1:]...)
			return
		}
	}
}

// expiry returns when the shell's idle timeout ends, if it is
// disconnected.
func (sh *shell) expiry() (time.Time, bool) {
	if sh.state != stateDisconnected {
		return time.Time{}, false
	}
	return sh.disconnectedAt.Add(sh.idleTimeout), true
}

// command is one command of a shell: a PowerShell pipeline or a cmd
// process.
type command struct {
	id          string
	sh          *shell
	commandLine string
	created     time.Time
	out         outbox // output not yet received

	running  bool // handler goroutine still running
	finished bool // the final output (PIPELINE_STATE / exit) is queued
	exitCode int
	exitSet  bool
	pending  bool // waiting for a host response (CommandState Pending)
	// blocked counts writers waiting for room in the output buffer.
	blocked int
	// dropped counts messages discarded under BufferMode Drop.
	dropped int
	// doneDelivered is set once a Receive carried the Done state.
	doneDelivered bool

	ctx    context.Context // cancelled on stop/terminate/shell delete
	cancel context.CancelFunc
	// stopped is set when the client stopped the command (crtl_c / ctrl_c).
	stopped bool

	// cmd input
	stdin    []byte
	stdinEOF bool

	ps *psCommand // PowerShell pipeline state (nil for cmd)
}

// chunk is one piece of output: a PSRP payload (one or more complete
// fragments of one message) or a piece of cmd stdout/stderr.
type chunk struct {
	stream string // "stdout" or "stderr"
	data   []byte
	group  uint64 // message number: chunks of one PSRP message share it (Drop removes whole groups)
}

// outbox is a FIFO of output chunks with a byte count.
type outbox struct {
	chunks []chunk
	size   int
	// dropped counts chunks discarded under BufferMode Drop.
	dropped int
}

func (o *outbox) push(c chunk) {
	o.chunks = append(o.chunks, c)
	o.size += len(c.data)
}

func (o *outbox) empty() bool { return len(o.chunks) == 0 }

// dropOldest discards the oldest message group.
func (o *outbox) dropOldest() {
	if len(o.chunks) == 0 {
		return
	}
	g := o.chunks[0].group
	n := 0
	for n < len(o.chunks) && o.chunks[n].group == g {
		o.size -= len(o.chunks[n].data)
		o.chunks[n] = chunk{}
		n++
	}
	o.dropped += n
	o.chunks = o.chunks[n:] // O(1): no copy of the rest per drop
	if len(o.chunks) == 0 {
		o.chunks = nil
	}
}

// take removes chunks totalling at most max bytes (always at least one
// chunk if there is any) and returns them.
func (o *outbox) take(max int) []chunk {
	var out []chunk
	total := 0
	for len(o.chunks) > 0 {
		c := o.chunks[0]
		if len(out) > 0 && total+len(c.data) > max {
			break
		}
		out = append(out, c)
		total += len(c.data)
		o.chunks[0] = chunk{}
		o.chunks = o.chunks[1:]
		o.size -= len(c.data)
	}
	if len(o.chunks) == 0 {
		o.chunks = nil
	}
	return out
}
