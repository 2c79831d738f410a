package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// ChannelBindingPolicy is how strictly a Server checks channel bindings,
// after Windows' CbtHardeningLevel.
type ChannelBindingPolicy int

const (
	// ChannelBindingRelaxed checks the bindings when the client sent
	// non-zero ones (Windows "Relaxed", the WinRM default).
	ChannelBindingRelaxed ChannelBindingPolicy = iota
	// ChannelBindingStrict requires matching bindings on TLS channels.
	ChannelBindingStrict
	// ChannelBindingNone ignores them.
	ChannelBindingNone
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Lookup returns the password of the user as named in the
	// AUTHENTICATE message (user name and domain as the client sent them).
	// See PasswordTable.
	Lookup func(user, domain string) (password string, ok bool)
	// DomainName and ComputerName go into the CHALLENGE target info
	// (MsvAvNbDomainName, MsvAvNbComputerName, and DNS forms). Defaults
	// "WORKGROUP" and "PSREMOTING".
	DomainName, ComputerName string
	// ChannelBinding selects the channel binding check.
	ChannelBinding ChannelBindingPolicy
	// RequireMIC refuses AUTHENTICATE messages without a MIC (Azure's
	// go-ntlmssp sends none).
	RequireMIC bool
	// Rand and Now are for tests.
	Rand io.Reader
	Now  func() time.Time
}

