package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/session"
)

// jobJSON is a job as "job list -json" prints it.
type jobJSON struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	PSJobTypeName string `json:"psJobTypeName"`
	State         string `json:"state"`
	HasMoreData   bool   `json:"hasMoreData"`
	Location      string `json:"location"`
	Command       string `json:"command"`
	SessionName   string `json:"sessionName,omitempty"`
	InstanceID    string `json:"instanceId"`
}

func toJobJSON(en *entry) jobJSON {
	return jobJSON{ID: en.Job.ID, Name: en.Job.Name, PSJobTypeName: session.JobTypeName, State: en.Job.State,
		HasMoreData: len(en.Job.Kept) > 0 || !en.Job.Finished, Location: en.Computer, Command: en.Job.Command,
		SessionName: en.Name, InstanceID: en.InstanceID}
}

// printJobs writes jobs as Get-Job's table, or JSON lines.
func printJobs(w io.Writer, jsonOut bool, ens []*entry) error {
	return printList(w, jsonOut, ens, toJobJSON,
		[]string{"Id", "Name", "PSJobTypeName", "State", "HasMoreData", "Location", "Command"},
		func(en *entry) []string {
			j := toJobJSON(en)
			return []string{strconv.Itoa(j.ID), j.Name, j.PSJobTypeName, j.State, strconv.FormatBool(j.HasMoreData), j.Location, j.Command}
		})
}

// drainJob takes the results j holds now (without waiting) as records. A
// failed job's reason is not an error here (the job's state says Failed):
// the error is a failure to receive.
func drainJob(ctx context.Context, j *session.Job) ([]record, error) {
	rs, err := j.Receive(ctx, job.ReceiveOptions{})
	out := make([]record, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRecord(r))
	}
	var failed *job.FailedError
	if errors.As(err, &failed) {
		err = nil
	}
	return out, err
}

// keepJob is the end of "receive -out-target job" and "invoke -as-job": the
// session is disconnected (the job turns Disconnected and keeps what it
// has), what the job holds goes to the token store with the session's
// token, and the job is printed.
func keepJob(ctx context.Context, e *env, st *store, rec *session.Received, jsonOut bool) error {
	if len(rec.Sessions) != 1 {
		for _, s := range rec.Sessions {
			_ = s.Disconnect(ctx, session.DisconnectOptions{})
			st.put(s, nil)
			_ = s.Close(ctx)
		}
		_ = st.save()
		return fmt.Errorf("a job over %d sessions cannot be kept by psrecv (one session per job); the sessions were disconnected again", len(rec.Sessions))
	}
	s, j := rec.Sessions[0], rec.Job
	return keepSessionJob(ctx, e, st, s, j, jsonOut)
}

func keepSessionJob(ctx context.Context, e *env, st *store, s *session.Session, j *session.Job, jsonOut bool) error {
	var errs []error
	je := &jobEntry{ID: st.nextJobID(), Name: j.Name(), Command: j.Command()}
	if s.State() == session.StateOpened {
		if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
			errs = append(errs, err)
		}
	}
	kept, err := drainJob(ctx, j)
	if err != nil {
		errs = append(errs, err)
	}
	je.Kept, je.State = kept, j.State().String()
	if j.State().IsFinished() {
		je.Finished = true
		if err := s.Remove(ctx); err != nil && !errors.Is(err, session.ErrExpired) {
			errs = append(errs, err)
		}
	}
	en := st.put(s, je)
	_ = s.Close(ctx)
	errs = append(errs, st.save())
	errs = append(errs, printJobs(e.stdout, jsonOut, []*entry{en}))
	return errors.Join(errs...)
}

