package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
	"github.com/psremoting/psremoting/session"
)

// Environment variables psrecv reads.
const (
	passwordEnv = "PSREMOTING_PASSWORD" // the password of -user (never a flag: flag values show in the process list)
	userEnv     = "PSREMOTING_USER"     // the default of -user
)

// connFlags are the flags that say where sessions are and how to reach
// them: Receive-PSSession's -ComputerName, -ConnectionUri, -Port, -UseSSL,
// -ApplicationName, -ConfigurationName, -Credential, -Authentication,
// -CertificateThumbprint, -AllowRedirection and -SessionOption.
type connFlags struct {
	computer          string
	uri               string
	port              int
	ssl               bool
	applicationName   string
	configurationName string
	authMethod        string
	user              string
	certFile, keyFile string
	caFile            string
	skipCACheck       bool
	skipCNCheck       bool
	allowRedirection  bool
	allowUnencrypted  bool
	openTimeout       time.Duration
	operationTimeout  time.Duration
	noProxy           bool
	reconnectTimeout  time.Duration
	verbose           bool
}

// register adds the flags to fs. multi says -computer takes a list.
func (c *connFlags) register(fs *flag.FlagSet, e *env, multi bool) {
	if multi {
		fs.StringVar(&c.computer, "computer", "", "computer names, comma-separated (-ComputerName)")
	} else {
		fs.StringVar(&c.computer, "computer", "", "computer name (-ComputerName)")
	}
	fs.StringVar(&c.uri, "uri", "", "endpoint URI, e.g. https://server:5986/wsman, instead of -computer (-ConnectionUri)")
	fs.IntVar(&c.port, "port", 0, "port (default 5985, or 5986 with -ssl) (-Port)")
	fs.BoolVar(&c.ssl, "ssl", false, "use HTTPS (-UseSSL)")
	fs.StringVar(&c.applicationName, "application-name", "", "URL path segment of the endpoint (default WSMAN) (-ApplicationName)")
	fs.StringVar(&c.configurationName, "configuration-name", "", "session configuration (default Microsoft.PowerShell) (-ConfigurationName)")
	fs.StringVar(&c.authMethod, "auth", "default", "authentication: default, negotiate, ntlm, kerberos, kerberos-ccache, basic, certificate (-Authentication)")
	fs.StringVar(&c.user, "user", e.getenv(userEnv), "user name (DOMAIN\\user or user@REALM; default $"+userEnv+"); the password comes from $"+passwordEnv+" or a no-echo prompt (-Credential)")
	fs.StringVar(&c.certFile, "cert", "", "client certificate file (PEM) for -auth certificate (-CertificateThumbprint)")
	fs.StringVar(&c.keyFile, "key", "", "private key file (PEM) of -cert")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM file of the CA certificates that verify the server (default: the system pool)")
	fs.BoolVar(&c.skipCACheck, "skip-ca-check", false, "do not verify the server certificate's CA (labs only) (-SessionOption SkipCACheck)")
	fs.BoolVar(&c.skipCNCheck, "skip-cn-check", false, "do not verify the server certificate's name (labs only) (-SessionOption SkipCNCheck)")
	fs.BoolVar(&c.allowRedirection, "allow-redirection", false, "follow redirects to the same origin (-AllowRedirection)")
	fs.BoolVar(&c.allowUnencrypted, "allow-unencrypted", false, "permit Basic over plain HTTP (WinRM's AllowUnencrypted)")
	fs.DurationVar(&c.openTimeout, "open-timeout", 0, "bound on opening or connecting a session (-SessionOption OpenTimeout)")
	fs.DurationVar(&c.operationTimeout, "operation-timeout", 0, "WSMan OperationTimeout of each request (-SessionOption OperationTimeout)")
	fs.BoolVar(&c.noProxy, "no-proxy", false, "ignore proxy settings of the environment (-SessionOption ProxyAccessType NoProxyServer)")
	fs.DurationVar(&c.reconnectTimeout, "reconnect-timeout", 0, "how long requests retry a lost or refused connection (default 4m, as PowerShell; negative: no retry)")
	fs.BoolVar(&c.verbose, "v", false, "debug logs on stderr (never credentials)")
}

// given says a computer or URI was named.
func (c *connFlags) given() bool { return c.computer != "" || c.uri != "" }

