// Command receive-example2 is Example 2 of Receive-PSSession, "Get results
// of all commands on disconnected sessions":
//
//	Get-PSSession -ComputerName Server01, Server02 | Receive-PSSession
//
// Client A, a child process, first leaves sessions disconnected on two
// computers: Nightly (running a command) on the first, Report (running a
// command) on the second, and Idle (running nothing) on the first; then it
// exits. This process gets every session of both computers and receives
// them all: the results of both commands come back merged. Idle is
// connected and returns nothing (the reference's DESCRIPTION; its Example
// 2 text says such a session is not connected: see package session).
//
// The fake computers are two embedded servers, reached as 127.0.0.1 and
// localhost. Against real hosts:
//
//	go run ./examples/receive-example2 -computer server01,server02 -user 'DOMAIN\user'
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/session"
)

func main() {
	examplecli.Main(examplecli.Program{
		Name:        "receive-example2",
		Usage:       "receive-example2 is Example 2 of Receive-PSSession: Get-PSSession -ComputerName Server01, Server02 | Receive-PSSession.",
		FakeServers: 2,
		ClientA:     clientA,
		Run:         run,
	})
}

// clientA leaves a session running a command on each computer, and an
// idle one on the first, all disconnected.
func clientA(ctx context.Context, e *examplecli.Env) error {
	e.Printf("\n== Before the example: client A (pid %d) leaves sessions disconnected and exits\n", os.Getpid())
	first, last := e.Targets[0], e.Targets[len(e.Targets)-1]
	var all []*session.Session
	for _, x := range []struct {
		conn       session.ConnectionOptions
		name, text string
	}{{first, "Nightly", "nightly"}, {last, "Report", "report"}} {
		script := fmt.Sprintf(`1..3 | ForEach-Object { "%s part $_"; Start-Sleep -Milliseconds 200 }`, x.text)
		e.Step(fmt.Sprintf("Invoke-Command %s -Name %s -InDisconnectedSession { %s }", examplecli.Computer(x.conn), x.name, script))
		s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: x.conn, Name: x.name},
			session.Pipeline{Script: script}, session.DisconnectOptions{IdleTimeout: 10 * time.Minute})
		if err != nil {
			return err
		}
		all = append(all, s)
	}
	e.Step(fmt.Sprintf("New-PSSession %s -Name Idle | Disconnect-PSSession", examplecli.Computer(first)))
	idle, err := session.New(ctx, session.NewOptions{ConnectionOptions: first, Name: "Idle"})
	if err != nil {
		return err
	}
	if err := idle.Disconnect(ctx, session.DisconnectOptions{}); err != nil {
		return err
	}
	all = append(all, idle)
	examplecli.SessionTable(e.Stdout, all...)
	for _, s := range all {
		if err := s.Close(ctx); err != nil { // disconnected sessions stay on the server
			return err
		}
	}
	return nil
}

func run(ctx context.Context, e *examplecli.Env) error {
	if _, err := e.RunClient(ctx, "A"); err != nil {
		return err
	}
	e.Printf("\n== Example 2: a new client (pid %d)\n", os.Getpid())
	e.Step("$s = Get-PSSession " + examplecli.Computers(e.Targets))
	var found []*session.Session
	for _, t := range e.Targets {
		got, err := session.Get(ctx, session.GetOptions{ConnectionOptions: t})
		if err != nil {
			return err
		}
		found = append(found, got...)
	}
	examplecli.SessionTable(e.Stdout, found...)

	e.Step("$s | Receive-PSSession")
	rec, err := session.Receive(ctx, session.BySession(found...), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	if err := e.PrintStream(rec.Stream); err != nil {
		return err
	}
	e.Step("$s")
	examplecli.SessionTable(e.Stdout, found...)

	e.Step("$s | Remove-PSSession")
	for _, s := range found {
		if err := s.Remove(ctx); err != nil {
			return err
		}
	}
	return nil
}
