package auth

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	enc      *kerberosEncTransport

	mu   sync.Mutex
	mode kerberosMode
	cbt  []byte // channel binding application data of the last TLS response
}

func newKerberosTransport(k *Kerberos, next http.RoundTripper, opts WrapOptions, scheme string, fallback http.RoundTripper) *kerberosTransport {
	return &kerberosTransport{k: k, next: next, opts: opts, scheme: scheme, fallback: fallback,
		enc: newKerberosEncTransport(k, next, opts)}
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
	mode, cbt := t.state()
	if mode == krbModeFallback {
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
	if encrypt {
		resp, err := t.enc.RoundTrip(krbWithBody(req, body, ""))
		if err != nil && t.fallback != nil && mode == krbModeUnknown &&
			(krbIsKind(err, ErrKerberosUnknownService) || krbIsKind(err, ErrKerberosKDCUnreachable) ||
				krbIsKind(err, ErrKerberosNotOffered) || krbIsKind(err, ErrKerberosEncryptionUnsupported)) {
			t.switchToFallback("Kerberos message encryption unavailable: " + err.Error())
			return t.fallback.RoundTrip(krbWithBody(req, body, ""))
		}
		if err == nil {
			t.setMode(krbModeConnection)
		}
		return resp, err
	}
	spn := t.k.spnFor(req.URL.Hostname())

	var resp *http.Response
	if mode == krbModePerRequest {
		hdr, err := t.k.token(req.Context(), spn, cbt)
		if err != nil {
			return t.tokenFailed(req, body, err)
		}
		resp, err = t.next.RoundTrip(krbWithBody(req, body, hdr))
		if err != nil {
			return nil, err
		}
	} else {
		resp, err = t.next.RoundTrip(krbWithBody(req, body, ""))
		if err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return t.checkFinal(resp, spn)
	}

	// 401: answer the challenge once with a fresh token.
	ch, err := parseNegotiateChallenge(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		krbDrainClose(resp)
		return nil, &KerberosError{Op: "request", SPN: spn, Kind: ErrKerberosRejected, Err: err}
	}
	if !ch.Negotiate {
		if t.fallback != nil && mode == krbModeUnknown {
			krbDrainClose(resp)
			t.switchToFallback("server does not offer Negotiate")
			return t.fallback.RoundTrip(krbWithBody(req, body, ""))
		}
		krbDrainClose(resp)
		return nil, &KerberosError{Op: "request", SPN: spn, Kind: ErrKerberosNotOffered,
			Err: fmt.Errorf("HTTP 401 offers %q", ch.Schemes)}
	}
	if req.URL.Scheme == "https" {
		cbt = t.bindingsFrom(resp.TLS)
	}
	krbDrainClose(resp)
	t.log("answering Negotiate challenge", spn)
	hdr, err := t.k.token(req.Context(), spn, cbt)
	if err != nil {
		if mode == krbModeUnknown {
			return t.tokenFailed(req, body, err)
		}
		return nil, err
	}
	resp, err = t.next.RoundTrip(krbWithBody(req, body, hdr))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		krbDrainClose(resp)
		return nil, &KerberosError{Op: "request", Principal: t.k.principal, SPN: spn, Kind: ErrKerberosRejected, Err: rejection(resp, req.URL.Host)}
	}
	switch mode {
	case krbModeUnknown:
		t.setMode(krbModeConnection)
	case krbModeConnection:
		// Authenticated before, asked again: authenticate every request.
		t.setMode(krbModePerRequest)
	}
	return t.checkFinal(resp, spn)
}

// tokenFailed handles a failure to make a token: Negotiate with a fallback
// falls back when Kerberos cannot be used for this server (unknown SPN, no
// KDC), as Windows' Negotiate package does; otherwise the error is returned.
func (t *kerberosTransport) tokenFailed(req *http.Request, body []byte, err error) (*http.Response, error) {
	if t.fallback != nil && (krbIsKind(err, ErrKerberosUnknownService) || krbIsKind(err, ErrKerberosKDCUnreachable)) {
		t.switchToFallback("Kerberos unavailable for this server")
		return t.fallback.RoundTrip(krbWithBody(req, body, ""))
	}
	return nil, err
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

func (t *kerberosTransport) log(msg, spn string) {
	if t.opts.Logger != nil {
		t.opts.Logger.Debug("auth: "+msg, "scheme", t.scheme, "principal", t.k.principal, "spn", spn)
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
