package wsman

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psremoting/psremoting/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// soapServer answers every request with fn's envelope and status.
func soapServer(t *testing.T, fn func(req *Envelope) (int, *Envelope)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status, resp := fn(req)
		w.Header().Set("Content-Type", auth.SOAPContentType)
		w.WriteHeader(status)
		_, _ = w.Write(resp.Marshal())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestClient(t *testing.T, url string, cfg Config) *Client {
	t.Helper()
	if cfg.Proxy == nil {
		cfg.Proxy = NoProxy
	}
	c, err := NewClient(url, cfg)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

var testRef = ShellRef{ResourceURI: PowerShellResourceURI(""), ShellID: "b6631d8e-65a0-49f2-9053-a1b156c95777"}

func TestFaultStatuses(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		fault   *Fault
		body    string
		wantIs  error
		wantErr any
	}{
		{name: "500 InvalidSelectors", status: 500, fault: ShellNotFoundFault("m"), wantIs: ErrShellNotFound},
		{name: "200 with fault body", status: 200, fault: ShellNotFoundFault("m"), wantIs: ErrShellNotFound},
		{name: "400 busy", status: 400, fault: NewFault("s:Sender", "w:InternalError", "busy", CodeShellConnectedToOther, "m", "in use"), wantIs: ErrShellBusy},
		{name: "500 session mismatch", status: 500, fault: NewFault("s:Sender", "w:InternalError", "x", CodeClientSessionIDMismatch, "m", "x"), wantIs: ErrSessionIDMismatch},
		{name: "500 access denied", status: 500, fault: NewFault("s:Sender", "w:AccessDenied", "Access is denied.", CodeAccessDenied, "m", ""), wantIs: ErrAccessDenied},
		{name: "500 invalid header", status: 500, fault: InvalidHeaderFault("m", ""), wantIs: ErrInvalidHeader},
		{name: "500 reconnect invalid", status: 500, fault: NewFault("s:Sender", "w:InternalError", "x", CodeReconnectNotValid, "m", "x"), wantIs: ErrInvalidState},
		{name: "500 not SOAP", status: 500, body: "<html>Internal error</html>", wantErr: &HTTPError{}},
		{name: "500 empty", status: 500, body: "", wantErr: &HTTPError{}},
		{name: "503 text", status: 503, body: "down", wantErr: &HTTPError{}},
		{name: "500 SOAP but not a fault", status: 500, body: "ok-envelope", wantErr: &HTTPError{}},
		{name: "200 not XML", status: 200, body: "not xml", wantErr: &XMLError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				req, err := ParseEnvelope(b)
				require.NoError(t, err)
				w.WriteHeader(tc.status)
				switch {
				case tc.fault != nil:
					_, _ = w.Write(NewFaultResponse(req, tc.fault).Marshal())
				case tc.body == "ok-envelope":
					_, _ = w.Write(NewResponse(req).Marshal())
				default:
					_, _ = io.WriteString(w, tc.body)
				}
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, Config{})
			err := c.Delete(context.Background(), testRef)
			require.Error(t, err)
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
				var f *Fault
				require.ErrorAs(t, err, &f)
				assert.Equal(t, tc.status, f.HTTPStatus)
				assert.Equal(t, ActionDelete, f.Action)
				assert.Contains(t, err.Error(), "Delete")
				// A fault is only the sentinel of its own code.
				assert.False(t, errors.Is(err, ErrOperationTimeout) && tc.wantIs != ErrOperationTimeout)
			}
			switch tc.wantErr.(type) {
			case *HTTPError:
				var he *HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, tc.status, he.StatusCode)
				assert.LessOrEqual(t, len(he.Body), maxErrorBody)
			case *XMLError:
				var xe *XMLError
				require.ErrorAs(t, err, &xe)
			}
		})
	}
}

