// Command disconnected walks through the disconnected-session flow at the
// level of this SDK's foundation (packages wsman, psrp and auth), the flow
// that Invoke-Command -InDisconnectedSession followed by Get-PSSession
// -ComputerName and Receive-PSSession performs in PowerShell:
//
//  1. client A creates a PowerShell session (a runspace pool on a remote
//     shell), starts a long-running command, and disconnects at once;
//  2. client A goes away while the command runs and its output is buffered
//     on the server;
//  3. client B, a new client with its own WS-Management SessionId, lists the
//     sessions on the computer, finds the session by name, connects to its
//     runspace pool and to the running command, and receives every result.
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
//
// The session package (next milestone) will wrap this flow in a small API;
// this program shows the layers it is built on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	status := exitStatus(run(ctx, os.Args[1:], os.Stdout, os.Getenv), os.Stderr)
	stop()
	os.Exit(status)
}

// usageError is a command-line mistake: the exit status is 2. When
// reported is set, the flag package has already printed it with the usage.
type usageError struct {
	err      error
	reported bool
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitStatus prints err on stderr and returns the exit status, by the flag
// package's convention: 0 on success and for -h (the usage is printed), 2
// for a usage error, 1 for any other failure.
func exitStatus(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if !ue.reported {
			fmt.Fprintln(stderr, "error:", err)
		}
		return 2
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
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
	fs.StringVar(&c.authMethod, "auth", "ntlm", "authentication: ntlm or basic")
	fs.BoolVar(&c.insecure, "insecure-skip-verify", false, "do not verify the server's TLS certificate (labs only)")
	fs.StringVar(&c.sessionName, "name", "Nightly", "session name")
	fs.StringVar(&c.script, "script", `1..5 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 100 }`, "script to run in the disconnected session")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err: err, reported: true}
	}
	if fs.NArg() > 0 {
		return nil, usageError{err: fmt.Errorf("unexpected arguments: %q", fs.Args())}
	}
	c.password = getenv("PSREMOTING_PASSWORD")
	if c.url != "" && c.user == "" {
		return nil, usageError{err: errors.New("-url needs -user (and $PSREMOTING_PASSWORD)")}
	}
	return c, nil
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

	// Client A: create the session, start the command, disconnect.
	clientA, err := newClient(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== Client A (SessionId %s)\n", clientA.SessionID())
	a, err := openSession(ctx, clientA, cfg.sessionName)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created session %q: shell %s, pool state %s\n", cfg.sessionName, a.ref.ShellID, a.pool.State())
	pl, err := a.start(ctx, cfg.script)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Started command %s: %s\n", commandID(pl.ID()), cfg.script)
	if _, err := a.pool.BeginDisconnect(); err != nil {
		return err
	}
	if err := clientA.Disconnect(ctx, a.ref, &wsman.Disconnect{IdleTimeOut: 30 * time.Minute, BufferMode: wsman.BufferModeBlock}); err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	if _, err := a.pool.DisconnectCompleted(); err != nil {
		return err
	}
	fmt.Fprintf(out, "Disconnected: pool %s, pipeline %s. Client A exits; the command keeps running.\n", a.pool.State(), pl.State())
	clientA.CloseIdleConnections()

	// Client B: a new client finds the session and receives the results.
	clientB, err := newClient(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n== Client B (new SessionId %s)\n", clientB.SessionID())
	defer clientB.CloseIdleConnections()
	shells, err := clientB.EnumerateShells(ctx)
	if err != nil {
		return fmt.Errorf("enumerate shells: %w", err)
	}
	var found *wsman.Shell
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tShellId\tState\tBufferMode\tIdleTimeOut\tConfigurationName")
	fmt.Fprintln(tw, "----\t-------\t-----\t----------\t-----------\t-----------------")
	for _, s := range shells {
		if !strings.HasPrefix(s.ResourceURI, powerShellURIPrefix) {
			continue // not a PowerShell session (a cmd shell, say)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.ShellID, s.State, s.BufferMode, s.IdleTimeOut,
			strings.TrimPrefix(s.ResourceURI, powerShellURIPrefix))
		if s.Name == cfg.sessionName && s.State == wsman.ShellStateDisconnected {
			found = s
		}
	}
	tw.Flush()
	if found == nil {
		return fmt.Errorf("no disconnected session named %q", cfg.sessionName)
	}
	cmds, err := clientB.EnumerateCommands(ctx, found.ShellID)
	if err != nil {
		return fmt.Errorf("enumerate commands: %w", err)
	}
	for _, c := range cmds {
		fmt.Fprintf(out, "Command %s: %s\n", c.CommandID, c.CommandState)
	}
	b, err := connectSession(ctx, clientB, found)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Connected to the runspace pool: state %s\n", b.pool.State())
	for _, c := range cmds {
		id, err := uuid.Parse(c.CommandID)
		if err != nil {
			return fmt.Errorf("command id %q: %w", c.CommandID, err)
		}
		res, err := b.receiveCommand(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Results of command %s:\n", c.CommandID)
		for _, v := range res.output {
			fmt.Fprintf(out, "  %s\n", display(v))
		}
		for _, e := range res.errors {
			fmt.Fprintf(out, "  error: %s\n", e)
		}
		fmt.Fprintf(out, "Pipeline state: %s\n", res.state)
	}
	if err := clientB.Delete(ctx, b.ref); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	fmt.Fprintln(out, "Removed the session.")
	return nil
}

func newClient(cfg *config) (*wsman.Client, error) {
	var a auth.Authenticator
	switch strings.ToLower(cfg.authMethod) {
	case "ntlm", "negotiate":
		a = &auth.NTLM{Username: cfg.user, Password: cfg.password}
	case "basic":
		a = &auth.Basic{Username: cfg.user, Password: cfg.password}
	default:
		return nil, usageError{err: fmt.Errorf("unsupported -auth %q (use ntlm or basic)", cfg.authMethod)}
	}
	return wsman.NewClient(cfg.url, wsman.Config{Auth: a, InsecureSkipVerify: cfg.insecure, OperationTimeout: 20 * time.Second})
}

// powerShellURIPrefix starts the resource URI of every PowerShell session
// configuration; the rest is the configuration name.
const powerShellURIPrefix = "http://schemas.microsoft.com/powershell/"

func commandID(id uuid.UUID) string { return strings.ToUpper(id.String()) }

// session is one runspace pool driven over one wsman.Client.
type session struct {
	wc   *wsman.Client
	pool *psrp.ClientPool
	ref  wsman.ShellRef
}

// openSession creates a PowerShell shell and opens its runspace pool.
func openSession(ctx context.Context, wc *wsman.Client, name string) (*session, error) {
	id := uuid.New()
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id, ResponseLimit: wc.MaxResponseBytes()})
	if err != nil {
		return nil, err
	}
	if err := pool.Open(); err != nil {
		return nil, err
	}
	creation, err := pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize())
	if err != nil {
		return nil, err
	}
	resp, err := wc.CreatePowerShell(ctx, wsman.PowerShellShell{ShellID: commandID(id), Name: name, CreationXML: creation})
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	s := &session{wc: wc, pool: pool, ref: wsman.ShellRef{ResourceURI: wsman.PowerShellResourceURI(""), ShellID: resp.ShellID()}}
	if err := s.flush(ctx, psrp.PoolTarget, ""); err != nil {
		return nil, err
	}
	for pool.State() != psrp.RunspacePoolOpened {
		if err := s.receivePool(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// connectSession connects a new client to a disconnected shell's pool.
func connectSession(ctx context.Context, wc *wsman.Client, sh *wsman.Shell) (*session, error) {
	id, err := uuid.Parse(sh.ShellID)
	if err != nil {
		return nil, fmt.Errorf("shell id %q: %w", sh.ShellID, err)
	}
	pool, err := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id, ResponseLimit: wc.MaxResponseBytes()})
	if err != nil {
		return nil, err
	}
	if err := pool.Connect(); err != nil {
		return nil, err
	}
	payload, err := pool.ConnectPayload(wc.MaxPayloadSize())
	if err != nil {
		return nil, err
	}
	s := &session{wc: wc, pool: pool, ref: wsman.ShellRef{ResourceURI: sh.ResourceURI, ShellID: sh.ShellID}}
	resp, err := wc.Connect(ctx, s.ref, payload, "")
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := pool.ReceiveData(resp.ConnectResponseXML); err != nil {
		return nil, err
	}
	if pool.State() != psrp.RunspacePoolOpened {
		return nil, fmt.Errorf("pool is %s after connect", pool.State())
	}
	return s, nil
}

