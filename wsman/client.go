package wsman

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psremoting/psremoting/auth"
)

// Client defaults.
const (
	// DefaultOperationTimeout is the wsman:OperationTimeout sent when
	// Config.OperationTimeout is zero (pypsrp's default; a Receive long
	// poll returns w:TimedOut after it).
	DefaultOperationTimeout = 20 * time.Second
	// DefaultHTTPGrace is added to a request's OperationTimeout to form its
	// HTTP deadline when Config.HTTPTimeout is zero.
	DefaultHTTPGrace = 60 * time.Second
	// DefaultMaxEnvelopeSize is the initial wsman:MaxEnvelopeSize (150 KiB,
	// what every WinRM version accepts).
	DefaultMaxEnvelopeSize = 153600
	// DefaultMaxRedirects is PowerShell's MaximumConnectionRedirectionCount.
	DefaultMaxRedirects = 5
	// DefaultMaxResponseBytes caps a response body.
	DefaultMaxResponseBytes = DefaultMaxDocumentBytes
	// DefaultLocale is sent as wsman:Locale and wsmv:DataLocale.
	DefaultLocale = "en-US"
)

// Config configures a Client. The zero value is usable: no authentication,
// TLS verified, proxy from the environment, no redirection.
type Config struct {
	// Auth authenticates requests (and encrypts messages over HTTP where
	// the method supports it); nil sends no credentials.
	Auth auth.Authenticator
	// AllowUnencrypted is passed to Auth (WinRM's AllowUnencrypted).
	AllowUnencrypted bool

	// TLSConfig is the base TLS configuration (cloned); nil means a
	// default one (TLS 1.2+). The fields below are applied on top.
	TLSConfig *tls.Config
	// RootCAs verifies the server certificate; nil uses the system pool.
	RootCAs *x509.CertPool
	// InsecureSkipVerify turns certificate verification off. Only for
	// tests and labs: it must be set explicitly.
	InsecureSkipVerify bool
	// ClientCertificates are presented in the TLS handshake (see also
	// auth.Certificate, which is picked up automatically).
	ClientCertificates []tls.Certificate
	// Proxy selects a proxy per request; nil means
	// http.ProxyFromEnvironment. Use NoProxy to disable proxies.
	Proxy func(*http.Request) (*url.URL, error)
	// DialContext replaces the dialer (optional).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Transport replaces the base HTTP transport entirely (tests,
	// adapters). When set, TLSConfig, RootCAs, InsecureSkipVerify,
	// ClientCertificates, Proxy and DialContext are ignored.
	Transport http.RoundTripper

	// AllowRedirection follows HTTP redirects (PowerShell's
	// -AllowRedirection): for every redirect status (301, 302, 303, 307,
	// 308) the same envelope is posted again, with the same
	// authentication, to the Location. Only a Location on the endpoint's
	// own origin (same scheme, host and port) is followed; one on another
	// origin fails with ErrCrossHostRedirect before anything is sent to it
	// unless AllowCrossHostRedirection is also set. A redirect from https
	// to http is always refused (ErrInsecureRedirect). Without
	// AllowRedirection a redirect is an *HTTPError carrying the Location.
	//
	// PowerShell's -AllowRedirection has no such host check: it follows a
	// redirect to any URI (up to MaximumConnectionRedirectionCount, 5 by
	// default) with the session's credentials. This client is stricter,
	// as net/http is (it drops Authorization on a redirect to another
	// host): a server, or whoever can forge its answer over plain http://,
	// must not be able to collect the credentials (a Basic password, or an
	// NTLM login followed by sealed traffic) at a host of its choosing.
	AllowRedirection bool
	// AllowCrossHostRedirection, with AllowRedirection, also follows a
	// redirect to another origin (scheme, host or port), sending the
	// credentials there: what PowerShell's -AllowRedirection does, and
	// what Exchange Online-style endpoints, which redirect to the server
	// holding the mailbox, need. Set it only when every host the endpoint
	// may redirect to is trusted with the credentials. https to http is
	// refused even then.
	AllowCrossHostRedirection bool
	// MaxRedirects bounds the redirects followed for one request
	// (DefaultMaxRedirects, 5, when zero; PowerShell's
	// MaximumConnectionRedirectionCount); beyond it the request fails
	// with ErrTooManyRedirects.
	MaxRedirects int

	// OperationTimeout is the default wsman:OperationTimeout
	// (DefaultOperationTimeout when zero).
	OperationTimeout time.Duration
	// HTTPTimeout bounds one HTTP exchange. Zero means the request's
	// OperationTimeout plus DefaultHTTPGrace; negative means no bound
	// besides the context.
	HTTPTimeout time.Duration
	// MaxEnvelopeSize is the initial wsman:MaxEnvelopeSize in bytes
	// (DefaultMaxEnvelopeSize when zero); see SetMaxEnvelopeSize.
	MaxEnvelopeSize int
	// MaxResponseBytes caps a response body (DefaultMaxResponseBytes when
	// zero). It is passed to Auth (auth.WrapOptions.MaxResponseBytes), so
	// the NTLM and Kerberos transports, which buffer and unseal encrypted
	// bodies, stop at it too; beyond it a request fails with
	// ErrResponseTooLarge.
	MaxResponseBytes int64
	// Limits bound response XML parsing (MaxBytes defaults to
	// MaxResponseBytes).
	Limits Limits

	// Locale is sent as wsman:Locale (default en-US).
	Locale string
	// DataLocale is sent as wsmv:DataLocale (default: Locale).
	DataLocale string
	// SessionID is the wsmv:SessionId sent on every request ("uuid:" +
	// upper-case UUID). Empty means a new one for this Client. Set it to
	// the value of another Client's SessionID to Reconnect, from another
	// process, to shells that client disconnected.
	SessionID string

	// Retry, when its Window is positive, retransmits a request that
	// failed for a network reason (see RetryPolicy, NetworkError and
	// SafeToRetry) and attaches a wsmv:OperationID to every request.
	// The zero value turns retries off.
	Retry RetryPolicy

	// RequestHook, when set, is called with every request header just
	// before it is serialized (after Request.Header and after the
	// OperationID Retry attaches). It may add Header.Extra elements or
	// change any field. MS-WSMV robust connections need no hook: use
	// Retry.
	RequestHook func(ctx context.Context, h *Header)

	// Logger receives debug logs (action, URL, status, timing; for a
	// failed request or failed authentication the action and the error);
	// nil means none. Credentials and message bodies are never logged.
	Logger *slog.Logger
}

