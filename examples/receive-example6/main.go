// Command receive-example6 is Example 6 of Receive-PSSession, "Running a
// job in a disconnected session", all in one client, as in the reference:
//
//	$s = New-PSSession -ComputerName Server01 -Name Test
//	$j = Invoke-Command -Session $s { 1..1500 | Foreach-Object {"Return $_"; sleep 30}} -AsJob
//	$s | Disconnect-PSSession
//	$j                        # Disconnected
//	Receive-Job $j -Keep      # what arrived before the disconnect
//	$s2 = Connect-PSSession -ComputerName Server01 -Name Test
//	$j2 = Receive-PSSession -ComputerName Server01 -Name Test
//	Receive-Job $j            # the same job, resumed
//
// The script is shortened to six steps of 2 seconds. Because the command was
// started here as a job, Receive-PSSession returns that job again (OutTarget
// Job by default, the original job object reused).
//
//	go run ./examples/receive-example6
//	go run ./examples/receive-example6 -computer server01 -user 'DOMAIN\user'
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/session"
)

const script = `1..6 | ForEach-Object { "Return $_"; Start-Sleep -Seconds 2 }`

func main() {
	examplecli.Main(examplecli.Program{
		Name:  "receive-example6",
		Usage: "receive-example6 is Example 6 of Receive-PSSession: a job in a session that is disconnected and received again.",
		// The fake server's clock moves only when the example moves it, so
		// the job is still running when the session is disconnected however
		// slow the machine is.
		ManualClock: true,
		Run:         run,
	})
}

func run(ctx context.Context, e *examplecli.Env) error {
	conn := e.Targets[0]
	e.Step(fmt.Sprintf("$s = New-PSSession %s -Name Test", examplecli.Computer(conn)))
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: "Test"})
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))

	e.Step(fmt.Sprintf("$j = Invoke-Command -Session $s { %s } -AsJob", script))
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Script: script}, session.JobOptions{})
	if err != nil {
		return err
	}
	examplecli.JobTable(e.Stdout, j)

	// Let the job return its first two results before the disconnect.
	stopClock := e.RunClock(100 * time.Millisecond)
	defer stopClock()
	for {
		got, err := j.Receive(ctx, job.ReceiveOptions{Keep: true})
		if err != nil {
			return err
		}
		if outputs(got) >= 2 || j.State().IsFinished() {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	stopClock()

	e.Step("$s | Disconnect-PSSession")
	if err := s.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)

	e.Step("$j")
	examplecli.JobTable(e.Stdout, j)

	e.Step("Receive-Job $j -Keep")
	kept, err := j.Receive(ctx, job.ReceiveOptions{Keep: true})
	if err != nil {
		return err
	}
	if err := e.PrintResults(kept); err != nil {
		return err
	}

	e.Step(fmt.Sprintf("$s2 = Connect-PSSession %s -Name Test", examplecli.Computer(conn)))
	if err := s.Connect(ctx); err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)

	e.Step(fmt.Sprintf("$j2 = Receive-PSSession %s -Name Test", examplecli.Computer(conn)))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, "Test"), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	if rec.OutTarget != session.OutTargetJob {
		return fmt.Errorf("receive returned the results as %s, not as the job", rec.OutTarget)
	}
	e.Printf("$j2 is $j: %s (OutTarget %s)\n", map[bool]string{true: "True", false: "False"}[rec.Job == j], rec.OutTarget)

	e.Step("Receive-Job $j -Wait")
	defer e.RunClock(time.Second)() // the script's sleeps pass
	rest, err := j.Receive(ctx, job.ReceiveOptions{Wait: true})
	if err != nil {
		return err
	}
	if err := e.PrintResults(rest); err != nil {
		return err
	}
	e.Step("$j")
	examplecli.JobTable(e.Stdout, j)

	e.Step("Remove-PSSession $s")
	return s.Remove(ctx)
}

// outputs counts the output objects among results.
func outputs(results []session.Result) int {
	n := 0
	for _, r := range results {
		if r.Kind == session.KindOutput {
			n++
		}
	}
	return n
}
