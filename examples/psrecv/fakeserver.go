package main

import (
	"context"
	"fmt"
	"net"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func runFakeServer(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "fake-server", "[-addr HOST:PORT] [-user NAME]",
		"Runs the embedded fake WinRM + PowerShell remoting server (package wsman/wsmantest) until\n"+
			"interrupted, so psrecv can be tried without Windows. It prints its URL on stdout and how to\n"+
			"try it on stderr. Clients log in as -user with the password in $"+passwordEnv+", with NTLM\n"+
			"and WinRM message encryption over plain HTTP, as on a default Windows server. Scripts run\n"+
			"the fake server's built-in subset (Write-Output, Write-Progress, Start-Sleep, 1..N | % {...}).")
	addr := fs.String("addr", "127.0.0.1:5985", "listen address (port 0 picks one)")
	user := fs.String("user", "demo", "the account clients log in with; its password comes from $"+passwordEnv)
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	password := e.getenv(passwordEnv)
	if password == "" {
		return flagexit.Usagef("set $%s to the password clients will use", passwordEnv)
	}
	srv, err := wsmantest.Listen(wsmantest.Options{
		Addr:         *addr,
		Users:        map[string]string{*user: password},
		ComputerName: "FAKESERVER",
	}, false)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(e.stdout, srv.URL)
	target := "-uri " + srv.URL
	if host, port, err := net.SplitHostPort(srv.Addr()); err == nil && port == "5985" {
		target = "-computer " + host
	}
	fmt.Fprintf(e.stderr, `psrecv fake-server: serving %s (user %s, password from $%s)
Try, in another shell with the same $%s and PSREMOTING_USER=%s:
  psrecv invoke %s -in-disconnected-session -name Nightly -script '1..5 | %% { Write-Progress -Activity Nightly -Status "Step $_ of 5"; "Return $_"; Start-Sleep 1 }'
  psrecv get %s
  psrecv receive -name Nightly
Stop it with Ctrl+C.
`, srv.URL, *user, passwordEnv, passwordEnv, *user, target, target)
	<-ctx.Done()
	return nil
}