// computers returns the -computer list.
func (c *connFlags) computers() []string {
	var out []string
	for _, s := range strings.Split(c.computer, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseAuth maps -auth to the session's mechanism.
func parseAuth(s string) (session.Authentication, error) {
	switch strings.ToLower(s) {
	case "", "default":
		return session.AuthDefault, nil
	case "negotiate":
		return session.AuthNegotiate, nil
	case "ntlm":
		return session.AuthNTLM, nil
	case "kerberos":
		return session.AuthKerberos, nil
	case "kerberos-ccache", "negotiate-implicit":
		return session.AuthNegotiateWithImplicitCredential, nil
	case "basic":
		return session.AuthBasic, nil
	case "certificate":
		return session.AuthCertificate, nil
	}
	return 0, flagexit.Usagef("unsupported -auth %q (want default, negotiate, ntlm, kerberos, kerberos-ccache, basic or certificate)", s)
}

// options returns the connection options for computer (or -uri when
// computer is ""). The password is asked for once (e.password caches it).
func (c *connFlags) options(e *env, computer string) (session.ConnectionOptions, error) {
	a, err := parseAuth(c.authMethod)
	if err != nil {
		return session.ConnectionOptions{}, err
	}
	o := session.ConnectionOptions{
		ComputerName:      computer,
		Port:              c.port,
		UseSSL:            c.ssl,
		ApplicationName:   c.applicationName,
		ConfigurationName: c.configurationName,
		Authentication:    a,
		SessionOption: session.SessionOption{
			SkipCACheck:      c.skipCACheck,
			SkipCNCheck:      c.skipCNCheck,
			AllowRedirection: c.allowRedirection,
			AllowUnencrypted: c.allowUnencrypted,
			OpenTimeout:      c.openTimeout,
			OperationTimeout: c.operationTimeout,
			NoProxy:          c.noProxy,
			ReconnectTimeout: c.reconnectTimeout,
		},
	}
	if computer == "" {
		o.ConnectionURI = c.uri
	}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return o, flagexit.Usagef("-ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, flagexit.Usagef("-ca-file %s: no PEM certificate", c.caFile)
		}
		o.SessionOption.RootCAs = pool
	}
	if c.verbose {
		o.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	switch a {
	case session.AuthCertificate:
		if c.certFile == "" || c.keyFile == "" {
			return o, flagexit.Usagef("-auth certificate needs -cert and -key")
		}
		cert, err := auth.NewCertificateFromFiles(c.certFile, c.keyFile)
		if err != nil {
			return o, flagexit.Usagef("-cert/-key: %v", err)
		}
		o.Credential = session.Credential{Certificate: cert}
		return o, nil
	case session.AuthNegotiateWithImplicitCredential:
		// The Kerberos ticket cache ($KRB5CCNAME) holds the credential.
		o.Credential = session.Credential{Username: c.user}
		return o, nil
	}
	if c.user == "" {
		if a == session.AuthDefault {
			return o, nil // no authentication (servers that require none)
		}
		return o, flagexit.Usagef("-auth %s needs -user (or $%s)", c.authMethod, userEnv)
	}
	pw, err := e.password(c.user)
	if err != nil {
		return o, err
	}
	o.Credential = session.Credential{Username: c.user, Password: pw}
	return o, nil
}

// password returns the password of user: $PSREMOTING_PASSWORD, else a
// no-echo prompt on the terminal. It is never printed or logged.
func (e *env) password(user string) (string, error) {
	if pw := e.getenv(passwordEnv); pw != "" {
		return pw, nil
	}
	if e.prompted != "" {
		return e.prompted, nil
	}
	if !e.stdinTTY {
		return "", flagexit.Usagef("no password for %s: set $%s or run from a terminal to be prompted", user, passwordEnv)
	}
	fmt.Fprintf(e.stderr, "Password for %s: ", user)
	b, err := term.ReadPassword(e.stdinFd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("empty password")
	}
	e.prompted = string(b)
	return e.prompted, nil
}

// newFlagSet returns a flag set whose usage names the subcommand and says
// what it does.
func newFlagSet(e *env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("psrecv "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: psrecv %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
		fmt.Fprint(e.stderr, "\n"+exitCodesHelp)
	}
	return fs
}
