package wsmantest_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/recordings"
	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

var reOwner = regexp.MustCompile(`<rsp:ResourceUri>([^<]*)</rsp:ResourceUri><rsp:Owner>([^<]*)</rsp:Owner>`)

// recordedOwner returns the rsp:Owner of the first shell of resource URI
// prefix uri in a recording's responses.
func recordedOwner(t *testing.T, name, uri string) string {
	t.Helper()
	rec := recordings.LoadNamed(t, name)
	for _, ex := range rec.Messages {
		for _, m := range reOwner.FindAllStringSubmatch(ex.Response, -1) {
			if strings.HasPrefix(m[1], uri) {
				return m[2]
			}
		}
	}
	t.Fatalf("%s: no rsp:Owner of a %s shell", name, uri)
	return ""
}

// TestOwnerAsWindowsShowsIt mirrors the recorded Owner of PowerShell and
// cmd shells: MACHINE\user for a local account, DOMAIN\user for a domain
// account, in the CreateResponse, Get and Enumerate.
func TestOwnerAsWindowsShowsIt(t *testing.T) {
	for _, tc := range []struct {
		recording, uri string
		usersKey       string // the account as Options.Users names it and the client types it ("" = the recorded bare name)
	}{
		{recording: "test_psrp_disconnect_runspaces", uri: "http://schemas.microsoft.com/powershell/"},
		{recording: "test_client_execute_cmd", uri: wsman.ResourceCmd},
		{recording: "test_client_copy_file", uri: "http://schemas.microsoft.com/powershell/", usersKey: `domain\vagrant-domain`},
		{recording: "test_client_copy_file", uri: wsman.ResourceCmd, usersKey: "vagrant-domain@domain.test"},
	} {
		want := recordedOwner(t, tc.recording, tc.uri)
		machine, user, ok := strings.Cut(want, `\`)
		require.True(t, ok, "recorded owner %q", want)
		key := tc.usersKey
		if key == "" {
			key = user
		}
		t.Run(tc.recording+"/"+key, func(t *testing.T) {
			srv := wsmantest.NewServer(wsmantest.Options{ComputerName: machine, Users: map[string]string{key: "pw"}, AllowUnencrypted: true})
			defer srv.Close()
			wc := newWSManClient(t, srv, key, "pw", "")
			ctx := testCtx(t)
			var resp *wsman.CreateResponse
			var err error
			if tc.uri == wsman.ResourceCmd {
				resp, err = wc.CreateCmd(ctx, wsman.CmdShell{})
			} else {
				id := uuid.New()
				pool, perr := psrp.NewClientPool(psrp.ClientPoolConfig{RunspacePoolID: id})
				require.NoError(t, perr)
				require.NoError(t, pool.Open())
				xml, perr := pool.NextPayload(psrp.PoolTarget, wc.MaxPayloadSize())
				require.NoError(t, perr)
				resp, err = wc.CreatePowerShell(ctx, wsman.PowerShellShell{ShellID: strings.ToUpper(id.String()), CreationXML: xml})
			}
			require.NoError(t, err)
			require.NotNil(t, resp.Shell)
			assert.Equal(t, want, resp.Shell.Owner, "Owner in the CreateResponse")
			got, err := wc.GetShell(ctx, resp.ShellID())
			require.NoError(t, err)
			assert.Equal(t, want, got.Owner, "Owner in Get")
			shells, err := wc.EnumerateShells(ctx)
			require.NoError(t, err)
			require.Len(t, shells, 1)
			assert.Equal(t, want, shells[0].Owner, "Owner in Enumerate")
		})
	}
}
