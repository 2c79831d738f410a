package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/krbtest"
)

// The SPN of the test servers: they listen on 127.0.0.1, and the SPN is
// derived from the request URL's host.
const testSPN = "HTTP/127.0.0.1"

var (
	principalsMu sync.Mutex
	principals   = map[string]bool{}
	serviceKT    *keytab.Keytab
)

// testPrincipal creates (once) a principal in the shared realm: a user with
// a password, or a service with random keys when password is "".
func testPrincipal(t testing.TB, k *krbtest.KDC, name, password string) {
	t.Helper()
	principalsMu.Lock()
	defer principalsMu.Unlock()
	if principals[name] {
		return
	}
	if password == "" {
		require.NoError(t, k.AddRandomKeyPrincipal(name))
	} else {
		require.NoError(t, k.AddPrincipal(name, password))
	}
	principals[name] = true
}

// testServiceKeytab returns the keytab of testSPN, creating the service
// principal on first use.
func testServiceKeytab(t testing.TB, k *krbtest.KDC) *keytab.Keytab {
	t.Helper()
	principalsMu.Lock()
	defer principalsMu.Unlock()
	if serviceKT != nil {
		return serviceKT
	}
	require.NoError(t, k.AddRandomKeyPrincipal(testSPN))
	kt, err := k.WriteKeytab(filepath.Join(k.Dir, "http.keytab"), testSPN)
	require.NoError(t, err)
	serviceKT = kt
	return kt
}

// krbServer is an HTTPS (or HTTP) test server that checks SPNEGO Kerberos
// tokens with gokrb5's service side and the service keytab, and checks the
// channel binding hash in the authenticator checksum against its own
// certificate.
type krbServer struct {
	*httptest.Server
	kt *keytab.Keytab

	// perRequest makes the server demand a token on every request, instead
	// of keeping the connection authenticated as HTTP.sys does.
	perRequest bool
	// expectBindings, when set, replaces the bindings the server expects
	// (nil: computed from its own certificate over TLS, none over HTTP).
	expectBindings []byte
	// noBindings makes the server expect no channel bindings over TLS (a
	// server with CbtHardeningLevel=None that checks the hash is zero).
	noBindings bool
	// offer is the WWW-Authenticate header of a 401 ("Negotiate" when "").
	offer []string
	// onRequest, if set, runs for every authenticated request before the
	// answer (it may block, or panic with http.ErrAbortHandler).
	onRequest func(r *http.Request, body string)

	mu        sync.Mutex
	authed    map[string]bool // remote addr -> authenticated connection
	tokensOn  map[string]int  // remote addr -> tokens accepted on it
	clients   []string        // authenticated client principals
	bindings  [][]byte        // channel binding hash of each token
	bodies    []string        // request bodies that reached the handler
	requests  atomic.Int32
	challenge atomic.Int32 // 401s sent
	tokens    atomic.Int32 // tokens received
}

