package auth

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// kerberosMode is what a kerberosTransport has learned about the server.
type kerberosMode int

const (
	// krbModeUnknown: nothing sent yet; the first request goes without a
	// token, to learn the offered schemes and the TLS certificate.
	krbModeUnknown kerberosMode = iota
	// krbModeConnection: the server accepted a token and keeps the connection
	// authenticated (HTTP.sys does); requests go without a token and a 401
	// is answered with one.
	krbModeConnection
	// krbModePerRequest: the server asked again after authenticating, so every
	// request carries a fresh token (a new AP-REQ from the cached ticket).
	krbModePerRequest
	// krbModeFallback: Negotiate only: the server or the KDC ruled Kerberos
	// out and every request goes to the fallback authenticator.
	krbModeFallback
)

// kerberosTransport is the RoundTripper of Kerberos and Negotiate.
type kerberosTransport struct {
	k        *Kerberos
	next     http.RoundTripper
	opts     WrapOptions
	scheme   string            // "Kerberos" or "Negotiate", for errors and logs
	fallback http.RoundTripper // Negotiate's fallback, or nil
	maxResp  int64
	// pool holds the authenticated connections (see "Connections" on
	// Kerberos); a slot's state is its sealing context, nil over HTTPS.
	pool *connPool[*kerberosSealer]

	mu   sync.Mutex
	mode kerberosMode
	cbt  []byte // channel binding application data of the last TLS response
}

// krbConn is one pooled Kerberos connection.
type krbConn = connSlot[*kerberosSealer]

func newKerberosTransport(k *Kerberos, next http.RoundTripper, opts WrapOptions, scheme string, fallback http.RoundTripper) *kerberosTransport {
	max := k.cfg.MaxConnections
	if max <= 0 {
		max = DefaultKerberosMaxConnections
	}
	maxResp := responseLimit(k.cfg.MaxResponseBytes, opts.MaxResponseBytes)
	return &kerberosTransport{k: k, next: next, opts: opts, scheme: scheme, fallback: fallback, maxResp: maxResp,
		pool: newConnPool[*kerberosSealer](next, max)}
}

// CloseIdleConnections closes the idle pooled connections (their next use
// authenticates again), and the idle connections of the fallback and of
// the wrapped transport.
func (t *kerberosTransport) CloseIdleConnections() {
	t.pool.closeIdle()
	for _, rt := range []http.RoundTripper{t.fallback, t.next} {
		if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
	}
}

// wantEncryption reports whether req is sent with message encryption.
func (t *kerberosTransport) wantEncryption(req *http.Request) bool {
	switch t.k.cfg.Encryption {
	case EncryptionAlways:
		return true
	case EncryptionNever:
		return false
	}
	return req.URL.Scheme != "https"
}

func (t *kerberosTransport) state() (kerberosMode, []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mode, t.cbt
}

func (t *kerberosTransport) setMode(m kerberosMode) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mode != krbModeFallback {
		t.mode = m
	}
}

// bindingsFrom returns the channel binding application data for a TLS
// response, remembering it for later requests.
func (t *kerberosTransport) bindingsFrom(cs *tls.ConnectionState) []byte {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	cbt := TLSServerEndPoint(cs.PeerCertificates[0])
	t.mu.Lock()
	t.cbt = cbt
	t.mu.Unlock()
	return cbt
}

// RoundTrip implements http.RoundTripper.
func (t *kerberosTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkRedirect(req, t.opts); err != nil {
		logFailure(t.opts.Logger, req, t.scheme, err)
		return nil, err
	}
	resp, err := t.roundTrip(req)
	if err != nil {
		logFailure(t.opts.Logger, req, t.scheme, err)
	}
	return resp, err
}

func (t *kerberosTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if mode, _ := t.state(); mode == krbModeFallback {
		return t.fallback.RoundTrip(req)
	}
	encrypt := t.wantEncryption(req)
	if !encrypt && req.URL.Scheme != "https" && !t.opts.AllowUnencrypted {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &KerberosError{Op: "request", Principal: t.k.principal, Kind: ErrInsecureTransport}
	}
	body, err := krbReadBody(req)
	if err != nil {
		return nil, &KerberosError{Op: "request", Err: fmt.Errorf("read request body: %w", err)}
	}
	resp, fallbackWhy, err := t.roundTripPooled(req, body, encrypt)
	if fallbackWhy != "" {
		// The pooled connection is back in the pool: the fallback uses its
		// own connections.
		t.switchToFallback(fallbackWhy)
		return t.fallback.RoundTrip(krbWithBody(req, body, ""))
	}
	return resp, err
}

