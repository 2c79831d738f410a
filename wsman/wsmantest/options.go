package wsmantest

import (
	"crypto/x509"
	"log/slog"
	"time"
)

// AuthMethod is an HTTP authentication method the server accepts.
type AuthMethod string

// Authentication methods.
const (
	// AuthBasic is HTTP Basic authentication.
	AuthBasic AuthMethod = "Basic"
	// AuthNTLM is NTLM (the "Negotiate" and "NTLM" schemes), with WinRM
	// message encryption over plain HTTP.
	AuthNTLM AuthMethod = "NTLM"
	// AuthCertificate is TLS client-certificate authentication (TLS servers
	// only); certificates are mapped to users by Options.CertificateUsers.
	AuthCertificate AuthMethod = "Certificate"
)

// Defaults of the Options fields, as a Windows Server 2016+ WinRM service
// with a PowerShell 5.1 endpoint has them.
const (
	DefaultConfigurationName   = "Microsoft.PowerShell"
	DefaultMaxEnvelopeSize     = 512000                        // MaxEnvelopeSizekb 500
	DefaultIdleTimeout         = 2 * time.Hour                 // PT7200.000S
	DefaultMaxIdleTimeout      = 2147483647 * time.Millisecond // PT2147483.647S
	MinIdleTimeout             = 60 * time.Second
	DefaultOutputBufferSize    = 1 << 20
	DefaultMaxOperationTimeout = 5 * time.Minute
	DefaultInactivityWindow    = 4 * time.Minute
	DefaultMaxRequestSize      = 8 << 20
	DefaultMaxShellsPerUser    = 1000
)

// Options configure a Server. The zero value is usable: no authentication,
// the Microsoft.PowerShell endpoint and Windows defaults for every limit.
type Options struct {
	// Users maps user names to passwords. When empty the server requires
	// no authentication and every request runs as AnonymousUser.
	// User names are compared case-insensitively; "DOMAIN\user" and
	// "user@domain" forms match the bare user name too.
	Users map[string]string
	// AuthMethods lists the accepted methods (default: Basic and NTLM, plus
	// Certificate on a TLS server with CertificateUsers). Ignored when Users
	// is empty.
	AuthMethods []AuthMethod
	// CertificateUsers maps client certificates to users for
	// AuthCertificate: the key is the certificate's subject common name.
	CertificateUsers map[string]string
	// ClientCAs are the CAs the client certificates must chain to; nil
	// accepts any client certificate and maps it by name.
	ClientCAs *x509.CertPool
	// AnonymousUser is the user of unauthenticated servers (default
	// "user").
	AnonymousUser string
	// AllowUnencrypted is WinRM's Service AllowUnencrypted: it lets a plain
	// HTTP server accept Basic authentication and NTLM-authenticated
	// requests without WinRM message encryption (and answer them in
	// plaintext). Off by default, as on Windows: such requests get 401 and
	// are not handled. It changes nothing over HTTPS, nor for a server
	// without Users (unauthenticated, which no Windows server is). The
	// winrm/config the server returns shows it.
	AllowUnencrypted bool

	// ConfigurationNames are the PowerShell endpoints (session
	// configurations) served, each at
	// http://schemas.microsoft.com/powershell/<name>. Default:
	// Microsoft.PowerShell. A Create for another name gets the fault Windows
	// gives for an unknown resource URI.
	ConfigurationNames []string
	// DisableCmdShell turns off the WinRS cmd shell resource.
	DisableCmdShell bool

	// Handlers resolves commands to handlers (nil: a new, empty Mux; add
	// handlers with Server.Handle and friends).
	Handlers *Mux
	// DisableBuiltins turns off the built-in script subset, so unmatched
	// commands fail with CommandNotFoundException.
	DisableBuiltins bool

	// Clock is the server's time source (default RealClock).
	Clock Clock

	// MaxEnvelopeSize is the largest response envelope in bytes (the
	// server's MaxEnvelopeSizekb×1024; default 512000). Responses are also
	// bounded by the request's wsman:MaxEnvelopeSize; requests larger than
	// this are refused with the Windows fault.
	MaxEnvelopeSize int
	// MaxRequestSize bounds the HTTP request body read (default 8 MiB).
	MaxRequestSize int
	// OutputBufferSize is the per-command output buffer in bytes of encoded
	// data (default 1 MiB). When full, BufferMode Block suspends the
	// command's writers and Drop discards the oldest output.
	OutputBufferSize int
	// MaxOperationTimeout caps the OperationTimeout of a request (how long
	// a Receive long-polls before the w:TimedOut fault); default 5 minutes.
	MaxOperationTimeout time.Duration
	// DefaultIdleTimeout is the shell IdleTimeOut when the client asks for
	// none (default 2 h). A requested IdleTimeOut below 60 s is raised to
	// 60 s.
	DefaultIdleTimeout time.Duration
	// MaxIdleTimeout caps every IdleTimeOut, requested or default
	// (default 2147483.647 s, Windows's MaxIdleTimeoutms).
	MaxIdleTimeout time.Duration
	// InactivityWindow is how long a Connected shell with no outstanding
	// Receive and no request stays Connected before it turns Disconnected,
	// as Windows does for clients that vanish (default 4 minutes; negative
	// disables).
	InactivityWindow time.Duration
	// MaxShellsPerUser bounds the shells one user may have (default 1000);
	// Create beyond it gets the Windows quota fault.
	MaxShellsPerUser int
	// PackFragments makes a PowerShell Receive response pack several PSRP
	// fragments into one rsp:Stream element (as many whole fragments as fit
	// in the fragment size). Windows never does: every Stream element it
	// sends carries exactly one fragment (all 473 PowerShell stdout Stream
	// elements in the pypsrp recordings), and so does this server by
	// default. Packing is for testing that a client concatenates the
	// elements' data before defragmenting (the fragments of successive
	// elements form one sequence); responses get smaller.
	PackFragments bool

	// ComputerName is the machine name shown in Owner ("NAME\user") and
	// faults (default "WSMANTEST").
	ComputerName string
	// ProcessID is the ProcessId reported for shells (default 4242).
	ProcessID int
	// ActivityID adds a p:ActivityId header to successful responses, as
	// Windows Server 2016 did (later versions send none).
	ActivityID bool

	// Addr is the listen address (default "127.0.0.1:0").
	Addr string
	// Logger receives debug logs of every request; nil disables logging.
	// Passwords are never logged.
	Logger *slog.Logger
}

