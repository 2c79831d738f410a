package session

import (
	"context"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp"
)

// Job is a job whose results are this package's Results (OutTarget Job):
// PowerShell's remote job. Receive its results with Job.Receive (Receive-Job
// semantics, Keep and Wait), wait with Wait, stop with Stop. A job of
// several sessions is a parent with one child job per session.
type Job = job.Job[Result]

// JobTypeName is the PSJobTypeName of the jobs this package makes.
const JobTypeName = "RemoteJob"

// jobSink feeds a job.
type jobSink struct {
	c *RunningCommand
	p *job.Producer[Result]
}

func (k jobSink) emit(ctx context.Context, r Result) bool { return k.p.Emit(ctx, r) == nil }

func (k jobSink) end(err error) {
	if err != nil {
		_ = k.p.SetState(job.Failed, err)
		return
	}
	switch k.c.State() {
	case psrp.PSInvocationFailed:
		_ = k.p.SetState(job.Failed, nil)
	case psrp.PSInvocationStopped:
		_ = k.p.SetState(job.Stopped, nil)
	default:
		_ = k.p.SetState(job.Completed, nil)
	}
}

func (k jobSink) disconnected(error) bool {
	_ = k.p.SetState(job.Disconnected, nil)
	return true
}

func (k jobSink) resumed() { _ = k.p.SetState(job.Running, nil) }

func (k jobSink) isJob() bool { return true }

// commandController stops a command for Job.Stop.
type commandController struct{ c *RunningCommand }

// Stop stops the command and waits for it to end.
func (cc commandController) Stop(ctx context.Context) error {
	if err := cc.c.Stop(ctx); err != nil {
		return err
	}
	select {
	case <-cc.c.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newCommandJob makes a job fed by c.
func newCommandJob(c *RunningCommand, name string, t *job.Table) (*Job, jobSink) {
	j, p := job.New[Result](job.Info{Name: name, Command: c.text, Location: c.s.computer, TypeName: JobTypeName},
		commandController{c}, job.Options{Table: t})
	_ = p.SetState(job.Running, nil)
	return j, jobSink{c: c, p: p}
}