func (s *session) flush(ctx context.Context, t psrp.Target, cmd string) error {
	for s.pool.Pending(t) > 0 {
		b, err := s.pool.NextPayload(t, s.wc.MaxPayloadSize())
		if err != nil {
			return err
		}
		if err := s.wc.Send(ctx, s.ref, wsman.Stream{Name: wsman.StreamStdin, CommandID: cmd, Data: b}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	return nil
}

func (s *session) receivePool(ctx context.Context) error {
	rr, err := s.wc.Receive(ctx, s.ref, &wsman.Receive{})
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	if rr.TimedOut {
		return nil
	}
	_, err = s.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, ""))
	return err
}

// start runs script as a new pipeline (CREATE_PIPELINE in the Command's
// Arguments, any rest with Send).
func (s *session) start(ctx context.Context, script string) (*psrp.ClientPipeline, error) {
	id := uuid.New()
	pl, err := s.pool.NewPipeline(id, &psrp.CreatePipeline{NoInput: true,
		PowerShell: psrp.PowerShell{Cmds: []psrp.Command{{Cmd: script, IsScript: true}}}})
	if err != nil {
		return nil, err
	}
	if err := pl.Invoke(); err != nil {
		return nil, err
	}
	args, err := s.pool.NextPayload(pl.Target(), s.wc.MaxPayloadSize())
	if err != nil {
		return nil, err
	}
	if _, err := s.wc.Command(ctx, s.ref, &wsman.CommandLine{CommandID: commandID(id), Command: script,
		Arguments: wsman.PowerShellArguments(args)}); err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	return pl, s.flush(ctx, pl.Target(), commandID(id))
}

