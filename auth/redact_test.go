package auth

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// printedForms renders v the ways a careless caller or a log line might.
func printedForms(v any) string {
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("auth", "a", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("auth", "a", v)
	return fmt.Sprintf("%v|%+v|%#v|%s|", v, v, v, v) + fmt.Sprint(v) + logs.String()
}

func TestAuthenticatorsDoNotPrintSecrets(t *testing.T) {
	b := &Basic{Username: "admin", Password: "Basic-S3cret"}
	for _, v := range []any{b, *b, []any{b}, struct{ A Authenticator }{b}} {
		out := printedForms(v)
		assert.NotContains(t, out, "Basic-S3cret")
		assert.Contains(t, out, "admin")
	}

	n := &NTLM{Username: `CORP\bob`, Domain: "CORP", Password: "NTLM-S3cret"}
	for _, v := range []any{n, *n, []any{n}, struct{ A Authenticator }{n}} {
		out := printedForms(v)
		assert.NotContains(t, out, "NTLM-S3cret")
		assert.Contains(t, out, "bob")
	}

	cfg, err := config.NewFromString("[libdefaults]\n default_realm = EXAMPLE.COM\n")
	require.NoError(t, err)
	k, err := NewKerberosWithPassword("alice", "", "Kerb-S3cret", KerberosConfig{Krb5Config: cfg})
	require.NoError(t, err)
	defer k.Close()
	for _, v := range []any{k, struct{ A Authenticator }{k}} {
		out := printedForms(v)
		assert.NotContains(t, out, "Kerb-S3cret")
		assert.Contains(t, out, "alice@EXAMPLE.COM")
	}

	tc := newTestCA(t, "CA").issue(t, "carol")
	c, err := NewCertificate(tc)
	require.NoError(t, err)
	d := tc.PrivateKey.(*ecdsa.PrivateKey).D.String()
	for _, v := range []any{c, struct{ A Authenticator }{c}} {
		out := printedForms(v)
		assert.NotContains(t, out, d, "private key scalar printed")
		assert.Contains(t, out, c.Thumbprint())
	}
}