func newKRBServer(t testing.TB, kt *keytab.Keytab, tlsOn bool, configure func(*krbServer)) *krbServer {
	s := &krbServer{kt: kt, authed: map[string]bool{}, tokensOn: map[string]int{}}
	if configure != nil {
		configure(s)
	}
	if tlsOn {
		s.Server = httptest.NewTLSServer(s)
	} else {
		s.Server = httptest.NewServer(s)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *krbServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	hdr := r.Header.Get("Authorization")
	s.mu.Lock()
	connAuthed := s.authed[r.RemoteAddr]
	s.mu.Unlock()
	if hdr == "" && connAuthed && !s.perRequest {
		s.ok(w, r, body)
		return
	}
	if hdr == "" {
		s.unauthorized(w)
		return
	}
	s.tokens.Add(1)
	principal, bnd, err := s.verify(hdr)
	if err != nil {
		w.Header().Set("WWW-Authenticate", "Negotiate oQcwBaADCgEC") // reject
		s.challenge.Add(1)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	want := s.expectBindings
	if want == nil && r.TLS != nil && !s.noBindings {
		want = TLSServerEndPoint(s.Certificate())
	}
	var zero [16]byte
	if want != nil {
		h := ChannelBindingHash(want)
		if !bytes.Equal(bnd, h[:]) {
			s.challenge.Add(1)
			http.Error(w, "channel binding mismatch", http.StatusUnauthorized)
			return
		}
	} else if !bytes.Equal(bnd, zero[:]) {
		s.challenge.Add(1)
		http.Error(w, "unexpected channel bindings", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.authed[r.RemoteAddr] = true
	s.tokensOn[r.RemoteAddr]++
	s.clients = append(s.clients, principal)
	s.bindings = append(s.bindings, bnd)
	s.mu.Unlock()
	w.Header().Set("WWW-Authenticate", "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==") // accept-completed
	s.ok(w, r, body)
}

func (s *krbServer) unauthorized(w http.ResponseWriter) {
	s.challenge.Add(1)
	offer := s.offer
	if offer == nil {
		offer = []string{"Negotiate"}
	}
	for _, o := range offer {
		w.Header().Add("WWW-Authenticate", o)
	}
	w.WriteHeader(http.StatusUnauthorized)
}

func (s *krbServer) ok(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.onRequest != nil {
		s.onRequest(r, string(body))
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, "echo:%s", body)
}

// verify decodes and verifies a "Negotiate <SPNEGO>" header and returns the
// client principal and the 16-byte binding hash of the GSS checksum.
func (s *krbServer) verify(hdr string) (string, []byte, error) {
	b64, ok := strings.CutPrefix(hdr, "Negotiate ")
	if !ok {
		return "", nil, errors.New("not Negotiate")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, err
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err != nil {
		return "", nil, err
	}
	if !st.Init {
		return "", nil, errors.New("not a NegTokenInit")
	}
	var kt spnego.KRB5Token
	if err := kt.Unmarshal(st.NegTokenInit.MechTokenBytes); err != nil {
		return "", nil, err
	}
	if !kt.IsAPReq() {
		return "", nil, errors.New("not an AP-REQ")
	}
	ok, creds, err := service.VerifyAPREQ(&kt.APReq, service.NewSettings(s.kt, service.DecodePAC(false)))
	if err != nil || !ok {
		return "", nil, fmt.Errorf("AP-REQ not valid: %v", err)
	}
	ck := kt.APReq.Authenticator.Cksum.Checksum
	if len(ck) < 24 || binary.LittleEndian.Uint32(ck[:4]) != 16 {
		return "", nil, errors.New("bad GSS checksum")
	}
	return creds.UserName() + "@" + creds.Domain(), ck[4:20], nil
}

// wrapClient returns an http.Client over a new transport that trusts the
// server's certificate, wrapped by a. Each client gets its own connections,
// since the test servers, like HTTP.sys, treat an authenticated connection
// as authenticated.
func wrapClient(t *testing.T, s *httptest.Server, a Authenticator, opts WrapOptions) *http.Client {
	t.Helper()
	tr := s.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rt, err := a.Wrap(tr, opts)
	require.NoError(t, err)
	return &http.Client{Transport: rt}
}

func post(ctx context.Context, c *http.Client, url, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/wsman", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return string(b), err
}

// kdcLogMark returns the current length of the KDC log, for countKDCLog.
// The KDC is shared by the whole test binary (and by the runs of
// -count=N), so tests count from a mark taken when they start.
func kdcLogMark(t *testing.T, k *krbtest.KDC) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
	require.NoError(t, err)
	return len(b)
}

// countKDCLog counts lines of the KDC log written after mark (see
// kdcLogMark) with all the given substrings.
func countKDCLog(t *testing.T, k *krbtest.KDC, mark int, subs ...string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), mark, "the KDC log shrank")
	n := 0
lines:
	for _, line := range strings.Split(string(b[mark:]), "\n") {
		for _, s := range subs {
			if !strings.Contains(line, s) {
				continue lines
			}
		}
		n++
	}
	return n
}

func krbConfig(t testing.TB, k *krbtest.KDC) KerberosConfig {
	t.Helper()
	c, err := k.Config()
	require.NoError(t, err)
	return KerberosConfig{Krb5Config: c}
}

func TestKerberosPasswordHTTPS(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "henry", "Henry-Pass-1")
	mark := kdcLogMark(t, k)
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)

	a, err := NewKerberosWithPassword("henry", "", "Henry-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, "Kerberos", a.Scheme())
	assert.Equal(t, "henry@"+k.Realm, a.Principal())

	c := wrapClient(t, srv.Server, a, WrapOptions{})
	for i := range 3 {
		got, err := post(context.Background(), c, srv.URL, fmt.Sprintf("<body n='%d'/>", i))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("echo:<body n='%d'/>", i), got)
	}
	// One challenge and one token: the server kept the connection
	// authenticated and the client did not re-authenticate.
	assert.EqualValues(t, 1, srv.challenge.Load())
	assert.EqualValues(t, 1, srv.tokens.Load())
	assert.EqualValues(t, 4, srv.requests.Load())
	assert.Equal(t, []string{"henry@" + k.Realm}, srv.clients)
	want := ChannelBindingHash(TLSServerEndPoint(srv.Certificate()))
	assert.Equal(t, want[:], srv.bindings[0], "channel binding of the server certificate")
	// Logged in once: one AS exchange and one TGS exchange for alice.
	assert.Equal(t, 1, countKDCLog(t, k, mark, "AS_REQ", "ISSUE", "henry@"))
	assert.Equal(t, 1, countKDCLog(t, k, mark, "TGS_REQ", "ISSUE", "henry@", testSPN))
}

