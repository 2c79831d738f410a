package krbtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/stretchr/testify/require"
)

func TestRealm(t *testing.T) {
	k, err := Start(t.TempDir())
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer k.Stop()

	require.NoError(t, k.AddPrincipal("alice", "Secret-1"))
	require.NoError(t, k.AddRandomKeyPrincipal("HTTP/localhost"))

	kt, err := k.WriteKeytab(filepath.Join(k.Dir, "http.keytab"), "HTTP/localhost")
	require.NoError(t, err)
	require.NotEmpty(t, kt.Entries)
	require.Equal(t, k.Realm, kt.Entries[0].Principal.Realm)

	cc := filepath.Join(k.Dir, "alice.ccache")
	require.NoError(t, k.Kinit("alice", "Secret-1", cc))
	c, err := credentials.LoadCCache(cc)
	require.NoError(t, err)
	require.Equal(t, "alice", c.DefaultPrincipal.PrincipalName.PrincipalNameString())

	err = k.Kinit("alice", "wrong-pass", filepath.Join(k.Dir, "bad.ccache"))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong-pass")

	cfg, err := k.Config()
	require.NoError(t, err)
	require.Equal(t, k.Realm, cfg.LibDefaults.DefaultRealm)

	dir := k.Dir
	k.Stop()
	k.Stop()
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err))
}
