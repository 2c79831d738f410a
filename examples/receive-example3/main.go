// Command receive-example3 is Example 3 of Receive-PSSession, "Get the
// results of a script running in a session":
//
//	Receive-PSSession -ComputerName Server01 -Name ITTask -OutTarget Job -JobName ITTaskJob01 -Credential Domain01\Admin01
//
// Client A, a child process, first leaves the ITTask session disconnected
// with a script running, and exits. This process receives the session as a
// job named ITTaskJob01 (shown while it still runs), then gets the job's
// results with Receive-Job -Wait.
//
//	go run ./examples/receive-example3
//	go run ./examples/receive-example3 -computer server01 -user 'Domain01\Admin01'
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/session"
)

const (
	name    = "ITTask"
	jobName = "ITTaskJob01"
	script  = `1..5 | ForEach-Object { "ITTask step $_"; Start-Sleep -Seconds 2 }`
)

func main() {
	examplecli.Main(examplecli.Program{
		Name:  "receive-example3",
		Usage: "receive-example3 is Example 3 of Receive-PSSession: Receive-PSSession -ComputerName Server01 -Name ITTask -OutTarget Job -JobName ITTaskJob01.",
		// The fake server's clock stands still until Receive-Job, so the
		// job is shown Running however slow the machine is.
		ManualClock: true,
		ClientA:     clientA,
		Run:         run,
	})
}

// clientA leaves the ITTask session disconnected with a script running.
func clientA(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Before the example: client A (pid %d) starts ITTask and exits\n", os.Getpid())
	e.Step(fmt.Sprintf("Invoke-Command %s -Name %s -InDisconnectedSession { %s }", examplecli.Computer(e.Targets[0]), name, script))
	s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: e.Targets[0], Name: name},
		session.Pipeline{Script: script}, session.DisconnectOptions{IdleTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)
	return s.Close(ctx)
}

func run(ctx context.Context, e *examplecli.Env) error {
	if _, err := e.RunClient(ctx, "A"); err != nil {
		return err
	}
	conn := e.Targets[0]
	e.Printf("\n== Example 3: a new client (pid %d)\n", os.Getpid())
	e.Step(fmt.Sprintf("Receive-PSSession %s -Name %s -OutTarget Job -JobName %s -Credential %s",
		examplecli.Computer(conn), name, jobName, conn.Credential.Username))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, name),
		session.ReceiveOptions{OutTarget: session.OutTargetJob, JobName: jobName})
	if err != nil {
		return err
	}
	j := rec.Job
	examplecli.JobTable(e.Stdout, j)

	e.Step("Receive-Job -Name " + jobName + " -Wait")
	defer e.RunClock(time.Second)() // the script's sleeps pass
	results, err := j.Receive(ctx, job.ReceiveOptions{Wait: true})
	if err != nil {
		return err
	}
	if err := e.PrintResults(results); err != nil {
		return err
	}
	e.Step("Get-Job -Name " + jobName)
	examplecli.JobTable(e.Stdout, j)

	e.Step("Remove-PSSession -Name " + name)
	return rec.Sessions[0].Remove(ctx)
}
