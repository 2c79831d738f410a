package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

func runReceive(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "receive", "(-name NAME | -instance-id ID) [-computer HOST | -uri URI] [flags]",
		"Connects a disconnected session and receives the results of its commands, as\n"+
			"Receive-PSSession does: each output object on its own line on stdout (JSON lines with\n"+
			"-json), errors, warnings and the other streams on stderr, progress as a bar on a terminal.\n\n"+
			"With -computer or -uri the session is found on the server by name or InstanceId, whichever\n"+
			"client started it (this tool, PowerShell, another SDK); without them, in the token store\n"+
			"(sessions psrecv disconnected). When every command has ended the session is removed, as\n"+
			"PowerShell removes its sessions when it exits; -keep-session disconnects it instead. If\n"+
			"psrecv is interrupted (Ctrl+C), the session is disconnected and its token saved: run\n"+
			"receive again for the rest.\n\n"+
			"-out-target job receives into a job instead: psrecv connects, disconnects again and keeps\n"+
			"the job in the token store; read it with 'psrecv job receive -name JOBNAME'.")
	var f sessionFlags
	f.register(fs, e)
	outTarget := fs.String("out-target", "host", "host (results now) or job (a job kept through its token) (-OutTarget)")
	jobName := fs.String("job-name", "", "name of the job with -out-target job (default Job<Id>) (-JobName)")
	keepSession := fs.Bool("keep-session", false, "disconnect the session when done instead of removing it (its token is saved)")
	jsonOut := fs.Bool("json", false, "print one JSON object per result (kind output, error, warning, ..., state)")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	id, err := f.sel.check(true)
	if err != nil {
		return err
	}
	var ot session.OutTarget
	switch strings.ToLower(*outTarget) {
	case "host":
		ot = session.OutTargetHost
	case "job":
		ot = session.OutTargetJob
	default:
		return flagexit.Usagef("unknown -out-target %q (want host or job)", *outTarget)
	}
	if *jobName != "" && ot != session.OutTargetJob {
		return flagexit.Usagef("-job-name needs -out-target job")
	}

	table := &session.Table{}
	var target session.Selector
	st, err := openStore(e.getenv)
	if err != nil {
		return err
	}
	if f.cf.given() {
		conn, err := f.cf.options(e, f.cf.targets()[0])
		if err != nil {
			return err
		}
		if id != [16]byte{} {
			target = session.OnComputerByInstanceID(conn, id)
		} else {
			target = session.OnComputerByName(conn, f.sel.name)
		}
	} else {
		ss, _, err := selectSessions(ctx, e, &f.cf, &f.sel, table)
		if err != nil {
			return err
		}
		target = session.BySession(ss...)
	}
	o := session.ReceiveOptions{OutTarget: ot, JobName: *jobName, WhatIf: f.sp.whatIf, Table: table}
	if f.sp.confirm {
		o.Confirm = func(a session.Action) bool { return f.sp.ok(e, "Receive-PSSession", sessionTarget(a.Session)) }
	}
	rec, recvErr := session.Receive(ctx, target, o)
	if err := st.forgetExpired(recvErr); err != nil {
		recvErr = errors.Join(recvErr, err)
	}
	if rec == nil {
		return recvErr
	}
	if f.sp.whatIf {
		for _, a := range rec.WhatIf {
			fmt.Fprintf(e.stdout, "What if: %s\n", a)
		}
		return recvErr
	}
	if rec.Job != nil {
		return errors.Join(recvErr, keepJob(ctx, e, st, rec, *jsonOut))
	}
	return printResults(ctx, e, st, rec.Stream, rec.Sessions, *jsonOut, *keepSession, recvErr)
}

// printResults is the end of "receive" and "invoke": it prints the
// stream's results (none when stream is nil), then ends this process's
// hold on the sessions (finishSessions: they are kept with keep, after an
// interruption or when the stream failed, else removed). It returns
// prior, the errors of both, errInterrupted after an interruption and
// errCommandFailed when a command failed, joined.
func printResults(ctx context.Context, e *env, st *store, stream *session.Stream, ss []*session.Session, jsonOut, keep bool, prior error) error {
	p := newPrinter(e, jsonOut)
	var streamErr error
	if stream != nil {
		streamErr = printStream(ctx, p, stream, ss)
	}
	p.close()
	interrupted := errors.Is(streamErr, context.Canceled)
	errs := []error{prior, finishSessions(e, st, ss, interrupted || streamErr != nil || keep)}
	switch {
	case interrupted:
		errs = append(errs, errInterrupted)
	case streamErr != nil:
		errs = append(errs, streamErr)
	}
	if p.failed {
		errs = append(errs, errCommandFailed)
	}
	return errors.Join(errs...)
}

// printStream prints a stream's results until it ends. If ctx ends first
// (Ctrl+C), the sessions are disconnected, so that their commands keep
// running on the server, and what the stream still holds is printed: the
// stream then ends with ErrDisconnected and nothing is lost (a later receive
// gets the rest). It returns the stream's error, or ctx's after an
// interruption.
func printStream(ctx context.Context, p *printer, st *session.Stream, sessions []*session.Session) error {
	c := st.C()
	for {
		select {
		case r, ok := <-c:
			if !ok {
				return st.Err()
			}
			p.print(toRecord(r))
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			for _, s := range sessions {
				if s.State() == session.StateOpened {
					_ = s.Disconnect(dctx, session.DisconnectOptions{})
				}
			}
			cancel()
			for r := range c {
				p.print(toRecord(r))
			}
			return ctx.Err()
		}
	}
}

// finishSessions ends this process's hold on received sessions: with keep
// (or after an interruption) they are disconnected, their commands keep
// running and their tokens are saved; otherwise they are removed.
func finishSessions(e *env, st *store, ss []*session.Session, keep bool) error {
	// ctx may be cancelled (Ctrl+C): the clean-up gets its own bound.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, s := range ss {
		id := strings.ToUpper(s.InstanceID().String())
		if keep {
			if s.State() == session.StateOpened {
				if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			st.put(s, nil)
			fmt.Fprintf(e.stderr, "psrecv: session %q (%s) left disconnected on %s; its token is saved\n", s.Name(), id, s.ComputerName())
			_ = s.Close(ctx)
			continue
		}
		if err := s.Remove(ctx); err != nil && !errors.Is(err, session.ErrExpired) {
			errs = append(errs, err)
			continue
		}
		st.drop(id)
	}
	if len(ss) > 0 {
		errs = append(errs, st.save())
	}
	return errors.Join(errs...)
}
