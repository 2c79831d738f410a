package auth

import "github.com/psremoting/psremoting/auth/ntlm"

// DefaultNTLMMaxConnections is the number of authenticated connections an
// NTLM transport opens at most to one server when NTLM.MaxConnections is 0.
// A PSRP session keeps one long-polling Receive outstanding on its pool and
// one per running command, so a client used by several sessions may want
// more.
const DefaultNTLMMaxConnections = 8

// ntlmConn is one pooled NTLM connection (see connpool.go); its state is
// the NTLM session that seals its messages, set on the sealing path.
type ntlmConn = connSlot[*ntlm.Session]