type results struct {
	output []clixml.Value
	errors []*psrp.ErrorRecord
	state  psrp.PSInvocationState
}

// receiveCommand connects to a running command and receives until it ends.
func (s *session) receiveCommand(ctx context.Context, id uuid.UUID) (*results, error) {
	pl, err := s.pool.AdoptPipeline(id)
	if err != nil {
		return nil, err
	}
	cid := commandID(id)
	if err := s.wc.ConnectCommand(ctx, s.ref, cid); err != nil {
		return nil, fmt.Errorf("connect command: %w", err)
	}
	res := &results{}
	for {
		rr, err := s.wc.Receive(ctx, s.ref, &wsman.Receive{CommandID: cid})
		if err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		if rr.TimedOut {
			continue
		}
		events, err := s.pool.ReceiveData(rr.StreamData(wsman.StreamStdout, cid))
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			switch e := e.(type) {
			case psrp.PipelineOutputReceived:
				v, err := s.pool.CLIXMLOptions().Unmarshal(e.Message.Data)
				if err != nil {
					return nil, err
				}
				res.output = append(res.output, v)
			case psrp.ErrorRecordReceived:
				v, err := s.pool.CLIXMLOptions().Unmarshal(e.Message.Data)
				if err != nil {
					return nil, err
				}
				r, err := psrp.DecodeErrorRecord(v)
				if err != nil {
					return nil, err
				}
				res.errors = append(res.errors, r)
			}
		}
		res.state = pl.State()
		if rr.CommandState.Done() {
			if !res.state.Terminal() {
				return nil, fmt.Errorf("command %s done while its pipeline is %s", cid, res.state)
			}
			return res, s.wc.Signal(ctx, s.ref, cid, wsman.SignalTerminate)
		}
	}
}

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
