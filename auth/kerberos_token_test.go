package auth

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tokens gokrb5's SPNEGO service sends (and Windows sends the same
// NegTokenResp states).
const (
	tokAcceptCompleted = "oRQwEqADCgEAoQsGCSqGSIb3EgECAg=="
	tokReject          = "oQcwBaADCgEC"
)

func TestParseNegotiateChallenge(t *testing.T) {
	accept, _ := base64.StdEncoding.DecodeString(tokAcceptCompleted)
	tests := []struct {
		name    string
		values  []string
		schemes []string
		neg     bool
		ntlm    bool
		krb     bool
		token   []byte
		wantErr bool
	}{
		{name: "none"},
		{name: "windows default", values: []string{"Negotiate", "Kerberos"}, schemes: []string{"Negotiate", "Kerberos"}, neg: true, krb: true},
		{name: "ntlm only", values: []string{"NTLM"}, schemes: []string{"NTLM"}, ntlm: true},
		{name: "one header, params", values: []string{`Basic realm="WSMAN, x", Negotiate`}, schemes: []string{"Basic", "Negotiate"}, neg: true},
		{name: "escaped quote", values: []string{`Basic realm="a\", Negotiate", NTLM`}, schemes: []string{"Basic", "NTLM"}, ntlm: true},
		{name: "auth-param list", values: []string{`Digest realm="r", qop="auth", Negotiate`}, schemes: []string{"Digest", "Negotiate"}, neg: true},
		{name: "token", values: []string{"Negotiate " + tokAcceptCompleted}, schemes: []string{"Negotiate"}, neg: true, token: accept},
		{name: "case", values: []string{"negotiate", "ntlm"}, schemes: []string{"negotiate", "ntlm"}, neg: true, ntlm: true},
		{name: "bad base64", values: []string{"Negotiate !!!"}, wantErr: true},
		{name: "too long", values: []string{"Negotiate " + string(make([]byte, maxNegotiateTokenLen+1))}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseNegotiateChallenge(tt.values)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.schemes, c.Schemes)
			assert.Equal(t, tt.neg, c.Negotiate)
			assert.Equal(t, tt.ntlm, c.NTLM)
			assert.Equal(t, tt.krb, c.Kerberos)
			assert.Equal(t, tt.token, c.NegotiateToken)
		})
	}
}

func FuzzParseNegotiateChallenge(f *testing.F) {
	for _, s := range []string{"Negotiate", "NTLM", "Negotiate " + tokAcceptCompleted, `Basic realm="a\", b", Negotiate x`, `"`, ",,,", "Negotiate ===="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseNegotiateChallenge([]string{v, v})
		if err != nil {
			return
		}
		if c.NegotiateToken != nil {
			if !c.Negotiate {
				t.Fatal("token without Negotiate")
			}
			if len(c.NegotiateToken) > maxNegotiateTokenLen {
				t.Fatal("token over the limit")
			}
			// Never panics on what a server sends.
			_, _ = negotiateResponseState(c.NegotiateToken)
		}
		if len(c.Schemes) > 2*(len(v)+1) {
			t.Fatal("more schemes than parts")
		}
	})
}

func TestNegotiateResponseState(t *testing.T) {
	for tok, want := range map[string]spnego.NegState{tokAcceptCompleted: spnego.NegStateAcceptCompleted, tokReject: spnego.NegStateReject} {
		b, _ := base64.StdEncoding.DecodeString(tok)
		got, err := negotiateResponseState(b)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := negotiateResponseState([]byte{0x30, 0x01})
	require.Error(t, err)
	// A NegTokenInit is not a valid final answer.
	init := spnego.NegTokenInit{MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()}, MechTokenBytes: []byte{1}}
	b, err := init.Marshal()
	require.NoError(t, err)
	_, err = negotiateResponseState(b)
	require.ErrorContains(t, err, "NegTokenInit")
}

func FuzzNegotiateResponseState(f *testing.F) {
	for _, tok := range []string{tokAcceptCompleted, tokReject, "oRQwEqADCgEBoQsGCSqGSIb3EgECAg=="} {
		b, _ := base64.StdEncoding.DecodeString(tok)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = negotiateResponseState(b)
	})
}

func TestKerberosAuthenticatorChecksum(t *testing.T) {
	b := kerberosAuthenticatorChecksum(nil, kerberosGSSFlags)
	require.Len(t, b, 24)
	assert.EqualValues(t, 16, binary.LittleEndian.Uint32(b[:4]))
	assert.Equal(t, make([]byte, 16), b[4:20])
	assert.EqualValues(t, 0x10|0x20, binary.LittleEndian.Uint32(b[20:]), "GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG")

	h := ChannelBindingHash([]byte("tls-server-end-point:abc"))
	b = kerberosAuthenticatorChecksum(&h, kerberosGSSFlags)
	assert.Equal(t, h[:], b[4:20])
}

