package ntlm

import (
	"testing"

	bodgit "github.com/bodgit/ntlmssp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server side against an independent implementation with session
// security: github.com/bodgit/ntlmssp (what masterzen/winrm's encryption
// uses) as the client, with key exchange, MIC, channel bindings and
// sealing in both directions.
func TestServerWithBodgitClient(t *testing.T) {
	appData := []byte("tls-server-end-point:0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name, user, domain, password string
		bindings                     *bodgit.ChannelBindings
		serverCB                     []byte
		want                         error
	}{
		{name: "domain user", user: "alice", domain: "CORP", password: "s3cret!"},
		{name: "plain user", user: "bob", password: "hunter2"},
		{name: "wrong password", user: "bob", password: "nope", want: ErrAuthenticationFailed},
		{name: "channel bound", user: "bob", password: "hunter2",
			bindings: &bodgit.ChannelBindings{ApplicationData: appData}, serverCB: GSSBindingsForTest(appData)},
		{name: "channel mismatch", user: "bob", password: "hunter2",
			bindings: &bodgit.ChannelBindings{ApplicationData: appData[:20]}, serverCB: GSSBindingsForTest(appData), want: ErrChannelBindingMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []func(*bodgit.Client) error{bodgit.SetUserInfo(tc.user, tc.password)}
			if tc.domain != "" {
				opts = append(opts, bodgit.SetDomain(tc.domain))
			}
			c, err := bodgit.NewClient(opts...)
			require.NoError(t, err)
			neg, err := c.Authenticate(nil, nil)
			require.NoError(t, err)

			h := testServer(ChannelBindingStrict).NewHandshake()
			chal, err := h.Challenge(neg)
			require.NoError(t, err)
			auth, err := c.Authenticate(chal, tc.bindings)
			require.NoError(t, err)
			res, err := h.Authenticate(auth, tc.serverCB)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.user, res.User)
			assert.Equal(t, tc.bindings != nil, res.ChannelBound)
			require.NotNil(t, res.Session)

			for _, msg := range []string{"<Envelope>one</Envelope>", "two", ""} {
				sealed, sig, err := c.SecuritySession().Wrap([]byte(msg))
				require.NoError(t, err)
				plain, err := res.Session.Unwrap(sig, sealed)
				require.NoError(t, err)
				assert.Equal(t, msg, string(plain))

				sig, sealed, err = res.Session.Wrap([]byte("re:" + msg))
				require.NoError(t, err)
				plain, err = c.SecuritySession().Unwrap(sealed, sig)
				require.NoError(t, err)
				assert.Equal(t, "re:"+msg, string(plain))
			}
		})
	}
}

// GSSBindingsForTest encodes a gss_channel_bindings_struct with empty
// addresses (package auth has the exported helper; ntlm cannot import it).
func GSSBindingsForTest(app []byte) []byte {
	b := make([]byte, 16, 20+len(app))
	b = append(b, byte(len(app)), byte(len(app)>>8), byte(len(app)>>16), byte(len(app)>>24))
	return append(b, app...)
}
