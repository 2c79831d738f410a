package winrmcompat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
)

// Options adjust what ConfigFrom derives from a masterzen configuration.
type Options struct {
	// Auth replaces the authenticator derived from the user, password and
	// Parameters.TransportDecorator (required for Kerberos).
	Auth auth.Authenticator
	// AllowUnencrypted permits Basic over http:// (masterzen sends it
	// without asking; this package refuses unless set).
	AllowUnencrypted bool
	// Logger receives debug logs; credentials are never logged.
	Logger *slog.Logger
	// SessionID sets the wsmv:SessionId (see wsman.Config.SessionID).
	SessionID string
	// Base is a starting wsman.Config; the fields derived from the
	// masterzen configuration overwrite it.
	Base wsman.Config
}

// ErrKerberosNeedsAuth is returned for a ClientKerberos decorator without
// Options.Auth.
var ErrKerberosNeedsAuth = errors.New("winrmcompat: masterzen Kerberos settings are not mapped; set Options.Auth to an auth.Kerberos authenticator")

// URL returns the WinRM URL of a masterzen endpoint (IPv6 hosts are
// bracketed, which masterzen itself does not do).
func URL(ep *winrm.Endpoint) (string, error) {
	if ep == nil || ep.Host == "" {
		return "", errors.New("winrmcompat: endpoint has no host")
	}
	port := ep.Port
	if port == 0 {
		port = wsman.DefaultHTTPPort
		if ep.HTTPS {
			port = wsman.DefaultHTTPSPort
		}
	}
	scheme := "http"
	if ep.HTTPS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ep.Host, strconv.Itoa(port)) + "/wsman", nil
}

// ConfigFrom derives the wsman endpoint URL and Config from a masterzen
// endpoint, credentials and parameters (params may be nil for
// winrm.DefaultParameters).
func ConfigFrom(ep *winrm.Endpoint, user, password string, params *winrm.Parameters, opts *Options) (string, wsman.Config, error) {
	if opts == nil {
		opts = &Options{}
	}
	if params == nil {
		params = winrm.DefaultParameters
	}
	u, err := URL(ep)
	if err != nil {
		return "", wsman.Config{}, err
	}
	cfg := opts.Base
	cfg.AllowUnencrypted = opts.AllowUnencrypted || cfg.AllowUnencrypted
	if opts.Logger != nil {
		cfg.Logger = opts.Logger
	}
	if opts.SessionID != "" {
		cfg.SessionID = opts.SessionID
	}

	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: ep.TLSServerName}
	if ep.Insecure {
		tc.InsecureSkipVerify = true //nolint:gosec // explicit opt-in carried over from the endpoint
	}
	if len(ep.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ep.CACert) {
			return "", wsman.Config{}, errors.New("winrmcompat: Endpoint.CACert holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	cfg.TLSConfig = tc

	if params.Timeout != "" {
		d, err := wsman.ParseDuration(params.Timeout)
		if err != nil || d <= 0 {
			return "", wsman.Config{}, fmt.Errorf("winrmcompat: Parameters.Timeout %q: not a positive xs:duration", params.Timeout)
		}
		cfg.OperationTimeout = d
	}
	if params.Locale != "" {
		cfg.Locale, cfg.DataLocale = params.Locale, params.Locale
	}
	if params.EnvelopeSize > 0 {
		cfg.MaxEnvelopeSize = params.EnvelopeSize
	}
	if ep.Timeout > 0 {
		op := cfg.OperationTimeout
		if op <= 0 {
			op = wsman.DefaultOperationTimeout
		}
		// masterzen's Timeout bounds the wait for response headers; a
		// long-poll Receive legitimately waits OperationTimeout first.
		cfg.HTTPTimeout = op + ep.Timeout
	}
	if params.Dial != nil {
		dial := params.Dial
		cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			// masterzen's dialer takes no context; the HTTP deadline
			// still bounds the whole request.
			return dial(network, addr)
		}
	}

	a, err := authFrom(ep, user, password, params, opts)
	if err != nil {
		return "", wsman.Config{}, err
	}
	cfg.Auth = a
	return u, cfg, nil
}

// authFrom maps masterzen's authentication choice onto an Authenticator.
func authFrom(ep *winrm.Endpoint, user, password string, params *winrm.Parameters, opts *Options) (auth.Authenticator, error) {
	if opts.Auth != nil {
		return opts.Auth, nil
	}
	var tr winrm.Transporter
	if params.TransportDecorator != nil {
		tr = params.TransportDecorator()
	}
	switch t := tr.(type) {
	case nil:
		return basic(user, password)
	case *Transporter:
		if t.Auth != nil {
			return t.Auth, nil
		}
		return basic(user, password)
	case *winrm.ClientNTLM:
		return &auth.NTLM{Username: user, Password: password}, nil
	case *winrm.Encryption:
		return &auth.NTLM{Username: user, Password: password, Encryption: auth.EncryptionAlways}, nil
	case *winrm.ClientAuthRequest:
		cert, err := tls.X509KeyPair(ep.Cert, ep.Key)
		if err != nil {
			return nil, fmt.Errorf("winrmcompat: Endpoint.Cert/Key: %w", err)
		}
		return auth.NewCertificate(cert)
	case *winrm.ClientKerberos:
		return nil, ErrKerberosNeedsAuth
	default:
		// NewClientWithDial / NewClientWithProxyFunc return masterzen's
		// unexported Basic transport.
		if fmt.Sprintf("%T", tr) == "*winrm.clientRequest" {
			return basic(user, password)
		}
		return nil, fmt.Errorf("winrmcompat: unknown masterzen transport %T; set Options.Auth", tr)
	}
}

