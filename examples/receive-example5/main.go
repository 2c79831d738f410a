// Command receive-example5 is Example 5 of Receive-PSSession, "Reconnect to
// disconnected sessions":
//
//	Invoke-Command -InDisconnectedSession -ComputerName Server01, Server02 -Name BugStatus `
//	  -SessionOption @{IdleTimeout = 86400000} -ConfigurationName ITTasks -FilePath Get-BugStatus.ps1
//	Exit
//	$s = Get-PSSession -ComputerName Server01, Server02 -Name BugStatus
//	$Results = Receive-PSSession -Session $s
//	$s
//	$Results
//
// Client A, a child process, starts the script disconnected on every
// computer with a one-day IdleTimeout, and exits. This process gets the
// sessions by computer and name, receives them all into $Results, shows
// them Opened and Available, then the results. The reference uses three
// computers; the fake has two (127.0.0.1 and localhost).
//
//	go run ./examples/receive-example5
//	go run ./examples/receive-example5 -computer server01,server02,server30 -user 'DOMAIN\user' -configuration Microsoft.PowerShell
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/session"
)

const (
	name   = "BugStatus"
	script = `Start-Sleep -Milliseconds 500; "Bug Report - Domain 01"; 121`
)

func main() {
	examplecli.Main(examplecli.Program{
		Name:          "receive-example5",
		Usage:         "receive-example5 is Example 5 of Receive-PSSession: reconnect to sessions disconnected by Invoke-Command -InDisconnectedSession.",
		Configuration: "ITTasks",
		FakeServers:   2,
		ClientA:       clientA,
		Run:           run,
	})
}

// clientA starts the script disconnected on every computer.
func clientA(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Client A (pid %d)\n", os.Getpid())
	e.Step(fmt.Sprintf("Invoke-Command -InDisconnectedSession %s -Name %s -SessionOption @{IdleTimeout = 86400000} -ConfigurationName %s -FilePath Get-BugStatus.ps1",
		examplecli.Computers(e.Targets), name, e.Targets[0].ConfigurationName))
	for _, t := range e.Targets {
		s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: t, Name: name},
			session.Pipeline{Script: script}, session.DisconnectOptions{IdleTimeout: 24 * time.Hour})
		if err != nil {
			return err
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
	}
	e.Step("Exit")
	return nil
}

func run(ctx context.Context, e *examplecli.Env) error {
	if _, err := e.RunClient(ctx, "A"); err != nil {
		return err
	}
	e.Printf("\n== The next day: a new client (pid %d)\n", os.Getpid())
	e.Step(fmt.Sprintf("$s = Get-PSSession %s -Name %s", examplecli.Computers(e.Targets), name))
	var s []*session.Session
	for _, t := range e.Targets {
		got, err := session.Get(ctx, session.GetOptions{ConnectionOptions: t, Name: name})
		if err != nil {
			return err
		}
		s = append(s, got...)
	}
	e.Step("$s")
	examplecli.SessionTable(e.Stdout, s...)

	e.Step("$Results = Receive-PSSession -Session $s")
	rec, err := session.Receive(ctx, session.BySession(s...), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	results, err := rec.Stream.Collect(ctx)
	if err != nil {
		return err
	}
	e.Step("$s")
	examplecli.SessionTable(e.Stdout, s...)

	e.Step("$Results | Format-Table PSComputerName, @{n='Value'; e={$_}}")
	var rows [][]string
	for _, r := range results {
		if r.Kind == session.KindOutput {
			rows = append(rows, []string{r.ComputerName, examplecli.Display(r.Output)})
		}
	}
	examplecli.Table(e.Stdout, []examplecli.Column{{Header: "PSComputerName"}, {Header: "Value"}}, rows)

	e.Step("$s | Remove-PSSession")
	for _, x := range s {
		if err := x.Remove(ctx); err != nil {
			return err
		}
	}
	return nil
}
