package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// krbEncAPRepPartOut is EncAPRepPart for marshalling (gokrb5 has no AP-REP
// marshalling).
type krbEncAPRepPartOut struct {
	CTime          time.Time           `asn1:"generalized,explicit,tag:0"`
	Cusec          int                 `asn1:"explicit,tag:1"`
	Subkey         types.EncryptionKey `asn1:"optional,explicit,tag:2"`
	SequenceNumber int64               `asn1:"optional,explicit,tag:3"`
}

// acceptKerberos is a test acceptor: it verifies a mutual SPNEGO AP-REQ
// with the service keytab and returns the SPNEGO NegTokenResp with the
// AP-REP, and the acceptor's sealer (acceptor subkey, random sequence).
func acceptKerberos(kt *keytab.Keytab, hdr string) ([]byte, *kerberosSealer, error) {
	b64, ok := strings.CutPrefix(hdr, "Negotiate ")
	if !ok {
		return nil, nil, errors.New("not Negotiate")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, err
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err != nil || !st.Init {
		return nil, nil, fmt.Errorf("not a NegTokenInit: %v", err)
	}
	var k5 spnego.KRB5Token
	if err := k5.Unmarshal(st.NegTokenInit.MechTokenBytes); err != nil || !k5.IsAPReq() {
		return nil, nil, fmt.Errorf("not an AP-REQ: %v", err)
	}
	ok, _, err = service.VerifyAPREQ(&k5.APReq, service.NewSettings(kt, service.DecodePAC(false)))
	if err != nil || !ok {
		return nil, nil, fmt.Errorf("AP-REQ not valid: %v", err)
	}
	a := k5.APReq.Authenticator
	if !types.IsFlagSet(&k5.APReq.APOptions, 2) {
		return nil, nil, errors.New("mutual authentication not requested")
	}
	sessionKey := k5.APReq.Ticket.DecryptedEncPart.Key
	et, err := crypto.GetEtype(sessionKey.KeyType)
	if err != nil {
		return nil, nil, err
	}
	sub := make([]byte, et.GetKeyByteSize())
	_, _ = rand.Read(sub)
	seqN, _ := rand.Int(rand.Reader, big.NewInt(1<<31))
	part := krbEncAPRepPartOut{
		CTime:          a.CTime,
		Cusec:          a.Cusec,
		Subkey:         types.EncryptionKey{KeyType: sessionKey.KeyType, KeyValue: sub},
		SequenceNumber: seqN.Int64(),
	}
	out, err := buildTestAPRep(sessionKey, part)
	if err != nil {
		return nil, nil, err
	}
	s, err := newKerberosSealer(part.Subkey, false, true, uint64(part.SequenceNumber), uint64(a.SeqNumber)&0xffffffff)
	return out, s, err
}

// testPending is a client context as after sending an AP-REQ with an
// AES256 session key.
func testPending() *kerberosPending {
	return &kerberosPending{
		sessionKey: types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{1}, 32)},
		subkey:     types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{2}, 32)},
		seq:        42,
		ctime:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		cusec:      123456,
	}
}

