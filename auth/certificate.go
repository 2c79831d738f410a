package auth

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// CertificateAuthorization is the Authorization header value WinRM expects
// with client certificate authentication (MS-WSMV, the WS-Management
// "https/mutual" security profile).
const CertificateAuthorization = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

// TLSClientCertificateProvider is implemented by authenticators that
// authenticate with a TLS client certificate (Certificate). A transport that
// owns its tls.Config, such as the wsman transport, checks for it and adds
// the certificate to tls.Config.Certificates before it dials.
type TLSClientCertificateProvider interface {
	// TLSClientCertificate returns the certificate chain and private key
	// to present in the TLS handshake.
	TLSClientCertificate() tls.Certificate
}

// Sentinel errors of the Certificate authenticator, for errors.Is.
var (
	// ErrCertificateNeedsHTTPS: client certificate authentication only
	// exists over TLS; the URL is not https://.
	ErrCertificateNeedsHTTPS = errors.New("client certificate authentication needs https://")
	// ErrCertificateInvalid: the certificate has no leaf or no private key.
	ErrCertificateInvalid = errors.New("invalid client certificate")
	// ErrCertificateRejected: the server answered 401: the certificate is
	// not mapped to a user (winrm/config/service/certmapping), or
	// certificate authentication is disabled on the server.
	ErrCertificateRejected = errors.New("the server rejected the client certificate")
)

// CertificateError is the error of the Certificate authenticator. It names
// the certificate by subject and thumbprint, never by its key.
type CertificateError struct {
	// Subject and Thumbprint identify the certificate.
	Subject, Thumbprint string
	// Kind is one of the ErrCertificate* sentinels.
	Kind error
	// Err is the underlying error, or nil.
	Err error
}

// Error implements error.
func (e *CertificateError) Error() string {
	s := "auth: client certificate"
	if e.Thumbprint != "" {
		s += " " + e.Thumbprint
	}
	if e.Subject != "" {
		s += " (" + e.Subject + ")"
	}
	s += ": " + e.Kind.Error()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Kind and Err.
func (e *CertificateError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Is makes a CertificateError match ErrInsecureTransport (for
// ErrCertificateNeedsHTTPS) and ErrUnauthorized (for
// ErrCertificateRejected).
func (e *CertificateError) Is(target error) bool {
	switch target {
	case ErrInsecureTransport:
		return e.Kind == ErrCertificateNeedsHTTPS
	case ErrUnauthorized:
		return e.Kind == ErrCertificateRejected
	}
	return false
}

// Certificate authenticates with a TLS client certificate that the server
// maps to a local account, as PowerShell's -CertificateThumbprint does (the
// caller loads the certificate; in PowerShell it comes from the Windows
// certificate store). It works over HTTPS only.
//
// The certificate must reach the TLS handshake: the wsman transport takes
// it through TLSClientCertificateProvider. When Wrap is given an
// *http.Transport whose TLS configuration has no client certificate, Wrap
// uses a clone of that transport with the certificate added, so the
// authenticator also works with a plain http.Transport.
type Certificate struct {
	cert       tls.Certificate
	leaf       *x509.Certificate
	thumbprint string
}

// NewCertificate returns a Certificate authenticator for cert, which must
// hold the certificate chain (leaf first) and its private key.
func NewCertificate(cert tls.Certificate) (*Certificate, error) {
	if len(cert.Certificate) == 0 {
		return nil, &CertificateError{Kind: ErrCertificateInvalid, Err: errors.New("no certificate")}
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, &CertificateError{Kind: ErrCertificateInvalid, Err: err}
		}
	}
	sum := sha1.Sum(leaf.Raw)
	c := &Certificate{cert: cert, leaf: leaf, thumbprint: strings.ToUpper(hex.EncodeToString(sum[:]))}
	if cert.PrivateKey == nil {
		return nil, c.err(ErrCertificateInvalid, errors.New("no private key"))
	}
	return c, nil
}

// NewCertificateFromFiles loads a PEM certificate (chain) and its PEM
// private key, as tls.LoadX509KeyPair does.
func NewCertificateFromFiles(certFile, keyFile string) (*Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, &CertificateError{Kind: ErrCertificateInvalid, Err: fmt.Errorf("load %s: %w", certFile, err)}
	}
	return NewCertificate(cert)
}

// Scheme returns "Certificate".
func (c *Certificate) Scheme() string { return "Certificate" }

// TLSClientCertificate implements TLSClientCertificateProvider.
func (c *Certificate) TLSClientCertificate() tls.Certificate { return c.cert }

// Thumbprint returns the certificate's SHA-1 thumbprint in upper-case hex,
// the form PowerShell's -CertificateThumbprint and WinRM's certificate
// mappings use.
func (c *Certificate) Thumbprint() string { return c.thumbprint }

// Leaf returns the parsed leaf certificate.
func (c *Certificate) Leaf() *x509.Certificate { return c.leaf }

func (c *Certificate) err(kind, err error) *CertificateError {
	return &CertificateError{Subject: c.leaf.Subject.String(), Thumbprint: c.thumbprint, Kind: kind, Err: err}
}

// Wrap returns a RoundTripper that sends the "https/mutual" Authorization
// header and refuses non-HTTPS URLs (whatever AllowUnencrypted says: there
// is no client certificate without TLS).
func (c *Certificate) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if next == nil {
		next = http.DefaultTransport
	}
	if tr, ok := next.(*http.Transport); ok && !transportHasClientCert(tr) {
		tr = tr.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.Certificates = append(tr.TLSClientConfig.Certificates, c.cert)
		next = tr
	}
	if opts.Logger != nil {
		opts.Logger.Debug("auth: client certificate", "thumbprint", c.thumbprint, "subject", c.leaf.Subject.String())
	}
	return &certificateTransport{c: c, next: next, opts: opts}, nil
}

func transportHasClientCert(tr *http.Transport) bool {
	cfg := tr.TLSClientConfig
	return cfg != nil && (len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil)
}

type certificateTransport struct {
	c    *Certificate
	next http.RoundTripper
	opts WrapOptions
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport (http.Client.CloseIdleConnections reaches it through this).
func (t *certificateTransport) CloseIdleConnections() { closeIdle(t.next) }

// RoundTrip implements http.RoundTripper. A failure is logged at debug
// level when WrapOptions.Logger is set.
func (t *certificateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil {
		logFailure(t.opts.Logger, req, "Certificate", err)
	}
	return resp, err
}

func (t *certificateTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if err := checkRedirect(req, t.opts); err != nil {
		return nil, err
	}
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, t.c.err(ErrCertificateNeedsHTTPS, fmt.Errorf("URL scheme %q", req.URL.Scheme))
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", CertificateAuthorization)
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		krbDrainClose(resp)
		return nil, t.c.err(ErrCertificateRejected, fmt.Errorf("HTTP 401 from %s", req.URL.Host))
	}
	return resp, nil
}
