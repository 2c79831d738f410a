package wsmantest_test

import (
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
	"github.com/psremoting/psremoting/wsman/wsmantest"
)

// serviceAllowUnencrypted returns the Service AllowUnencrypted value of the
// winrm/config the server advertises.
func serviceAllowUnencrypted(t *testing.T, wc *wsman.Client) string {
	t.Helper()
	env, err := wc.Invoke(testCtx(t), &wsman.Request{Action: wsman.ActionGet, ResourceURI: wsman.ResourceConfig})
	require.NoError(t, err)
	svc := env.BodyElement().Child(wsman.NSConfig, "Service")
	require.NotNil(t, svc, "cfg:Service")
	return svc.ChildText(wsman.NSConfig, "AllowUnencrypted")
}

// lastStatus returns the HTTP status of the last request the server logged.
func lastStatus(t *testing.T, srv *wsmantest.Server) int {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1].Status
}

// A Windows server with AllowUnencrypted=false (its default) refuses, over
// plain HTTP, a request that NTLM authenticated but did not seal, and so
// does the fake server by default: a client that stopped sealing fails.
func TestPlaintextAfterNTLMOverHTTPRefusedByDefault(t *testing.T) {
	users := map[string]string{"alice": "alice-pw"}
	// The client opts in to unencrypted messages; the server does not.
	plainNTLM := func(srv *wsmantest.Server) *wsman.Client {
		wc, err := wsman.NewClient(srv.URL, wsman.Config{AllowUnencrypted: true, OperationTimeout: 5 * time.Second,
			Auth: &auth.NTLM{Username: "alice", Password: "alice-pw", Encryption: auth.EncryptionNever}})
		require.NoError(t, err)
		t.Cleanup(wc.CloseIdleConnections)
		return wc
	}

	srv := wsmantest.NewServer(wsmantest.Options{Users: users})
	t.Cleanup(srv.Close)
	_, err := plainNTLM(srv).EnumerateShells(testCtx(t))
	require.ErrorIs(t, err, auth.ErrUnauthorized)
	assert.Equal(t, http.StatusUnauthorized, lastStatus(t, srv))

	// The same server serves the sealing client and says it refuses
	// unencrypted messages.
	sealed, err := wsman.NewClient(srv.URL, wsman.Config{OperationTimeout: 5 * time.Second,
		Auth: &auth.NTLM{Username: "alice", Password: "alice-pw"}})
	require.NoError(t, err)
	t.Cleanup(sealed.CloseIdleConnections)
	_, err = sealed.EnumerateShells(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "false", serviceAllowUnencrypted(t, sealed))

	// Opted in, the server takes the plaintext request (and says so).
	lax := wsmantest.NewServer(wsmantest.Options{Users: users, AllowUnencrypted: true})
	t.Cleanup(lax.Close)
	wc := plainNTLM(lax)
	_, err = wc.EnumerateShells(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "true", serviceAllowUnencrypted(t, wc))
}

// Basic authentication over plain HTTP is refused by default, as by a
// Windows server with AllowUnencrypted=false, and accepted with
// Options.AllowUnencrypted. Over HTTPS it is accepted either way.
func TestBasicOverHTTPNeedsAllowUnencrypted(t *testing.T) {
	users := map[string]string{"alice": "alice-pw"}
	basic := func(srv *wsmantest.Server, cfg wsman.Config) *wsman.Client {
		cfg.Auth = &auth.Basic{Username: "alice", Password: "alice-pw"}
		cfg.OperationTimeout = 5 * time.Second
		wc, err := wsman.NewClient(srv.URL, cfg)
		require.NoError(t, err)
		t.Cleanup(wc.CloseIdleConnections)
		return wc
	}

	strict := wsmantest.NewServer(wsmantest.Options{Users: users})
	t.Cleanup(strict.Close)
	_, err := basic(strict, wsman.Config{AllowUnencrypted: true}).EnumerateShells(testCtx(t))
	require.ErrorIs(t, err, auth.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "alice-pw")
	assert.Equal(t, http.StatusUnauthorized, lastStatus(t, strict))
	assert.Empty(t, strict.Shells(), "nothing was done")

	lax := wsmantest.NewServer(wsmantest.Options{Users: users, AllowUnencrypted: true})
	t.Cleanup(lax.Close)
	wc := basic(lax, wsman.Config{AllowUnencrypted: true})
	_, err = wc.EnumerateShells(testCtx(t))
	require.NoError(t, err)
	reqs := lax.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "alice", reqs[len(reqs)-1].User)

	tlsSrv := wsmantest.NewTLSServer(wsmantest.Options{Users: users})
	t.Cleanup(tlsSrv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	_, err = basic(tlsSrv, wsman.Config{RootCAs: roots}).EnumerateShells(testCtx(t))
	require.NoError(t, err, "Basic over HTTPS needs no AllowUnencrypted")
}
