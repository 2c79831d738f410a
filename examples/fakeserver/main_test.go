package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
)

// demoEnv is the environment of a program run whose password is demo-pw.
func demoEnv(name string) string {
	if name == passwordEnv {
		return "demo-pw"
	}
	return ""
}

func noEnv(string) string { return "" }

// lockedBuffer is a bytes.Buffer safe for the program's writes and the
// test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs the program on a free port with the password demo-pw in
// its environment and returns the URL it printed, and a function that stops
// it and returns run's error.
func startServer(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	url, _, stop := startServerEnv(t, demoEnv, args...)
	return url, stop
}

// startServerEnv is startServer with the environment getenv; it also
// returns what the program wrote on stderr.
func startServerEnv(t *testing.T, getenv func(string) string, args ...string) (string, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), getenv, pw, stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no URL printed: %v (%v)", err, <-errc)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return strings.TrimSpace(line), stderr, func() error {
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
}

func TestRunServesRequests(t *testing.T) {
	url, stop := startServer(t, "-user", "demo", "-allow-unencrypted", "-idle-timeout", "30m")
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	assert.True(t, strings.HasSuffix(url, "/wsman"), url)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, err := wsman.NewClient(url, wsman.Config{Auth: &auth.Basic{Username: "demo", Password: "demo-pw"}, AllowUnencrypted: true})
	require.NoError(t, err)
	resp, err := wc.CreateCmd(ctx, wsman.CmdShell{})
	require.NoError(t, err)
	ref := wsman.ShellRef{ResourceURI: wsman.ResourceCmd, ShellID: resp.ShellID()}
	assert.Equal(t, 30*time.Minute, resp.Shell.IdleTimeOut)
	id, err := wc.Command(ctx, ref, &wsman.CommandLine{Command: "echo", Arguments: []string{"hi", "there"}})
	require.NoError(t, err)
	var out []byte
	for {
		rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: id, DesiredStream: "stdout stderr"})
		require.NoError(t, err)
		out = append(out, rr.StreamData("stdout", id)...)
		if rr.CommandState.Done() {
			assert.Equal(t, int64(0), rr.CommandState.ExitCode)
			break
		}
	}
	assert.Equal(t, "hi there\r\n", string(out))

	// cmd.exe /c LINE, as pypsrp's Process (test_winrs_standard.yml) and
	// go-psrp's ExecuteCmd send it, runs LINE.
	for _, tc := range []struct {
		cl           wsman.CommandLine
		stdout, errs string
		code         int64
	}{
		{wsman.CommandLine{Command: "cmd.exe", Arguments: []string{"/c", "echo", "hi"}}, "hi\r\n", "", 0},
		{wsman.CommandLine{Command: "cmd.exe", Arguments: []string{"/c", "echo hello world"}}, "hello world\r\n", "", 0},
		{wsman.CommandLine{Command: "cmd.exe", Arguments: []string{"/c echo one arg"}}, "one arg\r\n", "", 0},
		{wsman.CommandLine{Command: "CMD /C", Arguments: []string{"nope.exe", "x"}}, "", "'nope.exe' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1},
		{wsman.CommandLine{Command: "cmd.exe"}, "", "does not model", 1},
	} {
		id, err := wc.Command(ctx, ref, &tc.cl)
		require.NoError(t, err)
		var stdout, stderr []byte
		for {
			rr, err := wc.Receive(ctx, ref, &wsman.Receive{CommandID: id, DesiredStream: "stdout stderr"})
			require.NoError(t, err)
			stdout = append(stdout, rr.StreamData("stdout", id)...)
			stderr = append(stderr, rr.StreamData("stderr", id)...)
			if rr.CommandState.Done() {
				assert.Equal(t, tc.code, rr.CommandState.ExitCode, "%+v", tc.cl)
				break
			}
		}
		assert.Equal(t, tc.stdout, string(stdout), "%+v", tc.cl)
		assert.Contains(t, string(stderr), tc.errs, "%+v", tc.cl)
	}
	require.NoError(t, wc.Delete(ctx, ref))

	bad, err := wsman.NewClient(url, wsman.Config{Auth: &auth.Basic{Username: "demo", Password: "x"}, AllowUnencrypted: true})
	require.NoError(t, err)
	_, err = bad.EnumerateShells(ctx)
	require.Error(t, err)
	require.NoError(t, stop())
}

// The password comes from $PSREMOTING_PASSWORD, never from a flag (a flag
// value is visible in the process list to every local user).
func TestRunPasswordFromEnvironment(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-user", "demo", "-password", "demo-pw"}, noEnv, io.Discard, io.Discard)
	require.Error(t, err, "-password is not a flag")
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-user", "demo"}, noEnv, io.Discard, io.Discard)
	require.ErrorContains(t, err, passwordEnv)

	url, stderr, stop := startServerEnv(t, demoEnv, "-user", "demo")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, err := wsman.NewClient(url, wsman.Config{Auth: &auth.NTLM{Username: "demo", Password: "demo-pw"}})
	require.NoError(t, err)
	defer wc.CloseIdleConnections()
	_, err = wc.EnumerateShells(ctx)
	require.NoError(t, err)
	require.NoError(t, stop())
	assert.NotContains(t, stderr.String(), "demo-pw")
	assert.NotContains(t, stderr.String(), "WARNING")
}

// Without -user the program serves anyone who can reach it, and says so
// loudly on stderr.
func TestRunWarnsWithoutAuthentication(t *testing.T) {
	_, stderr, stop := startServerEnv(t, noEnv)
	require.NoError(t, stop())
	assert.Contains(t, stderr.String(), "WARNING")
	assert.Contains(t, stderr.String(), "no authentication")
}

// Like a default Windows server, the program refuses Basic over plain HTTP
// unless -allow-unencrypted is given.
func TestRunRefusesBasicOverHTTPByDefault(t *testing.T) {
	url, stop := startServer(t, "-user", "demo")
	defer func() { require.NoError(t, stop()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, err := wsman.NewClient(url, wsman.Config{Auth: &auth.Basic{Username: "demo", Password: "demo-pw"}, AllowUnencrypted: true})
	require.NoError(t, err)
	defer wc.CloseIdleConnections()
	_, err = wc.EnumerateShells(ctx)
	require.ErrorIs(t, err, auth.ErrUnauthorized)
}

func TestRunTLS(t *testing.T) {
	certFile := t.TempDir() + "/cert.pem"
	url, stop := startServer(t, "-tls", "-cert-out", certFile)
	assert.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, err := wsman.NewClient(url, wsman.Config{RootCAs: loadPool(t, certFile)})
	require.NoError(t, err)
	_, err = wc.EnumerateShells(ctx)
	require.NoError(t, err)
	require.NoError(t, stop())
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-user", "x"},
		{"-auth", "kerberos"},
		{"-auth", "certificate"},
		{"extra"},
		{"-addr", "256.0.0.1:99999"},
	} {
		err := run(context.Background(), args, noEnv, io.Discard, io.Discard)
		assert.Error(t, err, "%q", args)
	}
}
