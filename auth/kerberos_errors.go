package auth

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors of the Kerberos and Negotiate authenticators, for use with
// errors.Is. A *KerberosError wraps one of them.
var (
	// ErrKerberosEncryptionUnsupported: WinRM message encryption over
	// http:// cannot be used with this Kerberos context: the session key is
	// not AES (RC4-HMAC tokens have another format, not implemented). Use
	// https://.
	ErrKerberosEncryptionUnsupported = errors.New("Kerberos message encryption is not supported with this session key: use https://")
	// ErrKerberosCredentials: the KDC rejected the client's credentials
	// (wrong password or key, unknown, locked or expired principal).
	ErrKerberosCredentials = errors.New("the KDC rejected the client credentials")
	// ErrKerberosUnknownService: the KDC does not know the service principal
	// name; check the SPN (HTTP/host or WSMAN/host, the host's FQDN rather
	// than an IP address).
	ErrKerberosUnknownService = errors.New("the KDC does not know the service principal")
	// ErrKerberosKDCUnreachable: no KDC for the realm answered.
	ErrKerberosKDCUnreachable = errors.New("no KDC answered")
	// ErrKerberosExpired: the credentials cannot be renewed (a credential
	// cache whose TGT has expired and has not been refreshed with kinit).
	ErrKerberosExpired = errors.New("the Kerberos credentials have expired and cannot be renewed")
	// ErrKerberosConfig: the krb5.conf, keytab or credential cache could not
	// be read, or the client is missing a realm or principal.
	ErrKerberosConfig = errors.New("invalid Kerberos configuration")
	// ErrKerberosNotOffered: the server's 401 response did not offer the
	// Negotiate scheme (and no fallback authenticator was configured).
	ErrKerberosNotOffered = errors.New("the server does not offer Negotiate authentication")
	// ErrKerberosRejected: the server rejected the Kerberos token.
	ErrKerberosRejected = errors.New("the server rejected the Kerberos token")
	// ErrKerberosClosed: the authenticator was closed.
	ErrKerberosClosed = errors.New("the Kerberos authenticator is closed")
)

// KerberosError is the error of the Kerberos and Negotiate authenticators.
// It never contains a password or key: Err holds only gokrb5's or the
// transport's description, and Kind one of the ErrKerberos* sentinels (nil
// when none fits).
type KerberosError struct {
	// Op is the step that failed: "login", "service ticket", "token",
	// "request", "config".
	Op string
	// Principal is the client principal ("user@REALM"), when known.
	Principal string
	// SPN is the service principal name, when known.
	SPN string
	// KDCCode is the KRB-ERROR code from the KDC (RFC 4120 7.5.9), or 0.
	KDCCode int32
	// Kind is one of the ErrKerberos* sentinels, or nil.
	Kind error
	// Err is the underlying error, or nil.
	Err error
}

// Error implements error.
func (e *KerberosError) Error() string {
	var b strings.Builder
	b.WriteString("auth: kerberos ")
	b.WriteString(e.Op)
	if e.Principal != "" {
		b.WriteString(" for ")
		b.WriteString(e.Principal)
	}
	if e.SPN != "" {
		b.WriteString(" (SPN ")
		b.WriteString(e.SPN)
		b.WriteString(")")
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err for errors.Is and errors.As.
func (e *KerberosError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Is makes a KerberosError match the package-wide sentinels too:
// ErrInsecureTransport for ErrKerberosEncryptionUnsupported (the message
// cannot be protected over http://), and ErrUnauthorized for rejected
// credentials or tokens.
func (e *KerberosError) Is(target error) bool {
	switch target {
	case ErrInsecureTransport:
		return e.Kind == ErrKerberosEncryptionUnsupported
	case ErrUnauthorized:
		return e.Kind == ErrKerberosCredentials || e.Kind == ErrKerberosRejected || e.Kind == ErrKerberosNotOffered
	}
	return false
}

// krbErrorCode finds the KRB-ERROR code in a gokrb5 error's text: gokrb5
// flattens its errors into strings ("KRB Error: (24) KDC_ERR_PREAUTH_FAILED
// ..."), so the text is the only place the code survives.
var krbErrorCode = regexp.MustCompile(`KRB Error: \((\d{1,4})\)`)

// KDC error codes (RFC 4120 7.5.9) that classify failures.
const (
	kdcErrCPrincipalUnknown = 6
	kdcErrSPrincipalUnknown = 7
	kdcErrClientRevoked     = 18
	kdcErrKeyExpired        = 23
	kdcErrPreauthFailed     = 24
	krbAPErrBadIntegrity    = 31
	krbAPErrTktExpired      = 32
)

// classifyKerberosError fills KDCCode and Kind of a new KerberosError from a
// gokrb5 error.
func classifyKerberosError(op, principal, spn string, err error) *KerberosError {
	e := &KerberosError{Op: op, Principal: principal, SPN: spn, Err: err}
	msg := err.Error()
	if m := krbErrorCode.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			e.KDCCode = int32(n)
		}
	}
	switch e.KDCCode {
	case kdcErrPreauthFailed, kdcErrCPrincipalUnknown, kdcErrClientRevoked, kdcErrKeyExpired, krbAPErrBadIntegrity:
		e.Kind = ErrKerberosCredentials
	case kdcErrSPrincipalUnknown:
		e.Kind = ErrKerberosUnknownService
	case krbAPErrTktExpired:
		e.Kind = ErrKerberosExpired
	case 0:
		switch {
		case strings.Contains(msg, "Networking_Error"):
			e.Kind = ErrKerberosKDCUnreachable
		case strings.Contains(msg, "AS_REP is not valid or client password/keytab incorrect"),
			strings.Contains(msg, "Decrypting_Error"):
			e.Kind = ErrKerberosCredentials
		case strings.Contains(msg, "no user credentials available and no valid existing session"):
			e.Kind = ErrKerberosExpired
		case strings.Contains(msg, "Configuration_Error"):
			e.Kind = ErrKerberosConfig
		}
	}
	return e
}