func TestHTTPErrorBodyBounded(t *testing.T) {
	big := strings.Repeat("A", 100000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		_, _ = io.WriteString(w, big)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{})
	err := c.Delete(context.Background(), testRef)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Len(t, he.Body, maxErrorBody)
	assert.Less(t, len(err.Error()), 2*maxErrorBody)
}

func TestReceiveTimedOutIsNothingYet(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		return 500, NewFaultResponse(req, TimedOutFault("m"))
	})
	c := newTestClient(t, srv.URL, Config{})
	rr, err := c.Receive(context.Background(), testRef, &Receive{CommandID: "abc"})
	require.NoError(t, err)
	assert.True(t, rr.TimedOut)
	assert.Empty(t, rr.Streams)
	// Through Invoke the same fault is an error matching ErrOperationTimeout.
	_, err = c.Invoke(context.Background(), &Request{Action: ActionReceive, ResourceURI: testRef.ResourceURI})
	assert.True(t, IsTimeout(err))
}

// testAuth is a tiny Authenticator adding a header, to check the wrapping.
type testAuth struct {
	wrapped atomic.Int32
	opts    auth.WrapOptions
}

func (a *testAuth) Scheme() string { return "Test" }
func (a *testAuth) Wrap(next http.RoundTripper, opts auth.WrapOptions) (http.RoundTripper, error) {
	a.wrapped.Add(1)
	a.opts = opts
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Test s3cr3t-token")
		return next.RoundTrip(r)
	}), nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAuthenticatorAnd401(t *testing.T) {
	var sawAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", "Basic realm=\"WSMAN\"")
		w.WriteHeader(401)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	a := &testAuth{}
	c := newTestClient(t, srv.URL, Config{Auth: a, AllowUnencrypted: true,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	assert.EqualValues(t, 1, a.wrapped.Load())
	assert.True(t, a.opts.AllowUnencrypted)
	err := c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, ErrUnauthorized)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Test", ae.Scheme)
	assert.Equal(t, []string{"Negotiate", "Basic"}, ae.Offered)
	assert.Equal(t, "Test s3cr3t-token", sawAuth.Load())
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Contains(t, logs.String(), "action=Delete")
	assert.NotContains(t, logs.String(), "s3cr3t")
}

func TestContextCancelAbortsRequest(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets net/http notice the client going away.
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	before := runtime.NumGoroutine()
	c := newTestClient(t, srv.URL, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(ctx, testRef, &Receive{})
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Receive did not return after its context was cancelled")
	}
	c.CloseIdleConnections()
	// No goroutine of the client is left behind (poll: the transport's
	// connection goroutines exit asynchronously).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left behind (before %d):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestHTTPDeadlineSeparateFromOperationTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL, Config{OperationTimeout: time.Hour, HTTPTimeout: 50 * time.Millisecond})
	err := c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestResponseSizeCap(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		rr := &ReceiveResponse{Streams: []Stream{{Name: "stdout", Data: bytes.Repeat([]byte{1}, 10000)}}}
		return 200, NewResponse(req, rr.Element())
	})
	c := newTestClient(t, srv.URL, Config{MaxResponseBytes: 4096})
	_, err := c.Receive(context.Background(), testRef, &Receive{})
	require.ErrorIs(t, err, ErrResponseTooLarge)
}

func TestRelatesToChecked(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		resp := NewResponse(req)
		resp.Header.RelatesTo = "uuid:11111111-1111-1111-1111-111111111111"
		return 200, resp
	})
	c := newTestClient(t, srv.URL, Config{})
	require.ErrorIs(t, c.Delete(context.Background(), testRef), ErrRelatesTo)
}

func TestUnexpectedResponseAction(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		resp := NewResponse(req)
		resp.Header.Action = ResponseAction(ActionGet)
		return 200, resp
	})
	c := newTestClient(t, srv.URL, Config{})
	var ue *UnexpectedResponseError
	require.ErrorAs(t, c.Delete(context.Background(), testRef), &ue)
}

