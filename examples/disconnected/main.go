// Command disconnected walks through the disconnected-session flow with
// package session, the flow that Invoke-Command -InDisconnectedSession
// followed by Get-PSSession -ComputerName and Receive-PSSession performs in
// PowerShell:
//
//  1. client A creates a PowerShell session, starts a long-running command
//     in it and disconnects at once (no result reaches client A, so none is
//     lost);
//  2. client A goes away while the command runs and its output is buffered
//     on the server;
//  3. client B, a new client with its own WS-Management SessionId, lists the
//     sessions on the computer and receives the session by name: it
//     connects, the command resumes, and every result arrives.
//
// By default it starts the embedded fake WinRM server (package
// wsman/wsmantest) on loopback, with NTLM authentication and WinRM message
// encryption over plain HTTP, just as a default Windows server requires:
//
//	go run ./examples/disconnected
//
// Against a real host (the password is read from $PSREMOTING_PASSWORD, never
// from a flag):
//
//	PSREMOTING_PASSWORD=... go run ./examples/disconnected -url http://server:5985/wsman -user 'DOMAIN\user'
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	status := flagexit.Status(run(ctx, os.Args[1:], os.Stdout, os.Getenv), os.Stderr, "error:", "")
	stop()
	os.Exit(status)
}

// config is what the flags select.
type config struct {
	url         string
	user        string
	password    string
	authMethod  string
	insecure    bool
	sessionName string
	script      string
}

func parseFlags(args []string, getenv func(string) string) (*config, error) {
	fs := flag.NewFlagSet("disconnected", flag.ContinueOnError)
	c := &config{}
	fs.StringVar(&c.url, "url", "", "WinRM endpoint, e.g. http://server:5985/wsman (default: start the embedded fake server)")
	fs.StringVar(&c.user, "user", "", "user name (DOMAIN\\user or user@domain); the password comes from $PSREMOTING_PASSWORD")
	fs.StringVar(&c.authMethod, "auth", "ntlm", "authentication: ntlm, negotiate, kerberos or basic")
	fs.BoolVar(&c.insecure, "insecure-skip-verify", false, "do not verify the server's TLS certificate (labs only)")
	fs.StringVar(&c.sessionName, "name", "Nightly", "session name")
	fs.StringVar(&c.script, "script", `1..5 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 100 }`, "script to run in the disconnected session")
	if err := flagexit.Parse(fs, args); err != nil {
		return nil, err
	}
	c.password = getenv("PSREMOTING_PASSWORD")
	if c.url != "" && c.user == "" {
		return nil, flagexit.Usagef("-url needs -user (and $PSREMOTING_PASSWORD)")
	}
	return c, nil
}

// newClient returns the connection options a client of cfg uses.
func newClient(cfg *config) (session.ConnectionOptions, error) {
	var a session.Authentication
	switch strings.ToLower(cfg.authMethod) {
	case "ntlm":
		a = session.AuthNTLM
	case "negotiate":
		a = session.AuthNegotiate
	case "kerberos":
		a = session.AuthKerberos
	case "basic":
		a = session.AuthBasic
	default:
		return session.ConnectionOptions{}, flagexit.Usagef("unsupported -auth %q (use ntlm, negotiate, kerberos or basic)", cfg.authMethod)
	}
	return session.ConnectionOptions{
		ConnectionURI:  cfg.url,
		Credential:     session.Credential{Username: cfg.user, Password: cfg.password},
		Authentication: a,
		SessionOption:  session.SessionOption{SkipCACheck: cfg.insecure, SkipCNCheck: cfg.insecure},
	}, nil
}

