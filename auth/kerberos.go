package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// KerberosConfig configures a Kerberos or Negotiate authenticator. The zero
// value loads the krb5.conf from $KRB5_CONFIG or /etc/krb5.conf and uses the
// SPN HTTP/<host of the request URL>.
type KerberosConfig struct {
	// Krb5Config is a parsed krb5.conf (see gokrb5's config.Load and
	// config.NewFromString). When nil, Krb5ConfigPath is loaded.
	Krb5Config *config.Config
	// Krb5ConfigPath is the krb5.conf loaded when Krb5Config is nil. ""
	// means $KRB5_CONFIG, or /etc/krb5.conf when that is unset.
	Krb5ConfigPath string
	// SPN is the full service principal name, such as
	// "HTTP/server.example.com" or "WSMAN/server.example.com". When "", the
	// SPN is ServiceClass + "/" + Hostname (or the request URL's host).
	SPN string
	// ServiceClass is the service part of a derived SPN: "HTTP" (the
	// default, what WinRM registers) or "WSMAN".
	ServiceClass string
	// Hostname replaces the request URL's host in a derived SPN, for
	// example when connecting through an IP address or an alias. No DNS
	// canonicalisation is done.
	Hostname string
	// Encryption selects WinRM message encryption: EncryptionAuto (the
	// default) seals messages over http:// and not over https://;
	// EncryptionNever over http:// needs WrapOptions.AllowUnencrypted and a
	// server with AllowUnencrypted=true.
	Encryption Encryption
	// DisableChannelBinding leaves the channel binding hash out of the
	// Kerberos authenticator over HTTPS. Use it only for a server that
	// rejects bindings; WinRM's CbtHardeningLevel=Strict requires them.
	DisableChannelBinding bool
	// MaxConnections bounds the authenticated connections a wrapped client
	// uses at the same time (and so its requests in flight); 0 means
	// DefaultKerberosMaxConnections, 1 serializes every request on one
	// connection. It applies when the wrapped transport is an
	// *http.Transport (see "Connections" on Kerberos). Requests beyond the
	// limit wait for a free connection, so a caller that keeps
	// long-polling Receives outstanding must keep their number below the
	// limit for its other requests to get through. Negative is an error.
	MaxConnections int
	// MaxResponseBytes bounds each response body (a sealed body may exceed
	// it by a few KiB of framing). The smaller of it and
	// WrapOptions.MaxResponseBytes applies; 0 leaves the latter, or
	// DefaultMaxResponseBytes when neither is set.
	MaxResponseBytes int64
}

// DefaultKerberosMaxConnections is the number of authenticated connections
// a Kerberos or Negotiate transport opens at most to one server when
// KerberosConfig.MaxConnections is 0 (as DefaultNTLMMaxConnections for
// NTLM).
const DefaultKerberosMaxConnections = 8

// krbCredentialSource says where a Kerberos authenticator's TGT comes from.
type krbCredentialSource int

const (
	krbSourcePassword krbCredentialSource = iota
	krbSourceKeytab
	krbSourceCCache
)

