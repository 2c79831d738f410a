package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"

	"github.com/psremoting/psremoting/auth"
)

// exampleKrb5Conf is what /etc/krb5.conf typically says for an Active
// Directory domain.
const exampleKrb5Conf = `[libdefaults]
 default_realm = CORP.EXAMPLE.COM
 dns_lookup_kdc = false
[realms]
 CORP.EXAMPLE.COM = {
  kdc = dc01.corp.example.com
 }
`

// Kerberos with a password. The authenticator logs in on first use (or
// when Login is called) and reuses its tickets for every request. Over
// http:// it seals every message (WinRM message encryption) unless
// Encryption is EncryptionNever, which needs AllowUnencrypted.
func ExampleNewKerberosWithPassword() {
	krb5conf, err := config.NewFromString(exampleKrb5Conf)
	if err != nil {
		panic(err)
	}
	k, err := auth.NewKerberosWithPassword("alice@corp.example.com", "", "s3cret!", auth.KerberosConfig{
		Krb5Config:   krb5conf,
		ServiceClass: "HTTP", // SPN HTTP/<host>; "WSMAN" gives WSMAN/<host>
		Encryption:   auth.EncryptionNever,
	})
	if err != nil {
		panic(err)
	}
	defer k.Close()
	fmt.Println(k.Scheme(), k.Principal())

	rt, err := k.Wrap(http.DefaultTransport, auth.WrapOptions{})
	if err != nil {
		panic(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://server.corp.example.com:5985/wsman", strings.NewReader("<Envelope/>"))
	_, err = rt.RoundTrip(req)
	fmt.Println(errors.Is(err, auth.ErrInsecureTransport))
	// Output:
	// Kerberos alice@CORP.EXAMPLE.COM
	// true
}

// Kerberos from the credential cache kinit wrote ($KRB5CCNAME or
// /tmp/krb5cc_<uid>), with the krb5.conf from $KRB5_CONFIG or
// /etc/krb5.conf.
//
// This example only compiles (it has no checked output): it needs a ticket
// cache that kinit filled from a real KDC, and no fake can stand in, since
// the cache holds a TGT the KDC issued and Login uses it against that KDC.
// The repository's KDC tests start an MIT KDC, which is not installed
// everywhere, and an example cannot skip. TestKerberosCCache runs the same
// calls against that KDC where it is available.
func ExampleNewKerberosFromCCache() {
	k, err := auth.NewKerberosFromCCache("", auth.KerberosConfig{})
	if err != nil {
		// No ticket cache or krb5.conf on this machine.
		return
	}
	defer k.Close()
	if err := k.Login(context.Background()); err != nil {
		fmt.Println("kinit needed:", errors.Is(err, auth.ErrKerberosExpired))
	}
}

// Negotiate with NTLM as the fallback: when no KDC answers (or the KDC
// does not know the server's SPN), Negotiate hands the connection to NTLM,
// which here seals every message over plain http:// (the server is the
// NTLMServer test middleware).
func ExampleNewNegotiate() {
	srvAuth := auth.NewNTLMServer(auth.NTLMServerConfig{Users: map[string]string{`CORP\alice`: "s3cret!"}})
	srv := httptest.NewServer(srvAuth.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := auth.AuthenticatedUser(r.Context())
		fmt.Fprintf(w, "hello %s", user)
	})))
	defer srv.Close()

	// A realm whose KDC does not answer.
	krb5conf, _ := config.NewFromString("[realms]\n CORP.EXAMPLE.COM = {\n  kdc = 127.0.0.1:1\n }\n")
	k, err := auth.NewKerberosWithPassword(`CORP\alice`, "CORP.EXAMPLE.COM", "s3cret!", auth.KerberosConfig{Krb5Config: krb5conf})
	if err != nil {
		panic(err)
	}
	defer k.Close()
	n := auth.NewNegotiate(k, &auth.NTLM{Username: `CORP\alice`, Password: "s3cret!"})

	rt, err := n.Wrap(http.DefaultTransport, auth.WrapOptions{})
	if err != nil {
		panic(err)
	}
	resp, err := (&http.Client{Transport: rt}).Post(srv.URL+"/wsman", auth.SOAPContentType, strings.NewReader("<Envelope/>"))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(n.Scheme(), resp.StatusCode, string(b))
	// Output: Negotiate 200 hello CORP\alice
}

// Client certificate authentication (PowerShell's -CertificateThumbprint):
// load the certificate and key, and give the authenticator to the
// transport, which presents the certificate in the TLS handshake
// (TLSClientCertificateProvider).
func ExampleNewCertificate() {
	// A throw-away self-signed certificate stands in for
	// tls.LoadX509KeyPair("client.pem", "client-key.pem").
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "alice"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)

	c, err := auth.NewCertificate(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	if err != nil {
		panic(err)
	}
	var provider auth.TLSClientCertificateProvider = c
	fmt.Println(c.Scheme(), len(c.Thumbprint()), len(provider.TLSClientCertificate().Certificate))

	rt, _ := c.Wrap(http.DefaultTransport, auth.WrapOptions{AllowUnencrypted: true})
	req, _ := http.NewRequest(http.MethodPost, "http://server:5985/wsman", nil)
	_, err = rt.RoundTrip(req)
	fmt.Println(errors.Is(err, auth.ErrCertificateNeedsHTTPS))
	// Output:
	// Certificate 40 1
	// true
}
