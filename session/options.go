package session

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
)

// Authentication is PowerShell's AuthenticationMechanism: how the
// Credential is used.
type Authentication int

// Authentication mechanisms (the values of PowerShell's
// AuthenticationMechanism, plus NTLM which PowerShell reaches through
// Negotiate).
const (
	// AuthDefault: Negotiate when a Credential is given (see
	// AuthNegotiate), no authentication otherwise. PowerShell's Default is
	// Negotiate with the current user; a Go program has no implicit
	// Windows credential, see AuthNegotiateWithImplicitCredential.
	AuthDefault Authentication = iota
	// AuthBasic is HTTP Basic. It is refused over plain HTTP unless
	// SessionOption.AllowUnencrypted is set (auth refuses it otherwise).
	AuthBasic
	// AuthNegotiate is SPNEGO. Without a Kerberos configuration (a
	// Credential whose user name has no realm, or no KDC) it uses NTLM, as
	// Windows's Negotiate falls back to NTLM; with Credential.Kerberos set
	// it tries Kerberos first.
	AuthNegotiate
	// AuthNegotiateWithImplicitCredential uses the Kerberos ticket cache of
	// the process (kinit; $KRB5CCNAME), Go's equivalent of "the current
	// user".
	AuthNegotiateWithImplicitCredential
	// AuthNTLM is NTLM with WinRM message encryption over HTTP.
	AuthNTLM
	// AuthKerberos is Kerberos with a password (user@REALM) or an explicit
	// Credential.Authenticator.
	AuthKerberos
	// AuthCertificate is TLS client-certificate authentication
	// (PowerShell's -CertificateThumbprint); set Credential.Certificate.
	AuthCertificate
	// AuthCredSSP is not supported: New returns an *UnsupportedError.
	AuthCredSSP
	// AuthDigest is not supported: New returns an *UnsupportedError.
	AuthDigest
)

var authNames = []string{"Default", "Basic", "Negotiate", "NegotiateWithImplicitCredential", "NTLM", "Kerberos",
	"Certificate", "Credssp", "Digest"}

// String returns PowerShell's name of the mechanism.
func (a Authentication) String() string {
	if a >= 0 && int(a) < len(authNames) {
		return authNames[a]
	}
	return "Authentication(" + strconv.Itoa(int(a)) + ")"
}

// Credential is PowerShell's PSCredential plus the Go ways to authenticate.
// It is never logged and never appears in errors.
type Credential struct {
	// Username is "user", `DOMAIN\user` or "user@REALM".
	Username string
	// Password is the password; never logged.
	Password string
	// Authenticator, when set, is used as it is and the other fields are
	// ignored (for Kerberos keytabs, custom configurations, tests).
	Authenticator auth.Authenticator
	// Certificate is the client certificate of AuthCertificate.
	Certificate *auth.Certificate
}

// String hides the password.
func (c Credential) String() string { return "Credential{" + c.Username + "}" }

// GoString hides the password.
func (c Credential) GoString() string { return c.String() }

// LogValue hides the password from slog.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes the user name only.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
	}{c.Username})
}

// OutputBufferingMode is what the server does with output of a
// disconnected session once its buffer is full (PowerShell's
// OutputBufferingMode, the WSMan BufferMode).
type OutputBufferingMode int

// Output buffering modes.
const (
	// BufferingNone keeps the server's value (Block unless the session
	// configuration says otherwise).
	BufferingNone OutputBufferingMode = iota
	// BufferingBlock suspends the command until its output is received:
	// nothing is lost.
	BufferingBlock
	// BufferingDrop discards the oldest output: the command keeps running
	// and Receive cannot recover what was dropped.
	BufferingDrop
)

// String returns PowerShell's name of the mode.
func (m OutputBufferingMode) String() string {
	switch m {
	case BufferingBlock:
		return "Block"
	case BufferingDrop:
		return "Drop"
	}
	return "None"
}

func (m OutputBufferingMode) wsman() string {
	switch m {
	case BufferingBlock:
		return wsman.BufferModeBlock
	case BufferingDrop:
		return wsman.BufferModeDrop
	}
	return ""
}

func parseBufferMode(s string) OutputBufferingMode {
	switch {
	case strings.EqualFold(s, wsman.BufferModeBlock):
		return BufferingBlock
	case strings.EqualFold(s, wsman.BufferModeDrop):
		return BufferingDrop
	}
	return BufferingNone
}

