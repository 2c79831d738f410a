package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/psrp"
	"github.com/psremoting/psremoting/psrp/clixml"
	"github.com/psremoting/psremoting/session"
)

// TestRunPowerShellBuiltins is the demo a new user tries first: a
// PowerShell client (package session) authenticating with NTLM (WinRM
// message encryption over plain HTTP, as a default Windows server requires)
// runs a script of the built-in subset on the program, with no handler.
func TestRunPowerShellBuiltins(t *testing.T) {
	url, stop := startServer(t, "-user", "demo", "-auth", "ntlm")
	defer func() { require.NoError(t, stop()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := session.New(ctx, session.NewOptions{Table: &session.Table{}, ConnectionOptions: session.ConnectionOptions{
		ConnectionURI: url, Authentication: session.AuthNTLM,
		Credential:    session.Credential{Username: "demo", Password: "demo-pw"},
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second}}})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()

	// Run a script of the built-in subset, with an unknown command in it.
	script := `1..3 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 1 }; Get-Nothing`
	res, err := s.Invoke(ctx, session.Pipeline{Script: script})
	require.NoError(t, err)
	var output []clixml.Value
	var errs []*psrp.ErrorRecord
	var state psrp.PSInvocationState
	for r, err := range res.All() {
		require.NoError(t, err)
		switch r.Kind {
		case session.KindOutput:
			output = append(output, r.Output)
		case session.KindError:
			errs = append(errs, r.Error)
		case session.KindState:
			state = r.State
		}
	}
	assert.Equal(t, []clixml.Value{clixml.String("Return 1"), clixml.String("Return 2"), clixml.String("Return 3")}, output)
	assert.Equal(t, psrp.PSInvocationCompleted, state)
	require.Len(t, errs, 1)
	assert.Equal(t, "CommandNotFoundException", errs[0].FullyQualifiedErrorID)
	assert.Contains(t, errs[0].Message, "'Get-Nothing'")
}

// The environment variables of the client process started by
// TestReceiveFromANewProcess.
const (
	clientURLEnv  = "PSREMOTING_TEST_CLIENT_URL"
	clientNameEnv = "PSREMOTING_TEST_CLIENT_SESSION"
)

// ntlmConn is how both processes reach the server.
func ntlmConn(url string) session.ConnectionOptions {
	return session.ConnectionOptions{ConnectionURI: url, Authentication: session.AuthNTLM,
		Credential:    session.Credential{Username: "demo", Password: "demo-pw"},
		SessionOption: session.SessionOption{OperationTimeout: 5 * time.Second}}
}

// TestClientProcess is not a test: run as its own OS process by
// TestReceiveFromANewProcess, it starts a command in a disconnected session
// and exits.
func TestClientProcess(t *testing.T) {
	url := os.Getenv(clientURLEnv)
	if url == "" {
		t.Skip("runs only as the client process of TestReceiveFromANewProcess")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, _, err := session.InvokeInDisconnectedSession(ctx,
		session.NewOptions{ConnectionOptions: ntlmConn(url), Name: os.Getenv(clientNameEnv)},
		session.Pipeline{Script: `1..4 | ForEach-Object { "Return $_"; Start-Sleep -Milliseconds 20 }`},
		session.DisconnectOptions{IdleTimeout: 10 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx)) // the process exits; the session stays on the server
}

// A session started by another OS process, which has exited, is received
// here with nothing but the computer and the session name.
func TestReceiveFromANewProcess(t *testing.T) {
	if os.Getenv(clientURLEnv) != "" {
		t.Skip("in the client process")
	}
	url, stop := startServer(t, "-user", "demo", "-auth", "ntlm")
	defer func() { require.NoError(t, stop()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestClientProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), clientURLEnv+"="+url, clientNameEnv+"=FromAnotherProcess")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "client process:\n%s", out)

	rec, err := session.Receive(ctx, session.OnComputerByName(ntlmConn(url), "FromAnotherProcess"),
		session.ReceiveOptions{Table: &session.Table{}})
	require.NoError(t, err)
	rs, err := rec.Stream.Collect(ctx)
	require.NoError(t, err)
	var got []clixml.Value
	for _, r := range rs {
		if r.Kind == session.KindOutput {
			got = append(got, r.Output)
		}
	}
	assert.Equal(t, []clixml.Value{clixml.String("Return 1"), clixml.String("Return 2"), clixml.String("Return 3"),
		clixml.String("Return 4")}, got)
	require.NoError(t, rec.Sessions[0].Remove(ctx))
}