// NoProxy is a Config.Proxy that never uses a proxy.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

// Client sends WS-Management requests to one WinRM endpoint. It is safe for
// concurrent use; connections are reused.
type Client struct {
	url       *url.URL
	cfg       Config
	hc        *http.Client
	base      *http.Transport // nil when Config.Transport was given
	sessionID string
	maxEnv    atomic.Int64
	log       *slog.Logger
	// robust maps a lower-case ResourceURI to what the server showed of
	// MS-WSMV robust connections for it: robustYes (it echoed an
	// OperationID) or robustNo (int32; absent is unknown).
	robust sync.Map
	// reached is set once the server has answered a request of this
	// Client (any answer: a response, a fault, an HTTP error). Until then a
	// request that certainly was not sent is not retried (see RetryPolicy).
	reached atomic.Bool
}

// NewClient returns a Client for endpoint, a ConnectionUri such as
// "https://server:5986/wsman" or "server" (see ParseConnectionURI).
func NewClient(endpoint string, cfg Config) (*Client, error) {
	u, err := ParseConnectionURI(endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{url: u, cfg: cfg, log: cfg.Logger}
	if c.cfg.OperationTimeout <= 0 {
		c.cfg.OperationTimeout = DefaultOperationTimeout
	}
	if c.cfg.MaxRedirects <= 0 {
		c.cfg.MaxRedirects = DefaultMaxRedirects
	}
	if c.cfg.MaxResponseBytes <= 0 {
		c.cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.cfg.Limits.MaxBytes <= 0 {
		c.cfg.Limits.MaxBytes = c.cfg.MaxResponseBytes
	}
	if c.cfg.Locale == "" {
		c.cfg.Locale = DefaultLocale
	}
	if c.cfg.DataLocale == "" {
		c.cfg.DataLocale = c.cfg.Locale
	}
	c.sessionID = cfg.SessionID
	if c.sessionID == "" {
		c.sessionID = NewSessionID()
	}
	env := cfg.MaxEnvelopeSize
	if env <= 0 {
		env = DefaultMaxEnvelopeSize
	}
	c.maxEnv.Store(int64(env))

	var rt http.RoundTripper
	if cfg.Transport != nil {
		rt = cfg.Transport
	} else {
		tr, err := c.newTransport()
		if err != nil {
			return nil, err
		}
		c.base = tr
		rt = tr
	}
	if cfg.Auth != nil {
		rt, err = cfg.Auth.Wrap(rt, auth.WrapOptions{
			AllowUnencrypted:       cfg.AllowUnencrypted,
			MaxResponseBytes:       c.cfg.MaxResponseBytes,
			AllowCrossHostRedirect: cfg.AllowCrossHostRedirection,
			Logger:                 cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("wsman: %s authentication: %w", cfg.Auth.Scheme(), err)
		}
	}
	// Redirects are followed by doHTTP itself (see followRedirect):
	// net/http would turn a POST answered with 301, 302 or 303 into a GET
	// without the envelope.
	c.hc = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return c, nil
}

func (c *Client) newTransport() (*http.Transport, error) {
	var tc *tls.Config
	if c.cfg.TLSConfig != nil {
		tc = c.cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.cfg.RootCAs != nil {
		tc.RootCAs = c.cfg.RootCAs
	}
	if c.cfg.InsecureSkipVerify {
		tc.InsecureSkipVerify = true
	}
	tc.Certificates = append(tc.Certificates, c.cfg.ClientCertificates...)
	if p, ok := c.cfg.Auth.(auth.TLSClientCertificateProvider); ok && c.cfg.Auth != nil {
		tc.Certificates = append(tc.Certificates, p.TLSClientCertificate())
	}
	proxy := c.cfg.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	dial := c.cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   30 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// NTLM and Kerberos authenticate the connection: keep HTTP/1.1.
		ForceAttemptHTTP2: false,
	}, nil
}

// redirectTarget returns where a redirect response points when this client
// follows it (Config.AllowRedirection), nil when the response is not a
// redirect to follow, or an error when following it is refused. n is the
// number of redirects already followed for this request.
func (c *Client) redirectTarget(resp *http.Response, n int) (*url.URL, error) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, nil
	}
	loc := resp.Header.Get("Location")
	if !c.cfg.AllowRedirection || loc == "" {
		return nil, nil // reported as an *HTTPError with its Location
	}
	if n >= c.cfg.MaxRedirects {
		return nil, fmt.Errorf("%w (MaxRedirects %d)", ErrTooManyRedirects, c.cfg.MaxRedirects)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wsman: invalid redirect Location %q", truncate(redactUserinfo(loc), 256))
	}
	if u.User != nil {
		return nil, fmt.Errorf("wsman: refusing a redirect with credentials in the Location")
	}
	if (c.url.Scheme == "https" || resp.Request.URL.Scheme == "https") && u.Scheme != "https" {
		return nil, ErrInsecureRedirect
	}
	if !c.cfg.AllowCrossHostRedirection && !auth.SameOrigin(c.url, u) {
		return nil, fmt.Errorf("%w (%s://%s to %s://%s; set Config.AllowCrossHostRedirection to allow it)",
			ErrCrossHostRedirect, c.url.Scheme, c.url.Host, u.Scheme, truncate(u.Host, 256))
	}
	return u, nil
}

// URL returns the endpoint URL requests are posted to.
func (c *Client) URL() string { return c.url.String() }

// SessionID returns the wsmv:SessionId this client sends.
func (c *Client) SessionID() string { return c.sessionID }

// MaxEnvelopeSize returns the wsman:MaxEnvelopeSize currently sent.
func (c *Client) MaxEnvelopeSize() int { return int(c.maxEnv.Load()) }

// SetMaxEnvelopeSize changes the wsman:MaxEnvelopeSize sent from now on
// (for example to 512000 after the server reported protocol 2.2+). Values
// below 8192, which Windows refuses, are raised to 8192.
func (c *Client) SetMaxEnvelopeSize(n int) {
	if n < 8192 {
		n = 8192
	}
	c.maxEnv.Store(int64(n))
}

// OperationTimeout returns the default wsman:OperationTimeout.
func (c *Client) OperationTimeout() time.Duration { return c.cfg.OperationTimeout }

// CloseIdleConnections closes idle keep-alive connections, also those of
// the client's own transport beneath an authenticator that does not pass
// the call on.
func (c *Client) CloseIdleConnections() {
	c.hc.CloseIdleConnections()
	if c.base != nil {
		c.base.CloseIdleConnections()
	}
}

// Request is one WS-Management request for Invoke. The client fills in To,
// ReplyTo, MessageID, MaxEnvelopeSize, Locale, DataLocale and SessionId.
type Request struct {
	Action      string     // wsa:Action URI (ActionCreate, …)
	ResourceURI string     // wsman:ResourceURI
	Selectors   []Selector // wsman:SelectorSet, if any
	Options     []Option   // wsman:OptionSet, if any
	// OperationTimeout overrides the client default when positive.
	OperationTimeout time.Duration
	// Body holds the children of s:Body (none for Delete and Get).
	Body []*Element
	// Headers are extra header elements (for example MS-WSMV
	// robust-connection headers), written after the standard ones.
	Headers []*Element
	// Header, when set, is called with the finished header just before it
	// is serialized; it may change any field.
	Header func(*Header)
}

type opTimeoutKey struct{}

// WithOperationTimeout returns a context whose requests carry the given
// wsman:OperationTimeout instead of the client default.
//
// Deprecated: per-call options are fields of the call: set
// Receive.OperationTimeout (or Request.OperationTimeout with Invoke).
func WithOperationTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, opTimeoutKey{}, d)
}