func runJob(ctx context.Context, e *env, args []string) error {
	usage := func() {
		fmt.Fprint(e.stderr, `Usage: psrecv job list|receive|wait|stop|remove [flags]

Jobs kept through reattach tokens: started by 'psrecv invoke -as-job' or
'psrecv receive -out-target job', they live on the server in a disconnected
session and in psrecv's token store (with the results received with -keep).

  list     list the jobs (Get-Job); the State is the last one psrecv saw
  receive  connect, receive the job's results and disconnect again (Receive-Job)
  wait     wait until the job finishes, keeping its results (Wait-Job)
  stop     stop the job's command (Stop-Job)
  remove   forget a finished job, deleting its session (Remove-Job)

Run 'psrecv job SUBCOMMAND -h' for its flags.

`+exitCodesHelp)
	}
	if len(args) == 0 {
		usage()
		return flagexit.UsageError{Err: errors.New("job: no subcommand"), Reported: true}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage()
		return flag.ErrHelp
	case "list":
		return runJobList(e, args[1:])
	case "receive", "wait", "stop", "remove":
		return runJobAction(ctx, e, args[0], args[1:])
	}
	return flagexit.Usagef("unknown job subcommand %q (want list, receive, wait, stop or remove)", args[0])
}

func runJobList(e *env, args []string) error {
	fs := newFlagSet(e, "job list", "[-json]", "Lists the jobs kept in the token store, as Get-Job does.")
	jsonOut := fs.Bool("json", false, "print one JSON object per job")
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(e.getenv)
	if err != nil {
		return err
	}
	return printJobs(e.stdout, *jsonOut, st.jobs())
}

func runJobAction(ctx context.Context, e *env, action string, args []string) error {
	about := map[string]string{
		"receive": "Receives a job's results, as Receive-Job does: first the results kept by an earlier\n" +
			"-keep, then what the server sends. With -wait, until the job finishes; without it, until the\n" +
			"job finishes or -timeout passes, after which the session is disconnected again and the\n" +
			"command keeps running. A finished job's session is removed.",
		"wait": "Waits until a job finishes, as Wait-Job does; its results are kept for 'job receive'.",
		"stop": "Stops a job's command, as Stop-Job does; results received meanwhile are kept.",
		"remove": "Forgets a job, as Remove-Job does: a job that has not finished is refused unless\n" +
			"-force (which stops it); its session is deleted on the server.",
	}[action]
	fs := newFlagSet(e, "job "+action, "(-name NAME | -id N) [flags]", about)
	var cf connFlags
	cf.register(fs, e, false)
	name := fs.String("name", "", "job name (-Name)")
	id := fs.Int("id", 0, "job Id (-Id)")
	var keep, wait, force, jsonOut bool
	timeout := 2 * time.Second
	if action == "receive" {
		fs.BoolVar(&keep, "keep", false, "keep the results for the next receive (-Keep)")
		fs.BoolVar(&wait, "wait", false, "wait until the job finishes (-Wait)")
		fs.DurationVar(&timeout, "timeout", timeout, "without -wait: how long to receive before disconnecting again")
		fs.BoolVar(&jsonOut, "json", false, "print one JSON object per result")
	} else {
		fs.BoolVar(&jsonOut, "json", false, "print the job as a JSON object")
	}
	if action == "remove" {
		fs.BoolVar(&force, "force", false, "stop an unfinished job first (-Force)")
	}
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	if (*name == "") == (*id == 0) {
		return flagexit.Usagef("give -name or -id")
	}
	if cf.given() {
		return flagexit.Usagef("jobs are found in the token store: -computer and -uri do not apply")
	}
	st, err := openStore(e.getenv)
	if err != nil {
		return err
	}
	en, err := st.findJob(*name, *id)
	if err != nil {
		return err
	}
	switch action {
	case "receive":
		return jobReceive(ctx, e, &cf, st, en, keep, wait, timeout, jsonOut)
	case "wait":
		err := jobConnect(ctx, e, &cf, st, en, func(j *session.Job) error { _, err := j.Wait(ctx); return err }, true, nil)
		return errors.Join(err, printJobs(e.stdout, jsonOut, []*entry{en}))
	case "stop":
		err := jobConnect(ctx, e, &cf, st, en, func(j *session.Job) error { return j.Stop(ctx) }, true, nil)
		return errors.Join(err, printJobs(e.stdout, jsonOut, []*entry{en}))
	default: // remove
		if !en.Job.Finished {
			if !force {
				return fmt.Errorf("job %s has not finished: stop it first or use -force", en.Job.Name)
			}
			if err := jobConnect(ctx, e, &cf, st, en, func(j *session.Job) error { return j.Stop(ctx) }, false, nil); err != nil {
				return err
			}
		}
		st.drop(en.InstanceID)
		return st.save()
	}
}

