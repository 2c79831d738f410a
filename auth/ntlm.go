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
// NTLM authenticates a TCP connection, and the sealing state runs on from
// message to message, so the transport sends one request at a time over
// one kept-alive connection; concurrent callers wait (honouring their
// context). When the connection is lost the server answers 401 and the
// transport authenticates again on the new connection and replays the
// request once. A transport error resets the state: the next request
// authenticates again (the failed request is not retried, since the server
// may have processed it). The underlying transport must speak HTTP/1.1:
// NTLM cannot authenticate HTTP/2 streams.
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
	// MaxResponseBytes bounds each response body as received (sealed
	// bodies included); 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// Scheme returns "NTLM".
func (n *NTLM) Scheme() string { return "NTLM" }

// Wrap returns the authenticating RoundTripper.
func (n *NTLM) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if n.Username == "" {
		return nil, errors.New("auth: NTLM needs a user name")
	}
	if next == nil {
		next = http.DefaultTransport
	}
	cfg := *n
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ntlmTransport{cfg: cfg, next: next, opts: opts, log: log, sem: make(semaphore, 1)}, nil
}

type ntlmTransport struct {
	cfg  NTLM
	next http.RoundTripper
	opts WrapOptions
	log  *slog.Logger
	sem  semaphore

	// Guarded by sem.
	authed  bool
	host    string
	encrypt bool
	session *ntlm.Session
}

