package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"unicode/utf16"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// Encryption selects WinRM message encryption for NTLM.
type Encryption int

const (
	// EncryptionAuto encrypts over http:// and not over https:// (TLS
	// already protects the messages). This is what PowerShell does.
	EncryptionAuto Encryption = iota
	// EncryptionAlways encrypts over both.
	EncryptionAlways
	// EncryptionNever never encrypts. Over http:// this needs
	// WrapOptions.AllowUnencrypted and a server with AllowUnencrypted=true.
	EncryptionNever
)

// NTLM authenticates with NTLMv2 through the Negotiate HTTP scheme that
// WinRM offers.
//
// Two code paths, chosen per request:
//
//   - Without message encryption (https:// by default) the handshake uses
//     github.com/Azure/go-ntlmssp, the request body is sent with both
//     handshake legs, and channel bindings (RFC 5929
//     tls-server-end-point) are added to the response by inserting the
//     MsvAvChannelBindings AV pair into the target info Azure echoes.
//   - With message encryption (http:// by default) Azure cannot help: it
//     has no session key, signing, sealing or key exchange. The handshake
//     then uses this module's auth/ntlm (NTLMv2, extended session security,
//     key exchange, MIC) on an empty-body request, and every message is
//     sealed into a multipart/encrypted body and every response unsealed.
//
// # Connections
//
// NTLM authenticates a TCP connection, and with message encryption each
// connection has its own security context whose sealing state runs on from
// message to message. The transport therefore keeps a small pool of
// independently authenticated connections (at most MaxConnections, opened
// lazily). Each request takes an idle connection already authenticated for
// its host and mode, or else authenticates a new one, and uses it alone
// until its response has been read; so a long-polling Receive holds one
// connection and does not block the Send, Signal or other Receive requests
// of the same client. When all connections are busy a request waits,
// honouring its context.
//
// Pinning: when the wrapped transport is an *http.Transport (what
// wsman.Client uses), every pooled connection gets its own clone of it with
// MaxConnsPerHost = 1 and HTTP/1.1 only. Since only the request holding the
// pooled connection uses that clone, all of its requests (the handshake legs
// and the requests after them) travel over the same TCP connection for as
// long as it stays open, while proxies, TLS settings and dialers of the
// original are kept. Any other RoundTripper cannot be pinned that way: it is
// used as it is, with one connection (requests serialized, MaxConnections
// ignored), as before the pool existed.
//
// Recovery: when a connection is lost, the transport behind it dials a new
// one; the server answers 401 to a request on an unauthenticated
// connection, and the transport authenticates again and replays the request
// once. A transport error (including a cancelled context, which closes the
// connection) resets that pooled connection only: its next user
// authenticates again; the failed request is not retried, since the server
// may have processed it. A failure to unseal a response, or a plaintext
// answer where an encrypted one was expected, also resets it. The
// underlying transport must speak HTTP/1.1: NTLM cannot authenticate HTTP/2
// streams.
//
// Responses are read completely (bounded by MaxResponseBytes) before
// RoundTrip returns, so a connection is back in the pool as soon as the
// caller has the response. The transport implements CloseIdleConnections
// (http.Client.CloseIdleConnections and wsman.Client.CloseIdleConnections
// reach it), which closes the idle pooled connections.
type NTLM struct {
	// Username is "user", `DOMAIN\user` or "user@domain".
	Username string
	// Password is never logged or put in errors.
	Password string
	// Domain overrides the domain parsed from Username.
	Domain string
	// Workstation is sent as the client machine name (informative).
	Workstation string
	// TargetSPN is sent as MsvAvTargetName (e.g.
	// "HTTP/server.example.com"). On the encrypted path it defaults to
	// "HTTP/" + the URL's host; on the Azure path it is sent only when set.
	TargetSPN string
	// Encryption selects message encryption; the default EncryptionAuto
	// encrypts over http:// only.
	Encryption Encryption
	// DisableChannelBinding leaves channel bindings out over https://.
	DisableChannelBinding bool
	// MaxResponseBytes bounds each response body (a sealed body may exceed
	// it by a few KiB of framing). The smaller of it and
	// WrapOptions.MaxResponseBytes applies; 0 leaves the latter, or
	// DefaultMaxResponseBytes when neither is set.
	MaxResponseBytes int64
	// MaxConnections bounds the authenticated connections used at the same
	// time (and so the requests in flight); 0 means
	// DefaultNTLMMaxConnections, 1 serializes every request on one
	// connection. It applies when the wrapped transport is an
	// *http.Transport (see Connections above). Requests beyond the limit
	// wait for a free connection, so a caller that keeps long-polling
	// Receives outstanding must keep their number below the limit for its
	// other requests to get through.
	MaxConnections int
}

