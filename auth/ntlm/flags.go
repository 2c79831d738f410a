package ntlm

// Flags is the NegotiateFlags field of NTLM messages (MS-NLMP 2.2.2.5).
type Flags uint32

// Negotiate flags used by this package (MS-NLMP 2.2.2.5).
const (
	FlagUnicode                 Flags = 0x00000001
	FlagOEM                     Flags = 0x00000002
	FlagRequestTarget           Flags = 0x00000004
	FlagSign                    Flags = 0x00000010
	FlagSeal                    Flags = 0x00000020
	FlagDatagram                Flags = 0x00000040
	FlagLMKey                   Flags = 0x00000080
	FlagNTLM                    Flags = 0x00000200
	FlagAnonymous               Flags = 0x00000800
	FlagOEMDomainSupplied       Flags = 0x00001000
	FlagOEMWorkstationSupplied  Flags = 0x00002000
	FlagAlwaysSign              Flags = 0x00008000
	FlagTargetTypeDomain        Flags = 0x00010000
	FlagTargetTypeServer        Flags = 0x00020000
	FlagExtendedSessionSecurity Flags = 0x00080000
	FlagIdentify                Flags = 0x00100000
	FlagRequestNonNTSessionKey  Flags = 0x00400000
	FlagTargetInfo              Flags = 0x00800000
	FlagVersion                 Flags = 0x02000000
	Flag128                     Flags = 0x20000000
	FlagKeyExchange             Flags = 0x40000000
	Flag56                      Flags = 0x80000000
)

// Has reports whether every flag in x is set in f.
func (f Flags) Has(x Flags) bool { return f&x == x }

// DefaultClientFlags are the flags the Client asks for: NTLMv2 with extended
// session security, 128-bit keys, key exchange, signing and sealing.
const DefaultClientFlags = FlagUnicode | FlagRequestTarget | FlagSign | FlagSeal |
	FlagNTLM | FlagAlwaysSign | FlagExtendedSessionSecurity | FlagTargetInfo |
	FlagVersion | Flag128 | FlagKeyExchange | Flag56

// serverSupported are the flags the Server accepts from a client request.
const serverSupported = FlagUnicode | FlagRequestTarget | FlagSign | FlagSeal |
	FlagNTLM | FlagAlwaysSign | FlagExtendedSessionSecurity | FlagTargetInfo |
	FlagVersion | Flag128 | FlagKeyExchange | Flag56 | FlagIdentify
