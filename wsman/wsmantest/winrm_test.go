package wsmantest_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/wsman/wsmantest"
)

func hostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return host, p
}

// TestMasterzenWinRMCmdShell runs commands with github.com/masterzen/winrm's
// own client on the fake server's cmd shell.
func TestMasterzenWinRMCmdShell(t *testing.T) {
	// masterzen's client logs in with Basic over plain HTTP.
	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"vagrant": "vagrant-pw"}, AllowUnencrypted: true})
	defer srv.Close()
	srv.HandleFunc("echo", func(ctx context.Context, inv *wsmantest.Invocation) error {
		words := strings.Fields(inv.CommandLine)[1:]
		_, err := inv.Stdout().Write([]byte(strings.Join(words, " ") + "\r\n"))
		return err
	})
	srv.HandleFunc("fail", func(ctx context.Context, inv *wsmantest.Invocation) error {
		_, _ = inv.Stdout().Write([]byte("partial\r\n"))
		_, _ = inv.Stderr().Write([]byte("it broke\r\n"))
		inv.Exit(3)
		return nil
	})
	srv.HandleFunc("cat", func(ctx context.Context, inv *wsmantest.Invocation) error {
		buf := make([]byte, 4096)
		for {
			n, err := inv.Stdin().Read(buf)
			if n > 0 {
				if _, werr := inv.Stdout().Write(buf[:n]); werr != nil {
					return werr
				}
			}
			if err != nil {
				return nil
			}
		}
	})

	host, port := hostPort(t, srv.URL)
	ep := winrm.NewEndpoint(host, port, false, false, nil, nil, nil, 10*time.Second)
	client, err := winrm.NewClient(ep, "vagrant", "vagrant-pw")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	stdout, stderr, code, err := client.RunCmdWithContext(ctx, "echo hello world")
	require.NoError(t, err)
	assert.Equal(t, "hello world\r\n", stdout)
	assert.Empty(t, stderr)
	assert.Equal(t, 0, code)

	stdout, stderr, code, err = client.RunCmdWithContext(ctx, "fail now")
	require.NoError(t, err)
	assert.Equal(t, "partial\r\n", stdout)
	assert.Equal(t, "it broke\r\n", stderr)
	assert.Equal(t, 3, code)

	stdout, _, code, err = client.RunWithContextWithString(ctx, "cat", "line one\nline two\n")
	require.NoError(t, err)
	assert.Equal(t, "line one\nline two\n", stdout)
	assert.Equal(t, 0, code)

	_, stderr, code, err = client.RunCmdWithContext(ctx, "nosuchcommand /x")
	require.NoError(t, err)
	assert.Contains(t, stderr, "'nosuchcommand' is not recognized")
	assert.Equal(t, 1, code)

	// Wrong password: 401.
	bad, err := winrm.NewClient(ep, "vagrant", "wrong")
	require.NoError(t, err)
	_, _, _, err = bad.RunCmdWithContext(ctx, "echo x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")

	var actions []string
	for _, r := range srv.Requests() {
		actions = append(actions, r.Action)
	}
	assert.Contains(t, actions, "Create")
	assert.Contains(t, actions, "Command")
	assert.Contains(t, actions, "Receive")
	assert.Contains(t, actions, "Signal")
	assert.Contains(t, actions, "Delete")
}
