package ntlm

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// User is "user", `DOMAIN\user` or "user@domain" (a UPN, sent as the
	// user name with an empty domain, as Windows does).
	User string
	// Password is the user's password. It is used only to compute the
	// response and is never included in errors.
	Password string
	// Domain overrides the domain parsed from User.
	Domain string
	// Workstation is the client machine name sent in AUTHENTICATE
	// (informative). Empty by default.
	Workstation string
	// ChannelBindings is the encoded gss_channel_bindings_struct of the
	// channel (see package auth's TLS helpers); its MD5 goes into
	// MsvAvChannelBindings. Nil sends 16 zero bytes ("no bindings").
	ChannelBindings []byte
	// TargetSPN, when set, is sent as MsvAvTargetName (e.g. "HTTP/host").
	TargetSPN string
	// Flags overrides DefaultClientFlags.
	Flags Flags
	// Rand and Now are for tests; they default to crypto/rand and time.Now.
	Rand io.Reader
	Now  func() time.Time
}

// Client is the initiator side of one NTLM handshake. Use a new Client for
// every handshake.
type Client struct {
	cfg         ClientConfig
	user, dom   string
	negotiate   []byte
	session     *Session
	exportedKey []byte
}

// SplitUser separates `DOMAIN\user` into user and domain. "user@domain" and
// "user" are returned unchanged with an empty domain.
func SplitUser(s string) (user, domain string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return u, d
	}
	return s, ""
}

// NewClient returns a Client for one handshake.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.User == "" {
		return nil, fmt.Errorf("%w: empty user name (anonymous NTLM is not supported)", ErrUnsupported)
	}
	if cfg.Flags == 0 {
		cfg.Flags = DefaultClientFlags
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	c.user, c.dom = SplitUser(cfg.User)
	if cfg.Domain != "" {
		c.dom = cfg.Domain
	}
	return c, nil
}

// SetChannelBindings sets the encoded gss_channel_bindings_struct before
// Authenticate (the TLS channel is often known only after the first
// response).
func (c *Client) SetChannelBindings(b []byte) { c.cfg.ChannelBindings = b }

// Negotiate returns the NEGOTIATE message.
func (c *Client) Negotiate() []byte {
	c.negotiate = (&Negotiate{Flags: c.cfg.Flags, Version: DefaultVersion}).Marshal()
	return c.negotiate
}

// windowsEpochOffset is the number of 100ns intervals from 1601 to 1970.
const windowsEpochOffset = 116444736000000000

func fileTime(t time.Time) []byte {
	ft := uint64(t.UnixNano()/100) + windowsEpochOffset
	return binary.LittleEndian.AppendUint64(nil, ft)
}

// Authenticate processes the CHALLENGE message and returns the
// AUTHENTICATE message with an NTLMv2 response, channel bindings, a MIC and,
// when the server agreed to key exchange, a random exported session key.
// After it returns, Session gives the session security.
func (c *Client) Authenticate(challenge []byte) ([]byte, error) {
	if c.negotiate == nil {
		return nil, fmt.Errorf("%w: Authenticate before Negotiate", ErrState)
	}
	ch, err := ParseChallenge(challenge)
	if err != nil {
		return nil, err
	}
	flags := ch.Flags & c.cfg.Flags
	switch {
	case !ch.Flags.Has(FlagUnicode):
		return nil, fmt.Errorf("%w: server did not select Unicode", ErrUnsupported)
	case ch.Flags.Has(FlagLMKey):
		return nil, fmt.Errorf("%w: server asked for the LM key (NTLMv1)", ErrUnsupported)
	case !ch.Flags.Has(FlagExtendedSessionSecurity):
		return nil, fmt.Errorf("%w: server did not select extended session security", ErrUnsupported)
	case ch.TargetInfoRaw == nil:
		return nil, fmt.Errorf("%w: CHALLENGE without target info (NTLMv2 needs it)", ErrUnsupported)
	case c.cfg.Flags.Has(FlagSeal) && !flags.Has(FlagSeal):
		return nil, fmt.Errorf("%w: server refused sealing", ErrNoSealing)
	}

	var clientChallenge [8]byte
	if _, err := io.ReadFull(c.cfg.Rand, clientChallenge[:]); err != nil {
		return nil, fmt.Errorf("ntlm: random client challenge: %w", err)
	}

	// The AV pairs of the response: the server's, plus MsvAvFlags (MIC
	// present), channel bindings and the target name.
	pairs := append(AvPairs(nil), ch.TargetInfo...)
	ts, hasTS := pairs.Get(AvTimestamp)
	if !hasTS || len(ts) != 8 {
		ts = fileTime(c.cfg.Now())
	}
	avf := pairs.flags() | AvFlagMIC
	pairs = pairs.Set(AvFlags, binary.LittleEndian.AppendUint32(nil, avf))
	cbt := make([]byte, 16)
	if c.cfg.ChannelBindings != nil {
		h := md5.Sum(c.cfg.ChannelBindings)
		cbt = h[:]
	}
	pairs = pairs.Set(AvChannelBindings, cbt)
	if c.cfg.TargetSPN != "" {
		pairs = pairs.Set(AvTargetName, utf16le(c.cfg.TargetSPN))
	}

	for _, f := range []string{c.user, c.dom, c.cfg.Workstation, c.cfg.TargetSPN} {
		if 2*len(f) > 0xffff { // upper bound of the UTF-16 length
			return nil, fmt.Errorf("%w: a name of %d bytes does not fit an NTLM field", ErrUnsupported, len(f))
		}
	}
	key := NTOWFv2(c.cfg.Password, c.user, c.dom)
	temp := ntlmv2Temp(ts, clientChallenge[:], pairs.Marshal())
	proof := ntProofStr(key, ch.ServerChallenge[:], temp)
	lm := make([]byte, 24)
	if !hasTS {
		lm = lmv2Response(key, ch.ServerChallenge[:], clientChallenge[:])
	}
	keyExchangeKey := hmacMD5(key, proof) // KXKEY is the session base key for NTLMv2

	am := &Authenticate{
		Flags:               flags,
		LmChallengeResponse: lm,
		NtChallengeResponse: append(proof, temp...),
		Domain:              c.dom,
		User:                c.user,
		Workstation:         c.cfg.Workstation,
		Version:             DefaultVersion,
	}
	exported := keyExchangeKey
	if flags.Has(FlagKeyExchange) {
		exported = make([]byte, 16)
		if _, err := io.ReadFull(c.cfg.Rand, exported); err != nil {
			return nil, fmt.Errorf("ntlm: random session key: %w", err)
		}
		am.EncryptedRandomSessionKey = rc4Once(keyExchangeKey, exported)
	}
	msg := am.Marshal()
	mic := hmacMD5(exported, c.negotiate, challenge, msg)
	copy(msg[micOffset:authHeaderLen], mic)

	if flags.Has(FlagSign) || flags.Has(FlagSeal) {
		if c.session, err = NewSession(exported, flags, true); err != nil {
			return nil, err
		}
	}
	c.exportedKey = exported
	return msg, nil
}

// Session returns the session security after Authenticate, or nil when
// neither signing nor sealing was negotiated.
func (c *Client) Session() *Session { return c.session }

// ExportedSessionKey returns the exported session key after Authenticate.
func (c *Client) ExportedSessionKey() []byte { return c.exportedKey }