func TestKerberosPerRequestServer(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "carol", "Carol-Pass-1")
	mark := kdcLogMark(t, k)
	srv := newKRBServer(t, testServiceKeytab(t, k), true, func(s *krbServer) { s.perRequest = true })
	a, err := NewKerberosWithPassword("carol@"+strings.ToLower(k.Realm), "", "Carol-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv.Server, a, WrapOptions{})
	for i := range 4 {
		_, err := post(context.Background(), c, srv.URL, fmt.Sprint(i))
		require.NoError(t, err)
	}
	// Request 1: 401 + token; request 2: 401 + token (the client learns the
	// server wants a token every time); requests 3 and 4: token up front.
	assert.EqualValues(t, 2, srv.challenge.Load())
	assert.EqualValues(t, 4, srv.tokens.Load())
	assert.EqualValues(t, 6, srv.requests.Load())
	assert.Equal(t, []string{"0", "1", "2", "3"}, srv.bodies)
	assert.Equal(t, 1, countKDCLog(t, k, mark, "TGS_REQ", "ISSUE", "carol@", testSPN), "service ticket reused")
}

func TestKerberosKeytab(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "bob", "Bob-Pass-1")
	path := filepath.Join(t.TempDir(), "bob.keytab")
	_, err := k.WriteKeytab(path, "bob")
	require.NoError(t, err)
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)

	a, err := NewKerberosWithKeytabFile("bob", k.Realm, path, krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.Login(context.Background()))
	got, err := post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "kt")
	require.NoError(t, err)
	assert.Equal(t, "echo:kt", got)
	assert.Equal(t, []string{"bob@" + k.Realm}, srv.clients)

	_, err = NewKerberosWithKeytabFile("bob", k.Realm, filepath.Join(t.TempDir(), "missing"), krbConfig(t, k))
	require.ErrorIs(t, err, ErrKerberosConfig)
}

func TestKerberosCCache(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "dave", "Dave-Pass-1")
	mark := kdcLogMark(t, k)
	cc := filepath.Join(t.TempDir(), "ccache")
	require.NoError(t, k.Kinit("dave", "Dave-Pass-1", cc))
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)

	for _, path := range []string{cc, "FILE:" + cc, ""} {
		t.Run(path, func(t *testing.T) {
			if path == "" {
				t.Setenv("KRB5CCNAME", "FILE:"+cc)
			}
			a, err := NewKerberosFromCCache(path, krbConfig(t, k))
			require.NoError(t, err)
			defer a.Close()
			assert.Equal(t, "dave@"+k.Realm, a.Principal())
			got, err := post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "cc")
			require.NoError(t, err)
			assert.Equal(t, "echo:cc", got)
		})
	}
	assert.Equal(t, 1, countKDCLog(t, k, mark, "AS_REQ", "ISSUE", "dave@"), "only kinit logged in: the ccache TGT is reused")

	_, err := NewKerberosFromCCache(filepath.Join(t.TempDir(), "none"), krbConfig(t, k))
	require.ErrorIs(t, err, ErrKerberosConfig)
}

func TestKerberosWrongPassword(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "erin", "Erin-Pass-1")
	const bad = "Wrong-Secret-42"
	a, err := NewKerberosWithPassword("erin", "", bad, krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()

	err = a.Login(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrKerberosCredentials)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var ke *KerberosError
	require.ErrorAs(t, err, &ke)
	assert.EqualValues(t, 24, ke.KDCCode, "KDC_ERR_PREAUTH_FAILED")
	assert.NotContains(t, err.Error(), bad)

	// Through a request: the same typed error, and nothing authenticated.
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)
	_, err = post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrKerberosCredentials)
	assert.NotContains(t, err.Error(), bad)
	assert.Empty(t, srv.clients)

	// Unknown user.
	u, err := NewKerberosWithPassword("nobody", "", bad, krbConfig(t, k))
	require.NoError(t, err)
	defer u.Close()
	err = u.Login(context.Background())
	require.ErrorIs(t, err, ErrKerberosCredentials)
	assert.NotContains(t, err.Error(), bad)
}