func TestRedirects(t *testing.T) {
	var hits atomic.Int32
	final := soapServer(t, func(req *Envelope) (int, *Envelope) {
		hits.Add(1)
		return 200, NewResponse(req)
	})
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL+"/wsman", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	var loops atomic.Int32
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loops.Add(1)
		http.Redirect(w, r, loop.URL+"/wsman", http.StatusTemporaryRedirect)
	}))
	defer loop.Close()

	// Not allowed by default.
	c := newTestClient(t, redirect.URL, Config{})
	err := c.Delete(context.Background(), testRef)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusTemporaryRedirect, he.StatusCode)
	assert.Equal(t, final.URL+"/wsman", he.Location)
	assert.Zero(t, hits.Load())

	// Allowed, but to another host (another port): refused.
	c = newTestClient(t, redirect.URL, Config{AllowRedirection: true})
	require.ErrorIs(t, c.Delete(context.Background(), testRef), ErrCrossHostRedirect)
	assert.Zero(t, hits.Load())

	// Allowed across hosts: followed, body re-sent.
	c = newTestClient(t, redirect.URL, Config{AllowRedirection: true, AllowCrossHostRedirection: true})
	require.NoError(t, c.Delete(context.Background(), testRef))
	assert.EqualValues(t, 1, hits.Load())

	// At most MaxRedirects.
	c = newTestClient(t, loop.URL, Config{AllowRedirection: true, MaxRedirects: 3})
	err = c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, ErrTooManyRedirects)
	assert.EqualValues(t, 4, loops.Load())

	// The default is PowerShell's MaximumConnectionRedirectionCount, 5.
	loops.Store(0)
	c = newTestClient(t, loop.URL, Config{AllowRedirection: true})
	err = c.Delete(context.Background(), testRef)
	require.ErrorIs(t, err, ErrTooManyRedirects)
	assert.EqualValues(t, DefaultMaxRedirects+1, loops.Load())
}

// Every redirect status re-posts the same envelope (net/http alone would
// turn 301, 302 and 303 into a GET without a body), to a relative or
// absolute Location.
func TestRedirectRepostsEnvelope(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, relative := range []bool{false, true} {
			var got atomic.Value
			var firstBody []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.URL.Path != "/moved" {
					firstBody = b
					loc := "/moved"
					if !relative {
						loc = "http://" + r.Host + "/moved"
					}
					w.Header().Set("Location", loc)
					w.WriteHeader(code)
					_, _ = io.WriteString(w, "moved")
					return
				}
				got.Store(r.Method + " " + string(b))
				req, err := ParseEnvelope(b)
				if err != nil {
					w.WriteHeader(400)
					return
				}
				_, _ = w.Write(NewResponse(req).Marshal())
			}))
			c := newTestClient(t, srv.URL, Config{AllowRedirection: true})
			require.NoError(t, c.Delete(context.Background(), testRef), "status %d", code)
			assert.Equal(t, "POST "+string(firstBody), got.Load(), "status %d", code)
			srv.Close()
		}
	}
}

func TestRedirectHTTPSToHTTPRefused(t *testing.T) {
	plain := soapServer(t, func(req *Envelope) (int, *Envelope) { return 200, NewResponse(req) })
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/wsman", http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	c := newTestClient(t, tlsSrv.URL, Config{AllowRedirection: true, RootCAs: pool})
	require.ErrorIs(t, c.Delete(context.Background(), testRef), ErrInsecureRedirect)
}

func TestTLSVerification(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, _ := ParseEnvelope(b)
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	c := newTestClient(t, srv.URL, Config{})
	err := c.Delete(ctx, testRef)
	require.Error(t, err, "an unknown CA must be refused by default")

	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c = newTestClient(t, srv.URL, Config{RootCAs: pool})
	require.NoError(t, c.Delete(ctx, testRef))

	c = newTestClient(t, srv.URL, Config{InsecureSkipVerify: true})
	require.NoError(t, c.Delete(ctx, testRef))
}

