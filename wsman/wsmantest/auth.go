package wsmantest

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/auth/ntlm"
)

// authContext is the outcome of authenticating one request.
type authContext struct {
	user string
	// authLeg is set on the request that completed an NTLM handshake.
	authLeg bool
	// mustSeal is set when the request authenticated with NTLM over plain
	// HTTP on a server without AllowUnencrypted: its body must be sealed.
	mustSeal bool
	// unseal and seal are set when the request came with WinRM message
	// encryption: the response is sealed with the same security context.
	unseal func(contentType string, body []byte) ([]byte, error)
	seal   func(plain []byte) (contentType string, body []byte, err error)
}

// connAuth is the NTLM state of one TCP connection (NTLM authenticates
// connections, not requests).
type connAuth struct {
	mu        sync.Mutex
	handshake *ntlm.Handshake
	session   *ntlm.Session
	user      string
}

type connKey struct{}

// connContext stores the connection in the request context (http.Server
// ConnContext hook) and makes the context of its requests end as soon as
// DropConnections drops it (before the server notices the closed socket).
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	ctx, cancel := context.WithCancel(context.WithValue(ctx, connKey{}, c))
	s.mu.Lock()
	s.connCancels[c] = cancel
	s.mu.Unlock()
	return ctx
}

func (s *Server) methodAllowed(m AuthMethod) bool {
	if len(s.opts.AuthMethods) == 0 {
		return m != AuthCertificate || len(s.opts.CertificateUsers) > 0
	}
	for _, x := range s.opts.AuthMethods {
		if strings.EqualFold(string(x), string(m)) {
			return true
		}
	}
	return false
}

// lookupPassword finds a user's password; "DOMAIN\user" and "user@domain"
// match the bare user name too. It returns the canonical user name.
func (s *Server) lookupPassword(name string) (canonical, password string, ok bool) {
	cands := []string{name}
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		cands = append(cands, name[i+1:])
	}
	if i := strings.IndexByte(name, '@'); i >= 0 {
		cands = append(cands, name[:i])
	}
	for _, c := range cands {
		for u, p := range s.opts.Users {
			if strings.EqualFold(u, c) {
				return u, p, true
			}
		}
	}
	return "", "", false
}

