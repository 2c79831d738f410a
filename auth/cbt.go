package auth

import (
	"crypto"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
)

// tlsServerEndPointPrefix is RFC 5929's channel binding type prefix.
const tlsServerEndPointPrefix = "tls-server-end-point:"

// ErrNoServerCertificate means a TLS connection state carried no server
// certificate to bind to.
var ErrNoServerCertificate = errors.New("auth: no server certificate for channel binding")

// TLSServerEndPoint returns the RFC 5929 tls-server-end-point channel
// binding data of a server certificate: "tls-server-end-point:" followed by
// the hash of the DER certificate. The hash is the certificate signature's
// hash function, except that MD5 and SHA-1 become SHA-256 (RFC 5929 4.1);
// signatures without a hash of their own (Ed25519) use SHA-256, as Windows
// does.
func TLSServerEndPoint(cert *x509.Certificate) []byte {
	h := crypto.SHA256
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	}
	d := h.New()
	d.Write(cert.Raw)
	return append([]byte(tlsServerEndPointPrefix), d.Sum(nil)...)
}

// TLSChannelBindings returns the tls-server-end-point application data of
// the server's leaf certificate in a connection state (for example
// http.Response.TLS).
func TLSChannelBindings(cs *tls.ConnectionState) ([]byte, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil, ErrNoServerCertificate
	}
	return TLSServerEndPoint(cs.PeerCertificates[0]), nil
}

// GSSChannelBindings encodes a gss_channel_bindings_struct (RFC 2744 3.11)
// with empty initiator and acceptor addresses and the given application
// data, the form NTLM (MsvAvChannelBindings) and Kerberos (the
// authenticator checksum's Bnd field) hash with MD5.
func GSSChannelBindings(applicationData []byte) []byte {
	b := make([]byte, 16, 20+len(applicationData))
	// initiator_addrtype, initiator_address length, acceptor_addrtype,
	// acceptor_address length: all zero.
	b = binary.LittleEndian.AppendUint32(b, uint32(len(applicationData)))
	return append(b, applicationData...)
}

// ChannelBindingHash is MD5(GSSChannelBindings(applicationData)), the
// 16-byte value NTLM and Kerberos put on the wire.
func ChannelBindingHash(applicationData []byte) [16]byte {
	return md5.Sum(GSSChannelBindings(applicationData))
}
