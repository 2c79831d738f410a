package auth

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// NTLMServerConfig configures an NTLMServer.
type NTLMServerConfig struct {
	// Users maps "user", `DOMAIN\user` or "user@domain" to passwords (see
	// ntlm.PasswordTable). Lookup, when set, replaces it.
	Users map[string]string
	// Lookup returns the password of a user (domain as the client sent
	// it, possibly empty); ok is false for an unknown user.
	Lookup func(user, domain string) (password string, ok bool)
	// AllowUnencrypted accepts plain (unsealed) request bodies over
	// http:// after authentication, like a Windows server with
	// AllowUnencrypted=true. Off by default: such requests get 401.
	AllowUnencrypted bool
	// ChannelBinding selects the channel binding check on TLS connections
	// (the server certificate must be given with SetServerCertificate).
	ChannelBinding ntlm.ChannelBindingPolicy
	// RequireMIC refuses AUTHENTICATE messages without a MIC.
	RequireMIC bool
	// DomainName and ComputerName go into the CHALLENGE.
	DomainName, ComputerName string
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxEncryptedBody.
	MaxBodyBytes int64
	// Logger receives debug logs of failed authentications (never
	// passwords); nil means none.
	Logger *slog.Logger
}

// NTLMServer is the server side of NTLM over HTTP with WinRM message
// encryption, as an http.Handler middleware for test servers (the fake
// WinRM server in wsman/wsmantest uses it). It answers the Negotiate /
// NTLM 401 handshake per TCP connection, verifies NTLMv2 (password, MIC,
// channel bindings), and on authenticated connections unseals
// multipart/encrypted requests before the wrapped handler sees them and
// seals its responses.
//
// Connections are identified by http.Request.RemoteAddr, so one client may
// hold several authenticated connections at once (each with its own
// handshake and sealing state, used by one request at a time as HTTP/1.1
// does). Install ConnState as the http.Server's ConnState hook so closed
// connections are forgotten.
type NTLMServer struct {
	cfg NTLMServerConfig
	srv *ntlm.Server
	log *slog.Logger

	mu    sync.Mutex
	cert  *x509.Certificate
	conns map[string]*ntlmServerConn
}

type ntlmServerConn struct {
	mu      sync.Mutex
	hs      *ntlm.Handshake
	authed  bool
	user    string
	session *ntlm.Session
}

// NewNTLMServer returns an NTLMServer.
func NewNTLMServer(cfg NTLMServerConfig) *NTLMServer {
	lookup := cfg.Lookup
	if lookup == nil {
		lookup = ntlm.PasswordTable(cfg.Users)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxEncryptedBody
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &NTLMServer{
		cfg: cfg,
		srv: ntlm.NewServer(ntlm.ServerConfig{
			Lookup: lookup, DomainName: cfg.DomainName, ComputerName: cfg.ComputerName,
			ChannelBinding: cfg.ChannelBinding, RequireMIC: cfg.RequireMIC,
		}),
		log:   log,
		conns: map[string]*ntlmServerConn{},
	}
}

// SetServerCertificate sets the TLS certificate the server presents, from
// which the expected channel bindings are computed.
func (s *NTLMServer) SetServerCertificate(cert *x509.Certificate) {
	s.mu.Lock()
	s.cert = cert
	s.mu.Unlock()
}

// ConnState forgets a connection's authentication when it closes, and
// makes sure a new connection never inherits the state of an earlier one
// from the same address. Install it as http.Server.ConnState (or call it
// from your own hook).
func (s *NTLMServer) ConnState(c net.Conn, st http.ConnState) {
	if st == http.StateNew || st == http.StateClosed || st == http.StateHijacked {
		s.mu.Lock()
		delete(s.conns, c.RemoteAddr().String())
		s.mu.Unlock()
	}
}

// Forget drops every connection's authentication (as after a network
// outage) so clients must authenticate again.
func (s *NTLMServer) Forget() {
	s.mu.Lock()
	s.conns = map[string]*ntlmServerConn{}
	s.mu.Unlock()
}

func (s *NTLMServer) conn(key string) *ntlmServerConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[key]
	if c == nil {
		c = &ntlmServerConn{}
		s.conns[key] = c
	}
	return c
}

type userKey struct{}

// AuthenticatedUser returns the user an authenticating middleware
// (NTLMServer) stored in the request context: `DOMAIN\user`, or the bare
// user name when the client sent no domain.
func AuthenticatedUser(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(userKey{}).(string)
	return u, ok
}

