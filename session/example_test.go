package session_test

import (
	"context"
	"fmt"
	"time"

	"github.com/psremoting/psremoting/job"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// Invoke-Command -InDisconnectedSession, then Receive-PSSession -ComputerName
// -Name from a new client: the command's results survive the first client.
func ExampleInvokeInDisconnectedSession() {
	srv := wsmantest.NewServer(wsmantest.Options{}) // a fake WinRM server on loopback
	defer srv.Close()
	ctx := context.Background()
	conn := session.ConnectionOptions{ConnectionURI: srv.URL}

	// Process A: start the command and disconnect at once.
	s, _, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: conn, Name: "Nightly", Table: &session.Table{}},
		session.Pipeline{Script: `1..3 | ForEach-Object { "Return $_" }`},
		session.DisconnectOptions{IdleTimeout: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name(), s.State(), s.Availability())
	_ = s.Close(ctx) // a disconnected session stays on the server

	// Process B: receive by computer and name.
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, "Nightly"), session.ReceiveOptions{Table: &session.Table{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for r, err := range rec.Stream.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		switch r.Kind {
		case session.KindOutput:
			fmt.Println(r.Output)
		case session.KindState:
			fmt.Println("state:", r.State)
		}
	}
	_ = rec.Sessions[0].Remove(ctx)
	// Output:
	// Nightly Disconnected None
	// Return 1
	// Return 2
	// Return 3
	// state: Completed
}

// Get-PSSession -ComputerName, filtered by name with a wildcard.
func ExampleGet() {
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn := session.ConnectionOptions{ConnectionURI: srv.URL}
	for _, name := range []string{"Backup", "BugStatus", "ITTask"} {
		s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: name, Table: &session.Table{}})
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = s.Disconnect(ctx, session.DisconnectOptions{})
	}
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn, Name: "B*", Table: &session.Table{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range found {
		fmt.Println(s.Name(), s.State(), s.Availability(), s.ServerInfo().State)
	}
	// Unordered output:
	// Backup Disconnected None Disconnected
	// BugStatus Disconnected None Disconnected
}

// Receive-PSSession with the default OutTarget: a command started here as
// a job comes back as the same job (Example 6 of Receive-PSSession).
func ExampleReceive_job() {
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	release := make(chan struct{})
	srv.HandleFunc("Long-Task", func(ctx context.Context, inv *wsmantest.Invocation) error {
		_ = inv.WriteOutput(clixml.String("Return 1"))
		<-release // still running when the session disconnects
		return inv.WriteOutput(clixml.String("Return 2"))
	})
	ctx := context.Background()
	tab := &session.Table{}
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: session.ConnectionOptions{ConnectionURI: srv.URL},
		Name: "Test", Table: tab})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)
	j, err := s.InvokeAsJob(ctx, session.Pipeline{Command: "Long-Task"}, session.JobOptions{Table: &job.Table{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Disconnect(ctx, session.DisconnectOptions{})
	fmt.Println("session:", s.State())

	rec, err := session.Receive(ctx, session.ByName("Test"), session.ReceiveOptions{Table: tab})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("out target:", rec.OutTarget, "same job:", rec.Job == j)
	close(release)
	_, _ = j.Wait(ctx)
	results, _ := j.Receive(ctx, job.ReceiveOptions{})
	for _, r := range results {
		if r.Kind == session.KindOutput {
			fmt.Println(r.Output)
		}
	}
	fmt.Println("job:", j.State())
	// Output:
	// session: Disconnected
	// out target: Job same job: true
	// Return 1
	// Return 2
	// job: Completed
}
