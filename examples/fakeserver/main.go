// Command fakeserver runs the wsmantest fake WinRM + PowerShell remoting
// server as a program, for demos and for clients in other languages
// (pypsrp, PowerShell's own client pointed at it, ...).
//
// Usage:
//
//	PSREMOTING_PASSWORD=PASS go run ./examples/fakeserver -addr 127.0.0.1:5985 -user NAME
//
// It prints the listening URL and serves until interrupted (Ctrl+C). The
// password of -user is read from $PSREMOTING_PASSWORD, never from a flag (a
// flag value is visible to every local user in the process list). Without
// -user the server requires no authentication: anyone who can reach it runs
// commands, and the program says so on stderr.
//
// Like a default Windows server (AllowUnencrypted=false), it refuses Basic
// authentication and unencrypted NTLM messages over plain HTTP: clients use
// NTLM with message encryption, or -tls, or the server is started with
// -allow-unencrypted.
//
// Flags:
//
//	-addr HOST:PORT          listen address (default 127.0.0.1:5985; port 0 picks one)
//	-user NAME               the account clients log in with, password in $PSREMOTING_PASSWORD (none: no authentication)
//	-auth LIST               accepted methods: basic,ntlm,certificate (default basic,ntlm)
//	-allow-unencrypted       accept Basic and unencrypted messages over plain HTTP (WinRM's AllowUnencrypted=true)
//	-tls                     serve HTTPS with a self-signed certificate for 127.0.0.1
//	-cert-out FILE           with -tls: write the server certificate (PEM) there for clients to trust
//	-config LIST             PowerShell configuration names (default Microsoft.PowerShell)
//	-idle-timeout D          default shell IdleTimeOut (default 2h)
//	-max-idle-timeout D      MaxIdleTimeOut (default 596h31m23.647s)
//	-max-operation-timeout D cap on a request's OperationTimeout (default 5m)
//	-inactivity D            a Connected shell without a Receive turns Disconnected after D (default 4m; 0 or negative: never)
//	-buffer-size N           per-command output buffer in bytes (default 1 MiB)
//	-no-builtins             disable the built-in script subset
//	-v                       log every request to stderr
//
// Commands run the built-in script subset of wsmantest (Write-Output,
// Start-Sleep, 1..N | ForEach-Object {...}, ...); anything else fails with
// CommandNotFoundException, as PowerShell does. On cmd shells every command
// fails as cmd.exe does for an unknown program, except "echo" and
// "cmd.exe /c LINE" (the form WinRS clients such as pypsrp's Process and
// go-psrp's ExecuteCmd send), which runs LINE the same way.
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	status := flagexit.Status(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr, "fakeserver:", "")
	stop()
	os.Exit(status)
}

// passwordEnv names the environment variable that holds the password of
// -user.
const passwordEnv = "PSREMOTING_PASSWORD"