func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	cfg, err := parseFlags(args, getenv)
	if err != nil {
		return err
	}
	if cfg.url == "" {
		cfg.user, cfg.password = "demo", "Passw0rd!"
		srv := wsmantest.NewServer(wsmantest.Options{
			Users:        map[string]string{cfg.user: cfg.password},
			ComputerName: "FAKESERVER",
		})
		defer srv.Close()
		cfg.url = srv.URL
		fmt.Fprintf(out, "Started the embedded fake WinRM server at %s (NTLM, message encryption over HTTP)\n", srv.URL)
	}
	conn, err := newClient(cfg)
	if err != nil {
		return err
	}

	// Client A: create the session, start the command, disconnect.
	tableA := &session.Table{} // what one process keeps
	a, err := session.New(ctx, session.NewOptions{ConnectionOptions: conn, Name: cfg.sessionName, Table: tableA})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== Client A (SessionId %s)\n", a.WSManSessionID())
	fmt.Fprintf(out, "Created session %q: shell %s, pool state %s\n", a.Name(), upperID(a.InstanceID().String()), a.State())
	cmd, err := a.InvokeInDisconnectedSession(ctx, session.Pipeline{Script: cfg.script},
		session.DisconnectOptions{IdleTimeout: 30 * time.Minute, OutputBufferingMode: session.BufferingBlock})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Started command %s: %s\n", upperID(cmd.ID().String()), cfg.script)
	fmt.Fprintf(out, "Disconnected: pool %s, pipeline %s. Client A exits; the command keeps running.\n", a.State(), cmd.State())
	if err := a.Close(ctx); err != nil { // a disconnected session stays on the server
		return err
	}

	// Client B: a new client finds the session and receives the results.
	tableB := &session.Table{}
	found, err := session.Get(ctx, session.GetOptions{ConnectionOptions: conn, Table: tableB})
	if err != nil {
		return fmt.Errorf("get sessions: %w", err)
	}
	fmt.Fprintf(out, "\n== Client B (a new client)\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tShellId\tState\tBufferMode\tIdleTimeOut\tConfigurationName\tAvailability")
	fmt.Fprintln(tw, "----\t-------\t-----\t----------\t-----------\t-----------------\t------------")
	for _, s := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name(), upperID(s.InstanceID().String()), s.ServerInfo().State,
			s.OutputBufferingMode(), s.IdleTimeout(), s.ConfigurationName(), s.Availability())
	}
	tw.Flush()

	rec, err := session.Receive(ctx, session.OnComputerByName(conn, cfg.sessionName), session.ReceiveOptions{Table: tableB})
	if err != nil {
		return err
	}
	b := rec.Sessions[0]
	fmt.Fprintf(out, "Connected (SessionId %s): session %s, availability %s; results as %s:\n",
		b.WSManSessionID(), b.State(), b.Availability(), rec.OutTarget)
	for r, err := range rec.Stream.All() {
		if err != nil {
			return err
		}
		switch r.Kind {
		case session.KindOutput:
			fmt.Fprintf(out, "  %s\n", display(r.Output))
		case session.KindError:
			fmt.Fprintf(out, "  error: %s\n", r.Error)
		case session.KindState:
			fmt.Fprintf(out, "Pipeline state: %s\n", r.State)
		}
	}
	if err := b.Remove(ctx); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	fmt.Fprintln(out, "Removed the session.")
	return nil
}

func upperID(s string) string { return strings.ToUpper(s) }

// displayBudget bounds the tree a displayed value may expand to (see
// clixml.Expansion): about one screenful of text.
const displayBudget = 64 << 10

// display renders a value as PowerShell's default view would for simple
// values. The value comes from the server: shared references can make a
// tree walk of it (fmt.Sprint of clixml.ToGo's result) exponential, so a
// value beyond displayBudget is shown in its JSON form, whose size is
// linear in the value's.
func display(v clixml.Value) string {
	if o, ok := v.(*clixml.Object); ok && o.HasToString {
		return o.ToString
	}
	if g, err := (clixml.ConvertOptions{MaxExpansion: displayBudget}).ToGo(v); err == nil {
		return fmt.Sprint(g)
	}
	js, err := clixml.JSON(v)
	if err != nil {
		return fmt.Sprintf("(cannot display: %v)", err)
	}
	return string(js)
}