// PasswordTable returns a Lookup over a table keyed by "user",
// `DOMAIN\user` or "user@domain" (case-insensitive). A client's
// `DOMAIN\user` matches either `DOMAIN\user` or a bare "user" key.
func PasswordTable(users map[string]string) func(user, domain string) (string, bool) {
	t := make(map[string]string, len(users))
	for k, v := range users {
		t[strings.ToLower(k)] = v
	}
	return func(user, domain string) (string, bool) {
		user, domain = strings.ToLower(user), strings.ToLower(domain)
		if domain != "" {
			if p, ok := t[domain+`\`+user]; ok {
				return p, true
			}
		}
		p, ok := t[user]
		return p, ok
	}
}

// Server is the acceptor side of NTLM. It holds no per-connection state:
// call NewHandshake for every connection being authenticated.
type Server struct{ cfg ServerConfig }

// NewServer returns a Server.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DomainName == "" {
		cfg.DomainName = "WORKGROUP"
	}
	if cfg.ComputerName == "" {
		cfg.ComputerName = "PSREMOTING"
	}
	return &Server{cfg: cfg}
}

// Handshake is one server-side NTLM handshake: Challenge then Authenticate.
type Handshake struct {
	srv       *Server
	negotiate []byte
	challenge []byte
	chal      *Challenge
}

// NewHandshake starts a handshake.
func (s *Server) NewHandshake() *Handshake { return &Handshake{srv: s} }

// Challenge processes a NEGOTIATE message and returns the CHALLENGE message.
// The server selects the intersection of the client's flags and what it
// supports, and always NTLM, Unicode, target info and extended session
// security.
func (h *Handshake) Challenge(negotiate []byte) ([]byte, error) {
	if h.challenge != nil {
		return nil, fmt.Errorf("%w: Challenge called twice", ErrState)
	}
	n, err := ParseNegotiate(negotiate)
	if err != nil {
		return nil, err
	}
	if !n.Flags.Has(FlagUnicode) {
		return nil, fmt.Errorf("%w: client does not offer Unicode", ErrUnsupported)
	}
	// NEGOTIATE_NTLM is not required: some NTLMv2 clients (bodgit/ntlmssp)
	// leave it out and Windows accepts them.
	if !n.Flags.Has(FlagExtendedSessionSecurity) {
		return nil, fmt.Errorf("%w: client does not offer extended session security", ErrUnsupported)
	}
	flags := n.Flags&serverSupported | FlagUnicode | FlagNTLM | FlagTargetInfo |
		FlagExtendedSessionSecurity | FlagTargetTypeServer
	if n.Flags.Has(FlagRequestTarget) {
		flags |= FlagRequestTarget
	}
	c := &Challenge{
		Flags:      flags,
		TargetName: h.srv.cfg.DomainName,
		TargetInfo: AvPairs{
			{ID: AvNbDomainName, Value: utf16le(h.srv.cfg.DomainName)},
			{ID: AvNbComputerName, Value: utf16le(h.srv.cfg.ComputerName)},
			{ID: AvDNSDomainName, Value: utf16le(strings.ToLower(h.srv.cfg.DomainName))},
			{ID: AvDNSComputerName, Value: utf16le(strings.ToLower(h.srv.cfg.ComputerName))},
			{ID: AvTimestamp, Value: fileTime(h.srv.cfg.Now())},
		},
		Version: DefaultVersion,
	}
	if _, err := io.ReadFull(h.srv.cfg.Rand, c.ServerChallenge[:]); err != nil {
		return nil, fmt.Errorf("ntlm: random server challenge: %w", err)
	}
	h.negotiate = append([]byte(nil), negotiate...)
	h.challenge = c.Marshal()
	h.chal = c
	return h.challenge, nil
}

// Result is a successful authentication.
type Result struct {
	// User and Domain are as the client sent them.
	User, Domain string
	// Session is the server-side session security, nil when the client
	// negotiated neither signing nor sealing.
	Session *Session
	// Flags are the negotiated flags.
	Flags Flags
	// ChannelBound reports that the client's channel bindings matched.
	ChannelBound bool
	// TargetName is the client's MsvAvTargetName (the SPN it meant to
	// reach), empty if it sent none. The Server does not check it.
	TargetName string
}

// Authenticate verifies an NTLMv2 AUTHENTICATE message: the NTProofStr
// against the looked-up password, the MIC when the client announced one,
// and the channel bindings per the policy. channelBindings is the encoded
// gss_channel_bindings_struct of the TLS channel, nil on plain HTTP.
//
// Failures return errors matching ErrAuthenticationFailed, ErrMICMismatch,
// ErrChannelBindingMismatch, ErrUnsupported or ErrMalformed; none contains a
// password or key.
func (h *Handshake) Authenticate(authenticate []byte, channelBindings []byte) (*Result, error) {
	if h.challenge == nil {
		return nil, fmt.Errorf("%w: Authenticate before Challenge", ErrState)
	}
	am, err := ParseAuthenticate(authenticate)
	if err != nil {
		return nil, err
	}
	if len(am.NtChallengeResponse) < 16+28 {
		return nil, fmt.Errorf("%w: NTLMv1 or anonymous response (%d bytes)", ErrUnsupported, len(am.NtChallengeResponse))
	}
	proof, temp := am.NtChallengeResponse[:16], am.NtChallengeResponse[16:]
	if temp[0] != 1 || temp[1] != 1 {
		return nil, formatErr("AUTHENTICATE", "NTLMv2 client challenge has an unknown version")
	}
	pairs, err := ParseAvPairs(temp[28:])
	if err != nil {
		return nil, err
	}
	password, ok := h.srv.cfg.Lookup(am.User, am.Domain)
	if !ok {
		// Compute anyway so unknown users and wrong passwords cost the same.
		password = ""
	}
	key := NTOWFv2(password, am.User, am.Domain)
	want := ntProofStr(key, h.chal.ServerChallenge[:], temp)
	if !hmac.Equal(want, proof) || !ok {
		return nil, ErrAuthenticationFailed
	}

	flags := am.Flags & h.chal.Flags
	kxk := hmacMD5(key, proof)
	exported := kxk
	if flags.Has(FlagKeyExchange) {
		if len(am.EncryptedRandomSessionKey) != 16 {
			return nil, formatErr("AUTHENTICATE", "key exchange without a 16-byte encrypted session key")
		}
		exported = rc4Once(kxk, am.EncryptedRandomSessionKey)
	}

	if pairs.flags()&AvFlagMIC != 0 {
		if am.MIC == nil {
			return nil, fmt.Errorf("%w: MIC announced but absent", ErrMICMismatch)
		}
		zeroed := append([]byte(nil), authenticate...)
		clear(zeroed[micOffset:authHeaderLen])
		if !hmac.Equal(hmacMD5(exported, h.negotiate, h.challenge, zeroed), am.MIC) {
			return nil, ErrMICMismatch
		}
	} else if h.srv.cfg.RequireMIC {
		return nil, fmt.Errorf("%w: no MIC", ErrMICMismatch)
	}

	res := &Result{User: am.User, Domain: am.Domain, Flags: flags, TargetName: pairs.String(AvTargetName)}
	if err := h.checkBindings(pairs, channelBindings, res); err != nil {
		return nil, err
	}
	if flags.Has(FlagSign) || flags.Has(FlagSeal) {
		if res.Session, err = NewSession(exported, flags, false); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (h *Handshake) checkBindings(pairs AvPairs, channelBindings []byte, res *Result) error {
	policy := h.srv.cfg.ChannelBinding
	if policy == ChannelBindingNone || channelBindings == nil {
		return nil
	}
	got, _ := pairs.Get(AvChannelBindings)
	empty := len(got) == 0 || binary.LittleEndian.Uint64(pad16(got)) == 0 && binary.LittleEndian.Uint64(pad16(got)[8:]) == 0
	if empty {
		if policy == ChannelBindingStrict {
			return fmt.Errorf("%w: client sent no channel bindings", ErrChannelBindingMismatch)
		}
		return nil
	}
	wantHash := md5.Sum(channelBindings)
	if !hmac.Equal(got, wantHash[:]) {
		return ErrChannelBindingMismatch
	}
	res.ChannelBound = true
	return nil
}

func pad16(b []byte) []byte {
	if len(b) >= 16 {
		return b
	}
	return append(append([]byte(nil), b...), make([]byte, 16-len(b))...)
}
