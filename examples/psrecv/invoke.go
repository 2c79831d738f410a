package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

func runInvoke(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "invoke", "(-computer HOST | -uri URI) (-script TEXT | -file FILE) [flags]",
		"Runs a script in a new session, as Invoke-Command -ComputerName does: its results are\n"+
			"printed as receive prints them, and the session is removed at the end.\n\n"+
			"-in-disconnected-session starts the script and disconnects at once\n"+
			"(Invoke-Command -InDisconnectedSession): the session is printed and its reattach token saved,\n"+
			"so that 'psrecv receive -name NAME' gets the results later, from any shell.\n"+
			"-as-job runs it as a job (Invoke-Command -AsJob) kept through its token: read it with\n"+
			"'psrecv job receive -name JOBNAME'.")
	var cf connFlags
	cf.register(fs, e, false)
	script := fs.String("script", "", "the script to run (-ScriptBlock)")
	file := fs.String("file", "", "read the script from this file, - for stdin (-FilePath)")
	name := fs.String("name", "", "session name (-SessionName; default psrecv-XXXXXXXX)")
	inDisconnected := fs.Bool("in-disconnected-session", false, "start the script and disconnect at once (-InDisconnectedSession)")
	asJob := fs.Bool("as-job", false, "run the script as a job kept through its token (-AsJob)")
	jobName := fs.String("job-name", "", "job name with -as-job (default Job<Id>) (-JobName)")
	idle := fs.Duration("idle-timeout", 0, "how long the server keeps the session while disconnected, at least 60s (default: the server's, 2h on Windows) (-SessionOption IdleTimeout)")
	mode := fs.String("output-buffering-mode", "", "block or drop: what the server does with output of the disconnected session when its buffer is full (-SessionOption OutputBufferingMode)")
	jsonOut := fs.Bool("json", false, "print JSON lines (results; the session or job with -in-disconnected-session or -as-job)")
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	if err := cf.checkTarget(true); err != nil {
		return err
	}
	if len(cf.computers()) > 1 {
		return flagexit.Usagef("invoke runs on one computer")
	}
	if (*script == "") == (*file == "") {
		return flagexit.Usagef("give -script or -file")
	}
	if *inDisconnected && *asJob {
		return flagexit.Usagef("-in-disconnected-session and -as-job exclude each other")
	}
	if *jobName != "" && !*asJob {
		return flagexit.Usagef("-job-name needs -as-job")
	}
	bm, err := parseBufferingMode(*mode)
	if err != nil {
		return err
	}
	if *idle != 0 && *idle < time.Minute {
		return flagexit.Usagef("-idle-timeout must be at least 60s")
	}
	text := *script
	if *file != "" {
		var b []byte
		if *file == "-" {
			b, err = io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		} else {
			b, err = os.ReadFile(*file)
		}
		if err != nil {
			return flagexit.Usagef("-file: %v", err)
		}
		text = string(b)
	}
	if *name == "" {
		*name = "psrecv-" + strings.ToUpper(uuid.NewString()[:8])
	}
	conn, err := cf.options(e, cf.targets()[0])
	if err != nil {
		return err
	}
	conn.SessionOption.IdleTimeout = *idle
	conn.SessionOption.OutputBufferingMode = bm
	st, err := openStore(e.getenv)
	if err != nil {
		return err
	}
	table := &session.Table{}
	p := session.Pipeline{Script: text}
	if *inDisconnected {
		s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: conn, Name: *name, Table: table}, p,
			session.DisconnectOptions{IdleTimeout: *idle, OutputBufferingMode: bm})
		if err != nil {
			return err
		}
		st.put(s, nil)
		errs := []error{st.save(), printSessions(e.stdout, *jsonOut, []*session.Session{s})}
		_ = s.Close(ctx) // Disconnected: it stays on the server
		return errors.Join(errs...)
	}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: *name, Table: table})
	if err != nil {
		return err
	}
	if *asJob {
		j, err := s.InvokeAsJob(ctx, p, session.JobOptions{JobName: *jobName})
		if err != nil {
			_ = s.Close(ctx)
			return err
		}
		return keepSessionJob(ctx, e, st, s, j, *jsonOut)
	}
	stream, err := s.Invoke(ctx, p)
	if err != nil {
		_ = s.Close(ctx)
		return err
	}
	return printResults(ctx, e, st, stream, []*session.Session{s}, *jsonOut, false, nil)
}