// roundTripPooled sends req on a pooled connection. A non-empty fallbackWhy
// means that Negotiate must fall back (nothing was sent with Kerberos).
func (t *kerberosTransport) roundTripPooled(req *http.Request, body []byte, encrypt bool) (resp *http.Response, fallbackWhy string, err error) {
	if !encrypt && !t.pool.pinned {
		// The wrapped transport cannot be pinned: use it concurrently, as
		// before the pool existed.
		return t.roundTripUnsealed(&krbConn{rt: t.next}, req, body)
	}
	ctx := req.Context()
	c, err := t.pool.get(ctx, req.URL.Host, encrypt)
	if err != nil {
		return nil, "", &KerberosError{Op: "request", Err: err}
	}
	defer t.pool.put(c)
	if encrypt {
		mode, _ := t.state()
		resp, err = t.roundTripSealed(c, req, body)
		if err != nil && t.fallback != nil && mode == krbModeUnknown &&
			(krbIsKind(err, ErrKerberosUnknownService) || krbIsKind(err, ErrKerberosKDCUnreachable) ||
				krbIsKind(err, ErrKerberosNotOffered) || krbIsKind(err, ErrKerberosEncryptionUnsupported)) {
			return nil, "Kerberos message encryption unavailable: " + err.Error(), nil
		}
		if err == nil {
			t.setMode(krbModeConnection)
		}
	} else {
		resp, fallbackWhy, err = t.roundTripUnsealed(c, req, body)
	}
	if err == nil && fallbackWhy == "" && ctx.Err() != nil {
		// net/http returned a response that raced the cancellation, but
		// it has closed the connection.
		c.reset(true)
	}
	return resp, fallbackWhy, err
}

// roundTripUnsealed sends req without message encryption (HTTPS, or HTTP
// with EncryptionNever) on c, which the caller holds, answering a 401 once
// with a fresh token.
func (t *kerberosTransport) roundTripUnsealed(c *krbConn, req *http.Request, body []byte) (*http.Response, string, error) {
	mode, cbt := t.state()
	ctx := req.Context()
	host := req.URL.Host
	spn := t.k.spnFor(req.URL.Hostname())
	if c.authed && !c.matches(host, false) {
		c.reset(true) // authenticated for another host or mode
	}
	// used is the connection each request went over (nil when the wrapped
	// transport does not report it).
	var used net.Conn
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { used = i.Conn }})
	send := func(hdr string) (*http.Response, error) {
		r := krbWithBody(req.WithContext(traced), body, hdr)
		resp, err := c.rt.RoundTrip(r)
		if err != nil {
			c.reset(true)
		}
		return resp, err
	}

	hdr := ""
	if mode == krbModePerRequest {
		var err error
		if hdr, err = t.k.token(ctx, spn, cbt); err != nil {
			return t.tokenFailed(err)
		}
	}
	resp, err := send(hdr)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		if hdr != "" {
			c.setAuthed(host, false, nil, used)
		}
		return t.finishUnsealed(c, resp, spn)
	}

	// 401: answer the challenge once with a fresh token.
	ch, err := parseNegotiateChallenge(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		krbDrainClose(resp)
		return nil, "", &KerberosError{Op: "request", SPN: spn, Kind: ErrKerberosRejected, Err: err}
	}
	if !ch.Negotiate {
		krbDrainClose(resp)
		if t.fallback != nil && mode == krbModeUnknown {
			return nil, "server does not offer Negotiate", nil
		}
		return nil, "", &KerberosError{Op: "request", SPN: spn, Kind: ErrKerberosNotOffered,
			Err: fmt.Errorf("HTTP 401 offers %q", ch.Schemes)}
	}
	// Did the server ask again on the connection it authenticated (it
	// wants a token with every request), or is this a new connection (it
	// simply does not know it)? Without pinning, as before the pool: any
	// 401 after an accepted token counts as asking again.
	askedAgain := mode == krbModeConnection
	if t.pool.pinned {
		askedAgain = c.matches(host, false) && c.conn != nil && c.conn == used
	}
	c.reset(false)
	if req.URL.Scheme == "https" {
		cbt = t.bindingsFrom(resp.TLS)
	}
	krbDrainClose(resp)
	t.log(ctx, "answering Negotiate challenge", spn)
	if hdr, err = t.k.token(ctx, spn, cbt); err != nil {
		if mode == krbModeUnknown {
			return t.tokenFailed(err)
		}
		return nil, "", err
	}
	if resp, err = send(hdr); err != nil {
		return nil, "", err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		krbDrainClose(resp)
		return nil, "", &KerberosError{Op: "request", Principal: t.k.principal, SPN: spn, Kind: ErrKerberosRejected, Err: rejection(resp, req.URL.Host)}
	}
	c.setAuthed(host, false, nil, used)
	switch {
	case mode == krbModeUnknown:
		t.setMode(krbModeConnection)
	case mode == krbModeConnection && askedAgain:
		// Authenticated before, asked again: authenticate every request.
		t.setMode(krbModePerRequest)
	}
	return t.finishUnsealed(c, resp, spn)
}

