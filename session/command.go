package session

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp"
)

// RunningCommand is a command (a PSRP pipeline, a WSMan command) of a
// session: one this client started, or one found running on the server
// when the session was connected. Its results go to at most one consumer
// at a time: a Stream (OutTarget Host) or a Job (OutTarget Job).
type RunningCommand struct {
	s    *Session
	id   uuid.UUID
	text string
	// asJob: started with InvokeAsJob in this client (Receive's OutTarget
	// default is then Job, and the job is reused).
	asJob bool

	// Guarded by s.mu.
	pl      *psrp.ClientPipeline
	sink    sink
	pumping bool
	// pumpDone is closed when the command's current pump goroutine has
	// ended (nil before the first pump): Disconnect waits for it.
	pumpDone chan struct{}
	finished bool
	state    psrp.PSInvocationState
	received int64
	job      *Job
	producer *job.Producer[Result]
	// pending are results received but not delivered (their consumer went
	// away); serverDone says the server reported the command Done (or its
	// results failed with doneErr) and only pending remains.
	// disconnected: the command ran while the session was disconnected.
	disconnected bool
	pending      []Result
	serverDone   bool
	doneErr      error
	// loss joins the *psrp.GapErrors of messages lost in transit; the
	// results end with it.
	loss error
	done chan struct{}
	err  error
	once sync.Once
}

// ID is the command id (the PSRP pipeline id and WSMan CommandId).
func (c *RunningCommand) ID() uuid.UUID { return c.id }

// Text is the command text (the script, or the command name), as far as
// known: for a command found on the server it is the CommandLine the
// server reports.
func (c *RunningCommand) Text() string { return c.text }

// Session returns the command's session.
func (c *RunningCommand) Session() *Session { return c.s }

// StartedAsJob reports whether this client started the command with
// InvokeAsJob.
func (c *RunningCommand) StartedAsJob() bool { return c.asJob }

// State is the command's last known state.
func (c *RunningCommand) State() psrp.PSInvocationState {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.state
}

// Done is closed when the command has finished (or its session closed).
func (c *RunningCommand) Done() <-chan struct{} { return c.done }

// Err is why the command's results ended early, nil after a normal end.
func (c *RunningCommand) Err() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.err
}

// Stop stops the command on the server (PowerShell's Stop for a running
// pipeline: the crtl_c signal). Its state becomes Stopped when the server
// says so.
func (c *RunningCommand) Stop(ctx context.Context) error {
	c.s.mu.Lock()
	if c.finished || c.pl == nil {
		c.s.mu.Unlock()
		return nil
	}
	_, _ = c.pl.BeginStop()
	c.s.mu.Unlock()
	return c.s.signal(ctx, c.id, "powershell/signal/crtl_c")
}

// finish ends the command's results with err (nil: normal end).
func (c *RunningCommand) finish(err error, ok bool) {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.finished = true
		// Forget it: a long-lived session runs any number of commands.
		for i, x := range c.s.cmds {
			if x == c {
				c.s.cmds = append(c.s.cmds[:i:i], c.s.cmds[i+1:]...)
				break
			}
		}
		if c.err == nil && !ok {
			c.err = err
		}
		if c.state == psrp.PSInvocationRunning || c.state == psrp.PSInvocationNotStarted ||
			c.state == psrp.PSInvocationDisconnected {
			c.state = psrp.PSInvocationStopped
			if ok {
				c.state = psrp.PSInvocationCompleted
			}
		}
		sk := c.sink
		c.sink = nil
		st := c.state
		c.s.mu.Unlock()
		if sk != nil {
			if ok {
				sk.end(nil)
			} else {
				sk.end(err)
			}
		}
		close(c.done)
		if f := c.s.hooks.CommandStateChanged; f != nil {
			f(c, st)
		}
		c.s.notify(nil)
	})
}

// sink is a consumer of a command's results.
type sink interface {
	// emit delivers r, blocking while the consumer lags; false when the
	// consumer is gone.
	emit(ctx context.Context, r Result) bool
	// end ends this command's results (err nil: normal end).
	end(err error)
	// disconnected reports that the session was disconnected; it returns
	// true when the sink stays attached (a job waits to resume), false when
	// it was ended (a host stream ends with ErrDisconnected).
	disconnected(err error) bool
	// resumed reports that the session is connected again and results
	// flow (a job goes back to Running).
	resumed()
	// isJob reports whether the consumer is a job.
	isJob() bool
}

// streamSink feeds a Stream.
type streamSink struct{ st *Stream }

func (k streamSink) emit(ctx context.Context, r Result) bool { return k.st.emit(ctx, r) }
func (k streamSink) end(err error)                           { k.st.end(err) }
func (k streamSink) disconnected(err error) bool             { k.st.end(err); return false }
func (k streamSink) resumed()                                {}
func (k streamSink) isJob() bool                             { return false }
