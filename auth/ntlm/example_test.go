package ntlm_test

import (
	"fmt"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// A full handshake between Client and Server, then one sealed message.
func Example() {
	srv := ntlm.NewServer(ntlm.ServerConfig{Lookup: ntlm.PasswordTable(map[string]string{`CORP\alice`: "s3cret!"})})
	client, _ := ntlm.NewClient(ntlm.ClientConfig{User: `CORP\alice`, Password: "s3cret!"})

	hs := srv.NewHandshake()
	challenge, _ := hs.Challenge(client.Negotiate())
	authenticate, _ := client.Authenticate(challenge)
	res, err := hs.Authenticate(authenticate, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Domain, res.User)

	sig, sealed, _ := client.Session().Wrap([]byte("hello"))
	plain, err := res.Session.Unwrap(sig, sealed)
	fmt.Println(string(plain), err)
	// Output:
	// CORP alice
	// hello <nil>
}
