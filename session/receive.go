package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/job"
)

// OutTarget is Receive-PSSession's -OutTarget: how results come back.
type OutTarget int

// OutTarget values.
const (
	// OutTargetDefault applies PowerShell's rule: Job if a command being
	// received was started as a job in this client (InvokeAsJob), else
	// Host.
	OutTargetDefault OutTarget = iota
	// OutTargetHost returns the results as a Stream (synchronously, as
	// PowerShell writes them to the host).
	OutTargetHost
	// OutTargetJob returns a Job (asynchronously).
	OutTargetJob
)

// String returns PowerShell's name.
func (t OutTarget) String() string {
	switch t {
	case OutTargetHost:
		return "Host"
	case OutTargetJob:
		return "Job"
	}
	return "Default"
}

// Selector says which sessions Receive works on: one of Receive-PSSession's
// seven parameter sets. Build it with BySession, ByID, ByName,
// ByInstanceID, OnComputerByName or OnComputerByInstanceID (the last two
// cover the ComputerName and ConnectionUri sets, as ConnectionOptions holds
// either).
type Selector struct {
	set        string
	sessions   []*Session
	id         int
	name       string
	instanceID uuid.UUID
	remote     *ConnectionOptions
}

// ParameterSet returns the name of the Receive-PSSession parameter set the
// selector stands for.
func (s Selector) ParameterSet() string { return s.set }

// BySession selects sessions by value (parameter set Session; several
// sessions are what `Get-PSSession ... | Receive-PSSession` passes).
func BySession(s ...*Session) Selector { return Selector{set: "Session", sessions: s} }

// ByID selects the session with this local Id from the table (parameter
// set Id).
func ByID(id int) Selector { return Selector{set: "Id", id: id} }

// ByName selects the sessions of the table with this name (parameter set
// SessionName; no wildcards, as in PowerShell; case-insensitive).
func ByName(name string) Selector { return Selector{set: "SessionName", name: name} }

// ByInstanceID selects the session of the table with this InstanceId
// (parameter set InstanceId).
func ByInstanceID(id uuid.UUID) Selector { return Selector{set: "InstanceId", instanceID: id} }

// OnComputerByName selects the session named name on the computer c names
// (parameter sets ComputerSessionName, or ConnectionUriSessionName when
// c.ConnectionURI is set, with c.SessionOption.AllowRedirection and
// MaximumConnectionRedirectionCount). It works from a process that knows
// nothing but the computer and the name. c.ConfigurationName, when set,
// filters the sessions (-ConfigurationName); c.ApplicationName selects the
// endpoint (-ApplicationName).
func OnComputerByName(c ConnectionOptions, name string) Selector {
	set := "ComputerSessionName"
	if c.ConnectionURI != "" {
		set = "ConnectionUriSessionName"
	}
	return Selector{set: set, remote: &c, name: name}
}

// OnComputerByInstanceID selects the session with this InstanceId on the
// computer c names (parameter sets ComputerInstanceId and
// ConnectionUriInstanceId).
func OnComputerByInstanceID(c ConnectionOptions, id uuid.UUID) Selector {
	set := "ComputerInstanceId"
	if c.ConnectionURI != "" {
		set = "ConnectionUriInstanceId"
	}
	return Selector{set: set, remote: &c, instanceID: id}
}

// ReceiveOptions are Receive-PSSession's parameters besides the selector.
type ReceiveOptions struct {
	// OutTarget says how results come back (see OutTarget and the package
	// docs for the default rule).
	OutTarget OutTarget
	// JobName names the job Receive returns when it makes a new one. A job
	// started in this client (InvokeAsJob) is reused when JobName is empty;
	// with a JobName a new job is made (the NOTES' rule). Without a job
	// result it has no effect.
	JobName string
	// WhatIf returns what would be done (Received.WhatIf) without doing it.
	WhatIf bool
	// Confirm, when set, is asked before each session; false skips it.
	Confirm func(Action) bool
	// ThrottleLimit bounds the sessions connected at once
	// (DefaultThrottleLimit when zero).
	ThrottleLimit int
	// Table is the local session table for ByID, ByName and ByInstanceID,
	// and records sessions got from a computer (nil: DefaultTable).
	Table *Table
	// JobTable registers the jobs made (nil: job.Default).
	JobTable *job.Table
	// ResultBuffer bounds a Host stream's buffer (DefaultResultBuffer).
	ResultBuffer int
	// Host answers host calls of the sessions got from a computer (the
	// ComputerName and ConnectionUri sets), including calls the server
	// buffered while the session was disconnected; nil: the default policy
	// (see HostHandler). Sessions passed by value keep their own.
	Host HostHandler
	// Hooks are given to the sessions got from a computer.
	Hooks Hooks
}