// envelope builds the request envelope.
func (c *Client) envelope(ctx context.Context, r *Request) *Envelope {
	op := r.OperationTimeout
	if op <= 0 {
		if d, ok := ctx.Value(opTimeoutKey{}).(time.Duration); ok && d > 0 {
			op = d
		}
	}
	if op <= 0 {
		op = c.cfg.OperationTimeout
	}
	env := &Envelope{
		Header: Header{
			Action:           r.Action,
			DataLocale:       c.cfg.DataLocale,
			Locale:           c.cfg.Locale,
			MaxEnvelopeSize:  c.MaxEnvelopeSize(),
			MessageID:        NewMessageID(),
			OperationTimeout: op,
			ReplyTo:          AnonymousAddress,
			ResourceURI:      r.ResourceURI,
			SessionID:        c.sessionID,
			To:               c.url.String(),
			Options:          r.Options,
			Selectors:        r.Selectors,
			Extra:            r.Headers,
		},
		Body: r.Body,
	}
	if r.Header != nil {
		r.Header(&env.Header)
	}
	if c.cfg.Retry.Window > 0 && env.Header.OperationID == "" {
		// MS-WSMV 3.1.4.1.39: every request carries an OperationID, so
		// that a lost response can be fetched again (see retry.go).
		env.Header.OperationID = NewMessageID()
		env.Header.SequenceID = "1"
	}
	if c.cfg.RequestHook != nil {
		c.cfg.RequestHook(ctx, &env.Header)
	}
	return env
}