// Kerberos authenticates WinRM requests with Kerberos through SPNEGO
// ("Authorization: Negotiate <token>", RFC 4559), using
// github.com/jcmturner/gokrb5/v8 for the KDC exchanges.
//
// It logs in once (AS exchange) and reuses the TGT and the service ticket
// for every request and every client it wraps; gokrb5 renews a TGT obtained
// from a password or keytab before it expires and fetches a new service
// ticket when the cached one expires. A TGT from a credential cache cannot
// be renewed by this process: when it expires the cache file is read again
// (so a fresh kinit is picked up), and otherwise requests fail with
// ErrKerberosExpired.
//
// Over HTTPS the authenticator checksum carries the RFC 5929
// tls-server-end-point channel binding of the server certificate (see
// KerberosConfig.DisableChannelBinding).
//
// Over plain HTTP (KerberosConfig.Encryption EncryptionAuto, the default)
// every message is sealed (WinRM message encryption, MS-WSMV 2.2.9.1):
// the client sets up a mutual context (AP-REQ with a subkey; the server's
// AP-REP, verified, gives the acceptor subkey and sequence number) and
// seals with RFC 4121 wrap tokens in the layout Windows uses (MS-KILE
// 3.4.5.4.1), written for this package because gokrb5 has neither sealed
// wrap tokens nor AP-REP handling. Only AES session keys can seal (an
// RC4-HMAC key gives ErrKerberosEncryptionUnsupported). The tokens are
// tested against MIT Kerberos' GSS-API and a test acceptor, not yet against
// a Windows server. Over HTTPS, mutual authentication is not requested and
// the server is authenticated by TLS.
//
// # Connections
//
// A server authenticates a connection, not a request (HTTP.sys keeps a
// connection authenticated after a token was accepted), and with message
// encryption each connection has its own Kerberos context (subkey and
// sequence numbers) that runs on from message to message. A wrapped
// transport therefore keeps a pool of independently authenticated
// connections, as the NTLM transport does: at most
// KerberosConfig.MaxConnections, opened lazily. Each request takes an idle
// connection already authenticated for its host and mode, or else
// authenticates a new one (one AP-REQ per connection, from the cached
// service ticket: no extra KDC exchange), and uses it alone until its
// response has been read; so a long-polling Receive holds one connection
// and does not block the other requests of the same client. When all
// connections are busy a request waits, honouring its context.
//
// Pinning works as for NTLM: when the wrapped transport is an
// *http.Transport (what wsman.Client uses), every pooled connection gets
// its own clone of it with MaxConnsPerHost = 1 and HTTP/1.1 only. Any other
// RoundTripper is used as it is, with one pooled connection: requests with
// message encryption are then serialized, and requests over HTTPS go
// through it concurrently as before the pool existed (the server may then
// see new connections without a token, which makes the transport send a
// token with every request).
//
// Recovery: a 401 on a pooled connection that was authenticated is
// answered with a new token (over HTTPS) or a new context (with message
// encryption) and the request is sent again once. Over HTTPS the transport
// tells a server that forgot a connection (the request went over a new
// connection) from one that asks for a token on every request (a 401 on
// the connection it authenticated), and only in the latter case sends a
// token with every later request. A transport error (including a cancelled
// context, which closes the connection), a response that cannot be
// unsealed or a plaintext answer to a sealed request resets that pooled
// connection only: its next user authenticates again. Responses are read
// completely (bounded by KerberosConfig.MaxResponseBytes) before RoundTrip
// returns. The transport implements CloseIdleConnections
// (http.Client.CloseIdleConnections and wsman.Client.CloseIdleConnections
// reach it), which closes the idle pooled connections.
//
// Calls to the KDC honour the request context for the caller, but gokrb5
// has no context support: a KDC exchange that was abandoned finishes in the
// background within gokrb5's 5-second network timeouts.
//
// Close releases gokrb5's TGT renewal goroutine. A Kerberos is safe for
// concurrent use.
type Kerberos struct {
	cfg       KerberosConfig
	krb5      *config.Config
	source    krbCredentialSource
	principal string // user@REALM, for errors and logs
	ccPath    string // credential cache file, for krbSourceCCache

	mu       sync.Mutex
	cl       *client.Client
	ccExpiry time.Time // TGT end time of the loaded credential cache
	closed   bool

	// tgsMu makes concurrent requests that miss the service ticket cache
	// (the first requests of pooled connections) wait for one TGS
	// exchange instead of each asking the KDC.
	tgsMu sync.Mutex
}

// NewKerberosWithPassword returns a Kerberos authenticator that logs in
// with a password. username may be "user", "user@REALM" or "user@domain"
// (the realm is then upper-cased, as Active Directory realms are); realm
// overrides it, and when both are empty the krb5.conf default_realm is used.
// The password is kept in memory for renewals and never logged.
func NewKerberosWithPassword(username, realm, password string, cfg KerberosConfig) (*Kerberos, error) {
	k, user, realm, err := newKerberos(username, realm, cfg)
	if err != nil {
		return nil, err
	}
	if password == "" {
		return nil, &KerberosError{Op: "config", Principal: k.principal, Kind: ErrKerberosConfig, Err: errors.New("empty password")}
	}
	k.source = krbSourcePassword
	k.cl = client.NewWithPassword(user, realm, password, k.krb5, client.DisablePAFXFAST(true))
	return k, nil
}

// NewKerberosWithKeytab returns a Kerberos authenticator that logs in with
// the principal's key from kt. username and realm are as for
// NewKerberosWithPassword.
func NewKerberosWithKeytab(username, realm string, kt *keytab.Keytab, cfg KerberosConfig) (*Kerberos, error) {
	k, user, realm, err := newKerberos(username, realm, cfg)
	if err != nil {
		return nil, err
	}
	if kt == nil {
		return nil, &KerberosError{Op: "config", Principal: k.principal, Kind: ErrKerberosConfig, Err: errors.New("nil keytab")}
	}
	k.source = krbSourceKeytab
	k.cl = client.NewWithKeytab(user, realm, kt, k.krb5, client.DisablePAFXFAST(true))
	return k, nil
}