// Scheme returns "NTLM".
func (n *NTLM) Scheme() string { return "NTLM" }

// Wrap returns the authenticating RoundTripper.
func (n *NTLM) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if n.Username == "" {
		return nil, errors.New("auth: NTLM needs a user name")
	}
	if n.MaxConnections < 0 {
		return nil, errors.New("auth: NTLM MaxConnections must not be negative")
	}
	if next == nil {
		next = http.DefaultTransport
	}
	cfg := *n
	cfg.MaxResponseBytes = responseLimit(n.MaxResponseBytes, opts.MaxResponseBytes)
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultNTLMMaxConnections
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &ntlmTransport{cfg: cfg, next: next, opts: opts, log: log,
		pool: newConnPool[*ntlm.Session](next, cfg.MaxConnections)}
	return t, nil
}

type ntlmTransport struct {
	cfg  NTLM
	next http.RoundTripper
	opts WrapOptions
	log  *slog.Logger
	pool *connPool[*ntlm.Session]
}

func (t *ntlmTransport) wantEncryption(req *http.Request) bool {
	switch t.cfg.Encryption {
	case EncryptionAlways:
		return true
	case EncryptionNever:
		return false
	}
	return !isHTTPS(req)
}

func (t *ntlmTransport) authErr(status int, reason string, err error) error {
	return &AuthError{Scheme: "NTLM", StatusCode: status, Reason: reason, Err: err}
}

// CloseIdleConnections closes the idle pooled connections (their next use
// authenticates again) and the wrapped transport's idle connections.
func (t *ntlmTransport) CloseIdleConnections() {
	t.pool.closeIdle()
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// RoundTrip sends one request on a pooled connection, authenticating it
// first when needed.
func (t *ntlmTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTripPooled(req)
	if err != nil {
		logFailure(t.log, req, "NTLM", err)
	}
	return resp, err
}

func (t *ntlmTransport) roundTripPooled(req *http.Request) (*http.Response, error) {
	if err := checkRedirect(req, t.opts); err != nil {
		return nil, err
	}
	body, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	encrypt := t.wantEncryption(req)
	if !encrypt && !isHTTPS(req) && !t.opts.AllowUnencrypted {
		return nil, t.authErr(0, "not sent", ErrInsecureTransport)
	}
	c, err := t.pool.get(req.Context(), req.URL.Host, encrypt)
	if err != nil {
		return nil, err
	}
	defer t.pool.put(c)
	return t.roundTrip(c, req, body, encrypt)
}

// roundTrip sends req on c, which the caller holds.
func (t *ntlmTransport) roundTrip(c *ntlmConn, req *http.Request, body []byte, encrypt bool) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		if !c.matches(req.URL.Host, encrypt) {
			// A connection authenticated for another host or mode is
			// closed; an unauthenticated one is kept for the handshake.
			c.reset(c.authed)
			resp, err := t.handshake(c, req, body, encrypt)
			if err != nil {
				c.reset(true)
				return nil, err
			}
			if resp != nil { // the final handshake leg carried the request
				return t.finishChecked(ctx, c, resp, false)
			}
		}
		var used net.Conn
		resp, err := t.send(c, req, body, encrypt, &used)
		if err != nil {
			c.reset(true)
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			// A request that went over another connection than the one
			// authenticated (net/http dialled again, see handshake) met a
			// reconnect, not a refusal: authenticating again is expected
			// to help, up to maxReconnectAttempts times.
			reconnected := c.conn != nil && used != nil && used != c.conn
			drain(resp)
			c.reset(false)
			if attempt == 0 || (reconnected && attempt < maxReconnectAttempts) {
				t.log.DebugContext(ctx, "ntlm: server no longer knows the connection; authenticating again")
				continue
			}
			return nil, t.authErr(resp.StatusCode, "server rejected the authenticated connection", nil)
		}
		return t.finishChecked(ctx, c, resp, encrypt)
	}
}