func (t *ntlmTransport) reset() {
	t.authed, t.session, t.host = false, nil, ""
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

// RoundTrip sends one request, authenticating first when needed.
func (t *ntlmTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	encrypt := t.wantEncryption(req)
	if !encrypt && !isHTTPS(req) && !t.opts.AllowUnencrypted {
		return nil, t.authErr(0, "not sent", ErrInsecureTransport)
	}
	ctx := req.Context()
	if err := t.sem.lock(ctx); err != nil {
		return nil, err
	}
	defer t.sem.unlock()

	for attempt := 0; ; attempt++ {
		if !t.authed || t.host != req.URL.Host || t.encrypt != encrypt {
			t.reset()
			resp, err := t.handshake(req, body, encrypt)
			if err != nil {
				return nil, err
			}
			if resp != nil { // the final handshake leg carried the request
				return t.finish(resp, false)
			}
		}
		resp, err := t.send(req, body, encrypt)
		if err != nil {
			t.reset()
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			drain(resp)
			t.reset()
			if attempt == 0 {
				t.log.DebugContext(ctx, "ntlm: server no longer knows the connection; authenticating again")
				continue
			}
			return nil, t.authErr(resp.StatusCode, "server rejected the authenticated connection", nil)
		}
		return t.finish(resp, encrypt)
	}
}

// send transmits an already-authenticated request.
func (t *ntlmTransport) send(req *http.Request, body []byte, encrypt bool) (*http.Response, error) {
	if !encrypt {
		return t.next.RoundTrip(cloneWithBody(req.Context(), req, body))
	}
	sealed, ct, err := SealBody(t.session, ProtocolSPNEGO, req.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	r := cloneWithBody(req.Context(), req, sealed)
	r.Header.Set("Content-Type", ct)
	return t.next.RoundTrip(r)
}

// finish buffers the response (so the connection is free for the next
// request) and, on the encrypted path, unseals it.
func (t *ntlmTransport) finish(resp *http.Response, encrypt bool) (*http.Response, error) {
	raw, err := readLimited(resp.Body, t.cfg.MaxResponseBytes)
	if err != nil {
		t.reset()
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
			t.reset()
			return nil, &EncryptedBodyError{Reason: fmt.Sprintf("HTTP %d response is not encrypted (Content-Type %q)", resp.StatusCode, resp.Header.Get("Content-Type"))}
		}
		replaceBody(resp, raw) // empty, or a plain HTTP error (400, 503, ...)
		return resp, nil
	}
	if protocol != ProtocolSPNEGO {
		t.reset()
		return nil, &EncryptedBodyError{Reason: "unexpected protocol " + protocol}
	}
	plain, origType, err := UnsealBody(t.session, protocol, raw, int(t.cfg.MaxResponseBytes))
	if err != nil {
		t.reset()
		return nil, err
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
func (t *ntlmTransport) handshake(req *http.Request, body []byte, encrypt bool) (*http.Response, error) {
	ctx := req.Context()
	var hs handshaker
	if encrypt {
		spn := t.cfg.TargetSPN
		if spn == "" {
			spn = "HTTP/" + req.URL.Hostname()
		}
		c, err := ntlm.NewClient(ntlm.ClientConfig{
			User: t.cfg.Username, Password: t.cfg.Password, Domain: t.cfg.Domain,
			Workstation: t.cfg.Workstation, TargetSPN: spn,
		})
		if err != nil {
			return nil, t.authErr(0, "bad configuration", err)
		}
		hs = &sealingHandshake{c: c}
	} else {
		hs = azureHandshake{cfg: &t.cfg}
	}
	legBody := body
	if encrypt {
		legBody = nil
	}

	neg, err := hs.negotiate()
	if err != nil {
		return nil, t.authErr(0, "building NEGOTIATE", err)
	}
	var conn1, conn2 net.Conn
	scheme := "Negotiate"
	resp, err := t.leg(ctx, req, legBody, scheme, neg, &conn1)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		if !encrypt && resp.StatusCode < 300 {
			// The server accepted the connection without a challenge.
			t.authed, t.host, t.encrypt = true, req.URL.Host, encrypt
			return resp, nil
		}
		drain(resp)
		return nil, t.authErr(resp.StatusCode, "unexpected status answering NEGOTIATE", nil)
	}
	challenge, offered, err := challengeToken(resp.Header, scheme)
	if !offered {
		if _, ntlmOffered, _ := challengeToken(resp.Header, "NTLM"); ntlmOffered {
			// The server offers only the NTLM scheme: start again with it.
			drain(resp)
			scheme = "NTLM"
			if resp, err = t.leg(ctx, req, legBody, scheme, neg, &conn1); err != nil {
				return nil, err
			}
			challenge, offered, err = challengeToken(resp.Header, scheme)
		}
	}
	drain(resp)
	if err != nil || !offered || len(challenge) == 0 {
		return nil, t.authErr(resp.StatusCode, "server sent no NTLM challenge (offered: "+offeredSchemes(resp.Header)+")", err)
	}
	var bindings []byte
	if isHTTPS(req) && !t.cfg.DisableChannelBinding {
		if bindings, err = TLSChannelBindings(resp.TLS); err != nil {
			return nil, t.authErr(0, "channel binding", err)
		}
	}
	auth, err := hs.authenticate(challenge, bindings)
	if err != nil {
		return nil, t.authErr(resp.StatusCode, "processing the server challenge", err)
	}
	resp, err = t.leg(ctx, req, legBody, scheme, auth, &conn2)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drain(resp)
		reason := "credentials rejected"
		if conn1 != nil && conn2 != nil && conn1 != conn2 {
			reason = "the connection changed during the handshake (is HTTP keep-alive disabled?)"
		}
		return nil, t.authErr(resp.StatusCode, reason, nil)
	}
	t.authed, t.host, t.encrypt = true, req.URL.Host, encrypt
	if encrypt {
		drain(resp)
		if resp.StatusCode >= 300 {
			t.reset()
			return nil, t.authErr(resp.StatusCode, "unexpected status answering AUTHENTICATE", nil)
		}
		sh := hs.(*sealingHandshake)
		if t.session = sh.c.Session(); t.session == nil {
			t.reset()
			return nil, t.authErr(0, "server did not agree to sealing", ntlm.ErrNoSealing)
		}
		t.log.DebugContext(ctx, "ntlm: authenticated with message encryption", "host", req.URL.Host)
		return nil, nil
	}
	t.log.DebugContext(ctx, "ntlm: authenticated", "host", req.URL.Host, "channel_binding", bindings != nil)
	return resp, nil
}

// leg sends one handshake request and records the connection it used.
func (t *ntlmTransport) leg(ctx context.Context, req *http.Request, body []byte, scheme string, token []byte, conn *net.Conn) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { *conn = i.Conn }}
	// An empty-body leg keeps the request's Content-Type, as pywinrm's
	// encryption setup request (known to work with Windows) does.
	r := cloneWithBody(httptrace.WithClientTrace(ctx, trace), req, body)
	r.Header.Set("Authorization", scheme+" "+base64.StdEncoding.EncodeToString(token))
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	return resp, nil
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
