package auth_test

import (
	"bytes"

	"github.com/psremoting/psremoting/auth/ntlm"
)

func ntlmSessions() (client, server *ntlm.Session) {
	key := bytes.Repeat([]byte{1}, 16)
	client, _ = ntlm.NewSession(key, ntlm.DefaultClientFlags, true)
	server, _ = ntlm.NewSession(key, ntlm.DefaultClientFlags, false)
	return client, server
}