// finishChecked is finish, and forgets the connection when the request's
// context ended meanwhile: net/http returns a response that raced the
// cancellation, but it has closed the connection.
func (t *ntlmTransport) finishChecked(ctx context.Context, c *ntlmConn, resp *http.Response, encrypt bool) (*http.Response, error) {
	resp, err := t.finish(c, resp, encrypt)
	if err == nil && ctx.Err() != nil {
		c.reset(true)
	}
	return resp, err
}

// maxReconnectAttempts bounds how often roundTrip authenticates again for
// one request whose authenticated connection was replaced by a new one.
const maxReconnectAttempts = 3

// send transmits an already-authenticated request and records the
// connection it went over in *used (when the transport tells).
func (t *ntlmTransport) send(c *ntlmConn, req *http.Request, body []byte, encrypt bool, used *net.Conn) (*http.Response, error) {
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { *used = i.Conn }})
	if !encrypt {
		return c.rt.RoundTrip(cloneWithBody(ctx, req, body))
	}
	sealed, ct, err := SealBody(c.state, ProtocolSPNEGO, req.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	r := cloneWithBody(ctx, req, sealed)
	r.Header.Set("Content-Type", ct)
	return c.rt.RoundTrip(r)
}

// finish buffers the response (so the connection is free for the next
// request) and, on the encrypted path, unseals it.
func (t *ntlmTransport) finish(c *ntlmConn, resp *http.Response, encrypt bool) (*http.Response, error) {
	limit := t.cfg.MaxResponseBytes
	if encrypt {
		limit += encryptedFraming
	}
	raw, err := readLimitedSize(resp.Body, limit, resp.ContentLength)
	if err != nil {
		c.reset(true)
		return nil, err
	}
	if !encrypt {
		replaceBody(resp, raw)
		return resp, nil
	}
	protocol, ok := ParseEncryptedContentType(resp.Header.Get("Content-Type"))
	if !ok {
		if len(raw) > 0 && (resp.StatusCode < 300 || resp.StatusCode == http.StatusInternalServerError) {
			// Never fall back to trusting plaintext.
			c.reset(true)
			return nil, &EncryptedBodyError{Reason: fmt.Sprintf("HTTP %d response is not encrypted (Content-Type %q)", resp.StatusCode, resp.Header.Get("Content-Type"))}
		}
		replaceBody(resp, raw) // empty, or a plain HTTP error (400, 503, ...)
		return resp, nil
	}
	if protocol != ProtocolSPNEGO {
		c.reset(true)
		return nil, &EncryptedBodyError{Reason: "unexpected protocol " + protocol}
	}
	plain, origType, err := UnsealBody(c.state, protocol, raw, int(limit))
	if err != nil {
		c.reset(true)
		return nil, err
	}
	if int64(len(plain)) > t.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, t.cfg.MaxResponseBytes)
	}
	if origType == "" {
		origType = SOAPContentType
	}
	resp.Header.Set("Content-Type", origType)
	replaceBody(resp, plain)
	return resp, nil
}

// handshaker produces the two client tokens.
type handshaker interface {
	negotiate() ([]byte, error)
	authenticate(challenge, bindings []byte) ([]byte, error)
}

// azureHandshake uses github.com/Azure/go-ntlmssp (no session security).
type azureHandshake struct{ cfg *NTLM }