func basic(user, password string) (auth.Authenticator, error) {
	if user == "" {
		return nil, nil
	}
	return &auth.Basic{Username: user, Password: password}, nil
}

// NewClient returns a wsman.Client for a masterzen endpoint, credentials
// and parameters (see ConfigFrom).
func NewClient(ep *winrm.Endpoint, user, password string, params *winrm.Parameters, opts *Options) (*wsman.Client, error) {
	u, cfg, err := ConfigFrom(ep, user, password, params, opts)
	if err != nil {
		return nil, err
	}
	return wsman.NewClient(u, cfg)
}

// Transporter is a winrm.Transporter that sends masterzen's requests through
// a wsman.Client: faults become errors, responses are bounded, and the
// request can be cancelled through Context. Use it with
//
//	params.TransportDecorator = func() winrm.Transporter {
//		return &winrmcompat.Transporter{Auth: &auth.NTLM{Username: u, Password: p}}
//	}
//
// masterzen's Client keeps the user name and password unexported, so the
// Transporter cannot read them: set Auth (nil sends no credentials).
type Transporter struct {
	// Auth authenticates the requests.
	Auth auth.Authenticator
	// Options are applied as in ConfigFrom (Options.Auth is ignored).
	Options Options
	// Context, when set, bounds every request (masterzen passes none).
	Context context.Context

	client *wsman.Client
}

// Transport prepares the wsman client for the endpoint (called by
// winrm.NewClientWithParameters).
func (t *Transporter) Transport(ep *winrm.Endpoint) error {
	opts := t.Options
	opts.Auth = t.Auth
	if opts.Auth == nil {
		opts.Auth = noAuth{}
	}
	u, cfg, err := ConfigFrom(ep, "", "", nil, &opts)
	if err != nil {
		return err
	}
	if _, ok := cfg.Auth.(noAuth); ok {
		cfg.Auth = nil
	}
	c, err := wsman.NewClient(u, cfg)
	if err != nil {
		return err
	}
	t.client = c
	return nil
}

// Post sends one masterzen SOAP message. A fault is returned as a
// *wsman.Fault error (w:TimedOut wrapped so that its text names
// OperationTimeout, which masterzen's Receive loop looks for), never as a
// successful body.
func (t *Transporter) Post(mc *winrm.Client, msg *soap.SoapMessage) (string, error) {
	if t.client == nil {
		return "", errors.New("winrmcompat: Transporter used before Transport")
	}
	body := []byte(msg.String())
	if _, err := wsman.ParseEnvelope(body); err != nil {
		// masterzen does not escape: refuse to post what it built wrong.
		return "", fmt.Errorf("winrmcompat: masterzen built a malformed request (unescaped input?): %w", err)
	}
	ctx := t.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if mc != nil && mc.Parameters.Timeout != "" {
		if d, err := wsman.ParseDuration(mc.Parameters.Timeout); err == nil && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d+wsman.DefaultHTTPGrace)
			defer cancel()
		}
	}
	out, err := t.client.Post(ctx, body)
	if err != nil {
		if errors.Is(err, wsman.ErrOperationTimeout) {
			// masterzen's Receive loop keeps polling only when the error
			// text contains "OperationTimeout"; a server's w:TimedOut
			// fault need not say so.
			return "", &pollTimeoutError{err: err}
		}
		return "", err
	}
	return string(out), nil
}

// pollTimeoutError is a w:TimedOut fault (a long poll that expired) as
// masterzen recognises it.
type pollTimeoutError struct{ err error }

func (e *pollTimeoutError) Error() string {
	return e.err.Error() + " (OperationTimeout expired with no output yet)"
}

func (e *pollTimeoutError) Unwrap() error { return e.err }

// Client returns the underlying wsman client (nil before Transport).
func (t *Transporter) Client() *wsman.Client { return t.client }

// noAuth marks "no authenticator" so ConfigFrom does not derive Basic.
type noAuth struct{}

// Scheme implements auth.Authenticator.
func (noAuth) Scheme() string { return "" }

// Wrap implements auth.Authenticator: requests pass unchanged.
func (noAuth) Wrap(next http.RoundTripper, _ auth.WrapOptions) (http.RoundTripper, error) {
	return next, nil
}

var _ winrm.Transporter = (*Transporter)(nil)
