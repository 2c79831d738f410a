package main

import (
	"context"
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