// Invoke sends one request and returns the response envelope. A SOAP fault
// is returned as a *Fault error (whatever the HTTP status), an HTTP 401 as
// an *AuthError, other non-2xx statuses as an *HTTPError. Cancelling ctx
// aborts the request in flight.
func (c *Client) Invoke(ctx context.Context, r *Request) (*Envelope, error) {
	env := c.envelope(ctx, r)
	return c.send(ctx, env)
}

func (c *Client) roundTrip(ctx context.Context, env *Envelope) (*Envelope, error) {
	timeout := c.cfg.HTTPTimeout
	if timeout == 0 {
		timeout = env.Header.OperationTimeout + DefaultHTTPGrace
	}
	resp, data, err := c.doHTTP(ctx, env.Marshal(), env.Header.Action, timeout)
	if err != nil {
		c.logFailure(ctx, env.Header.Action, err)
		return nil, err
	}
	out, err := c.handleResponse(env, resp, data)
	if err != nil {
		c.logFailure(ctx, env.Header.Action, err)
	}
	return out, err
}

// logFailure writes a debug line for a failed request (transport error,
// refused authentication, HTTP error, fault): the action, the URL without
// user info and the error, which never holds credentials. The w:TimedOut
// fault that ends a Receive long poll is not a failure (Receive reports it
// as ReceiveResponse.TimedOut) and gets no such line.
func (c *Client) logFailure(ctx context.Context, action string, err error) {
	if c.log == nil || (action == ActionReceive && errors.Is(err, ErrOperationTimeout)) {
		return
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "wsman request failed",
		slog.String("action", shortAction(action)),
		slog.String("url", c.url.Redacted()),
		slog.String("error", err.Error()))
}

