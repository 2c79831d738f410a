// Command receive-example1 is Example 1 of Receive-PSSession, "Connect to a
// PSSession":
//
//	Receive-PSSession -ComputerName Server01 -Name ITTask
//
// The session ITTask must exist, disconnected, with a command running: so
// client A, a child process, first creates it with
// Invoke-Command -InDisconnectedSession and exits. Then this process finds
// the session on the computer by its name alone and gets the results of
// the command on the command line (OutTarget Host, the default for a
// command not started in this client as a job).
//
//	go run ./examples/receive-example1
//	go run ./examples/receive-example1 -computer server01 -user 'DOMAIN\user'
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/session"
)

const name = "ITTask"

func main() {
	examplecli.Main(examplecli.Program{
		Name:    "receive-example1",
		Usage:   "receive-example1 is Example 1 of Receive-PSSession: Receive-PSSession -ComputerName Server01 -Name ITTask.",
		ClientA: clientA,
		Run:     run,
	})
}

// clientA leaves the ITTask session disconnected with a command running.
func clientA(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Before the example: client A (pid %d) starts ITTask and exits\n", os.Getpid())
	e.Step(fmt.Sprintf("Invoke-Command %s -Name %s -InDisconnectedSession { 1..3 | ForEach-Object { \"ITTask step $_\"; Start-Sleep -Milliseconds 200 } }",
		examplecli.Computer(e.Targets[0]), name))
	s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: e.Targets[0], Name: name},
		session.Pipeline{Script: `1..3 | ForEach-Object { "ITTask step $_"; Start-Sleep -Milliseconds 200 }`},
		session.DisconnectOptions{IdleTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	examplecli.SessionTable(e.Stdout, s)
	return s.Close(ctx) // a disconnected session stays on the server
}

func run(ctx context.Context, e *examplecli.Env) error {
	if _, err := e.RunClient(ctx, "A"); err != nil {
		return err
	}
	conn := e.Targets[0]
	e.Printf("\n== Example 1: a new client (pid %d)\n", os.Getpid())
	e.Step(fmt.Sprintf("Receive-PSSession %s -Name %s", examplecli.Computer(conn), name))
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, name), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	if err := e.PrintStream(rec.Stream); err != nil { // the results appear on the command line
		return err
	}
	s := rec.Sessions[0]
	e.Step("Get-PSSession -Name " + name)
	examplecli.SessionTable(e.Stdout, s)
	e.Step("Remove-PSSession -Name " + name)
	return s.Remove(ctx)
}
