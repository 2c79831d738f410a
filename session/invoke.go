package session

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
)

// Parameter is a parameter (Name set) or positional argument (Name "") of
// a command.
type Parameter = psrp.CommandParameter

// Pipeline is what Invoke runs: a script, or a command with parameters,
// with optional pipeline input (Invoke-Command's -ScriptBlock,
// -FilePath contents, -ArgumentList and -InputObject).
type Pipeline struct {
	// Script is script text. Exactly one of Script and Command is set.
	Script string
	// Command is a command name (a cmdlet, function or application).
	Command string
	// Parameters are the parameters of Command, or the arguments of Script.
	Parameters []Parameter
	// Input, when not nil, is sent as pipeline input, then the input is
	// closed. nil runs the pipeline without input.
	Input []clixml.Value
}

func (p *Pipeline) validate() error {
	if (p.Script == "") == (p.Command == "") {
		return &OptionError{Field: "Pipeline", Msg: "exactly one of Script and Command must be set"}
	}
	return nil
}

func (p *Pipeline) text() string {
	if p.Script != "" {
		return p.Script
	}
	return p.Command
}

// InvokeOptions tune Invoke.
type InvokeOptions struct {
	// ResultBuffer is how many results may wait for the reader before the
	// session stops receiving (DefaultResultBuffer when zero).
	ResultBuffer int
}

// JobOptions tune InvokeAsJob.
type JobOptions struct {
	// JobName names the job ("Job<Id>" when empty).
	JobName string
	// Table is the job table the job is registered in (nil: job.Default).
	Table *job.Table
}

// Invoke runs p (Invoke-Command -Session) and returns its results as a
// Stream (OutTarget Host). ctx bounds starting the command; the results
// arrive on the Stream until the command ends (read them with a context of
// your own, e.g. Stream.Collect(ctx)). The command runs on the server whether or not
// the stream is read; while the reader lags, the session stops receiving.
// If the session is disconnected before the command ends, the stream ends
// with an error matching ErrDisconnected and the command keeps running: a
// later Receive returns the rest.
func (s *Session) Invoke(ctx context.Context, p Pipeline, o ...InvokeOptions) (*Stream, error) {
	var opt InvokeOptions
	if len(o) > 0 {
		opt = o[0]
	}
	c, err := s.start(ctx, p)
	if err != nil {
		return nil, err
	}
	st := newStream(opt.ResultBuffer, 1)
	if err := s.attach(c, streamSink{st}); err != nil {
		return nil, err
	}
	return st, nil
}

// InvokeAsJob runs p as a job (Invoke-Command -AsJob): it returns at once;
// results go to the job, which this client owns. If the session is
// disconnected, the job becomes Disconnected and keeps the results it has;
// when this client connects again (Connect, or Receive), the same job
// resumes, as PowerShell reuses the original job object.
func (s *Session) InvokeAsJob(ctx context.Context, p Pipeline, o JobOptions) (*Job, error) {
	c, err := s.start(ctx, p)
	if err != nil {
		return nil, err
	}
	c.asJob = true
	j, k := newCommandJob(c, o.JobName, o.Table)
	s.mu.Lock()
	c.job, c.producer = j, k.p
	s.mu.Unlock()
	if err := s.attach(c, k); err != nil {
		return nil, err
	}
	return j, nil
}

// InvokeInDisconnectedSession starts p and disconnects the session at once
// (Invoke-Command -InDisconnectedSession), with d's IdleTimeout and
// OutputBufferingMode: no result reaches this client, so a later Receive
// (from this process or another) gets all of them.
func (s *Session) InvokeInDisconnectedSession(ctx context.Context, p Pipeline, d DisconnectOptions) (*RunningCommand, error) {
	if err := s.checkIdle(d.IdleTimeout); err != nil {
		return nil, err
	}
	c, err := s.start(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.Disconnect(ctx, d); err != nil {
		return c, err
	}
	return c, nil
}

// InvokeInDisconnectedSession is Invoke-Command -ComputerName
// -InDisconnectedSession: it creates a session with o, starts p in it and
// disconnects it. The session (Disconnected) and the command are returned;
// receive them later with Receive, from this process or another.
func InvokeInDisconnectedSession(ctx context.Context, o NewOptions, p Pipeline, d DisconnectOptions) (*Session, *RunningCommand, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	s, err := New(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.InvokeInDisconnectedSession(ctx, p, d)
	if err != nil {
		_ = s.Close(ctx)
		return nil, nil, err
	}
	return s, c, nil
}

// start creates the pipeline on the server (CREATE_PIPELINE in the WSMan
// Command's Arguments, the rest and any input with Send).
func (s *Session) start(ctx context.Context, p Pipeline) (*RunningCommand, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	cmd := psrp.Command{Cmd: p.text(), IsScript: p.Script != "", Args: p.Parameters}
	id := uuid.New()
	s.mu.Lock()
	if s.state != StateOpened || s.pool == nil {
		st := s.state
		s.mu.Unlock()
		return nil, s.errorf("invoke", stateKind(st), fmt.Errorf("the session is %s", st))
	}
	pl, err := s.pool.NewPipeline(id, &psrp.CreatePipeline{NoInput: p.Input == nil,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{cmd}}})
	if err == nil {
		err = pl.Invoke()
	}
	var args []byte
	if err == nil {
		args, err = s.pool.NextPayload(pl.Target(), s.wc.MaxPayloadSize())
	}
	if err != nil {
		if pl != nil {
			pl.Abandon(err)
		}
		s.mu.Unlock()
		return nil, err
	}
	c := &RunningCommand{s: s, id: id, text: p.text(), pl: pl, state: psrp.PSInvocationRunning, done: make(chan struct{})}
	s.cmds = append(s.cmds, c)
	s.mu.Unlock()
	s.notify(nil)
	fail := func(err error) (*RunningCommand, error) {
		s.mu.Lock()
		pl.Abandon(err)
		s.mu.Unlock()
		c.finish(err, false)
		return nil, s.errorf("invoke", classify(err), err)
	}
	if _, err := s.wc.Command(ctx, s.ref, &wsman.CommandLine{CommandID: upper(id), Command: p.text(),
		Arguments: wsman.PowerShellArguments(args)}); err != nil {
		return fail(err)
	}
	if err := s.flush(ctx, pl.Target(), upper(id)); err != nil {
		return fail(err)
	}
	if p.Input != nil {
		s.mu.Lock()
		err := pl.SendInput(p.Input...)
		if err == nil {
			err = pl.EndInput()
		}
		s.mu.Unlock()
		if err == nil {
			err = s.flush(ctx, pl.Target(), upper(id))
		}
		if err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// stateKind is the error kind of an operation refused in state st.
func stateKind(st State) error {
	switch st {
	case StateDisconnected, StateDisconnecting, StateConnecting:
		return ErrDisconnected
	case StateBroken:
		return ErrBroken
	}
	return ErrClosed
}