// doHTTP posts one SOAP body and reads the (bounded) response.
func (c *Client) doHTTP(ctx context.Context, body []byte, action string, timeout time.Duration) (*http.Response, []byte, error) {
	caller := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	target := c.url
	var resp *http.Response
	for n := 0; ; n++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("wsman: %w", err)
		}
		req.Header.Set("Content-Type", auth.SOAPContentType)
		req.Header.Set("User-Agent", "Microsoft WinRM Client")
		resp, err = c.hc.Do(req)
		if err != nil {
			if ctxErr := caller.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
				return nil, nil, fmt.Errorf("wsman: %s: %w", shortAction(action), ctxErr)
			}
			if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
				// The HTTP deadline of this exchange, not the caller's.
				return nil, nil, &NetworkError{Action: shortAction(action), MaybeSent: true, Err: err}
			}
			if network, sent := networkCause(err); network {
				return nil, nil, &NetworkError{Action: shortAction(action), MaybeSent: sent, Err: err}
			}
			return nil, nil, fmt.Errorf("wsman: %s: %w", shortAction(action), err)
		}
		next, err := c.redirectTarget(resp, n)
		if err != nil || next == nil {
			if err != nil {
				resp.Body.Close()
				return nil, nil, err
			}
			break
		}
		// Re-post the same envelope (as WinRM clients do for every
		// redirect status), after draining a bounded part of the body so
		// the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if c.log != nil {
			c.log.LogAttrs(ctx, slog.LevelDebug, "wsman redirect",
				slog.String("action", shortAction(action)),
				slog.Int("status", resp.StatusCode),
				slog.String("location", next.Redacted()))
		}
		target = next
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		if ctxErr := caller.Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("wsman: %s: reading response: %w", shortAction(action), ctxErr)
		}
		if network, _ := networkCause(err); network || ctx.Err() != nil {
			return nil, nil, &NetworkError{Action: shortAction(action), MaybeSent: true, Err: err, reading: true}
		}
		return nil, nil, fmt.Errorf("wsman: %s: reading response: %w", shortAction(action), err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return nil, nil, fmt.Errorf("%w (%d bytes)", ErrResponseTooLarge, c.cfg.MaxResponseBytes)
	}
	if c.log != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "wsman request",
			slog.String("action", shortAction(action)),
			slog.String("url", c.url.Redacted()),
			slog.Int("status", resp.StatusCode),
			slog.Int("request_bytes", len(body)),
			slog.Int("response_bytes", len(data)),
			slog.Duration("elapsed", time.Since(start)))
	}
	return resp, data, nil
}