func TestProxy(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		b, _ := io.ReadAll(r.Body)
		req, _ := ParseEnvelope(b)
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c := newTestClient(t, "http://winrm.invalid:5985/wsman", Config{Proxy: http.ProxyURL(pu)})
	require.NoError(t, c.Delete(context.Background(), testRef))
	assert.Equal(t, "http://winrm.invalid:5985/wsman", seen.Load())
}

func TestSessionIDPerClient(t *testing.T) {
	var ids []string
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		ids = append(ids, req.Header.SessionID)
		return 200, NewResponse(req)
	})
	ctx := context.Background()
	a := newTestClient(t, srv.URL, Config{})
	b := newTestClient(t, srv.URL, Config{})
	same := newTestClient(t, srv.URL, Config{SessionID: a.SessionID()})
	require.NoError(t, a.Delete(ctx, testRef))
	require.NoError(t, a.Disconnect(ctx, testRef, nil))
	require.NoError(t, b.Delete(ctx, testRef))
	require.NoError(t, same.Reconnect(ctx, testRef, ""))
	require.Len(t, ids, 4)
	assert.Equal(t, ids[0], ids[1])
	assert.NotEqual(t, ids[0], ids[2])
	assert.Equal(t, ids[0], ids[3])
	assert.Regexp(t, `^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`, ids[0])
}

func TestRequestHookAndOperationTimeout(t *testing.T) {
	var got *Envelope
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		got = req
		return 200, NewResponse(req, (&ReceiveResponse{}).Element())
	})
	seq := 0
	c := newTestClient(t, srv.URL, Config{RequestHook: func(ctx context.Context, h *Header) {
		seq++
		h.OperationID = "uuid:9178A378-F1B0-4EDE-9EE2-52E43056AA28"
		h.SequenceID = itoa(seq)
		h.Extra = append(h.Extra, NewElement("urn:example", "Custom").SetText("x<y"))
	}})
	_, err := c.Receive(context.Background(), testRef, &Receive{OperationTimeout: 1500 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, "uuid:9178A378-F1B0-4EDE-9EE2-52E43056AA28", got.Header.OperationID)
	assert.Equal(t, "1", got.Header.SequenceID)
	require.Len(t, got.Header.Extra, 1)
	assert.Equal(t, "x<y", got.Header.Extra[0].Text)
	assert.Equal(t, 1500*time.Millisecond, got.Header.OperationTimeout)
	assert.Equal(t, "B6631D8E-65A0-49F2-9053-A1B156C95777", got.Header.ShellID(), "ShellId upper-case")
}

func TestEnumeratePull(t *testing.T) {
	const total = 7
	var pulls atomic.Int32
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		mk := func(from, n int) []*Element {
			var out []*Element
			for i := from; i < from+n && i < total; i++ {
				s := &Shell{ShellID: "ID" + itoa(i), ResourceURI: PowerShellResourceURI(""), State: ShellStateDisconnected}
				out = append(out, s.Element())
			}
			return out
		}
		switch req.Header.Action {
		case ActionEnumerate:
			e, err := ParseEnumerate(req.BodyElement())
			if err != nil || !e.Optimize {
				return 500, NewFaultResponse(req, InvalidHeaderFault("m", "bad"))
			}
			return 200, NewResponse(req, (&EnumerationResult{Context: "ctx-3", Items: mk(0, 3)}).EnumerateResponseElement())
		case ActionPull:
			pulls.Add(1)
			p, err := ParsePull(req.BodyElement())
			if err != nil || !strings.HasPrefix(p.Context, "ctx-") {
				return 500, NewFaultResponse(req, InvalidHeaderFault("m", "bad"))
			}
			from := atoi(strings.TrimPrefix(p.Context, "ctx-"))
			res := &EnumerationResult{Context: "ctx-" + itoa(from+3), Items: mk(from, 3), EndOfSequence: from+3 >= total}
			return 200, NewResponse(req, res.PullResponseElement())
		}
		return 500, NewFaultResponse(req, ShellNotFoundFault("m"))
	})
	c := newTestClient(t, srv.URL, Config{})
	shells, err := c.EnumerateShells(context.Background())
	require.NoError(t, err)
	require.Len(t, shells, total)
	for i, s := range shells {
		assert.Equal(t, "ID"+itoa(i), s.ShellID)
		assert.True(t, s.IsPowerShell())
	}
	assert.EqualValues(t, 2, pulls.Load())
}

