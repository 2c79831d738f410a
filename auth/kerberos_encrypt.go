package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
)

// WinRM message encryption with Kerberos over plain HTTP (MS-WSMV
// 2.2.9.1): on each pooled connection a mutual Kerberos context is set up
// with an empty-body request, and then every request body is sealed into a
// multipart/encrypted body ("application/HTTP-SPNEGO-session-encrypted")
// and every response unsealed.
//
// The server ties the context to the TCP connection and the sealing state
// (sequence numbers) runs from message to message, so each pooled
// connection (connSlot) has its own context and is used by one request at
// a time; concurrent requests use other pooled connections (see
// "Connections" on Kerberos). When the server answers 401 (connection lost,
// context forgotten), a new context is set up on that connection and the
// request is sent again once. A transport error drops the connection's
// context; its next user sets up a new one.

// roundTripSealed sends req with message encryption on c, which the caller
// holds.
func (t *kerberosTransport) roundTripSealed(c *krbConn, req *http.Request, body []byte) (*http.Response, error) {
	ctx := req.Context()
	spn := t.k.spnFor(req.URL.Hostname())
	for attempt := 0; ; attempt++ {
		if !c.matches(req.URL.Host, true) {
			// A connection authenticated for another host or mode is
			// closed; an unauthenticated one is kept for the handshake.
			c.reset(c.authed)
			if err := t.establish(ctx, c, req, spn); err != nil {
				c.reset(true)
				return nil, err
			}
		}
		resp, err := t.sendSealed(c, req, body)
		if err != nil {
			c.reset(true)
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			drain(resp)
			c.reset(false)
			if attempt == 0 {
				t.log(ctx, "server no longer knows the Kerberos context; authenticating again", spn)
				continue
			}
			return nil, &KerberosError{Op: "request", Principal: t.k.principal, SPN: spn, Kind: ErrKerberosRejected,
				Err: fmt.Errorf("HTTP 401 from %s for an encrypted request", req.URL.Host)}
		}
		return t.finishSealed(c, resp)
	}
}

// establish authenticates c's connection with an empty-body request
// carrying a mutual AP-REQ and completes the context from the AP-REP in the
// response.
func (t *kerberosTransport) establish(ctx context.Context, c *krbConn, req *http.Request, spn string) error {
	hdr, pending, err := t.k.mutualToken(ctx, spn)
	if err != nil {
		return err
	}
	r := cloneWithBody(ctx, req, nil)
	r.Header.Set("Authorization", hdr)
	t.log(ctx, "setting up an encrypted context", spn)
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		return err
	}
	drain(resp)
	fail := func(kind error, err error) error {
		return &KerberosError{Op: "request", Principal: t.k.principal, SPN: spn, Kind: kind, Err: err}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		ch, _ := parseNegotiateChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ch.Negotiate {
			return fail(ErrKerberosNotOffered, fmt.Errorf("HTTP 401 offers %q", ch.Schemes))
		}
		return fail(ErrKerberosRejected, rejection(resp, req.URL.Host))
	}
	if resp.StatusCode/100 != 2 {
		return fail(ErrKerberosRejected, fmt.Errorf("HTTP %d from %s to the authentication request", resp.StatusCode, req.URL.Host))
	}
	ch, err := parseNegotiateChallenge(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return fail(ErrKerberosRejected, err)
	}
	if ch.NegotiateToken == nil {
		return fail(ErrKerberosRejected, errors.New("the server sent no AP-REP (mutual authentication, needed for encryption)"))
	}
	s, err := pending.complete(ch.NegotiateToken)
	if err != nil {
		if errors.Is(err, errKerberosAPRep) {
			return fail(ErrKerberosRejected, err)
		}
		return fail(ErrKerberosEncryptionUnsupported, err)
	}
	c.setAuthed(req.URL.Host, true, s, nil)
	return nil
}

// sendSealed seals body with c's context and sends it.
func (t *kerberosTransport) sendSealed(c *krbConn, req *http.Request, body []byte) (*http.Response, error) {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		ct = SOAPContentType
	}
	sealed, encType, err := SealBody(c.state, ProtocolSPNEGO, ct, body)
	if err != nil {
		return nil, &KerberosError{Op: "request", Principal: t.k.principal, Err: err}
	}
	r := cloneWithBody(req.Context(), req, sealed)
	r.Header.Set("Content-Type", encType)
	r.Header.Del("Authorization")
	return c.rt.RoundTrip(r)
}

// finishSealed buffers and unseals the response. A response that should be
// encrypted and is not is an error, never trusted as plaintext; it resets
// the connection, as does a response that cannot be unsealed.
func (t *kerberosTransport) finishSealed(c *krbConn, resp *http.Response) (*http.Response, error) {
	limit := t.maxResp + encryptedFraming
	raw, err := readLimitedSize(resp.Body, limit, resp.ContentLength)
	if err != nil {
		c.reset(true)
		return nil, err
	}
	protocol, ok := ParseEncryptedContentType(resp.Header.Get("Content-Type"))
	if !ok {
		if len(raw) > 0 && (resp.StatusCode < 300 || resp.StatusCode == http.StatusInternalServerError) {
			c.reset(true)
			return nil, &EncryptedBodyError{Reason: fmt.Sprintf("HTTP %d response is not encrypted (Content-Type %q)", resp.StatusCode, resp.Header.Get("Content-Type"))}
		}
		replaceBody(resp, raw) // empty, or a plain HTTP error (400, 503, ...)
		return resp, nil
	}
	if protocol != ProtocolSPNEGO && protocol != ProtocolKerberos {
		c.reset(true)
		return nil, &EncryptedBodyError{Reason: "unexpected protocol " + protocol}
	}
	plain, origType, err := UnsealBody(c.state, protocol, raw, int(limit))
	if err != nil {
		c.reset(true)
		return nil, err
	}
	if int64(len(plain)) > t.maxResp {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, t.maxResp)
	}
	if origType == "" {
		origType = SOAPContentType
	}
	resp.Header.Set("Content-Type", origType)
	replaceBody(resp, plain)
	return resp, nil
}

// mutualToken returns an Authorization header value with a mutual AP-REQ
// for spn, and the pending context.
func (k *Kerberos) mutualToken(ctx context.Context, spn string) (string, *kerberosPending, error) {
	cl, err := k.client()
	if err != nil {
		return "", nil, err
	}
	tkt, key, err := k.serviceTicket(ctx, cl, spn)
	if err != nil {
		return "", nil, err
	}
	tok, pending, err := newKerberosMutualToken(cl.Credentials, tkt, key, nil)
	if err != nil {
		return "", nil, &KerberosError{Op: "token", Principal: k.principal, SPN: spn, Err: err}
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(tok), pending, nil
}