// Action is one thing Receive would do (WhatIf) or is about to do
// (Confirm).
type Action struct {
	// Session is the session.
	Session *Session
	// Connect says the session is disconnected and will be connected.
	Connect bool
	// Commands are the commands whose results would be received (for a
	// disconnected session they are known only once connected: nil).
	Commands []*RunningCommand
}

// String describes the action as PowerShell's WhatIf does.
func (a Action) String() string {
	op := "Receive"
	if a.Connect {
		op = "Connect and receive"
	}
	return fmt.Sprintf("%s: session %q (Id %d, InstanceId %s) on %s", op, a.Session.Name(), a.Session.Id(),
		a.Session.InstanceID(), a.Session.ComputerName())
}

// Received is what Receive returns: exactly one of Stream (OutTarget Host)
// and Job (OutTarget Job) is set, as OutTarget says; for WhatIf neither is,
// and WhatIf lists what would have been done.
type Received struct {
	// OutTarget is the target applied (Host or Job, never Default).
	OutTarget OutTarget
	// Stream holds the results for OutTarget Host.
	Stream *Stream
	// Job holds the results for OutTarget Job: the original job when a
	// job started here is reused, else a new job (a parent with one child
	// per command when there are several).
	Job *Job
	// Sessions are the sessions received (connected to this client).
	Sessions []*Session
	// WhatIf lists the actions a WhatIf call would have done.
	WhatIf []Action
}

// Receive is Receive-PSSession: for each selected session, it connects the
// session if it is disconnected (commands suspended in Block mode resume),
// and returns the results of its commands that no consumer here receives
// yet (those running when it was disconnected, or found on the server). A
// session with nothing running is connected and returns nothing. A session
// connected to another client, or expired, gives a *SessionError matching
// ErrBusy or ErrExpired; the other sessions are still received, and the
// errors are returned joined with the Received value.
func Receive(ctx context.Context, sel Selector, o ReceiveOptions) (*Received, error) {
	if o.Table == nil {
		o.Table = DefaultTable
	}
	sessions, err := sel.resolve(ctx, &o)
	if err != nil {
		return nil, err
	}
	sessions = unique(sessions)
	if o.WhatIf {
		rec := &Received{}
		for _, s := range sessions {
			rec.WhatIf = append(rec.WhatIf, s.action())
		}
		return rec, nil
	}
	limit := o.ThrottleLimit
	if limit <= 0 {
		limit = DefaultThrottleLimit
	}
	// Connect (throttled), then collect the commands to receive.
	errs := make([]error, len(sessions))
	ok := make([]bool, len(sessions))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, s := range sessions {
		if o.Confirm != nil && !o.Confirm(s.action()) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if err := s.Connect(ctx); err != nil {
				errs[i] = err
				return
			}
			ok[i] = true
		}()
	}
	wg.Wait()
	rec := &Received{}
	var cmds []*RunningCommand
	for i, s := range sessions {
		if !ok[i] {
			continue
		}
		rec.Sessions = append(rec.Sessions, s)
		for _, c := range s.Commands() {
			s.mu.Lock()
			free := c.sink == nil || (c.sink.isJob() && c.asJob)
			s.mu.Unlock()
			if free {
				cmds = append(cmds, c)
			}
		}
	}
	target := o.OutTarget
	if target == OutTargetDefault {
		target = OutTargetHost
		for _, c := range cmds {
			if c.asJob {
				target = OutTargetJob
			}
		}
	}
	rec.OutTarget = target
	if target == OutTargetHost {
		return rec, errors.Join(append(errs, rec.toStream(cmds, o))...)
	}
	return rec, errors.Join(append(errs, rec.toJob(cmds, o))...)
}

// toStream attaches the commands to one Stream. A command whose results
// go to a job started here stays with its job.
func (rec *Received) toStream(cmds []*RunningCommand, o ReceiveOptions) error {
	st := newStream(o.ResultBuffer, len(cmds))
	rec.Stream = st
	for _, c := range cmds {
		if err := c.s.attach(c, streamSink{st}); err != nil {
			st.end(nil)
		}
	}
	return nil
}

