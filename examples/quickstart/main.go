// Command quickstart is the first thing to run: it shows a PowerShell
// session that outlives the client that started it, the flow
// Invoke-Command -InDisconnectedSession, then (from another client)
// Get-PSSession -ComputerName and Receive-PSSession perform. Run it with
//
//	go run ./examples/quickstart
//
// It starts the embedded fake WinRM server (package wsman/wsmantest), which
// speaks the protocol a Windows server does. Client A, a child process,
// creates a session, starts a long-running command in it with
// InvokeInDisconnectedSession, and exits: the command keeps running on the
// server, its output buffered there. Client B, this process, which never
// saw the session, finds it on the server (Get), receives its results
// (Receive) while it still runs, with a progress bar on stderr, and
// removes it.
//
// Every step prints the session's State and Availability in the table
// PowerShell prints. Against a real host, name it; the password comes from
// $PSREMOTING_PASSWORD or a prompt that does not echo:
//
//	go run ./examples/quickstart -computer server01 -user 'DOMAIN\user'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/session"
)

// script counts to ten, a step every 300 ms, reporting its progress.
const script = `10,20,30,40,50,60,70,80,90,100 | ForEach-Object {
  Write-Progress -Activity Counting -Status "$_ percent" -PercentComplete $_
  "Step $_ done"
  Start-Sleep -Milliseconds 300
}`

var name string

func main() {
	examplecli.Main(examplecli.Program{
		Name:    "quickstart",
		Usage:   "quickstart starts a command in a disconnected session from one process (client A),\nthen finds it and receives its results from another (client B).",
		Flags:   func(fs *flag.FlagSet) { fs.StringVar(&name, "name", "Quickstart", "session name") },
		ClientA: clientA,
		Run:     run,
	})
}

func run(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Client A: a separate process starts the work and exits\n")
	pid, err := e.RunClient(ctx, "A")
	if err != nil {
		return err
	}
	e.Printf("Client A (pid %d) has exited. The command still runs on the server.\n", pid)
	return clientB(ctx, e)
}

func clientA(ctx context.Context, e *examplecli.Env) error {
	conn := e.Targets[0]
	e.Step(fmt.Sprintf("$s = New-PSSession -Name %s   # client A, pid %d", name, os.Getpid()))
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: name})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)

	e.Step("Invoke-Command -Session $s -InDisconnectedSession -ScriptBlock { <count to ten> }")
	if _, err := s.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: script},
		session.DisconnectOptions{IdleTimeout: 10 * time.Minute}); err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)
	e.Printf("Client A exits without receiving anything.\n")
	// Close leaves a disconnected session on the server, as PowerShell
	// does when it exits.
	return s.Close(ctx)
}

func clientB(ctx context.Context, e *examplecli.Env) error {
	conn := e.Targets[0]
	e.Printf("\n== Client B: this process (pid %d), a new client\n", os.Getpid())
	e.Step("Get-PSSession " + examplecli.Computer(conn))
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn, Name: name})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("no session named %q on the server", name)
	}
	examplecli.SessionTable(e.Stdout, found...)

	e.Step(fmt.Sprintf("Receive-PSSession %s -Name %s", examplecli.Computer(conn), name))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, name), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	s := rec.Sessions[0]
	// Results arrive while the command still runs; progress records
	// draw a bar on stderr.
	if err := e.PrintStream(rec.Stream); err != nil {
		return err
	}

	e.Step("$s = Get-PSSession -Name " + name)
	examplecli.SessionTable(e.Stdout, s)

	e.Step("Remove-PSSession $s")
	if err := s.Remove(ctx); err != nil {
		return errors.Join(errors.New("remove the session"), err)
	}
	examplecli.SessionTable(e.Stdout, s)
	return nil
}