func TestKerberosAPRep(t *testing.T) {
	p := testPending()
	good := krbEncAPRepPartOut{CTime: p.ctime, Cusec: p.cusec, Subkey: types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{3}, 32)}, SequenceNumber: 99}
	tok, err := buildTestAPRep(p.sessionKey, good)
	require.NoError(t, err)
	s, err := p.complete(tok)
	require.NoError(t, err)
	assert.True(t, s.acceptorSubkey)
	assert.Equal(t, good.Subkey.KeyValue, s.key.KeyValue)
	assert.EqualValues(t, 42, s.sendSeq)
	assert.EqualValues(t, 99, s.recvSeq)

	// The bare GSS token (the "Kerberos" scheme's form) works too.
	_, resp, err := parseNegTokenResp(tok)
	require.NoError(t, err)
	_, err = p.complete(resp)
	require.NoError(t, err)

	// Windows may answer with the legacy Microsoft Kerberos OID.
	std, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	require.NoError(t, err)
	legacy, err := asn1.Marshal(gssapi.OIDMSLegacyKRB5.OID())
	require.NoError(t, err)
	require.Len(t, legacy, len(std))
	_, err = p.complete(bytes.Replace(resp, std, legacy, 1))
	require.NoError(t, err)
	_, err = p.complete(bytes.Replace(resp, std, []byte{0x06, 0x09, 0x2b, 6, 1, 4, 1, 0x82, 0x37, 2, 2}, 1))
	require.ErrorContains(t, err, "not Kerberos")

	// Without an acceptor subkey, the client's subkey is used, unflagged.
	noSub := good
	noSub.Subkey = types.EncryptionKey{}
	tok, err = buildTestAPRep(p.sessionKey, noSub)
	require.NoError(t, err)
	s, err = p.complete(tok)
	require.NoError(t, err)
	assert.False(t, s.acceptorSubkey)
	assert.Equal(t, p.subkey.KeyValue, s.key.KeyValue)

	bad := map[string]func() ([]byte, error){
		"time not echoed": func() ([]byte, error) {
			x := good
			x.Cusec++
			return buildTestAPRep(p.sessionKey, x)
		},
		"other session key": func() ([]byte, error) {
			return buildTestAPRep(types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{9}, 32)}, good)
		},
		"reject":    func() ([]byte, error) { return base64.StdEncoding.DecodeString(tokReject) },
		"no AP-REP": func() ([]byte, error) { return base64.StdEncoding.DecodeString(tokAcceptCompleted) },
		"garbage":   func() ([]byte, error) { return []byte{0xa1, 0x03, 0x30, 0x01, 0x00}, nil },
		"rc4 subkey": func() ([]byte, error) {
			x := good
			x.Subkey = types.EncryptionKey{KeyType: 23, KeyValue: make([]byte, 16)}
			return buildTestAPRep(p.sessionKey, x)
		},
	}
	for name, f := range bad {
		tok, err := f()
		require.NoError(t, err, name)
		_, err = p.complete(tok)
		assert.Error(t, err, name)
	}
}

func FuzzKerberosAPRep(f *testing.F) {
	p := testPending()
	tok, err := buildTestAPRep(p.sessionKey, krbEncAPRepPartOut{CTime: p.ctime, Cusec: p.cusec, SequenceNumber: 7})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	_, inner, _ := parseNegTokenResp(tok)
	f.Add(inner)
	f.Add([]byte{0xa1, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = testPending().complete(b)
	})
}

// buildTestAPRep returns a SPNEGO NegTokenResp carrying an AP-REP with
// part, encrypted with the session key.
func buildTestAPRep(sessionKey types.EncryptionKey, part krbEncAPRepPartOut) ([]byte, error) {
	pb, err := asn1.Marshal(part)
	if err != nil {
		return nil, err
	}
	ed, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(pb, asnAppTag.EncAPRepPart), sessionKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	rb, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, err
	}
	gss, err := krbGSSToken(krb5TokenIDAPRep, asn1tools.AddASNAppTag(rb, asnAppTag.APREP))
	if err != nil {
		return nil, err
	}
	resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateAcceptCompleted), SupportedMech: gssapi.OIDKRB5.OID(), ResponseToken: gss}
	return resp.Marshal()
}

// krbEncServer is an HTTP test server that, like WinRM with
// AllowUnencrypted=false, accepts only Kerberos-sealed messages on a
// connection authenticated with a mutual AP-REQ.
type krbEncServer struct {
	*httptest.Server
	kt *keytab.Keytab

	mu       sync.Mutex
	conns    map[string]*kerberosSealer
	bodies   []string
	contexts atomic.Int32
	// plainAnswer makes the server answer in plaintext (a hostile or
	// broken server).
	plainAnswer bool
	// forget makes the server forget the connection's context once.
	forget atomic.Bool
	// onRequest, if set, runs for every unsealed request before the
	// answer (it may block, or panic with http.ErrAbortHandler).
	onRequest func(r *http.Request, body string)
	// contextsOn counts the contexts set up per remote address.
	contextsOn map[string]int
	// respond, if set, answers every unsealed request instead of the
	// sealed echo (a hostile server after a genuine authentication).
	respond func(w http.ResponseWriter, r *http.Request)
}