func TestClassifyKerberosError(t *testing.T) {
	tests := []struct {
		msg  string
		kind error
		code int32
	}{
		{"[Root cause: KDC_Error] KDC_Error: AS Exchange Error: kerberos error response from KDC: KRB Error: (24) KDC_ERR_PREAUTH_FAILED Pre-authentication information was invalid", ErrKerberosCredentials, 24},
		{"KRB Error: (6) KDC_ERR_C_PRINCIPAL_UNKNOWN Client not found in Kerberos database", ErrKerberosCredentials, 6},
		{"KRB Error: (7) KDC_ERR_S_PRINCIPAL_UNKNOWN Server not found in Kerberos database", ErrKerberosUnknownService, 7},
		{"KRB Error: (32) KRB_AP_ERR_TKT_EXPIRED Ticket expired", ErrKerberosExpired, 32},
		{"[Root cause: Networking_Error] Networking_Error: AS Exchange Error: failed sending AS_REQ to KDC: dial tcp", ErrKerberosKDCUnreachable, 0},
		{"cannot login, no user credentials available and no valid existing session", ErrKerberosExpired, 0},
		{"KRB Error: (99999) bogus", nil, 0},
		{"something else", nil, 0},
	}
	for _, tt := range tests {
		e := classifyKerberosError("login", "u@R", "", errors.New(tt.msg))
		assert.Equal(t, tt.kind, e.Kind, tt.msg)
		assert.Equal(t, tt.code, e.KDCCode, tt.msg)
		if tt.kind != nil {
			assert.ErrorIs(t, e, tt.kind)
		}
	}
}

func TestNewKerberosPrincipal(t *testing.T) {
	cfg, err := config.NewFromString("[libdefaults]\n default_realm = DEF.TEST\n")
	require.NoError(t, err)
	kc := KerberosConfig{Krb5Config: cfg}
	tests := []struct {
		user, realm, want string
	}{
		{"alice", "", "alice@DEF.TEST"},
		{"alice@corp.example.com", "", "alice@CORP.EXAMPLE.COM"},
		{`CORP\alice`, "", "alice@CORP"},
		{"alice@corp.example.com", "Other.REALM", "alice@Other.REALM"},
		{"alice", "X.TEST", "alice@X.TEST"},
	}
	for _, tt := range tests {
		k, err := NewKerberosWithPassword(tt.user, tt.realm, "pw", kc)
		require.NoError(t, err, tt.user)
		assert.Equal(t, tt.want, k.Principal())
		require.NoError(t, k.Close())
	}
	_, err = NewKerberosWithPassword("alice", "", "", kc)
	require.ErrorIs(t, err, ErrKerberosConfig)
	_, err = NewKerberosWithPassword("@R", "", "pw", kc)
	require.ErrorIs(t, err, ErrKerberosConfig)
	noDefault, err := config.NewFromString("[libdefaults]\n dns_lookup_kdc = false\n")
	require.NoError(t, err)
	_, err = NewKerberosWithPassword("alice", "", "pw", KerberosConfig{Krb5Config: noDefault})
	require.ErrorIs(t, err, ErrKerberosConfig)
	_, err = NewKerberosWithKeytab("alice", "", nil, kc)
	require.ErrorIs(t, err, ErrKerberosConfig)
	_, err = NewKerberosWithPassword("alice", "", "pw", KerberosConfig{Krb5ConfigPath: "/nonexistent/krb5.conf"})
	require.ErrorIs(t, err, ErrKerberosConfig)
}

func TestKerberosSPN(t *testing.T) {
	tests := []struct {
		cfg  KerberosConfig
		host string
		want string
	}{
		{KerberosConfig{}, "server.example.com", "HTTP/server.example.com"},
		{KerberosConfig{}, "server.example.com.", "HTTP/server.example.com"},
		{KerberosConfig{ServiceClass: "WSMAN"}, "srv", "WSMAN/srv"},
		{KerberosConfig{Hostname: "real.example.com"}, "10.0.0.1", "HTTP/real.example.com"},
		{KerberosConfig{SPN: "HTTP/alias.example.com", ServiceClass: "WSMAN"}, "srv", "HTTP/alias.example.com"},
	}
	for _, tt := range tests {
		k := &Kerberos{cfg: tt.cfg}
		assert.Equal(t, tt.want, k.spnFor(tt.host))
	}
}
