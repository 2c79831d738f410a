package session_test

import (
	"testing"

	"github.com/psremoting/psremoting/session"
)

// FuzzParseToken: any input gives a token or an error, never a panic; a
// token that parses prints back to itself.
func FuzzParseToken(f *testing.F) {
	f.Add(session.Token{V: 1, ConnectionURI: "http://h:5985/wsman", ShellID: "0B5A7E1C-8D13-4C5B-9B0E-3F0D3E6A1A11",
		ConfigurationName: "Microsoft.PowerShell", CommandIDs: []string{"X"}}.String())
	f.Add("")
	f.Add("e30")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := session.ParseToken(s)
		if err != nil {
			return
		}
		again, err := session.ParseToken(tok.String())
		if err != nil {
			t.Fatalf("a parsed token does not parse again: %v", err)
		}
		if again.String() != tok.String() {
			t.Fatalf("round trip changed the token")
		}
	})
}