func newKRBEncServer(t testing.TB, kt *keytab.Keytab) *krbEncServer {
	s := &krbEncServer{kt: kt, conns: map[string]*kerberosSealer{}, contextsOn: map[string]int{}}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *krbEncServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if s.forget.CompareAndSwap(true, false) {
		s.mu.Lock()
		delete(s.conns, r.RemoteAddr)
		s.mu.Unlock()
	}
	if hdr := r.Header.Get("Authorization"); hdr != "" {
		if len(body) != 0 {
			http.Error(w, "authentication request must be empty", http.StatusBadRequest)
			return
		}
		tok, sealer, err := acceptKerberos(s.kt, hdr)
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Negotiate")
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		s.contexts.Add(1)
		s.mu.Lock()
		s.conns[r.RemoteAddr] = sealer
		s.contextsOn[r.RemoteAddr]++
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(tok))
		w.WriteHeader(http.StatusOK)
		return
	}
	s.mu.Lock()
	sealer := s.conns[r.RemoteAddr]
	s.mu.Unlock()
	if sealer == nil {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	protocol, ok := ParseEncryptedContentType(r.Header.Get("Content-Type"))
	if !ok || protocol != ProtocolSPNEGO {
		http.Error(w, "unencrypted request refused", http.StatusUnauthorized)
		return
	}
	plain, origType, err := UnsealBody(sealer, protocol, body, DefaultMaxEncryptedBody)
	if err != nil {
		http.Error(w, "bad encrypted request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.onRequest != nil {
		s.onRequest(r, string(plain))
	}
	if s.respond != nil {
		s.respond(w, r)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, string(plain))
	s.mu.Unlock()
	reply := []byte("echo:" + string(plain))
	status := http.StatusOK
	if strings.Contains(string(plain), "fault") {
		status = http.StatusInternalServerError
	}
	if s.plainAnswer {
		w.Header().Set("Content-Type", origType)
		w.WriteHeader(status)
		w.Write(reply)
		return
	}
	sealed, ct, err := SealBody(sealer, ProtocolSPNEGO, origType, reply)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	w.Write(sealed)
}

func (s *krbEncServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func TestKerberosEncryptionOverHTTP(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	srv := newKRBEncServer(t, testServiceKeytab(t, k))
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv.Server, a, WrapOptions{})

	for i, body := range []string{"<a/>", strings.Repeat("x", 100000), "", "<fault/>"} {
		got, err := post(context.Background(), c, srv.URL, body)
		if strings.Contains(body, "fault") {
			require.EqualError(t, err, "HTTP 500", "a sealed HTTP 500 is unsealed and returned as is")
		} else {
			require.NoError(t, err, "request %d", i)
		}
		assert.Equal(t, "echo:"+body, got)
	}
	assert.EqualValues(t, 1, srv.contexts.Load(), "one context for all requests")
	assert.Len(t, srv.received(), 4)

	// The server forgets the context (as after a lost connection): the
	// client sets up a new one and sends the request again.
	srv.forget.Store(true)
	got, err := post(context.Background(), c, srv.URL, "again")
	require.NoError(t, err)
	assert.Equal(t, "echo:again", got)
	assert.EqualValues(t, 2, srv.contexts.Load())
}

func TestKerberosEncryptionConcurrent(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	srv := newKRBEncServer(t, testServiceKeytab(t, k))
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	c := wrapClient(t, srv.Server, NewNegotiate(a, nil), WrapOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("<m n='%d'/>", i)
			got, err := post(context.Background(), c, srv.URL, body)
			if err == nil && got != "echo:"+body {
				err = fmt.Errorf("got %q for %q", got, body)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Len(t, srv.received(), 16)
}

func TestKerberosEncryptionRefusesPlainResponse(t *testing.T) {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	srv := newKRBEncServer(t, testServiceKeytab(t, k))
	srv.plainAnswer = true
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	_, err = post(context.Background(), wrapClient(t, srv.Server, a, WrapOptions{}), srv.URL, "<a/>")
	require.ErrorIs(t, err, ErrEncryptedBody)
}

func TestKerberosEncryptionNeedsMutualAuth(t *testing.T) {
	// A server that accepts the token but sends no AP-REP (gokrb5's SPNEGO
	// service) cannot be used for encryption: a typed error, nothing sent.
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	var bodies atomic.Int32
	h := spnego.SPNEGOKRB5Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 0 {
			bodies.Add(1)
		}
	}), testServiceKeytab(t, k), service.DecodePAC(false))
	srv := httptest.NewServer(h)
	defer srv.Close()
	a, err := NewKerberosWithPassword("alice", "", "Alice-Pass-1", krbConfig(t, k))
	require.NoError(t, err)
	defer a.Close()
	_, err = post(context.Background(), wrapClient(t, srv, a, WrapOptions{}), srv.URL, "<secret/>")
	require.ErrorIs(t, err, ErrKerberosRejected)
	assert.Zero(t, bodies.Load(), "the plaintext was never sent")
}