func (a azureHandshake) negotiate() ([]byte, error) {
	return ntlmssp.NewNegotiateMessage("", a.cfg.Workstation)
}

func (a azureHandshake) authenticate(challenge, bindings []byte) ([]byte, error) {
	if bindings != nil || a.cfg.TargetSPN != "" {
		// Azure echoes the challenge's target info into its NTLMv2
		// response; add MsvAvChannelBindings and MsvAvTargetName there,
		// as a client does.
		ch, err := ntlm.ParseChallenge(challenge)
		if err != nil {
			return nil, err
		}
		if bindings != nil {
			h := ChannelBindingHash(bindings)
			ch.TargetInfo = ch.TargetInfo.Set(ntlm.AvChannelBindings, h[:])
		}
		if a.cfg.TargetSPN != "" {
			ch.TargetInfo = ch.TargetInfo.Set(ntlm.AvTargetName, utf16le(a.cfg.TargetSPN))
		}
		ch.TargetInfoRaw = nil
		challenge = ch.Marshal()
	}
	user := a.cfg.Username
	if a.cfg.Domain != "" {
		u, _ := ntlm.SplitUser(user)
		user = a.cfg.Domain + `\` + u
	}
	var o *ntlmssp.AuthenticateMessageOptions
	if a.cfg.Workstation != "" {
		o = &ntlmssp.AuthenticateMessageOptions{WorkstationName: a.cfg.Workstation}
	}
	return ntlmssp.NewAuthenticateMessage(challenge, user, a.cfg.Password, o)
}

// sealingHandshake uses auth/ntlm and keeps the session.
type sealingHandshake struct{ c *ntlm.Client }

func (s *sealingHandshake) negotiate() ([]byte, error) {
	return s.c.Negotiate(), nil
}

func (s *sealingHandshake) authenticate(challenge, bindings []byte) ([]byte, error) {
	if bindings != nil {
		s.c.SetChannelBindings(GSSChannelBindings(bindings))
	}
	return s.c.Authenticate(challenge)
}

// handshake runs NEGOTIATE → 401 CHALLENGE → AUTHENTICATE on one
// connection. On the encrypted path the legs carry no body and it returns
// (nil, nil) once authenticated; otherwise they carry the request body and
// it returns the final response.
//
// When the AUTHENTICATE leg went out on another TCP connection than the
// NEGOTIATE leg and the server answered it with 401, the handshake starts
// again once, on the connection now in use. That happens without anyone
// doing wrong: net/http does not reuse a connection whose request write it
// has not seen complete within 50 ms of reading the response
// (persistConn.wroteRequest, maxWriteWaitBeforeConnReuse), which a loaded
// machine can exceed, and a server or proxy may close the connection after
// its 401. The server has not processed a request it answered with 401, so
// sending the body again is safe.
func (t *ntlmTransport) handshake(c *ntlmConn, req *http.Request, body []byte, encrypt bool) (*http.Response, error) {
	resp, changed, err := t.handshakeOnce(c, req, body, encrypt)
	if changed {
		t.log.DebugContext(req.Context(), "ntlm: the connection changed during the handshake; starting again on the new one", "host", req.URL.Host)
		resp, _, err = t.handshakeOnce(c, req, body, encrypt)
	}
	return resp, err
}

// handshakeOnce runs the handshake once. changed reports (with an error)
// that the server refused the AUTHENTICATE leg sent on another connection
// than the NEGOTIATE leg.
func (t *ntlmTransport) handshakeOnce(c *ntlmConn, req *http.Request, body []byte, encrypt bool) (*http.Response, bool, error) {
	ctx := req.Context()
	var hs handshaker
	if encrypt {
		spn := t.cfg.TargetSPN
		if spn == "" {
			spn = "HTTP/" + req.URL.Hostname()
		}
		nc, err := ntlm.NewClient(ntlm.ClientConfig{
			User: t.cfg.Username, Password: t.cfg.Password, Domain: t.cfg.Domain,
			Workstation: t.cfg.Workstation, TargetSPN: spn,
		})
		if err != nil {
			return nil, false, t.authErr(0, "bad configuration", err)
		}
		hs = &sealingHandshake{c: nc}
	} else {
		hs = azureHandshake{cfg: &t.cfg}
	}
	legBody := body
	if encrypt {
		legBody = nil
	}

	neg, err := hs.negotiate()
	if err != nil {
		return nil, false, t.authErr(0, "building NEGOTIATE", err)
	}
	var conn1, conn2 net.Conn
	scheme := "Negotiate"
	resp, err := t.leg(ctx, c, req, legBody, scheme, neg, &conn1)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		if !encrypt && resp.StatusCode < 300 {
			// The server accepted the connection without a challenge.
			c.setAuthed(req.URL.Host, encrypt, nil, conn1)
			return resp, false, nil
		}
		drain(resp)
		return nil, false, t.authErr(resp.StatusCode, "unexpected status answering NEGOTIATE", nil)
	}
	challenge, offered, err := challengeToken(resp.Header, scheme)
	if !offered {
		if _, ntlmOffered, _ := challengeToken(resp.Header, "NTLM"); ntlmOffered {
			// The server offers only the NTLM scheme: start again with it.
			drain(resp)
			scheme = "NTLM"
			if resp, err = t.leg(ctx, c, req, legBody, scheme, neg, &conn1); err != nil {
				return nil, false, err
			}
			challenge, offered, err = challengeToken(resp.Header, scheme)
		}
	}
	drain(resp)
	if err != nil || !offered || len(challenge) == 0 {
		return nil, false, t.authErr(resp.StatusCode, "server sent no NTLM challenge (offered: "+offeredSchemes(resp.Header)+")", err)
	}
	var bindings []byte
	if isHTTPS(req) && !t.cfg.DisableChannelBinding {
		if bindings, err = TLSChannelBindings(resp.TLS); err != nil {
			return nil, false, t.authErr(0, "channel binding", err)
		}
	}
	auth, err := hs.authenticate(challenge, bindings)
	if err != nil {
		return nil, false, t.authErr(resp.StatusCode, "processing the server challenge", err)
	}
	resp, err = t.leg(ctx, c, req, legBody, scheme, auth, &conn2)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drain(resp)
		if conn1 != nil && conn2 != nil && conn1 != conn2 {
			return nil, true, t.authErr(resp.StatusCode, "the connection changed during the handshake (is HTTP keep-alive disabled?)", nil)
		}
		return nil, false, t.authErr(resp.StatusCode, "credentials rejected", nil)
	}
	c.setAuthed(req.URL.Host, encrypt, nil, conn2)
	if encrypt {
		drain(resp)
		if resp.StatusCode >= 300 {
			return nil, false, t.authErr(resp.StatusCode, "unexpected status answering AUTHENTICATE", nil)
		}
		sh := hs.(*sealingHandshake)
		if c.state = sh.c.Session(); c.state == nil {
			return nil, false, t.authErr(0, "server did not agree to sealing", ntlm.ErrNoSealing)
		}
		t.log.DebugContext(ctx, "ntlm: authenticated with message encryption", "host", req.URL.Host)
		return nil, false, nil
	}
	t.log.DebugContext(ctx, "ntlm: authenticated", "host", req.URL.Host, "channel_binding", bindings != nil)
	return resp, false, nil
}

// leg sends one handshake request and records the connection it used.
func (t *ntlmTransport) leg(ctx context.Context, c *ntlmConn, req *http.Request, body []byte, scheme string, token []byte, conn *net.Conn) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { *conn = i.Conn }}
	// An empty-body leg keeps the request's Content-Type, as pywinrm's
	// encryption setup request (known to work with Windows) does.
	r := cloneWithBody(httptrace.WithClientTrace(ctx, trace), req, body)
	r.Header.Set("Authorization", scheme+" "+base64.StdEncoding.EncodeToString(token))
	return c.rt.RoundTrip(r)
}

// utf16le encodes s as UTF-16 little endian.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return b
}