// AnonymousUserDefault is the user name of unauthenticated servers.
const AnonymousUserDefault = "user"

func (o Options) withDefaults() Options {
	if len(o.ConfigurationNames) == 0 {
		o.ConfigurationNames = []string{DefaultConfigurationName}
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Handlers == nil {
		o.Handlers = NewMux()
	}
	if o.AnonymousUser == "" {
		o.AnonymousUser = AnonymousUserDefault
	}
	if o.MaxEnvelopeSize <= 0 {
		o.MaxEnvelopeSize = DefaultMaxEnvelopeSize
	}
	if o.MaxRequestSize <= 0 {
		o.MaxRequestSize = DefaultMaxRequestSize
	}
	if o.OutputBufferSize <= 0 {
		o.OutputBufferSize = DefaultOutputBufferSize
	}
	if o.MaxOperationTimeout <= 0 {
		o.MaxOperationTimeout = DefaultMaxOperationTimeout
	}
	if o.MaxIdleTimeout <= 0 {
		o.MaxIdleTimeout = DefaultMaxIdleTimeout
	}
	if o.DefaultIdleTimeout <= 0 {
		o.DefaultIdleTimeout = DefaultIdleTimeout
	}
	if o.DefaultIdleTimeout > o.MaxIdleTimeout {
		o.DefaultIdleTimeout = o.MaxIdleTimeout
	}
	if o.InactivityWindow == 0 {
		o.InactivityWindow = DefaultInactivityWindow
	}
	if o.MaxShellsPerUser <= 0 {
		o.MaxShellsPerUser = DefaultMaxShellsPerUser
	}
	if o.ComputerName == "" {
		o.ComputerName = "WSMANTEST"
	}
	if o.ProcessID <= 0 {
		o.ProcessID = 4242
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	return o
}

// clampIdle applies the Windows rules to a requested idle timeout: zero
// means the default, at least 60 s, at most MaxIdleTimeout.
func (o *Options) clampIdle(d time.Duration) time.Duration {
	if d <= 0 {
		return o.DefaultIdleTimeout
	}
	if d < MinIdleTimeout {
		d = MinIdleTimeout
	}
	if d > o.MaxIdleTimeout {
		d = o.MaxIdleTimeout
	}
	return d
}
