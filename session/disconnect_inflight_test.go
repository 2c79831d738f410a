package session

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A Receive response is in flight when Disconnect runs: the server counts
// its messages (the last outputs and the final PIPELINE_STATE) delivered to
// this client and will never send them again, so when Disconnect returns
// the job must hold them, and be finished. The pump is held, by a test
// hook, between applying the response and delivering its results, until
// Disconnect waits for it (or, without that wait, until the test has
// looked at the job and closed the session): deterministic either way.
// This is psrecv's "receive -out-target job" (Disconnect, take what the
// job holds, Close) then "job receive" from another process, which failed
// with a *psrp.GapError because the results went nowhere.
func TestDisconnectDeliversReceiveInFlight(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{ComputerName: "SERVER01"})
	defer srv.Close()
	finished := make(chan struct{})
	srv.HandleScript("numbers", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
		defer close(finished)
		for i := 1; i <= 3; i++ {
			if err := inv.WriteOutput(clixml.String(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	co := ConnectionOptions{ConnectionURI: srv.URL, SessionOption: SessionOption{OperationTimeout: 5 * time.Second}}

	a, err := New(ctx, NewOptions{ConnectionOptions: co, Name: "R", Table: &Table{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close(context.Background()) }()
	if _, err := a.InvokeInDisconnectedSession(ctx, Pipeline{Script: "numbers"}, DisconnectOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished: // every message waits on the server for one Receive
	case <-ctx.Done():
		t.Fatal("the command did not finish")
	}

	// Hold the first pump delivery until Disconnect waits for the pumps.
	waiting := make(chan struct{})
	var once sync.Once
	var held bool
	testHookAwaitPumps = func(*Session) { once.Do(func() { close(waiting) }) }
	testHookBeforeDeliver = func(c *RunningCommand) {
		if held {
			return
		}
		held = true
		select {
		case <-waiting:
		case <-c.s.ctx.Done():
		case <-ctx.Done():
		}
	}
	defer func() { testHookAwaitPumps, testHookBeforeDeliver = nil, nil }()

	rec, err := Receive(ctx, OnComputerByName(co, "R"),
		ReceiveOptions{OutTarget: OutTargetJob, JobName: "RJ", Table: &Table{}, JobTable: &job.Table{}})
	if err != nil {
		t.Fatal(err)
	}
	b, j := rec.Sessions[0], rec.Job
	defer func() { _ = b.Close(context.Background()) }()
	// The pump's Receive is out (and answered) before Disconnect: wait
	// until the pump holds its response.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the pump did not receive")
		}
		b.mu.Lock()
		got := b.cmds[0].received > 0 || b.cmds[0].finished
		b.mu.Unlock()
		if got {
			break
		}
	}
	if err := b.Disconnect(ctx, DisconnectOptions{}); err != nil {
		t.Fatal(err)
	}
	rs, err := j.Receive(ctx, job.ReceiveOptions{})
	if err != nil {
		t.Fatalf("job receive: %v", err)
	}
	var got []string
	for _, r := range rs {
		if r.Kind == KindOutput {
			got = append(got, fmt.Sprint(clixml.ToGo(r.Output)))
		}
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("after Disconnect the job holds %q, want [1 2 3] (the server sent them to this client)", got)
	}
	if st := j.State(); st != job.Completed {
		t.Errorf("after Disconnect the job is %s, want Completed (the final pipeline state arrived)", st)
	}
	_ = b.Close(ctx)
	testHookAwaitPumps, testHookBeforeDeliver = nil, nil

	// Another client finds nothing left to receive: no results, no loss.
	rec2, err := Receive(ctx, OnComputerByName(co, "R"),
		ReceiveOptions{OutTarget: OutTargetJob, JobName: "RJ2", Table: &Table{}, JobTable: &job.Table{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rec2.Sessions[0].Close(context.Background()) }()
	if _, err := rec2.Job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rs2, err := rec2.Job.Receive(ctx, job.ReceiveOptions{})
	if err != nil {
		t.Errorf("second client: %v", err)
	}
	for _, r := range rs2 {
		if r.Kind == KindOutput {
			t.Errorf("second client got %v, already delivered to the first", clixml.ToGo(r.Output))
		}
	}
}
