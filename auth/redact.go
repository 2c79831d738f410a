package auth

import (
	"encoding/json"
	"log/slog"
	"strconv"
)

// The authenticators hold secrets (a password, a private key, Kerberos
// keys), and fmt prints unexported fields too: these methods make
// fmt.Print*, %v, %+v, %#v and slog show only what identifies the
// credentials, never the secret.

// String describes the authenticator without its password.
func (b Basic) String() string {
	return "auth.Basic{Username: " + quote(b.Username) + ", Password: [redacted]}"
}

// GoString is String, so %#v does not print the password either.
func (b Basic) GoString() string { return b.String() }

// MarshalJSON writes the user name and a redacted password, so JSON
// encoders (slog's JSON handler for nested values among them) do not leak
// it.
func (b Basic) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Username, Password string }{b.Username, "[redacted]"})
}

// LogValue implements slog.LogValuer: the user name only.
func (b Basic) LogValue() slog.Value {
	return slog.GroupValue(slog.String("scheme", "Basic"), slog.String("username", b.Username))
}

// String describes the certificate (subject and thumbprint), never its
// private key.
func (c *Certificate) String() string {
	if c == nil || c.leaf == nil {
		return "auth.Certificate{}"
	}
	return "auth.Certificate{Subject: " + quote(c.leaf.Subject.String()) + ", Thumbprint: " + c.thumbprint + "}"
}

// GoString is String, so %#v does not print the private key.
func (c *Certificate) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: subject and thumbprint.
func (c *Certificate) LogValue() slog.Value {
	if c == nil || c.leaf == nil {
		return slog.GroupValue(slog.String("scheme", "Certificate"))
	}
	return slog.GroupValue(slog.String("scheme", "Certificate"),
		slog.String("subject", c.leaf.Subject.String()), slog.String("thumbprint", c.thumbprint))
}

// String describes the authenticator by its principal, never its password,
// keys or tickets.
func (k *Kerberos) String() string {
	if k == nil {
		return "auth.Kerberos{}"
	}
	return "auth.Kerberos{Principal: " + quote(k.principal) + "}"
}

// GoString is String, so %#v does not print secrets.
func (k *Kerberos) GoString() string { return k.String() }

// LogValue implements slog.LogValuer: the principal only.
func (k *Kerberos) LogValue() slog.Value {
	if k == nil {
		return slog.GroupValue(slog.String("scheme", "Kerberos"))
	}
	return slog.GroupValue(slog.String("scheme", "Kerberos"), slog.String("principal", k.principal))
}

func quote(s string) string {
	if len(s) > 256 {
		s = s[:256] + "…"
	}
	return strconv.Quote(s)
}

// String describes the authenticator without its password.
func (n NTLM) String() string {
	s := "auth.NTLM{Username: " + quote(n.Username)
	if n.Domain != "" {
		s += ", Domain: " + quote(n.Domain)
	}
	return s + ", Password: [redacted]}"
}

// GoString is String, so %#v does not print the password either.
func (n NTLM) GoString() string { return n.String() }

// MarshalJSON writes the user name and domain and a redacted password, so
// JSON encoders (slog's JSON handler for nested values among them) do not
// leak it.
func (n NTLM) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Username, Domain, Password string }{n.Username, n.Domain, "[redacted]"})
}

// LogValue implements slog.LogValuer: the user name and domain only.
func (n NTLM) LogValue() slog.Value {
	return slog.GroupValue(slog.String("scheme", "NTLM"), slog.String("username", n.Username),
		slog.String("domain", n.Domain))
}
