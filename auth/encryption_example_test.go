package auth_test

import (
	"bytes"
	"fmt"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/auth/ntlm"
)

func ntlmSessions() (client, server *ntlm.Session) {
	key := bytes.Repeat([]byte{1}, 16)
	client, _ = ntlm.NewSession(key, ntlm.DefaultClientFlags, true)
	server, _ = ntlm.NewSession(key, ntlm.DefaultClientFlags, false)
	return client, server
}

// SealBody and UnsealBody frame any SecurityContext (here an NTLM session
// pair) in WinRM's multipart/encrypted format.
func ExampleSealBody() {
	client, server := ntlmSessions()
	body, contentType, _ := auth.SealBody(client, auth.ProtocolSPNEGO, "", []byte("<Envelope/>"))
	fmt.Println(contentType)
	plain, origType, err := auth.UnsealBody(server, auth.ProtocolSPNEGO, body, 0)
	fmt.Println(string(plain), origType, err)
	// Output:
	// multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"
	// <Envelope/> application/soap+xml;charset=UTF-8 <nil>
}
