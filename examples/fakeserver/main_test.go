package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/auth"
	"github.com/psremoting/psremoting/wsman"
)

// startServer runs the program on a free port and returns the URL it
// printed, and a function that stops it and returns run's error.
func startServer(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no URL printed: %v (%v)", err, <-errc)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return strings.TrimSpace(line), func() error {
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
	url, stop := startServer(t, "-user", "demo", "-password", "demo-pw", "-idle-timeout", "30m")
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
	require.NoError(t, wc.Delete(ctx, ref))

	bad, err := wsman.NewClient(url, wsman.Config{Auth: &auth.Basic{Username: "demo", Password: "x"}, AllowUnencrypted: true})
	require.NoError(t, err)
	_, err = bad.EnumerateShells(ctx)
	require.Error(t, err)
	require.NoError(t, stop())
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
		err := run(context.Background(), args, io.Discard, io.Discard)
		assert.Error(t, err, "%q", args)
	}
}
