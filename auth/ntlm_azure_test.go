package auth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth/ntlm"
)

// The Azure path adds channel bindings and the target name to the target
// info Azure echoes; the server sees both.
func TestAzureHandshakeAddsBindingsAndSPN(t *testing.T) {
	app := []byte("tls-server-end-point:abc")
	srv := ntlm.NewServer(ntlm.ServerConfig{Lookup: ntlm.PasswordTable(map[string]string{`CORP\alice`: "pw"}), ChannelBinding: ntlm.ChannelBindingStrict})
	for _, tc := range []struct {
		name     string
		cfg      NTLM
		bindings []byte
	}{
		{"bindings and SPN", NTLM{Username: "alice", Domain: "CORP", Password: "pw", TargetSPN: "HTTP/winrm.corp.test"}, app},
		{"bindings only", NTLM{Username: `CORP\alice`, Password: "pw", Workstation: "WS1"}, app},
		{"nothing added", NTLM{Username: `CORP\alice`, Password: "pw"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := azureHandshake{cfg: &tc.cfg}
			neg, err := a.negotiate()
			require.NoError(t, err)
			h := srv.NewHandshake()
			chal, err := h.Challenge(neg)
			require.NoError(t, err)
			msg, err := a.authenticate(chal, tc.bindings)
			require.NoError(t, err)
			var serverCB []byte
			if tc.bindings != nil {
				serverCB = GSSChannelBindings(tc.bindings)
			}
			res, err := h.Authenticate(msg, serverCB)
			require.NoError(t, err)
			assert.Equal(t, "alice", res.User)
			assert.Equal(t, "CORP", res.Domain)
			assert.Equal(t, tc.bindings != nil, res.ChannelBound)
			assert.Equal(t, tc.cfg.TargetSPN, res.TargetName)
			am, err := ntlm.ParseAuthenticate(msg)
			require.NoError(t, err)
			assert.Equal(t, tc.cfg.Workstation, am.Workstation)
		})
	}
	_, err := azureHandshake{cfg: &NTLM{Username: "a", Password: "b"}}.authenticate([]byte("junk"), []byte("x"))
	require.ErrorIs(t, err, ntlm.ErrMalformed)
}