func TestEnumerateHostileServerBounded(t *testing.T) {
	srv := soapServer(t, func(req *Envelope) (int, *Envelope) {
		item := (&Shell{ShellID: "X"}).Element()
		res := &EnumerationResult{Context: "again", Items: []*Element{item}}
		if req.Header.Action == ActionPull {
			return 200, NewResponse(req, res.PullResponseElement())
		}
		return 200, NewResponse(req, res.EnumerateResponseElement())
	})
	c := newTestClient(t, srv.URL, Config{})
	_, err := c.Enumerate(context.Background(), ResourceShell, &Enumerate{Optimize: true}, 50)
	require.ErrorIs(t, err, ErrLimit)
}

func TestDiscoverMaxEnvelopeSize(t *testing.T) {
	ctx := context.Background()
	ok := soapServer(t, func(req *Envelope) (int, *Envelope) {
		return 200, NewResponse(req, (&ServiceConfig{MaxEnvelopeSizeKB: 8192}).Element())
	})
	c := newTestClient(t, ok.URL, Config{})
	n, from, err := c.DiscoverMaxEnvelopeSize(ctx, MaxEnvelopeSizeV3)
	require.NoError(t, err)
	assert.True(t, from)
	assert.Equal(t, 8192*1024, n)

	denied := soapServer(t, func(req *Envelope) (int, *Envelope) {
		return 500, NewFaultResponse(req, NewFault("s:Sender", "w:AccessDenied", "Access is denied.", CodeAccessDenied, "m", ""))
	})
	c = newTestClient(t, denied.URL, Config{})
	for _, tc := range []struct {
		fallback int
		want     int
	}{{MaxEnvelopeSizeV2, 153600}, {MaxEnvelopeSizeV3, 512000}, {0, DefaultMaxEnvelopeSize}, {-1, DefaultMaxEnvelopeSize}} {
		n, from, err := c.DiscoverMaxEnvelopeSize(ctx, tc.fallback)
		require.NoError(t, err)
		assert.False(t, from)
		assert.Equal(t, tc.want, n, tc.fallback)
	}
}

func TestMaxPayloadSizeFits(t *testing.T) {
	for _, env := range []int{8192, 153600, 512000} {
		c := newTestClient(t, "https://a-rather-long-host-name.example.com:5986/wsman", Config{MaxEnvelopeSize: env})
		n := c.MaxPayloadSize()
		require.Greater(t, n, 0)
		payload := bytes.Repeat([]byte{0xAB}, n)
		e := c.envelope(context.Background(), &Request{
			Action: ActionSend, ResourceURI: PowerShellResourceURI("Microsoft.PowerShell"),
			Selectors: []Selector{{Name: SelectorShellID, Value: "B6631D8E-65A0-49F2-9053-A1B156C95777"}},
			Body:      []*Element{SendElement(Stream{Name: StreamStdin, CommandID: "356E6DC2-6889-4305-9FE6-8B03F44D7210", Data: payload})},
		})
		size := len(e.Marshal())
		assert.LessOrEqual(t, size, env, "envelope %d", env)
		assert.Greater(t, size, env-1024, "payload should use the envelope")
	}
	// The Windows-reported 150 KiB envelope gives about pypsrp's size.
	c := newTestClient(t, "https://127.0.0.1:5986/wsman", Config{})
	assert.InDelta(t, 113900, c.MaxPayloadSize(), 1500)
}