// jobConnect connects the job's session, receives into a job named as the
// kept one, runs fn on it, then takes the results the job holds (into Kept
// when keep, else to print), and ends: a finished job's session is removed,
// an unfinished one's disconnected again (token saved).
func jobConnect(ctx context.Context, e *env, cf *connFlags, st *store, en *entry, fn func(*session.Job) error, keep bool, print func(record)) error {
	if en.Job.Finished {
		return nil
	}
	conn, err := cf.options(e, "")
	if err != nil {
		return err
	}
	s, err := en.session(conn, &session.Table{})
	if err != nil {
		return err
	}
	rec, err := session.Receive(ctx, session.BySession(s), session.ReceiveOptions{OutTarget: session.OutTargetJob, JobName: en.Job.Name})
	if err != nil {
		if errors.Is(err, session.ErrExpired) {
			en.Job.State, en.Job.Finished = "Removed", true
			_ = st.save()
		}
		return err
	}
	j := rec.Job
	if j == nil {
		return fmt.Errorf("receive of job %s gave no job", en.Job.Name)
	}
	fnErr := fn(j)
	// Results that arrive while disconnecting stay in the job: drain after.
	finished := j.State().IsFinished()
	cleanup, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if !finished {
		if err := s.Disconnect(cleanup, session.DisconnectOptions{}); err != nil {
			errs = append(errs, err)
		}
	}
	rs, err := drainJob(cleanup, j)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range rs {
		if keep {
			en.Job.Kept = append(en.Job.Kept, r)
		}
		if print != nil {
			print(r)
		}
	}
	en.Job.State = j.State().String()
	if finished {
		en.Job.Finished = true
		if err := s.Remove(cleanup); err != nil && !errors.Is(err, session.ErrExpired) {
			errs = append(errs, err)
		}
	} else {
		st.put(s, en.Job)
	}
	_ = s.Close(cleanup)
	errs = append(errs, st.save())
	switch {
	case errors.Is(fnErr, context.Canceled):
		fmt.Fprintf(e.stderr, "psrecv: job %s left disconnected; its token is saved\n", en.Job.Name)
		errs = append(errs, errInterrupted)
	case fnErr != nil && !errors.Is(fnErr, context.DeadlineExceeded):
		errs = append(errs, fnErr)
	}
	return errors.Join(errs...)
}

func jobReceive(ctx context.Context, e *env, cf *connFlags, st *store, en *entry, keep, wait bool, timeout time.Duration, jsonOut bool) error {
	p := newPrinter(e, jsonOut)
	defer p.close()
	kept := en.Job.Kept
	for _, r := range kept {
		p.print(r)
	}
	if !keep {
		en.Job.Kept = nil
	}
	// Results are printed as they come; those that arrive while the session
	// is disconnected again are printed by jobConnect's drain.
	take := func(r record) {
		p.print(r)
		if keep {
			en.Job.Kept = append(en.Job.Kept, r)
		}
	}
	err := jobConnect(ctx, e, cf, st, en, func(j *session.Job) error {
		wctx := ctx
		if !wait {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		for r, err := range j.Results(wctx, job.ReceiveOptions{Wait: true}) {
			var failed *job.FailedError
			switch {
			case errors.As(err, &failed):
				fmt.Fprintf(e.stderr, "psrecv: job %s failed: %v\n", en.Job.Name, failed.Reason)
				p.failed = true
			case err != nil:
				return err
			default:
				take(toRecord(r))
			}
		}
		return nil
	}, keep, p.print)
	if err == nil && !keep && en.Job.Finished {
		err = st.save() // the kept results were taken
	}
	if p.failed {
		err = errors.Join(err, errCommandFailed)
	}
	return err
}
