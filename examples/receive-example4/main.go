// Command receive-example4 is Example 4 of Receive-PSSession, "Get results
// after a network outage":
//
//	$s = New-PSSession -ComputerName Server01 -Name AD -ConfigurationName ADEndpoint
//	Invoke-Command -Session $s -FilePath New-ADResolve.ps1
//	# network outage; the local computer restarts
//	Get-PSSession -ComputerName Server01
//	Receive-PSSession -ComputerName Server01 -Name AD -OutTarget Job -JobName ADJob
//	Get-PSSession -ComputerName Server01
//
// Client A, a child process, has a disconnected session Backup, creates the
// AD session, runs a script in it, prints its first output and then dies
// without disconnecting (the outage and the restart). The server notices
// that its client vanished and turns the session Disconnected: Windows
// does so after its inactivity window, 4 minutes (so against a real host
// this example waits that long, and the script's four 30-second steps take
// two minutes); the embedded fake server is set to 2 seconds, on a clock
// the example moves on itself. This process then finds both sessions Disconnected, receives AD
// as a job named ADJob while the script still runs, and shows AD Opened.
// (The reference shows AD Available at that point; while the script runs
// in it, this package reports Busy, RunspaceAvailability's value for a
// runspace running a command.)
//
//	go run ./examples/receive-example4
//	go run ./examples/receive-example4 -computer server01 -user 'DOMAIN\user' -configuration Microsoft.PowerShell
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

const script = `"Running New-ADResolve.ps1"; 1..4 | ForEach-Object { Start-Sleep -Seconds 30; "Resolved site $_" }`

func main() {
	examplecli.Main(examplecli.Program{
		Name:          "receive-example4",
		Usage:         "receive-example4 is Example 4 of Receive-PSSession: results after a network outage.",
		Configuration: "ADEndpoint",
		// The fake server's clock stands still while client A runs, so
		// that no output after the first exists before A is gone (output
		// delivered to a client that vanishes is lost with it, as on
		// Windows); then the example moves it on.
		ManualClock: true,
		Fake:        func(o *wsmantest.Options) { o.InactivityWindow = 2 * time.Second },
		ClientA:     clientA,
		Run:         run,
	})
}

// backup is the connection of the Backup session: the default endpoint.
func backup(e *examplecli.Env) session.ConnectionOptions {
	c := e.Targets[0]
	c.ConfigurationName = ""
	return c
}

// clientA runs the script and dies during it.
func clientA(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Client A (pid %d)\n", os.Getpid())
	e.Step(fmt.Sprintf("New-PSSession %s -Name Backup | Disconnect-PSSession", examplecli.Computer(backup(e))))
	b, err := session.New(ctx, session.NewOptions{ConnectionOptions: backup(e), Name: "Backup"})
	if err != nil {
		return err
	}
	if err := b.Disconnect(ctx, session.DisconnectOptions{IdleTimeout: 10 * time.Minute}); err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, b)

	conn := e.Targets[0]
	e.Step(fmt.Sprintf("$s = New-PSSession %s -Name AD -ConfigurationName %s", examplecli.Computer(conn), configName(conn)))
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: "AD"})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)

	e.Step("Invoke-Command -Session $s -FilePath New-ADResolve.ps1")
	st, err := s.Invoke(ctx, session.Pipeline{Script: script})
	if err != nil {
		return err
	}
	for r, err := range st.All() {
		if err != nil {
			return err
		}
		if r.Kind == session.KindOutput {
			e.Printf("%s\n", examplecli.Display(r.Output))
			// The first output arrived: now the outage. The process ends
			// at once: no Close, no Disconnect, not even the end of this
			// loop; the server is left with a client that vanished.
			e.Printf("\n# Network outage: client A's computer restarts (the process exits without disconnecting)\n")
			os.Exit(0)
		}
	}
	return fmt.Errorf("the script ended before its first output")
}

func configName(c session.ConnectionOptions) string {
	if c.ConfigurationName == "" {
		return "Microsoft.PowerShell"
	}
	return c.ConfigurationName
}

func run(ctx context.Context, e *examplecli.Env) error {
	if _, err := e.RunClient(ctx, "A"); err != nil {
		return err
	}
	conn := e.Targets[0]
	e.Printf("\n== After the restart: a new client (pid %d)\n", os.Getpid())
	e.Printf("Waiting for the server to notice that client A vanished (Windows: 4 minutes; the fake server: 2 seconds of its clock)...\n")
	for {
		// A throwaway table: these polls are not what the user sees.
		all, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn, Table: &session.Table{}})
		if err != nil {
			return err
		}
		var ad *session.Session
		for _, s := range all {
			if strings.EqualFold(s.Name(), "AD") {
				ad = s
			}
		}
		if ad == nil {
			return fmt.Errorf("the AD session is gone from the server")
		}
		if ad.Availability() == session.AvailabilityNone {
			break
		}
		// Still Busy: the server thinks client A is connected.
		pause := time.Second
		if e.Clock != nil {
			e.Advance(time.Second)
			pause = 20 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	e.Step("Get-PSSession " + examplecli.Computer(conn))
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, found...)

	e.Step(fmt.Sprintf("Receive-PSSession %s -Name AD -OutTarget Job -JobName ADJob", examplecli.Computer(conn)))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, "AD"),
		session.ReceiveOptions{OutTarget: session.OutTargetJob, JobName: "ADJob"})
	if err != nil {
		return err
	}
	examplecli.JobTable(e.Stdout, rec.Job)

	e.Step("Get-PSSession " + examplecli.Computer(conn))
	now, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, now...)

	e.Step("Receive-Job -Name ADJob -Wait")
	defer e.RunClock(5 * time.Second)() // the script's sleeps pass
	results, err := rec.Job.Receive(ctx, job.ReceiveOptions{Wait: true})
	if err != nil {
		return err
	}
	if err := e.PrintResults(results); err != nil {
		return err
	}
	examplecli.JobTable(e.Stdout, rec.Job)

	e.Step("Get-PSSession " + examplecli.Computer(conn) + " | Remove-PSSession")
	for _, s := range now {
		if err := s.Remove(ctx); err != nil {
			return err
		}
	}
	return nil
}