// Defaults of SessionOption fields (PowerShell's New-PSSessionOption
// defaults where PowerShell has one).
const (
	// DefaultMaximumConnectionRedirectionCount is PowerShell's 5.
	DefaultMaximumConnectionRedirectionCount = 5
	// DefaultOperationTimeout is the WSMan OperationTimeout of a Receive
	// long poll (how long the server holds a Receive with nothing to say).
	DefaultOperationTimeout = wsman.DefaultOperationTimeout
	// DefaultMaxConcurrentReceives bounds the long polls one session keeps
	// outstanding (the pool's and its commands'): below the default auth
	// connection pools (NTLM and Kerberos keep 8), so a Send or Signal
	// always finds a connection.
	DefaultMaxConcurrentReceives = 6
	// DefaultResultBuffer is how many results a consumer may lag behind
	// before the session stops receiving for that command.
	DefaultResultBuffer = 64
	// DefaultThrottleLimit is PowerShell's ThrottleLimit for operations on
	// many sessions.
	DefaultThrottleLimit = 32
	// DefaultReconnectTimeout is how long a session retries a lost
	// connection before it counts as disconnected (PowerShell's four
	// minutes).
	DefaultReconnectTimeout = 4 * time.Minute
	// DefaultReconnectInterval is the pause between retries (PowerShell's
	// once a second).
	DefaultReconnectInterval = time.Second
)

