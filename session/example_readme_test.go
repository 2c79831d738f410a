package session_test

// The code the README shows, compile-checked and run here: keep the two
// in step.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// receiveNightly is the README's Receive example: Receive-PSSession
// -ComputerName -Name, from a process that knows only the computer and the
// session's name.
func receiveNightly(ctx context.Context, conn session.ConnectionOptions) error {
	rec, err := session.Receive(ctx, session.OnComputerByName(conn, "Nightly"), session.ReceiveOptions{})
	if err != nil {
		return err
	}
	for r, err := range rec.Stream.All() {
		if err != nil {
			return err
		}
		if r.Kind == session.KindOutput {
			fmt.Println(r.Output)
		}
	}
	return rec.Sessions[0].Remove(ctx)
}

// The README's Receive example, against the fake server where another
// client left the Nightly session disconnected.
func Example_readmeReceive() {
	srv := wsmantest.NewServer(wsmantest.Options{})
	defer srv.Close()
	ctx := context.Background()
	conn := session.ConnectionOptions{ConnectionURI: srv.URL}
	s, _, err := session.InvokeInDisconnectedSession(ctx, session.NewOptions{ConnectionOptions: conn, Name: "Nightly"},
		session.Pipeline{Script: `"Return 1"; "Return 2"`}, session.DisconnectOptions{IdleTimeout: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Close(ctx)
	if err := receiveNightly(ctx, conn); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Return 1
	// Return 2
}

// countWidgets is the README's "your code": it runs Get-Widget remotely
// and counts what comes back.
func countWidgets(ctx context.Context, conn session.ConnectionOptions) (int, error) {
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn})
	if err != nil {
		return 0, err
	}
	defer s.Close(ctx)
	st, err := s.Invoke(ctx, session.Pipeline{Command: "Get-Widget"})
	if err != nil {
		return 0, err
	}
	results, err := st.Collect(ctx)
	n := 0
	for _, r := range results {
		if r.Kind == session.KindOutput {
			n++
		}
	}
	return n, err
}

// The README's unit test of "your code" with the fake server: a Go handler
// plays the remote command.
func TestReadmeCountWidgets(t *testing.T) {
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"demo": "pw"}})
	defer srv.Close()
	srv.HandleFunc("Get-Widget", func(ctx context.Context, inv *wsmantest.Invocation) error {
		for _, w := range []string{"widget-1", "widget-2"} {
			if err := inv.WriteOutput(clixml.String(w)); err != nil {
				return err
			}
		}
		return nil
	})
	conn := session.ConnectionOptions{ConnectionURI: srv.URL, Authentication: session.AuthNTLM,
		Credential: session.Credential{Username: "demo", Password: "pw"}}
	n, err := countWidgets(context.Background(), conn)
	if err != nil || n != 2 {
		t.Fatalf("countWidgets = %d, %v; want 2", n, err)
	}
}