// Post sends an already serialized SOAP envelope (for example one built by
// another library) through this client's transport, authentication, TLS,
// limits and fault handling, and returns the response body. A SOAP fault
// (with any HTTP status) is returned as a *Fault, a 401 as an *AuthError,
// other non-2xx statuses as an *HTTPError; only a 2xx non-fault body is
// returned. The HTTP deadline is Config.HTTPTimeout, or the client's
// OperationTimeout plus DefaultHTTPGrace.
func (c *Client) Post(ctx context.Context, envelope []byte) ([]byte, error) {
	timeout := c.cfg.HTTPTimeout
	if timeout == 0 {
		timeout = c.cfg.OperationTimeout + DefaultHTTPGrace
	}
	action := ""
	req, perr := ParseEnvelopeLimits(envelope, c.cfg.Limits)
	if perr == nil {
		action = req.Header.Action
	} else {
		req = &Envelope{}
	}
	resp, data, err := c.doHTTP(ctx, envelope, action, timeout)
	if err == nil {
		_, err = c.classify(req, resp, data)
	}
	if err != nil {
		c.logFailure(ctx, action, err)
		return nil, err
	}
	return data, nil
}

func (c *Client) handleResponse(req *Envelope, resp *http.Response, data []byte) (*Envelope, error) {
	env, err := c.classify(req, resp, data)
	if err != nil {
		return nil, err
	}
	if env == nil {
		_, perr := ParseEnvelopeLimits(data, c.cfg.Limits)
		if perr == nil {
			perr = &XMLError{Msg: "empty response body"}
		}
		return nil, fmt.Errorf("wsman: %s response: %w", shortAction(req.Header.Action), perr)
	}
	if env.Header.RelatesTo != "" && !strings.EqualFold(env.Header.RelatesTo, req.Header.MessageID) {
		return nil, fmt.Errorf("%w (sent %s, got %s)", ErrRelatesTo, req.Header.MessageID, truncate(env.Header.RelatesTo, 64))
	}
	return env, nil
}

// classify turns a response into an error (401, fault, HTTP error) or
// returns the parsed envelope (nil when a 2xx body did not parse).
func (c *Client) classify(req *Envelope, resp *http.Response, data []byte) (*Envelope, error) {
	if resp.StatusCode == http.StatusUnauthorized {
		e := &AuthError{StatusCode: resp.StatusCode, Reason: "no authentication configured"}
		if c.cfg.Auth != nil {
			e.Scheme = c.cfg.Auth.Scheme()
			e.Reason = "the server refused the request"
		}
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			s := v
			if i := strings.IndexByte(s, ' '); i >= 0 {
				s = s[:i]
			}
			if s != "" {
				e.Offered = append(e.Offered, s)
			}
		}
		return nil, e
	}
	var env *Envelope
	var perr error
	if len(bytes.TrimSpace(data)) > 0 {
		env, perr = ParseEnvelopeLimits(data, c.cfg.Limits)
	} else {
		perr = &XMLError{Msg: "empty response body"}
	}
	if env != nil && env.IsFault() {
		f, err := ParseFault(env.BodyElement())
		if err != nil {
			return nil, err
		}
		f.HTTPStatus = resp.StatusCode
		f.Action = req.Header.Action
		return nil, f
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// An HTTP error, never a success, even with a SOAP body.
		return nil, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status,
			Location: resp.Header.Get("Location"), Body: boundedBody(data)}
	}
	if perr != nil {
		return nil, nil
	}
	return env, nil
}

func shortAction(a string) string {
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		return a[i+1:]
	}
	return a
}
