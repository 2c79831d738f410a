package examplecli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// Program is one example program.
type Program struct {
	// Name is the command name shown in the usage.
	Name string
	// Usage is the text printed above the flags by -h.
	Usage string
	// Flags adds the example's own flags (nil: none).
	Flags func(fs *flag.FlagSet)
	// Configuration is the session configuration the example uses on the
	// fake server ("" for Microsoft.PowerShell); -configuration overrides
	// it, and on a real host the default is Microsoft.PowerShell.
	Configuration string
	// FakeServers is how many fake computers the example needs: 1 or 2 (0
	// means 1; the second is reached as localhost, the first as
	// 127.0.0.1). Real hosts are given as -computer a,b,... instead.
	FakeServers int
	// ManualClock runs the fake servers on a clock that stands still
	// unless the example moves it (Env.Advance, Env.RunClock), so that
	// what the example shows does not depend on how fast the machine is:
	// the script's Start-Sleep and the server's timeouts wait for it.
	ManualClock bool
	// Fake adjusts the fake servers' options (nil: none).
	Fake func(*wsmantest.Options)
	// Run is the example. It is called in the parent process, and again
	// in each child process RunClient starts (Env.Role says which), except
	// in client A's when ClientA is set.
	Run func(ctx context.Context, e *Env) error
	// ClientA, when set, is run instead of Run in the child process
	// RunClient(ctx, "A") starts: the client that leaves the sessions
	// behind for the example to find.
	ClientA func(ctx context.Context, e *Env) error
}

// Env is what an example run has.
type Env struct {
	// Stdout and Stderr are the output streams.
	Stdout, Stderr io.Writer
	// Targets has one ConnectionOptions per computer (one unless the
	// example runs against several).
	Targets []session.ConnectionOptions
	// Fake says the targets are the embedded fake server(s).
	Fake bool
	// Role is "" in the process the user started, else the role given to
	// RunClient in the child process.
	Role string
	// Servers are the fake servers (in the parent process only).
	Servers []*wsmantest.Server
	// Clock is the fake servers' clock with Program.ManualClock (in the
	// parent process only; nil otherwise).
	Clock *wsmantest.ManualClock

	args []string
	env  []string // what a child needs: role, fake URLs, password
}

// The environment variables a child client is started with. Secrets and
// addresses go to the child through its environment, never its argv.
const (
	envRole = "PSREMOTING_EXAMPLE_ROLE"
	envURLs = "PSREMOTING_EXAMPLE_FAKE_URLS"
	envUser = "PSREMOTING_EXAMPLE_FAKE_USER"
)

// fakeUser and fakePassword are the embedded server's account.
const fakeUser, fakePassword = "demo", "Passw0rd!"

// Run parses args and runs p: against the fake server(s) it starts, or the
// host the flags name.
func Run(ctx context.Context, p Program, args []string, stdin *os.File, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Common
	c.Register(fs)
	if p.Flags != nil {
		p.Flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: %s [flags]\n\nFlags:\n", strings.TrimSpace(p.Usage), p.Name)
		fs.PrintDefaults()
	}
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	visited := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { visited[f.Name] = true })
	if err := c.check(visited); err != nil {
		return err
	}
	e := &Env{Stdout: stdout, Stderr: stderr, Role: getenv(envRole), args: args}
	if e.Role != "" {
		e.env = []string{envRole + "=" + e.Role}
	}

	switch {
	case e.Role != "" && getenv(envURLs) != "":
		// A child of a parent that runs the fake servers.
		e.Fake = true
		for _, u := range strings.Split(getenv(envURLs), " ") {
			e.Targets = append(e.Targets, fakeTarget(u, getenv(envUser), getenv(PasswordEnv), configuration(&c, p, true)))
		}
	case c.Real():
		pw, err := password(c.User, getenv, stdin, stderr)
		if err != nil {
			return err
		}
		c.Configuration = configuration(&c, p, false)
		if e.Targets, err = c.targets(pw); err != nil {
			return err
		}
		e.env = append(e.env, PasswordEnv+"="+pw)
		if e.Role == "" {
			fmt.Fprintf(stdout, "Running against %s\n", c.describe())
		}
	default:
		n := max(p.FakeServers, 1)
		opts := wsmantest.Options{
			Users:              map[string]string{fakeUser: fakePassword},
			ComputerName:       "FAKESERVER",
			ConfigurationNames: configurations(&c, p),
		}
		if p.ManualClock {
			e.Clock = wsmantest.NewManualClock(time.Now())
			opts.Clock = e.Clock
		}
		if p.Fake != nil {
			p.Fake(&opts)
		}
		var urls []string
		for i := range n {
			o := opts
			if n > 1 {
				o.ComputerName = fmt.Sprintf("FAKESERVER%d", i+1)
			}
			srv, err := wsmantest.Listen(o, false)
			if err != nil {
				return fmt.Errorf("start the fake server: %w", err)
			}
			defer srv.Close()
			e.Servers = append(e.Servers, srv)
			u := srv.URL
			if i == 1 {
				// A second name for the loopback address, so that the
				// tables tell the two fake computers apart.
				u = strings.Replace(u, "://127.0.0.1:", "://localhost:", 1)
			}
			urls = append(urls, u)
			e.Targets = append(e.Targets, fakeTarget(u, fakeUser, fakePassword, configuration(&c, p, true)))
		}
		e.Fake = true
		e.env = append(e.env, envURLs+"="+strings.Join(urls, " "), envUser+"="+fakeUser, PasswordEnv+"="+fakePassword)
		fmt.Fprintf(stdout, "Started the embedded fake WinRM server at %s (NTLM, message encryption over HTTP)\n", strings.Join(urls, ", "))
	}
	if e.Role == "A" && p.ClientA != nil {
		return p.ClientA(ctx, e)
	}
	return p.Run(ctx, e)
}

// configuration is the session configuration the example uses.
func configuration(c *Common, p Program, fake bool) string {
	switch {
	case c.Configuration != "":
		return c.Configuration
	case fake:
		return p.Configuration
	}
	return ""
}

// configurations are the endpoints the fake server serves.
func configurations(c *Common, p Program) []string {
	names := []string{"Microsoft.PowerShell"}
	for _, n := range []string{p.Configuration, c.Configuration} {
		if n != "" && !strings.EqualFold(n, names[len(names)-1]) && !strings.EqualFold(n, names[0]) {
			names = append(names, n)
		}
	}
	return names
}

// fakeTarget connects to a fake server the way a default Windows server
// requires: NTLM with message encryption over HTTP.
func fakeTarget(u, user, pw, configuration string) session.ConnectionOptions {
	return session.ConnectionOptions{
		ConnectionURI:     u,
		ConfigurationName: configuration,
		Credential:        session.Credential{Username: user, Password: pw},
		Authentication:    session.AuthNTLM,
	}
}