// NewKerberosWithKeytabFile is NewKerberosWithKeytab with a keytab file.
func NewKerberosWithKeytabFile(username, realm, path string, cfg KerberosConfig) (*Kerberos, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: fmt.Errorf("load keytab %s: %w", path, err)}
	}
	return NewKerberosWithKeytab(username, realm, kt, cfg)
}

// NewKerberosFromCCache returns a Kerberos authenticator that uses the TGT
// in an MIT credential cache file, as left by kinit. path "" means
// $KRB5CCNAME (only the FILE: type is supported), or /tmp/krb5cc_<uid>.
func NewKerberosFromCCache(path string, cfg KerberosConfig) (*Kerberos, error) {
	krb5, err := krbLoadConfig(cfg)
	if err != nil {
		return nil, err
	}
	if path == "" {
		path = krbDefaultCCachePath()
	}
	path = strings.TrimPrefix(path, "FILE:")
	k := &Kerberos{cfg: cfg, krb5: krb5, source: krbSourceCCache, ccPath: path}
	cl, expiry, principal, err := k.loadCCache()
	if err != nil {
		return nil, err
	}
	k.cl, k.ccExpiry, k.principal = cl, expiry, principal
	return k, nil
}

func krbDefaultCCachePath() string {
	if v := os.Getenv("KRB5CCNAME"); v != "" {
		return v
	}
	return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid())
}

// loadCCache reads the credential cache file and builds a client from it.
func (k *Kerberos) loadCCache() (*client.Client, time.Time, string, error) {
	cc, err := credentials.LoadCCache(k.ccPath)
	if err != nil {
		return nil, time.Time{}, "", &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: fmt.Errorf("load credential cache %s: %w", k.ccPath, err)}
	}
	principal := cc.DefaultPrincipal.PrincipalName.PrincipalNameString() + "@" + cc.DefaultPrincipal.Realm
	cl, err := client.NewFromCCache(cc, k.krb5, client.DisablePAFXFAST(true))
	if err != nil {
		return nil, time.Time{}, "", &KerberosError{Op: "config", Principal: principal, Kind: ErrKerberosConfig, Err: fmt.Errorf("credential cache %s: %w", k.ccPath, err)}
	}
	var expiry time.Time
	tgtName := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", cc.DefaultPrincipal.Realm}}
	if c, ok := cc.GetEntry(tgtName); ok {
		expiry = c.EndTime
	}
	return cl, expiry, principal, nil
}

