package winrmcompat

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masterzen/winrm"
	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cmdServer is a minimal WinRS cmd server built on the wsman message layer:
// one command that prints to stdout and stderr and exits with code 3.
type cmdServer struct {
	mu       sync.Mutex
	requests []*wsman.Envelope
	user     string
	fault    *wsman.Fault // when set, every request gets it (HTTP 500)
	// timeouts Receive requests are answered first with timeoutFault
	// (HTTP 500), as a long poll that expired.
	timeouts     int
	timeoutFault *wsman.Fault
}

func (s *cmdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := wsman.ParseEnvelope(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, _, _ := r.BasicAuth()
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.user = u
	fault := s.fault
	if req.Header.Action == wsman.ActionReceive && s.timeouts > 0 {
		s.timeouts--
		fault = s.timeoutFault
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if fault != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(wsman.NewFaultResponse(req, fault).Marshal())
		return
	}
	const shellID, cmdID = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-AAAAAAAAAAAA"
	var resp *wsman.Envelope
	switch req.Header.Action {
	case wsman.ActionCreate:
		cr := &wsman.CreateResponse{
			ResourceCreated: &wsman.ResourceCreated{Address: "http://" + r.Host + "/wsman", ResourceURI: wsman.ResourceCmd,
				Selectors: []wsman.Selector{{Name: wsman.SelectorShellID, Value: shellID}}},
			Shell: &wsman.Shell{ShellID: shellID, ResourceURI: wsman.ResourceCmd, State: wsman.ShellStateConnected},
		}
		resp = wsman.NewResponse(req, cr.Elements()...)
	case wsman.ActionCommand:
		resp = wsman.NewResponse(req, wsman.CommandResponseElement(cmdID))
	case wsman.ActionReceive:
		rr := &wsman.ReceiveResponse{
			Streams: []wsman.Stream{
				{Name: "stdout", CommandID: cmdID, Data: []byte("hello <&> world\r\n")},
				{Name: "stderr", CommandID: cmdID, Data: []byte("oops\r\n")},
				{Name: "stdout", CommandID: cmdID, End: true},
				{Name: "stderr", CommandID: cmdID, End: true},
			},
			CommandState: &wsman.CommandState{CommandID: cmdID, State: wsman.CommandStateDone, ExitCode: 3, HasExitCode: true},
		}
		resp = wsman.NewResponse(req, rr.Element())
	case wsman.ActionSignal, wsman.ActionSend:
		resp = wsman.NewResponse(req, wsman.EmptyResponseElement(req.Header.Action))
	case wsman.ActionDelete:
		resp = wsman.NewResponse(req)
	default:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(wsman.NewFaultResponse(req, wsman.ShellNotFoundFault("fake")).Marshal())
		return
	}
	_, _ = w.Write(resp.Marshal())
}

func (s *cmdServer) actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		out = append(out, r.Header.Action[strings.LastIndexByte(r.Header.Action, '/')+1:])
	}
	return out
}

func tlsEndpoint(t *testing.T, srv *httptest.Server) *winrm.Endpoint {
	t.Helper()
	host, port := splitHostPort(t, srv.URL)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return winrm.NewEndpoint(host, port, true, false, caPEM, nil, nil, 5*time.Second)
}

// masterzenClient returns masterzen's client of srv (with user and
// password "ignored": the Transporter cannot read them) whose transport is a
// Transporter, changed by configure if set, that does not use a proxy.
func masterzenClient(t *testing.T, srv *httptest.Server, configure func(*Transporter)) *winrm.Client {
	t.Helper()
	params := winrm.NewParameters("PT60S", "en-US", 153600)
	var tr *Transporter
	params.TransportDecorator = func() winrm.Transporter {
		tr = &Transporter{Options: Options{Base: wsman.Config{Proxy: wsman.NoProxy}}}
		if configure != nil {
			configure(tr)
		}
		return tr
	}
	mc, err := winrm.NewClientWithParameters(tlsEndpoint(t, srv), "ignored", "ignored", params)
	require.NoError(t, err)
	t.Cleanup(func() { tr.Client().CloseIdleConnections() })
	return mc
}

func splitHostPort(t *testing.T, u string) (string, int) {
	t.Helper()
	hp := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	i := strings.LastIndexByte(hp, ':')
	var port int
	for _, c := range hp[i+1:] {
		port = port*10 + int(c-'0')
	}
	return hp[:i], port
}

