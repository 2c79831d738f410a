package auth

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

// Hooks for the external tests in package auth_test (kerberos_wsman_test.go),
// which drive the authenticators through the wsman client.

// KerberosTestUser returns a Kerberos configuration for the shared test
// realm and creates the user "alice" with password "Alice-Pass-1" (skips
// without MIT Kerberos).
func KerberosTestUser(t *testing.T) KerberosConfig {
	k := testKDC(t)
	testPrincipal(t, k, "alice", "Alice-Pass-1")
	testServiceKeytab(t, k)
	return krbConfig(t, k)
}

// KerberosTestServerTLS is an HTTPS server that checks SPNEGO Kerberos
// tokens and their channel bindings and echoes request bodies.
func KerberosTestServerTLS(t *testing.T) *httptest.Server {
	return newKRBServer(t, testServiceKeytab(t, testKDC(t)), true, nil).Server
}

// KerberosTestServerEncrypted is an HTTP server that accepts only
// Kerberos-sealed requests and seals its echoes.
func KerberosTestServerEncrypted(t *testing.T) (*httptest.Server, func() []string) {
	s := newKRBEncServer(t, testServiceKeytab(t, testKDC(t)))
	return s.Server, s.received
}

// CertificateTestServer is an HTTPS server that requires a client
// certificate issued by its CA, and that CA's client certificate for user.
func CertificateTestServer(t *testing.T, user string) (*httptest.Server, tls.Certificate) {
	ca := newTestCA(t, "test CA")
	srv, _ := newMutualTLSServer(t, ca)
	return srv, ca.issue(t, user)
}
