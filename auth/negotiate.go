package auth

import (
	"errors"
	"net/http"
)

// Negotiate is the Negotiate authenticator (what PowerShell uses by
// default): Kerberos through SPNEGO, as Kerberos does, with an optional
// fallback authenticator for the cases where Windows' Negotiate package
// would fall back to NTLM.
//
// Without a Fallback, Negotiate is Kerberos only: a server whose 401 does
// not offer Negotiate fails with ErrKerberosNotOffered, and Kerberos errors
// are returned as they are. With a Fallback (typically this package's NTLM
// authenticator), all further requests of the wrapped client go to the
// fallback when:
//   - the server's first 401 does not offer Negotiate (an NTLM-only server),
//   - the KDC does not know the service principal (ErrKerberosUnknownService,
//     for example when connecting by IP address or to a workgroup machine)
//     or no KDC answers (ErrKerberosKDCUnreachable), or
//   - over http:// with message encryption, the server does not offer
//     Negotiate or the session key cannot seal (RC4-HMAC,
//     ErrKerberosEncryptionUnsupported).
//
// Rejected credentials (ErrKerberosCredentials) never fall back, so a wrong
// password is not tried a second time with another protocol. Unlike
// Windows, the fallback is not negotiated inside SPNEGO: the fallback
// authenticator runs its own handshake.
//
// Kerberos requests use a pool of authenticated connections, as described
// under "Connections" on Kerberos (bounded by the Kerberos
// KerberosConfig.MaxConnections); the fallback keeps its own (for NTLM,
// bounded by NTLM.MaxConnections).
type Negotiate struct {
	// Kerberos provides the Kerberos credentials. It may be nil only when
	// Fallback is set; then Negotiate is the fallback alone.
	Kerberos *Kerberos
	// Fallback, if not nil, is used as described above.
	Fallback Authenticator
}

// NewNegotiate returns a Negotiate authenticator; fallback may be nil.
func NewNegotiate(k *Kerberos, fallback Authenticator) *Negotiate {
	return &Negotiate{Kerberos: k, Fallback: fallback}
}

// Scheme returns "Negotiate".
func (n *Negotiate) Scheme() string { return "Negotiate" }

// Wrap returns a RoundTripper that authenticates with Kerberos through
// SPNEGO, or with the fallback as described on Negotiate.
func (n *Negotiate) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if n.Kerberos == nil {
		if n.Fallback == nil {
			return nil, &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: errors.New("Negotiate needs Kerberos credentials or a fallback authenticator")}
		}
		return n.Fallback.Wrap(next, opts)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	var fb http.RoundTripper
	if n.Fallback != nil {
		var err error
		if fb, err = n.Fallback.Wrap(next, opts); err != nil {
			return nil, err
		}
	}
	return newKerberosTransport(n.Kerberos, next, opts, "Negotiate", fb), nil
}