// newKerberos loads the configuration and resolves the principal.
func newKerberos(username, realm string, cfg KerberosConfig) (*Kerberos, string, string, error) {
	krb5, err := krbLoadConfig(cfg)
	if err != nil {
		return nil, "", "", err
	}
	user := username
	if u, r, ok := strings.Cut(username, "@"); ok {
		user = u
		if realm == "" {
			realm = strings.ToUpper(r)
		}
	} else if d, u, ok := strings.Cut(username, `\`); ok {
		user = u
		if realm == "" {
			realm = strings.ToUpper(d)
		}
	}
	if realm == "" {
		realm = krb5.LibDefaults.DefaultRealm
	}
	if user == "" {
		return nil, "", "", &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: errors.New("empty user name")}
	}
	if realm == "" {
		return nil, "", "", &KerberosError{Op: "config", Principal: user, Kind: ErrKerberosConfig, Err: errors.New("no realm: give user@REALM or set default_realm in krb5.conf")}
	}
	return &Kerberos{cfg: cfg, krb5: krb5, principal: user + "@" + realm}, user, realm, nil
}

func krbLoadConfig(cfg KerberosConfig) (*config.Config, error) {
	if cfg.MaxConnections < 0 {
		return nil, &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: errors.New("MaxConnections must not be negative")}
	}
	if cfg.Krb5Config != nil {
		return cfg.Krb5Config, nil
	}
	path := cfg.Krb5ConfigPath
	if path == "" {
		path = os.Getenv("KRB5_CONFIG")
	}
	if path == "" {
		path = "/etc/krb5.conf"
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, &KerberosError{Op: "config", Kind: ErrKerberosConfig, Err: fmt.Errorf("load %s: %w", path, err)}
	}
	return c, nil
}

// Scheme returns "Kerberos".
func (k *Kerberos) Scheme() string { return "Kerberos" }

// Principal returns the client principal, "user@REALM".
func (k *Kerberos) Principal() string { return k.principal }

// Login obtains a TGT now if there is no valid one, so that bad credentials
// or an unreachable KDC show up before the first request. Requests log in
// by themselves when needed.
func (k *Kerberos) Login(ctx context.Context) error {
	cl, err := k.client()
	if err != nil {
		return err
	}
	return krbRunKDC(ctx, func() error {
		if err := cl.AffirmLogin(); err != nil {
			return classifyKerberosError("login", k.principal, "", err)
		}
		return nil
	})
}

// Close stops gokrb5's TGT renewal and forgets the tickets. Later requests
// fail with ErrKerberosClosed. Close is idempotent.
func (k *Kerberos) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		k.closed = true
		k.cl.Destroy()
	}
	return nil
}

// client returns the gokrb5 client, first re-reading an expired credential
// cache.
func (k *Kerberos) client() (*client.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, &KerberosError{Op: "request", Principal: k.principal, Kind: ErrKerberosClosed}
	}
	if k.source == krbSourceCCache && !k.ccExpiry.IsZero() && time.Now().After(k.ccExpiry) {
		cl, expiry, principal, err := k.loadCCache()
		if err != nil {
			return nil, err
		}
		if !expiry.After(time.Now()) {
			return nil, &KerberosError{Op: "login", Principal: principal, Kind: ErrKerberosExpired,
				Err: fmt.Errorf("TGT in %s expired at %s; run kinit again", k.ccPath, expiry.UTC().Format(time.RFC3339))}
		}
		k.cl.Destroy()
		k.cl, k.ccExpiry, k.principal = cl, expiry, principal
	}
	return k.cl, nil
}

// spnFor returns the SPN for a request URL host.
func (k *Kerberos) spnFor(host string) string {
	if k.cfg.SPN != "" {
		return k.cfg.SPN
	}
	class := k.cfg.ServiceClass
	if class == "" {
		class = "HTTP"
	}
	if k.cfg.Hostname != "" {
		host = k.cfg.Hostname
	}
	return class + "/" + strings.TrimSuffix(host, ".")
}

// token returns the value of an Authorization header for spn with the
// given channel binding application data (nil for none).
func (k *Kerberos) token(ctx context.Context, spn string, cbt []byte) (string, error) {
	cl, err := k.client()
	if err != nil {
		return "", err
	}
	tkt, key, err := k.serviceTicket(ctx, cl, spn)
	if err != nil {
		return "", err
	}
	var bindings *[16]byte
	if cbt != nil && !k.cfg.DisableChannelBinding {
		h := ChannelBindingHash(cbt)
		bindings = &h
	}
	tok, err := newKerberosSPNEGOToken(cl.Credentials, tkt, key, bindings)
	if err != nil {
		return "", &KerberosError{Op: "token", Principal: k.principal, SPN: spn, Err: err}
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(tok), nil
}

// serviceTicket returns the cached service ticket for spn, or gets one
// from the KDC (logging in first when needed).
func (k *Kerberos) serviceTicket(ctx context.Context, cl *client.Client, spn string) (messages.Ticket, types.EncryptionKey, error) {
	if t, sk, ok := cl.GetCachedTicket(spn); ok {
		return t, sk, nil
	}
	var (
		tkt messages.Ticket
		key types.EncryptionKey
	)
	err := krbRunKDC(ctx, func() error {
		k.tgsMu.Lock()
		defer k.tgsMu.Unlock()
		if t, sk, ok := cl.GetCachedTicket(spn); ok {
			tkt, key = t, sk // another request got it meanwhile
			return nil
		}
		var err error
		tkt, key, err = cl.GetServiceTicket(spn)
		if err != nil {
			return classifyKerberosError("service ticket", k.principal, spn, err)
		}
		return nil
	})
	if err != nil {
		// f may still be running (and writing tkt and key) when ctx ended.
		return messages.Ticket{}, types.EncryptionKey{}, err
	}
	return tkt, key, nil
}

// krbRunKDC runs f, which may talk to the KDC without a context, and returns
// early with the context's error when ctx ends first (f then finishes in the
// background, bounded by gokrb5's network timeouts).
func krbRunKDC(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return &KerberosError{Op: "request", Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return &KerberosError{Op: "request", Err: ctx.Err()}
	}
}

// Wrap returns a RoundTripper that authenticates requests with Kerberos.
// See the type documentation for the HTTP and HTTPS behaviour.
func (k *Kerberos) Wrap(next http.RoundTripper, opts WrapOptions) (http.RoundTripper, error) {
	if next == nil {
		next = http.DefaultTransport
	}
	return newKerberosTransport(k, next, opts, "Kerberos", nil), nil
}