func TestKerberosUnknownSPN(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	cfg := krbConfig(t, k)
	cfg.ServiceClass = "WSMAN"
	cfg.Hostname = "no-such-host.example"
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer a.Close()
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)
	_, err = post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrKerberosUnknownService)
	var ke *KerberosError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "WSMAN/no-such-host.example", ke.SPN)
}

func TestKerberosPlainHTTPWithoutEncryption(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	srv := newKRBServer(t, testServiceKeytab(t, k), false, nil)
	cfg := krbConfig(t, k)
	cfg.Encryption = EncryptionNever
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer a.Close()

	// Refused without AllowUnencrypted: nothing reaches the server.
	_, err = post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrInsecureTransport)
	assert.Contains(t, err.Error(), "https")
	assert.EqualValues(t, 0, srv.requests.Load())

	// Allowed explicitly: authenticated, with no channel bindings.
	got, err := post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{AllowUnencrypted: true}), srv.URL, "plain")
	require.NoError(t, err)
	assert.Equal(t, "echo:plain", got)
	assert.Equal(t, make([]byte, 16), srv.bindings[0])
}

func TestKerberosChannelBinding(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	kt := testServiceKeytab(t, k)

	// A server that expects the bindings of another certificate (as behind
	// a TLS-intercepting proxy) rejects the token.
	other := newKRBServer(t, kt, true, nil)
	mitm := newKRBServer(t, kt, true, func(s *krbServer) {
		s.expectBindings = []byte("tls-server-end-point:" + strings.Repeat("x", 32))
	})
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	_, err = post(context.Background(), wrapClient(t, mitm.Server, a, WrapOptions{}), mitm.URL, "x")
	require.ErrorIs(t, err, ErrKerberosRejected)
	assert.Empty(t, mitm.bodies)

	got, err := post(context.Background(), wrapClient(t, other.Server, a, WrapOptions{}), other.URL, "y")
	require.NoError(t, err)
	assert.Equal(t, "echo:y", got)

	// DisableChannelBinding sends a zero hash: a server expecting bindings
	// rejects it, one that expects none accepts it.
	cfg := krbConfig(t, k)
	cfg.DisableChannelBinding = true
	nb, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", cfg)
	require.NoError(t, err)
	defer nb.Close()
	strict := newKRBServer(t, kt, true, nil)
	_, err = post(context.Background(), wrapClient(t, strict.Server, nb, WrapOptions{}), strict.URL, "z")
	require.ErrorIs(t, err, ErrKerberosRejected)
	none := newKRBServer(t, kt, true, func(s *krbServer) { s.noBindings = true })
	got, err = post(context.Background(), wrapClient(t, none.Server, nb, WrapOptions{}), none.URL, "z")
	require.NoError(t, err)
	assert.Equal(t, "echo:z", got)
	assert.Equal(t, make([]byte, 16), none.bindings[0])
}

func TestKerberosGokrb5Service(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	kt := testServiceKeytab(t, k)
	var seen atomic.Int32
	h := spnego.SPNEGOKRB5Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		io.WriteString(w, "in")
	}), kt, service.DecodePAC(false))
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv, a, WrapOptions{})
	for range 2 {
		got, err := post(context.Background(), c, srv.URL, "x")
		require.NoError(t, err)
		assert.Equal(t, "in", got)
	}
	assert.EqualValues(t, 2, seen.Load())
}

func TestKerberosContextAndClose(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	srv := newKRBServer(t, testServiceKeytab(t, k), true, nil)
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, a.Login(ctx), context.Canceled)

	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	_, err = post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrKerberosClosed)
	require.ErrorIs(t, a.Login(context.Background()), ErrKerberosClosed)
}

// A server that cannot use the ticket (here: it has another key for the
// SPN, as when the SPN belongs to another account) answers 401 with a
// KRB-ERROR in its Negotiate token; the error names it.
func TestKerberosServerKRBError(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	testServiceKeytab(t, k)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ke := messages.NewKRBError(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, testSPN), k.Realm, errorcode.KRB_AP_ERR_MODIFIED, "")
		kb, err := ke.Marshal()
		require.NoError(t, err)
		gss, err := krbGSSToken([]byte{0x03, 0x00}, kb)
		require.NoError(t, err)
		resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateReject), ResponseToken: gss}
		rb, err := resp.Marshal()
		require.NoError(t, err)
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(rb))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	_, err = post(context.Background(), wrapClient(t, srv, a, WrapOptions{}), srv.URL, "x")
	require.ErrorIs(t, err, ErrKerberosRejected)
	assert.Contains(t, err.Error(), "KRB_AP_ERR_MODIFIED")
}