// A server that accepts the connection and then never reads or answers:
// cancelling the context returns promptly and leaves no goroutine behind.
func TestContextCancelServerNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 4)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	before := runtime.NumGoroutine()
	c := newTestClient(t, "http://"+ln.Addr().String()+"/wsman", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(ctx, testRef, &Receive{})
		done <- err
	}()
	conn := <-accepted // the request is in flight on a silent connection
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Receive did not return after its context was cancelled")
	}
	c.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n := runtime.NumGoroutine()
	conn.Close()
	ln.Close()
	<-acceptDone
	if n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left behind (before %d):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}
}

// The HTTP deadline of a request is its OperationTimeout plus
// DefaultHTTPGrace (a long-polling Receive is not cut off when the server
// answers w:TimedOut at OperationTimeout), unless HTTPTimeout is set.
func TestDefaultHTTPDeadlineIsOperationTimeoutPlusGrace(t *testing.T) {
	var deadline atomic.Value
	var sentTimeout atomic.Value
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		d, ok := r.Context().Deadline()
		require.True(t, ok)
		deadline.Store(time.Until(d))
		b, _ := io.ReadAll(r.Body)
		req, err := ParseEnvelope(b)
		require.NoError(t, err)
		sentTimeout.Store(req.Header.OperationTimeout)
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(NewResponse(req).Marshal())),
			Header: http.Header{}, Request: r}, nil
	})
	for _, tc := range []struct {
		op, httpTimeout, want time.Duration
	}{
		{op: 0, want: DefaultOperationTimeout + DefaultHTTPGrace},
		{op: 2 * time.Minute, want: 2*time.Minute + DefaultHTTPGrace},
		{op: time.Hour, httpTimeout: 90 * time.Second, want: 90 * time.Second},
	} {
		c := newTestClient(t, "http://winrm.invalid/wsman", Config{Transport: rt, OperationTimeout: tc.op, HTTPTimeout: tc.httpTimeout})
		require.NoError(t, c.Delete(context.Background(), testRef))
		got := deadline.Load().(time.Duration)
		assert.InDelta(t, tc.want.Seconds(), got.Seconds(), 5, "HTTP deadline")
		wantOp := tc.op
		if wantOp == 0 {
			wantOp = DefaultOperationTimeout
		}
		assert.Equal(t, wantOp, sentTimeout.Load(), "wsman:OperationTimeout")
	}
}

// Without Config.Proxy the transport takes the proxy from the environment
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), as PowerShell uses the system proxy.
func TestProxyFromEnvironmentByDefault(t *testing.T) {
	c, err := NewClient("http://winrm.invalid/wsman", Config{})
	require.NoError(t, err)
	require.NotNil(t, c.base)
	require.NotNil(t, c.base.Proxy)
	assert.Equal(t, reflect.ValueOf(http.ProxyFromEnvironment).Pointer(), reflect.ValueOf(c.base.Proxy).Pointer())
	c, err = NewClient("http://winrm.invalid/wsman", Config{Proxy: NoProxy})
	require.NoError(t, err)
	assert.Equal(t, reflect.ValueOf(NoProxy).Pointer(), reflect.ValueOf(c.base.Proxy).Pointer())
}

// CloseIdleConnections reaches the client's own transport even when the
// authenticator's RoundTripper does not pass the call on.
func TestCloseIdleConnectionsBeneathAuthenticator(t *testing.T) {
	closed := make(chan struct{}, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, _ := ParseEnvelope(b)
		_, _ = w.Write(NewResponse(req).Marshal())
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Auth: &testAuth{}, AllowUnencrypted: true})
	require.NoError(t, c.Delete(context.Background(), testRef)) // leaves an idle kept-alive connection
	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle connection was not closed")
	}
}