// toJob attaches the commands to jobs: the original job of a command
// started here as a job (unless JobName asks for a new one), else new
// jobs; a parent when there are several.
func (rec *Received) toJob(cmds []*RunningCommand, o ReceiveOptions) error {
	var jobs []*Job
	var errs []error
	for _, c := range cmds {
		s := c.s
		s.mu.Lock()
		old, oldSink := c.job, c.sink
		s.mu.Unlock()
		if old != nil && c.asJob && o.JobName == "" {
			jobs = append(jobs, old)
			if oldSink == nil {
				if k := jobSinkFor(c, old); k != nil {
					if err := s.attach(c, k); err != nil {
						errs = append(errs, err)
					}
				}
			}
			continue
		}
		name := o.JobName
		if len(cmds) > 1 {
			name = "" // children get default names; the parent takes JobName
		}
		j, k := newCommandJob(c, name, o.JobTable)
		s.mu.Lock()
		var moved *job.Producer[Result]
		if c.sink != nil && c.sink.isJob() {
			if prev, ok := c.sink.(jobSink); ok {
				moved = prev.p
			}
			c.sink = nil
		}
		c.job, c.producer = j, k.p
		s.mu.Unlock()
		if moved != nil {
			// A new JobName moves the results to a new job: the original
			// one keeps what it has and stops.
			_ = moved.SetState(job.Stopped, fmt.Errorf("session: results moved to job %q by Receive", j.Name()))
		}
		if err := s.attach(c, k); err != nil {
			errs = append(errs, err)
		}
		jobs = append(jobs, j)
	}
	switch len(jobs) {
	case 1:
		rec.Job = jobs[0]
	default:
		rec.Job = job.NewParent[Result](job.Info{Name: o.JobName, Command: commandText(cmds), TypeName: JobTypeName},
			job.Options{Table: o.JobTable}, jobs...)
	}
	return errors.Join(errs...)
}

func commandText(cmds []*RunningCommand) string {
	if len(cmds) > 0 {
		return cmds[0].text
	}
	return ""
}

// jobSinkFor rebuilds the sink of a command's original job. The job's
// producer is kept by the command.
func jobSinkFor(c *RunningCommand, j *Job) sink {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.producer != nil && c.producer.Job() == j {
		return jobSink{c: c, p: c.producer}
	}
	return nil
}

// action describes what Receive would do with s.
func (s *Session) action() Action {
	a := Action{Session: s, Connect: s.State() != StateOpened}
	if !a.Connect {
		a.Commands = s.Commands()
	}
	return a
}

// resolve finds the selected sessions.
func (sel Selector) resolve(ctx context.Context, o *ReceiveOptions) ([]*Session, error) {
	t := o.Table
	notFound := func(what string) error {
		return &SessionError{Op: "receive", Kind: ErrNotFound, Err: errors.New("no session with " + what)}
	}
	switch sel.set {
	case "Session":
		if len(sel.sessions) == 0 {
			return nil, &OptionError{Field: "Session", Msg: "no session given"}
		}
		return sel.sessions, nil
	case "Id":
		s, ok := t.ByID(sel.id)
		if !ok {
			return nil, notFound(fmt.Sprintf("Id %d in this process", sel.id))
		}
		return []*Session{s}, nil
	case "SessionName":
		var out []*Session
		for _, s := range t.List() {
			if strings.EqualFold(s.Name(), sel.name) {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, notFound(fmt.Sprintf("name %q in this process", sel.name))
		}
		return out, nil
	case "InstanceId":
		out := t.ByInstanceID(sel.instanceID)
		if len(out) == 0 {
			return nil, notFound("InstanceId " + sel.instanceID.String() + " in this process")
		}
		return out[:1], nil
	case "ComputerSessionName", "ConnectionUriSessionName", "ComputerInstanceId", "ConnectionUriInstanceId":
		c := *sel.remote
		g := GetOptions{ConnectionOptions: c, InstanceID: sel.instanceID, Table: t, Host: o.Host, Hooks: o.Hooks}
		// -ConfigurationName filters; the connection itself uses each
		// session's own configuration.
		g.ConfigurationName = c.ConfigurationName
		if g.ConfigurationName != "" {
			g.ConfigurationName = escapeWildcard(g.ConfigurationName)
		}
		if sel.name != "" {
			g.Name = escapeWildcard(sel.name)
		}
		found, err := Get(ctx, g)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			what := "name " + sel.name
			if sel.name == "" {
				what = "InstanceId " + sel.instanceID.String()
			}
			return nil, notFound(what + " on " + c.computerName())
		}
		return found, nil
	}
	return nil, &OptionError{Field: "Selector", Msg: "use BySession, ByID, ByName, ByInstanceID, OnComputerByName or OnComputerByInstanceID"}
}

// unique drops repeated sessions, keeping the first of each.
func unique(ss []*Session) []*Session {
	seen := make(map[*Session]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if s != nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// escapeWildcard makes a literal PowerShell wildcard pattern.
func escapeWildcard(s string) string {
	r := strings.NewReplacer("`", "``", "*", "`*", "?", "`?", "[", "`[", "]", "`]")
	return r.Replace(s)
}