// SessionOption is PowerShell's PSSessionOption (New-PSSessionOption), as
// far as it applies to a Go client. The zero value gives PowerShell's
// defaults with verified TLS.
type SessionOption struct {
	// OpenTimeout bounds New and Connect (0: only the context bounds them).
	OpenTimeout time.Duration
	// OperationTimeout is the WSMan OperationTimeout of each request
	// (DefaultOperationTimeout when zero).
	OperationTimeout time.Duration
	// IdleTimeout asks the server to keep the session this long while it
	// is idle or disconnected (PowerShell's -IdleTimeout; 0: the server's
	// default, 2 hours on Windows). It is used by New only: the NOTES of
	// Receive-PSSession say it is ignored by connect and receive; change
	// it with Disconnect. New refuses a value below 60 s before sending
	// anything (*IdleTimeoutError); the server's maximum is known only from
	// its answer, so above it the server decides (it clamps or refuses
	// the value; the fake server clamps).
	IdleTimeout time.Duration
	// OutputBufferingMode is used by New only (change it with Disconnect).
	// The WSMan Create carries no buffer mode: it is sent with the first
	// Disconnect that names none, as PowerShell does.
	OutputBufferingMode OutputBufferingMode
	// NoMachineProfile sends WINRS_NOPROFILE.
	NoMachineProfile bool
	// Culture and UICulture are sent as the WSMan Locale and DataLocale
	// (en-US when empty).
	Culture, UICulture string

	// ProxyURL sends requests through this proxy; nil uses the
	// environment (HTTPS_PROXY, ...) unless NoProxy is set.
	ProxyURL *url.URL
	// NoProxy disables proxies.
	NoProxy bool
	// SkipCACheck and SkipCNCheck turn TLS verification off (both are
	// needed to accept any certificate; either one alone turns off full
	// verification here, as Go cannot check one without the other). Labs
	// only: they must be set explicitly.
	SkipCACheck, SkipCNCheck bool
	// RootCAs verifies the server certificate (nil: the system pool).
	RootCAs *x509.CertPool
	// AllowUnencrypted permits Basic over plain HTTP (WinRM's
	// AllowUnencrypted). Off by default.
	AllowUnencrypted bool

	// AllowRedirection follows HTTP redirects (PowerShell's
	// -AllowRedirection of the ConnectionUri parameter sets) to the same
	// origin (scheme, host and port).
	AllowRedirection bool
	// AllowCrossHostRedirection, with AllowRedirection, also follows a
	// redirect to another host, sending the credentials there: what
	// PowerShell's -AllowRedirection does. Off by default (credentials go
	// only to the endpoint named); set it only when every host the
	// endpoint may redirect to is trusted with them.
	AllowCrossHostRedirection bool
	// MaximumConnectionRedirectionCount bounds them
	// (DefaultMaximumConnectionRedirectionCount when zero).
	MaximumConnectionRedirectionCount int

	// MaximumReceivedObjectSize bounds one received object (a reassembled
	// PSRP message) in bytes, and what the session holds while reassembling.
	// Zero means the transport's response limit (16 MiB by default, see
	// psrp.DefragmenterOptionsFor): smaller than PowerShell's 200 MB, so
	// that a hostile server cannot make a session hold much more than one
	// response. A larger object ends the command's results with a
	// *LimitError.
	MaximumReceivedObjectSize int
	// MaximumReceivedDataSizePerCommand bounds the bytes received for one
	// command (0: no limit, as PowerShell); beyond it the command's results
	// end with a *LimitError and the command is stopped.
	MaximumReceivedDataSizePerCommand int64

	// ReconnectTimeout is how long the session's long polls retry a lost
	// connection (DefaultReconnectTimeout when zero; negative: no retry,
	// a transport failure breaks the session). After it the session is
	// Disconnected here and a later Connect or Receive reconnects it.
	ReconnectTimeout time.Duration
	// ReconnectInterval is the pause between retries
	// (DefaultReconnectInterval when zero).
	ReconnectInterval time.Duration

	// MaxConcurrentReceives bounds the long-poll Receives this session
	// keeps outstanding (DefaultMaxConcurrentReceives when zero). Keep it
	// below the authentication's connection pool size.
	MaxConcurrentReceives int

	// Transport replaces the HTTP transport (tests, adapters).
	Transport http.RoundTripper
	// DialContext replaces the dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ConnectionOptions say where a session is and how to reach it: the
// -ComputerName / -ConnectionUri, -Port, -UseSSL, -ApplicationName,
// -ConfigurationName, -Credential, -Authentication and -SessionOption
// parameters shared by New-PSSession, Get-PSSession, Connect-PSSession and
// Receive-PSSession.
type ConnectionOptions struct {
	// ComputerName is the host name or address. Exactly one of
	// ComputerName and ConnectionURI must be set.
	ComputerName string
	// ConnectionURI is a full endpoint, e.g. https://server:5986/wsman.
	ConnectionURI string
	// Port overrides 5985 (HTTP) or 5986 (UseSSL); ComputerName only.
	Port int
	// UseSSL selects HTTPS; ComputerName only.
	UseSSL bool
	// ApplicationName is the URL path segment ("WSMAN" when empty);
	// ComputerName only.
	ApplicationName string
	// ConfigurationName is the session configuration
	// ("Microsoft.PowerShell" when empty).
	ConfigurationName string
	// Credential authenticates the user.
	Credential Credential
	// Authentication selects the mechanism.
	Authentication Authentication
	// SessionOption are the advanced options.
	SessionOption SessionOption
	// Logger receives debug logs; nil disables logging. Credentials are
	// never logged.
	Logger *slog.Logger
	// WSManSessionID is the wsmv:SessionId the client uses (empty: a new
	// one). A process that disconnected a session may set it to the
	// SessionID of its reattach token to Reconnect instead of Connect.
	WSManSessionID string
}

// endpoint returns the ConnectionUri the options name.
func (o *ConnectionOptions) endpoint() (string, error) {
	if (o.ComputerName == "") == (o.ConnectionURI == "") {
		return "", &OptionError{Field: "ComputerName/ConnectionURI", Msg: "exactly one must be set"}
	}
	if o.ConnectionURI != "" {
		if o.Port != 0 || o.UseSSL || o.ApplicationName != "" {
			return "", &OptionError{Field: "ConnectionURI", Msg: "Port, UseSSL and ApplicationName apply to ComputerName only"}
		}
		u, err := wsman.ParseConnectionURI(o.ConnectionURI)
		if err != nil {
			return "", err
		}
		return u.String(), nil
	}
	scheme, port := "http", wsman.DefaultHTTPPort
	if o.UseSSL {
		scheme, port = "https", wsman.DefaultHTTPSPort
	}
	if o.Port != 0 {
		if o.Port < 0 || o.Port > 65535 {
			return "", &OptionError{Field: "Port", Msg: "out of range"}
		}
		port = o.Port
	}
	app := o.ApplicationName
	if app == "" {
		app = "wsman"
	}
	if strings.ContainsAny(app, "/?#") || strings.ContainsAny(o.ComputerName, "/?#@") {
		return "", &OptionError{Field: "ComputerName/ApplicationName", Msg: "must be a host name and one path segment"}
	}
	host := o.ComputerName
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s://%s:%d/%s", scheme, host, port, app), nil
}

// computerName returns the host the options name.
func (o *ConnectionOptions) computerName() string {
	if o.ComputerName != "" {
		return o.ComputerName
	}
	if u, err := wsman.ParseConnectionURI(o.ConnectionURI); err == nil {
		return u.Hostname()
	}
	return ""
}

// authenticator builds the auth.Authenticator of the options.
func (o *ConnectionOptions) authenticator() (auth.Authenticator, error) {
	c := o.Credential
	if c.Authenticator != nil {
		return c.Authenticator, nil
	}
	switch o.Authentication {
	case AuthDefault, AuthNegotiate:
		if c.Username == "" {
			if o.Authentication == AuthNegotiate {
				return nil, &OptionError{Field: "Credential", Msg: "Negotiate needs a user name (or use NegotiateWithImplicitCredential)"}
			}
			return nil, nil
		}
		return &auth.NTLM{Username: c.Username, Password: c.Password}, nil
	case AuthNTLM:
		return &auth.NTLM{Username: c.Username, Password: c.Password}, nil
	case AuthBasic:
		return &auth.Basic{Username: c.Username, Password: c.Password}, nil
	case AuthKerberos:
		user, realm, ok := strings.Cut(c.Username, "@")
		if !ok || realm == "" {
			return nil, &OptionError{Field: "Credential", Msg: "Kerberos needs user@REALM (or Credential.Authenticator)"}
		}
		return auth.NewKerberosWithPassword(user, strings.ToUpper(realm), c.Password, auth.KerberosConfig{})
	case AuthNegotiateWithImplicitCredential:
		return auth.NewKerberosFromCCache("", auth.KerberosConfig{})
	case AuthCertificate:
		if c.Certificate == nil {
			return nil, &OptionError{Field: "Credential", Msg: "Certificate authentication needs Credential.Certificate"}
		}
		return c.Certificate, nil
	case AuthCredSSP, AuthDigest:
		return nil, &UnsupportedError{What: o.Authentication.String() + " authentication"}
	}
	return nil, &OptionError{Field: "Authentication", Msg: "unknown mechanism " + o.Authentication.String()}
}

// newClient builds the wsman.Client of the options.
func (o *ConnectionOptions) newClient() (*wsman.Client, error) {
	return o.newClientWith(nil)
}

// newClientWith builds the client, sending its retry events to onRetry.
func (o *ConnectionOptions) newClientWith(onRetry func(wsman.RetryEvent)) (*wsman.Client, error) {
	ep, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	a, err := o.authenticator()
	if err != nil {
		return nil, err
	}
	so := o.SessionOption
	cfg := wsman.Config{
		Auth:                      a,
		AllowUnencrypted:          so.AllowUnencrypted,
		RootCAs:                   so.RootCAs,
		InsecureSkipVerify:        so.SkipCACheck || so.SkipCNCheck,
		AllowRedirection:          so.AllowRedirection,
		AllowCrossHostRedirection: so.AllowCrossHostRedirection,
		MaxRedirects:              so.MaximumConnectionRedirectionCount,
		OperationTimeout:          so.OperationTimeout,
		Locale:                    so.Culture,
		DataLocale:                so.UICulture,
		SessionID:                 o.WSManSessionID,
		Transport:                 so.Transport,
		Logger:                    o.Logger,
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaximumConnectionRedirectionCount
	}
	switch {
	case so.NoProxy:
		cfg.Proxy = wsman.NoProxy
	case so.ProxyURL != nil:
		cfg.Proxy = http.ProxyURL(so.ProxyURL)
	}
	if so.DialContext != nil {
		cfg.DialContext = so.DialContext
	}
	// MS-WSMV robust connections: requests lost to a network failure are
	// retransmitted (with the same OperationID) for the reconnect window,
	// so that a lost Receive response loses no output where the server
	// supports it.
	if window := so.reconnectTimeout(); window > 0 {
		cfg.Retry = wsman.RetryPolicy{Window: window, Interval: so.ReconnectInterval, OnEvent: onRetry}
	}
	return wsman.NewClient(ep, cfg)
}

// reconnectTimeout is ReconnectTimeout with its default; negative: none.
func (so SessionOption) reconnectTimeout() time.Duration {
	switch {
	case so.ReconnectTimeout == 0:
		return DefaultReconnectTimeout
	case so.ReconnectTimeout < 0:
		return 0
	}
	return so.ReconnectTimeout
}