// WithAuthenticatedUser returns ctx carrying user, for other server-side
// authenticators.
func WithAuthenticatedUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

func unauthorized(w http.ResponseWriter, challenge string) {
	if challenge == "" {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	} else {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// Handler wraps next with NTLM authentication and message encryption.
func (s *NTLMServer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.conn(r.RemoteAddr)
		c.mu.Lock()
		defer c.mu.Unlock()
		body, err := readLimitedSize(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), s.cfg.MaxBodyBytes, r.ContentLength)
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		justAuthed := false
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, b64, _ := strings.Cut(authz, " ")
			tok, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
			if err != nil || !(strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) {
				unauthorized(w, "")
				return
			}
			switch ntlm.MessageType(tok) {
			case 1:
				c.authed, c.session, c.user = false, nil, ""
				c.hs = s.srv.NewHandshake()
				chal, err := c.hs.Challenge(tok)
				if err != nil {
					s.log.DebugContext(r.Context(), "ntlm server: bad NEGOTIATE", "err", err)
					c.hs = nil
					unauthorized(w, "")
					return
				}
				unauthorized(w, scheme+" "+base64.StdEncoding.EncodeToString(chal))
				return
			case 3:
				hs := c.hs
				c.hs = nil
				if hs == nil {
					unauthorized(w, "")
					return
				}
				res, err := hs.Authenticate(tok, s.bindings(r))
				if err != nil {
					s.log.DebugContext(r.Context(), "ntlm server: authentication failed", "err", err)
					unauthorized(w, "")
					return
				}
				c.authed, c.session = true, res.Session
				c.user = res.User
				if res.Domain != "" {
					c.user = res.Domain + `\` + res.User
				}
				justAuthed = true
			default:
				unauthorized(w, "")
				return
			}
		} else if !c.authed {
			unauthorized(w, "")
			return
		}

		ctx := WithAuthenticatedUser(r.Context(), c.user)
		if _, ok := ParseEncryptedContentType(r.Header.Get("Content-Type")); ok {
			s.serveEncrypted(w, r.WithContext(ctx), c, body, next)
			return
		}
		if len(body) == 0 && justAuthed {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.TLS == nil && !s.cfg.AllowUnencrypted {
			s.log.DebugContext(ctx, "ntlm server: unencrypted request refused over http")
			unauthorized(w, "")
			return
		}
		r2 := r.WithContext(ctx)
		r2.Body = http.NoBody
		if len(body) > 0 {
			r2.Body = nopCloser{bytes.NewReader(body)}
		}
		next.ServeHTTP(w, r2)
	})
}

func (s *NTLMServer) bindings(r *http.Request) []byte {
	if r.TLS == nil {
		return nil
	}
	s.mu.Lock()
	cert := s.cert
	s.mu.Unlock()
	if cert == nil {
		return nil
	}
	return GSSChannelBindings(TLSServerEndPoint(cert))
}

func (s *NTLMServer) serveEncrypted(w http.ResponseWriter, r *http.Request, c *ntlmServerConn, body []byte, next http.Handler) {
	if c.session == nil {
		http.Error(w, "sealing was not negotiated", http.StatusBadRequest)
		return
	}
	plain, origType, err := UnsealBody(c.session, ProtocolSPNEGO, body, int(s.cfg.MaxBodyBytes))
	if err != nil {
		s.log.DebugContext(r.Context(), "ntlm server: cannot unseal request", "err", err)
		c.authed, c.session = false, nil
		http.Error(w, "cannot decrypt the request", http.StatusBadRequest)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = nopCloser{bytes.NewReader(plain)}
	r2.ContentLength = int64(len(plain))
	if origType == "" {
		origType = SOAPContentType
	}
	r2.Header.Set("Content-Type", origType)
	rec := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(rec, r2)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.buf.Len() == 0 {
		w.Header().Del("Content-Type")
		w.WriteHeader(rec.status)
		return
	}
	sealed, ct, err := SealBody(c.session, ProtocolSPNEGO, rec.header.Get("Content-Type"), rec.buf.Bytes())
	if err != nil {
		http.Error(w, "cannot encrypt the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(sealed)))
	w.WriteHeader(rec.status)
	_, _ = w.Write(sealed)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// bufferedResponse collects a handler's response for sealing.
type bufferedResponse struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}