func TestNewClientFromEndpoint(t *testing.T) {
	fs := &cmdServer{}
	srv := httptest.NewTLSServer(fs)
	defer srv.Close()
	ep := tlsEndpoint(t, srv)
	params := winrm.NewParameters("PT33S", "de-DE", 204800)

	c, err := NewClient(ep, "alice", "s3cret", params, &Options{Base: wsman.Config{Proxy: wsman.NoProxy}})
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	assert.Equal(t, srv.URL+"/wsman", c.URL())

	ctx := context.Background()
	cr, err := c.CreateCmd(ctx, wsman.CmdShell{WorkingDirectory: `C:\`})
	require.NoError(t, err, "CA from Endpoint.CACert verifies the server")
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: cr.ShellID()}
	id, err := c.Command(ctx, ref, &wsman.CommandLine{Command: "cmd.exe", Arguments: []string{"/c", "echo a&b"}})
	require.NoError(t, err)
	rr, err := c.Receive(ctx, ref, &wsman.Receive{DesiredStream: "stdout stderr", CommandID: id})
	require.NoError(t, err)
	assert.Equal(t, "hello <&> world\r\n", string(rr.StreamData("stdout", id)))
	assert.EqualValues(t, 3, rr.CommandState.ExitCode)

	fs.mu.Lock()
	first := fs.requests[0]
	assert.Equal(t, "alice", fs.user, "Basic from user and password")
	fs.mu.Unlock()
	assert.Equal(t, 33*time.Second, first.Header.OperationTimeout)
	assert.Equal(t, "de-DE", first.Header.Locale)
	assert.Equal(t, 204800, first.Header.MaxEnvelopeSize)
	assert.NotEmpty(t, first.Header.SessionID)
}

func TestConfigFromMapsAuthentication(t *testing.T) {
	ep := winrm.NewEndpoint("server", 5985, false, false, nil, nil, nil, 0)
	for _, tc := range []struct {
		name  string
		dec   func() winrm.Transporter
		check func(t *testing.T, a auth.Authenticator, err error)
	}{
		{"none", nil, func(t *testing.T, a auth.Authenticator, err error) {
			require.NoError(t, err)
			assert.IsType(t, &auth.Basic{}, a)
		}},
		{"dial", func() winrm.Transporter { return winrm.NewClientWithDial(nil) }, func(t *testing.T, a auth.Authenticator, err error) {
			require.NoError(t, err)
			assert.IsType(t, &auth.Basic{}, a)
		}},
		{"ntlm", func() winrm.Transporter { return &winrm.ClientNTLM{} }, func(t *testing.T, a auth.Authenticator, err error) {
			require.NoError(t, err)
			n := a.(*auth.NTLM)
			assert.Equal(t, "bob", n.Username)
			assert.Equal(t, auth.EncryptionAuto, n.Encryption)
		}},
		{"encryption", func() winrm.Transporter { e, _ := winrm.NewEncryption("ntlm"); return e }, func(t *testing.T, a auth.Authenticator, err error) {
			require.NoError(t, err)
			assert.Equal(t, auth.EncryptionAlways, a.(*auth.NTLM).Encryption)
		}},
		{"kerberos", func() winrm.Transporter { return winrm.NewClientKerberos(&winrm.Settings{}) }, func(t *testing.T, a auth.Authenticator, err error) {
			require.ErrorIs(t, err, ErrKerberosNeedsAuth)
		}},
		{"cert without key", func() winrm.Transporter { return &winrm.ClientAuthRequest{} }, func(t *testing.T, a auth.Authenticator, err error) {
			require.Error(t, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := winrm.NewParameters("PT60S", "en-US", 153600)
			p.TransportDecorator = tc.dec
			_, cfg, err := ConfigFrom(ep, "bob", "pw", p, nil)
			tc.check(t, cfg.Auth, err)
			if err != nil {
				assert.NotContains(t, err.Error(), "pw")
			}
		})
	}
	// Bad values are refused with clear errors.
	_, _, err := ConfigFrom(ep, "u", "p", winrm.NewParameters("sixty", "en-US", 0), nil)
	assert.ErrorContains(t, err, "Timeout")
	_, _, err = ConfigFrom(&winrm.Endpoint{Host: "h", HTTPS: true, CACert: []byte("junk")}, "u", "p", nil, nil)
	assert.ErrorContains(t, err, "CACert")
	u, err := URL(&winrm.Endpoint{Host: "::1", Port: 5986, HTTPS: true})
	require.NoError(t, err)
	assert.Equal(t, "https://[::1]:5986/wsman", u)
}

// masterzen's own client, through the Transporter, runs a command and gets
// its output and exit code.
func TestTransporterRunsMasterzenClient(t *testing.T) {
	fs := &cmdServer{}
	srv := httptest.NewTLSServer(fs)
	defer srv.Close()
	mc := masterzenClient(t, srv, func(tr *Transporter) { tr.Auth = &auth.Basic{Username: "carol", Password: "pw"} })
	var stdout, stderr bytes.Buffer
	code, err := mc.RunWithContext(context.Background(), "echo hello", &stdout, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 3, code)
	assert.Equal(t, "hello <&> world\r\n", stdout.String())
	assert.Equal(t, "oops\r\n", stderr.String())
	assert.Contains(t, fs.actions(), "Create")
	assert.Contains(t, fs.actions(), "Receive")
	fs.mu.Lock()
	assert.Equal(t, "carol", fs.user)
	fs.mu.Unlock()
}

// masterzen keeps polling only when a Receive error mentions
// "OperationTimeout": the Transporter makes every w:TimedOut fault say so,
// also one without Windows's message text.
func TestTransporterReceiveTimeoutKeepsPolling(t *testing.T) {
	bare := &wsman.Fault{Code: "s:Receiver", Subcode: "w:TimedOut", Reason: "timed out"}
	for name, f := range map[string]*wsman.Fault{"windows": wsman.TimedOutFault("fake"), "bare": bare} {
		t.Run(name, func(t *testing.T) {
			fs := &cmdServer{timeouts: 2, timeoutFault: f}
			srv := httptest.NewTLSServer(fs)
			defer srv.Close()
			mc := masterzenClient(t, srv, nil)
			var stdout, stderr bytes.Buffer
			code, err := mc.RunWithContext(context.Background(), "echo hello", &stdout, &stderr)
			require.NoError(t, err)
			assert.Equal(t, 3, code)
			assert.Equal(t, "hello <&> world\r\n", stdout.String())
			n := 0
			for _, a := range fs.actions() {
				if a == "Receive" {
					n++
				}
			}
			assert.Equal(t, 3, n, "two timed-out polls, then the output")
		})
	}
}

// Where masterzen alone returns a 500 fault as success (an empty shell),
// the Transporter returns the typed fault.
func TestTransporterFaultIsError(t *testing.T) {
	fs := &cmdServer{fault: wsman.ShellNotFoundFault("fake")}
	srv := httptest.NewTLSServer(fs)
	defer srv.Close()
	mc := masterzenClient(t, srv, nil)
	_, err := mc.CreateShell()
	require.Error(t, err)
	assert.True(t, errors.Is(err, wsman.ErrShellNotFound), "got %v", err)
}

// The Transporter's Context cancels a request in flight, which masterzen
// cannot do.
// The server never answers before the test ends, so the call can only
// return through the cancellation. (A handler that returned when its
// request context ended answered the client's close with an empty 200,
// which net/http may still deliver when it races the cancellation, as it
// does on a loaded machine: masterzen then failed to parse the empty body
// with a bare EOF.)
func TestTransporterContextCancels(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	ctx, cancel := context.WithCancel(context.Background())
	mc := masterzenClient(t, srv, func(tr *Transporter) { tr.Context = ctx })
	done := make(chan error, 1)
	go func() { _, err := mc.CreateShell(); done <- err }()
	time.AfterFunc(50*time.Millisecond, cancel)
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not abort the request")
	}
}

// fakeWinRM starts a fake WinRM server that stands in for
// winrm.example.com in the examples: one NTLM user (sealed over http://) and
// a "hostname" command. It returns the server and a masterzen endpoint for
// it.
func fakeWinRM() (*wsmantest.Server, *winrm.Endpoint) {
	srv := wsmantest.NewServer(wsmantest.Options{
		Users:       map[string]string{"user": "password"},
		AuthMethods: []wsmantest.AuthMethod{wsmantest.AuthNTLM},
	})
	srv.HandleFunc("hostname", func(ctx context.Context, inv *wsmantest.Invocation) error {
		_, err := inv.Stdout().Write([]byte("FAKEHOST\r\n"))
		return err
	})
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return srv, winrm.NewEndpoint(u.Hostname(), port, false, false, nil, nil, nil, 0)
}

// A masterzen endpoint and NTLM decorator become a *wsman.Client, which
// runs a command on a cmd shell (here on a fake server; on Windows the
// endpoint would be winrm.NewEndpoint("winrm.example.com", 5986, true, ...)).
func ExampleNewClient() {
	srv, ep := fakeWinRM()
	defer srv.Close()
	params := winrm.NewParameters("PT60S", "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientNTLM{} }
	c, err := NewClient(ep, `DOMAIN\user`, "password", params, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	created, err := c.CreateCmd(ctx, wsman.CmdShell{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: created.ShellID()}
	id, err := c.Command(ctx, ref, &wsman.CommandLine{Command: "hostname"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		rr, err := c.Receive(ctx, ref, &wsman.Receive{CommandID: id, DesiredStream: "stdout stderr"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(strings.ReplaceAll(string(rr.StreamData("stdout", id)), "\r", ""))
		if rr.CommandState.Done() {
			fmt.Println("exit code", rr.CommandState.ExitCode)
			break
		}
	}
	_ = c.Delete(ctx, ref)
	// Output:
	// FAKEHOST
	// exit code 0
}

// masterzen's own client sends its requests through this SDK's transport:
// faults are errors, responses are bounded, and cancelling ctx aborts the
// request in flight. (A fake server stands in for the Windows host.)
func ExampleTransporter() {
	srv, ep := fakeWinRM()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	params := winrm.NewParameters("PT60S", "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter {
		return &Transporter{Auth: &auth.NTLM{Username: `DOMAIN\user`, Password: "password"}, Context: ctx}
	}
	mc, err := winrm.NewClientWithParameters(ep, "", "", params)
	if err != nil {
		fmt.Println(err)
		return
	}
	var stdout, stderr bytes.Buffer
	code, err := mc.RunWithContext(ctx, "hostname", &stdout, &stderr)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(stdout.String(), "\r", ""))
	fmt.Println("exit code", code)
	// Output:
	// FAKEHOST
	// exit code 0
}

// masterzen does not escape (command text is only wrapped in CDATA): a
// command containing "]]>" followed by markup would be
// posted as broken XML. The Transporter refuses it instead.
func TestTransporterRefusesUnescapedRequest(t *testing.T) {
	fs := &cmdServer{}
	srv := httptest.NewTLSServer(fs)
	defer srv.Close()
	mc := masterzenClient(t, srv, nil)
	var out bytes.Buffer
	_, err := mc.RunWithContext(context.Background(), "echo ]]> <b & c", &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "malformed request")
	assert.NotContains(t, fs.actions(), "Command", "the broken request was not posted")
}

func TestConfigFromClientCertificate(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cert-user"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	ep := winrm.NewEndpoint("server", 5986, true, false, nil,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0)
	p := winrm.NewParameters("PT60S", "en-US", 153600)
	p.TransportDecorator = func() winrm.Transporter { return &winrm.ClientAuthRequest{} }
	_, cfg, err := ConfigFrom(ep, "", "", p, nil)
	require.NoError(t, err)
	c, ok := cfg.Auth.(*auth.Certificate)
	require.True(t, ok, "%T", cfg.Auth)
	assert.Equal(t, "cert-user", c.Leaf().Subject.CommonName)
}

// Through the Transporter an HTTP 500 is never a success, SOAP or not, and
// a fault is an error whatever its status.
func TestTransporterHTTPErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   func(req *wsman.Envelope) []byte
		check  func(t *testing.T, err error)
	}{
		"500 not SOAP": {500, func(*wsman.Envelope) []byte { return []byte("<html>Internal Server Error</html>") },
			func(t *testing.T, err error) {
				var he *wsman.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, 500, he.StatusCode)
			}},
		"500 empty": {500, func(*wsman.Envelope) []byte { return nil },
			func(t *testing.T, err error) {
				var he *wsman.HTTPError
				require.ErrorAs(t, err, &he)
			}},
		"500 SOAP without fault": {500, func(req *wsman.Envelope) []byte { return wsman.NewResponse(req).Marshal() },
			func(t *testing.T, err error) {
				var he *wsman.HTTPError
				require.ErrorAs(t, err, &he)
			}},
		"200 with fault": {200, func(req *wsman.Envelope) []byte {
			return wsman.NewFaultResponse(req, wsman.ShellNotFoundFault("m")).Marshal()
		}, func(t *testing.T, err error) { require.ErrorIs(t, err, wsman.ErrShellNotFound) }},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				req, err := wsman.ParseEnvelope(b)
				if err != nil {
					w.WriteHeader(400)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body(req))
			}))
			defer srv.Close()
			mc := masterzenClient(t, srv, nil)
			_, err := mc.CreateShell()
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}
