package wsmantest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Server is a running fake WinRM server on a loopback address, in the
// spirit of net/http/httptest.Server.
type Server struct {
	// URL is the WS-Management endpoint, for example
	// "http://127.0.0.1:51234/wsman".
	URL string

	opts   Options
	mux    *Mux
	clock  Clock
	logger *slog.Logger
	ts     *httptest.Server
	tlsOn  bool

	ctx    context.Context // cancelled by Close: stops handlers and long polls
	cancel context.CancelFunc
	wg     sync.WaitGroup // command goroutines and the janitor

	mu          sync.Mutex
	closed      bool
	shells      map[string]*shell // by upper-case ShellId
	enums       map[string]*enumeration
	conns       map[net.Conn]struct{}
	connAuths   map[net.Conn]*connAuth
	connCancels map[net.Conn]context.CancelFunc // ends the requests of a connection
	refuseUntil time.Time
	rules       []*injectionRule
	requests    []RequestRecord
	wake        chan struct{} // wakes the janitor when deadlines change
	nextPID     int
	groups      uint64 // output group counter (see chunk.group)

	remembered      map[string]rememberedResponse // see robust.go
	rememberOrder   []string
	rememberedBytes int
}

// NewServer starts a fake WinRM server over plain HTTP on 127.0.0.1 (or
// opts.Addr). It panics if it cannot listen, like httptest.NewServer; use
// Listen for an error instead. Close it when done.
func NewServer(opts Options) *Server {
	s, err := Listen(opts, false)
	if err != nil {
		panic(err)
	}
	return s
}

// NewTLSServer starts a fake WinRM server over HTTPS with a self-signed
// certificate for 127.0.0.1 (see Certificate and Client). When
// opts.CertificateUsers is set, client certificates are requested and mapped
// to users.
func NewTLSServer(opts Options) *Server {
	s, err := Listen(opts, true)
	if err != nil {
		panic(err)
	}
	return s
}

// Listen starts a server like NewServer (useTLS false) or NewTLSServer
// (useTLS true) and returns an error when opts.Addr cannot be listened on.
func Listen(opts Options, useTLS bool) (*Server, error) {
	o := opts.withDefaults()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("wsmantest: listen on %s: %w", o.Addr, err)
	}
	s := &Server{
		opts:        o,
		mux:         o.Handlers,
		clock:       o.Clock,
		logger:      o.Logger,
		tlsOn:       useTLS,
		shells:      map[string]*shell{},
		enums:       map[string]*enumeration{},
		conns:       map[net.Conn]struct{}{},
		connAuths:   map[net.Conn]*connAuth{},
		connCancels: map[net.Conn]context.CancelFunc{},
		wake:        make(chan struct{}, 1),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	_ = ts.Listener.Close()
	ts.Listener = &refusingListener{Listener: ln, s: s}
	ts.Config.ConnState = s.connState
	ts.Config.ConnContext = s.connContext
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts = ts
	// URL is set before the server starts, so that handlers reading it
	// (Create's rsp:Address) are ordered after the write even when the
	// first client is another process that learned the address elsewhere.
	scheme := "http://"
	if useTLS {
		scheme = "https://"
	}
	s.URL = scheme + ln.Addr().String() + "/wsman"
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if len(o.CertificateUsers) > 0 {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
			cfg.ClientCAs = o.ClientCAs
			if cfg.ClientCAs == nil {
				// Without CAs, accept any certificate and map it by name.
				cfg.ClientAuth = tls.RequestClientCert
			}
		}
		ts.TLS = cfg
		ts.StartTLS()
	} else {
		ts.Start()
	}
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// Close cancels every running command and outstanding Receive, closes the
// listener and every connection, and waits until all of the server's
// goroutines have ended (including the handlers: a handler that ignores its
// context keeps Close waiting).
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.ts.CloseClientConnections()
	s.ts.Close()
	s.wg.Wait()
}

// Certificate returns the TLS server's certificate (nil for plain HTTP).
func (s *Server) Certificate() *x509.Certificate {
	if !s.tlsOn {
		return nil
	}
	return s.ts.Certificate()
}

// Client returns an *http.Client that trusts the server's certificate, like
// httptest.Server.Client.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Addr returns the listening address (host:port).
func (s *Server) Addr() string { return s.ts.Listener.Addr().String() }

// Mux returns the server's handler registry.
func (s *Server) Mux() *Mux { return s.mux }

// Handle registers h for a command name (see Mux.Handle).
func (s *Server) Handle(name string, h Handler) { s.mux.Handle(name, h) }

// HandleFunc registers f for a command name (see Mux.Handle).
func (s *Server) HandleFunc(name string, f func(ctx context.Context, inv *Invocation) error) {
	s.mux.HandleFunc(name, f)
}

// HandleScript registers h for an exact script text (see Mux.HandleScript).
func (s *Server) HandleScript(script string, h Handler) { s.mux.HandleScript(script, h) }

// Clock returns the server's clock.
func (s *Server) Clock() Clock { return s.clock }

// connState tracks connections so they can be dropped on demand.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
		delete(s.connAuths, c)
		if cancel := s.connCancels[c]; cancel != nil {
			cancel()
			delete(s.connCancels, c)
		}
	}
}

// refusingListener resets connections accepted while the server refuses
// connections (RefuseConnections, Outage).
type refusingListener struct {
	net.Listener
	s *Server
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.refusing() {
			resetConn(c)
			continue
		}
		return c, nil
	}
}

// resetConn closes c abortively (RST) where it can.
func resetConn(c net.Conn) {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