// challenge sends 401 with the accepted schemes.
func (s *Server) challenge(w http.ResponseWriter, extra string) {
	if extra != "" {
		w.Header().Add("WWW-Authenticate", extra)
	} else {
		if s.methodAllowed(AuthNTLM) {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
		if s.methodAllowed(AuthBasic) {
			w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// authenticate checks the request's credentials. It writes the 401 (or
// the NTLM challenge) itself and returns false when the request must not be
// handled.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*authContext, bool) {
	if len(s.opts.Users) == 0 && len(s.opts.CertificateUsers) == 0 {
		return &authContext{user: s.opts.AnonymousUser}, true
	}
	// TLS client certificate.
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && s.methodAllowed(AuthCertificate) {
		cn := r.TLS.PeerCertificates[0].Subject.CommonName
		for k, u := range s.opts.CertificateUsers {
			if strings.EqualFold(k, cn) {
				return &authContext{user: u}, true
			}
		}
	}
	hdr := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(hdr, " ")
	token = strings.TrimSpace(token)
	switch {
	case strings.EqualFold(scheme, "Basic") && s.methodAllowed(AuthBasic):
		if !s.unencryptedAllowed(r) {
			// Basic cannot encrypt: over plain HTTP Windows takes it only
			// with AllowUnencrypted=true, and answers 401 otherwise.
			s.logger.Debug("wsmantest: Basic over plain HTTP refused (AllowUnencrypted is off)")
			s.challenge(w, "")
			return nil, false
		}
		raw, err := base64.StdEncoding.DecodeString(token)
		if err == nil {
			user, pass, _ := strings.Cut(string(raw), ":")
			if canon, want, ok := s.lookupPassword(user); ok && want == pass {
				return &authContext{user: canon}, true
			}
		}
		s.challenge(w, "")
		return nil, false
	case (strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) && s.methodAllowed(AuthNTLM):
		return s.authenticateNTLM(w, r, scheme, token)
	case hdr == "":
		if ca := s.connAuth(r, false); ca != nil {
			ca.mu.Lock()
			sess, user := ca.session, ca.user
			ca.mu.Unlock()
			if user != "" {
				return s.ntlmContext(r, sess, user)
			}
		}
	}
	s.challenge(w, "")
	return nil, false
}

// connAuth returns the NTLM state of the request's connection, creating it
// when create is true.
func (s *Server) connAuth(r *http.Request, create bool) *connAuth {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if c == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca := s.connAuths[c]
	if ca == nil && create {
		ca = &connAuth{}
		s.connAuths[c] = ca
	}
	return ca
}

var ntlmSignature = []byte("NTLMSSP\x00")

func (s *Server) authenticateNTLM(w http.ResponseWriter, r *http.Request, scheme, token string) (*authContext, bool) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || !bytes.HasPrefix(raw, ntlmSignature) {
		// SPNEGO-wrapped tokens (Kerberos, or NTLM inside SPNEGO) are not
		// supported by the fake server.
		s.challenge(w, "")
		return nil, false
	}
	ca := s.connAuth(r, true)
	if ca == nil {
		s.challenge(w, "")
		return nil, false
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	switch ntlm.MessageType(raw) {
	case 1:
		srv := ntlm.NewServer(ntlm.ServerConfig{
			Lookup:       ntlm.PasswordTable(s.opts.Users),
			ComputerName: s.opts.ComputerName,
		})
		ca.handshake = srv.NewHandshake()
		ca.session, ca.user = nil, ""
		chal, err := ca.handshake.Challenge(raw)
		if err != nil {
			ca.handshake = nil
			s.challenge(w, "")
			return nil, false
		}
		s.challenge(w, scheme+" "+base64.StdEncoding.EncodeToString(chal))
		return nil, false
	case 3:
		if ca.handshake == nil {
			s.challenge(w, "")
			return nil, false
		}
		var cb []byte
		if r.TLS != nil && s.tlsOn {
			cb = auth.GSSChannelBindings(auth.TLSServerEndPoint(s.ts.Certificate()))
		}
		res, err := ca.handshake.Authenticate(raw, cb)
		ca.handshake = nil
		if err != nil {
			s.logger.Debug("wsmantest: NTLM authentication failed", "err", err)
			s.challenge(w, "")
			return nil, false
		}
		canon, _, ok := s.lookupPassword(res.User)
		if !ok {
			canon = res.User
		}
		ca.session, ca.user = res.Session, canon
		ac, ok := s.ntlmContext(r, ca.session, canon)
		ac.authLeg = true
		return ac, ok
	}
	s.challenge(w, "")
	return nil, false
}

// unencryptedAllowed reports whether r may carry credentials or a message
// without WinRM message encryption: over TLS, or with AllowUnencrypted.
func (s *Server) unencryptedAllowed(r *http.Request) bool {
	return r.TLS != nil || s.opts.AllowUnencrypted
}

// ntlmContext builds the authContext of an NTLM-authenticated connection:
// encrypted requests are unsealed and their responses sealed; plain
// requests are accepted over TLS, or over HTTP with AllowUnencrypted
// (serveHTTP refuses the others, see authContext.mustSeal).
func (s *Server) ntlmContext(r *http.Request, sess *ntlm.Session, user string) (*authContext, bool) {
	ac := &authContext{user: user, mustSeal: !s.unencryptedAllowed(r)}
	proto, encrypted := auth.ParseEncryptedContentType(r.Header.Get("Content-Type"))
	if !encrypted || sess == nil {
		return ac, true
	}
	ac.unseal = func(_ string, body []byte) ([]byte, error) {
		plain, _, err := auth.UnsealBody(sess, proto, body, s.opts.MaxRequestSize)
		return plain, err
	}
	ac.seal = func(plain []byte) (string, []byte, error) {
		body, ct, err := auth.SealBody(sess, proto, "", plain)
		return ct, body, err
	}
	return ac, true
}
