package wsmantest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// A fake WinRM server with one user and a cmd-shell command, driven by the
// wsman client. Like a default Windows server on plain HTTP, it takes NTLM
// with message encryption; Basic would need Options.AllowUnencrypted (and
// wsman.Config.AllowUnencrypted on the client).
func ExampleNewServer() {
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"demo": "demo-pw"}})
	defer srv.Close()
	srv.HandleFunc("hostname", func(ctx context.Context, inv *wsmantest.Invocation) error {
		_, err := inv.Stdout().Write([]byte("FAKEHOST\r\n"))
		return err
	})

	ctx := context.Background()
	wc, _ := wsman.NewClient(srv.URL, wsman.Config{
		Auth: &auth.NTLM{Username: "demo", Password: "demo-pw"}, // sealed over plain http://
	})
	created, _ := wc.CreateCmd(ctx, wsman.CmdShell{})
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: created.ShellID()}
	id, _ := wc.Command(ctx, ref, &wsman.CommandLine{Command: "hostname"})
	for {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: id, DesiredStream: "stdout stderr"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(strings.ReplaceAll(string(rr.StreamData("stdout", id)), "\r", ""))
		if rr.CommandState.Done() {
			fmt.Println("exit code", rr.CommandState.ExitCode)
			break
		}
	}
	_ = wc.Delete(ctx, ref)
	// Output:
	// FAKEHOST
	// exit code 0
}

// Inject a network outage and a lost response, and look at the request
// log.
func ExampleServer_Inject() {
	clock := wsmantest.NewManualClock(time.Time{})
	srv := wsmantest.NewServer(wsmantest.Options{Clock: clock})
	defer srv.Close()
	ctx := context.Background()
	wc, _ := wsman.NewClient(srv.URL, wsman.Config{})

	// The next Delete is handled, but its response is lost.
	srv.Inject(wsmantest.Injection{Action: "Delete", Times: 1, DropAfter: true})
	created, _ := wc.CreateCmd(ctx, wsman.CmdShell{})
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: created.ShellID()}
	fmt.Println("delete error:", wc.Delete(ctx, ref) != nil)
	_, exists := srv.Shell(created.ShellID())
	fmt.Println("deleted anyway:", !exists)

	// A one-minute outage on the server's clock.
	srv.Outage(time.Minute)
	_, err := wc.EnumerateShells(ctx)
	fmt.Println("during the outage:", err != nil)
	clock.Advance(time.Minute)
	wc.CloseIdleConnections()
	_, err = wc.EnumerateShells(ctx)
	fmt.Println("after the outage:", err == nil)

	for _, r := range srv.Requests() {
		fmt.Println(strings.TrimSpace(fmt.Sprint(r.Action, " ", r.Status, " ", r.Injected)))
	}
	// Output:
	// delete error: true
	// deleted anyway: true
	// during the outage: true
	// after the outage: true
	// Create 200
	// Delete 0 drop-after
	// Enumerate 200
}