// run parses args (and the password from getenv), starts the server, prints
// its URL on stdout and serves until ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakeserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5985", "listen address")
	user := fs.String("user", "", "user name clients authenticate as; the password comes from $"+passwordEnv+" (none: no authentication)")
	authList := fs.String("auth", "basic,ntlm", "accepted authentication methods: basic,ntlm,certificate")
	allowUnencrypted := fs.Bool("allow-unencrypted", false, "accept Basic and unencrypted messages over plain HTTP (WinRM's AllowUnencrypted=true)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	certOut := fs.String("cert-out", "", "with -tls: write the server certificate (PEM) to this file")
	configs := fs.String("config", wsmantest.DefaultConfigurationName, "comma-separated PowerShell configuration names")
	idle := fs.Duration("idle-timeout", wsmantest.DefaultIdleTimeout, "default shell IdleTimeOut")
	maxIdle := fs.Duration("max-idle-timeout", wsmantest.DefaultMaxIdleTimeout, "MaxIdleTimeOut")
	maxOp := fs.Duration("max-operation-timeout", wsmantest.DefaultMaxOperationTimeout, "cap on OperationTimeout")
	inactivity := fs.Duration("inactivity", wsmantest.DefaultInactivityWindow, "inactivity window before a shell without Receive turns Disconnected (0 or negative: never)")
	bufSize := fs.Int("buffer-size", wsmantest.DefaultOutputBufferSize, "per-command output buffer in bytes")
	noBuiltins := fs.Bool("no-builtins", false, "disable the built-in script subset")
	verbose := fs.Bool("v", false, "log requests to stderr")
	if err := flagexit.Parse(fs, args); err != nil {
		return err
	}
	password := ""
	if *user != "" {
		if password = getenv(passwordEnv); password == "" {
			return flagexit.Usagef("-user needs its password in $%s", passwordEnv)
		}
	}
	opts := wsmantest.Options{
		Addr:                *addr,
		AllowUnencrypted:    *allowUnencrypted,
		DefaultIdleTimeout:  *idle,
		MaxIdleTimeout:      *maxIdle,
		MaxOperationTimeout: *maxOp,
		InactivityWindow:    *inactivity,
		OutputBufferSize:    *bufSize,
		DisableBuiltins:     *noBuiltins,
	}
	if *inactivity == 0 {
		opts.InactivityWindow = -1
	}
	for _, c := range strings.Split(*configs, ",") {
		if c = strings.TrimSpace(c); c != "" {
			opts.ConfigurationNames = append(opts.ConfigurationNames, c)
		}
	}
	if *user != "" {
		opts.Users = map[string]string{*user: password}
	}
	for _, m := range strings.Split(*authList, ",") {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "basic":
			opts.AuthMethods = append(opts.AuthMethods, wsmantest.AuthBasic)
		case "ntlm", "negotiate":
			opts.AuthMethods = append(opts.AuthMethods, wsmantest.AuthNTLM)
		case "certificate", "cert":
			if !*useTLS {
				return flagexit.Usagef("-auth certificate needs -tls")
			}
			opts.AuthMethods = append(opts.AuthMethods, wsmantest.AuthCertificate)
			if *user != "" {
				opts.CertificateUsers = map[string]string{*user: *user}
			}
		case "":
		default:
			return flagexit.Usagef("unknown -auth method %q (want basic, ntlm or certificate)", m)
		}
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Handlers = wsmantest.NewMux()
	opts.Handlers.HandleFunc("echo", echoCmd)
	opts.Handlers.HandleFunc("cmd", cmdC)

	srv, err := wsmantest.Listen(opts, *useTLS)
	if err != nil {
		return err
	}
	defer srv.Close()
	if *useTLS && *certOut != "" {
		if err := writeCert(*certOut, srv.Certificate()); err != nil {
			return err
		}
	}
	if *user == "" {
		fmt.Fprintf(stderr, "fakeserver: WARNING: no authentication: anyone who can reach %s runs commands (as user %q); set -user and $%s\n",
			srv.URL, wsmantest.AnonymousUserDefault, passwordEnv)
	}
	fmt.Fprintln(stdout, srv.URL)
	<-ctx.Done()
	return nil
}

// echoCmd is the cmd-shell "echo": it prints its arguments. (Called as a
// PowerShell command, it writes them as output objects, like the echo
// alias of Write-Output.)
func echoCmd(_ context.Context, inv *wsmantest.Invocation) error {
	if inv.Kind == wsmantest.KindPowerShell {
		for _, c := range inv.Pipeline[:1] {
			for _, p := range c.Parameters {
				if err := inv.WriteOutput(p.Value); err != nil {
					return err
				}
			}
		}
		return nil
	}
	words := strings.Fields(inv.CommandLine)
	text := strings.Join(append(words[1:], inv.Arguments...), " ")
	_, err := io.WriteString(inv.Stdout(), text+"\r\n")
	return err
}

// cmdC is "cmd.exe /c LINE" on a cmd shell (test_winrs_standard.yml sends
// Command cmd.exe with Arguments /c, echo, hi): it runs LINE as this server
// runs a command, so "echo" prints and anything else fails as cmd.exe does
// for an unknown program (message on stderr, exit code 1). Without /c (or
// /k) there is no line to run: cmd.exe would read its standard input, which
// this server does not model, so it says so on stderr and exits with 1.
func cmdC(_ context.Context, inv *wsmantest.Invocation) error {
	if inv.Kind != wsmantest.KindCmd {
		// As without this handler: PowerShell commands are not modelled.
		rec := wsmantest.CommandNotFoundError("cmd")
		if len(inv.Pipeline) > 0 && inv.Pipeline[0].IsScript {
			return inv.WriteError(rec)
		}
		return rec
	}
	// Arguments come one word each (pypsrp) or as one "/c LINE" (go-psrp,
	// test_winrs_stderr_rc.yml).
	words := strings.Fields(strings.Join(append([]string{inv.CommandLine}, inv.Arguments...), " "))[1:]
	for i, w := range words {
		if !strings.EqualFold(w, "/c") && !strings.EqualFold(w, "/k") {
			continue
		}
		inner := strings.Fields(strings.Join(words[i+1:], " "))
		if len(inner) == 0 {
			return nil // cmd /c with nothing to run exits 0
		}
		if strings.EqualFold(inner[0], "echo") {
			_, err := io.WriteString(inv.Stdout(), strings.Join(inner[1:], " ")+"\r\n")
			return err
		}
		_, err := io.WriteString(inv.Stderr(), "'"+inner[0]+"' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
		inv.Exit(1)
		return err
	}
	_, err := io.WriteString(inv.Stderr(), "fakeserver: cmd.exe without /c reads its standard input, which this server does not model\r\n")
	inv.Exit(1)
	return err
}

func writeCert(path string, cert *x509.Certificate) error {
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return os.WriteFile(path, b, 0o644)
}