// finishUnsealed buffers the response (so that the connection is free for
// the next request) and checks the server's final token.
func (t *kerberosTransport) finishUnsealed(c *krbConn, resp *http.Response, spn string) (*http.Response, string, error) {
	raw, err := readLimitedSize(resp.Body, t.maxResp, resp.ContentLength)
	if err != nil {
		c.reset(true)
		return nil, "", err
	}
	replaceBody(resp, raw)
	resp, err = t.checkFinal(resp, spn)
	return resp, "", err
}

// tokenFailed handles a failure to make a token: Negotiate with a fallback
// falls back when Kerberos cannot be used for this server (unknown SPN, no
// KDC), as Windows' Negotiate package does; otherwise the error is returned.
func (t *kerberosTransport) tokenFailed(err error) (*http.Response, string, error) {
	if t.fallback != nil && (krbIsKind(err, ErrKerberosUnknownService) || krbIsKind(err, ErrKerberosKDCUnreachable)) {
		return nil, "Kerberos unavailable for this server", nil
	}
	return nil, "", err
}

func krbIsKind(err error, kind error) bool {
	ke, ok := err.(*KerberosError)
	return ok && ke.Kind == kind
}

func (t *kerberosTransport) switchToFallback(why string) {
	t.mu.Lock()
	t.mode = krbModeFallback
	t.mu.Unlock()
	if t.opts.Logger != nil {
		t.opts.Logger.Debug("auth: negotiate falls back", "reason", why)
	}
}

func (t *kerberosTransport) log(ctx context.Context, msg, spn string) {
	if t.opts.Logger != nil {
		t.opts.Logger.DebugContext(ctx, "auth: "+msg, "scheme", t.scheme, "principal", t.k.principal, "spn", spn)
	}
}

// checkFinal checks the server's final SPNEGO token, when it sends one,
// and returns the response. A token that says "reject" fails the request;
// a token this package cannot decode is ignored, since on this path it
// authenticates nothing (TLS authenticates the server).
func (t *kerberosTransport) checkFinal(resp *http.Response, spn string) (*http.Response, error) {
	vals := resp.Header.Values("WWW-Authenticate")
	if len(vals) == 0 {
		return resp, nil
	}
	ch, err := parseNegotiateChallenge(vals)
	if err != nil || ch.NegotiateToken == nil {
		return resp, nil
	}
	if state, err := negotiateResponseState(ch.NegotiateToken); err == nil && state == spnego.NegStateReject {
		krbDrainClose(resp)
		return nil, &KerberosError{Op: "request", Principal: t.k.principal, SPN: spn, Kind: ErrKerberosRejected,
			Err: errors.New("server SPNEGO state is reject")}
	}
	return resp, nil
}

// rejection describes a 401 answer to a Kerberos token, with the KRB-ERROR
// the server put in its Negotiate token when there is one (for example
// KRB_AP_ERR_MODIFIED when the SPN's key is not the server's, or
// KRB_AP_ERR_SKEW for clocks too far apart).
func rejection(resp *http.Response, host string) error {
	msg := fmt.Sprintf("HTTP 401 from %s after sending a Kerberos token", host)
	ch, err := parseNegotiateChallenge(resp.Header.Values("WWW-Authenticate"))
	if err != nil || ch.NegotiateToken == nil {
		return errors.New(msg)
	}
	if code, ok := krbErrorInToken(ch.NegotiateToken); ok {
		return fmt.Errorf("%s: %s", msg, errorcode.Lookup(code))
	}
	return errors.New(msg)
}

// krbErrorInToken finds a KRB-ERROR in a server's SPNEGO or bare Kerberos
// token.
func krbErrorInToken(tok []byte) (code int32, ok bool) {
	defer func() {
		if recover() != nil {
			code, ok = 0, false
		}
	}()
	mech := tok
	if len(tok) > 0 && tok[0] == 0xa1 {
		_, resp, err := parseNegTokenResp(tok)
		if err != nil {
			return 0, false
		}
		mech = resp
	}
	tokID, inner, err := parseKrbGSSToken(mech)
	if err != nil || !bytes.Equal(tokID, []byte{0x03, 0x00}) {
		return 0, false
	}
	var ke messages.KRBError
	if ke.Unmarshal(inner) != nil {
		return 0, false
	}
	return ke.ErrorCode, true
}

// krbReadBody reads and closes the request body, so that it can be
// sent more than once.
func krbReadBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// krbWithBody clones req with body and the Authorization header set to auth
// (removed when auth is ""). The caller's request is not modified.
func krbWithBody(req *http.Request, body []byte, auth string) *http.Request {
	r := req.Clone(req.Context())
	if body == nil {
		r.Body = http.NoBody
		r.ContentLength = 0
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if auth == "" {
		r.Header.Del("Authorization")
	} else {
		r.Header.Set("Authorization", auth)
	}
	return r
}

// krbDrainClose reads a little of an unwanted response body, so that the
// connection can be reused, and closes it.
func krbDrainClose(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
