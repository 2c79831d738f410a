package main

import (
	"os"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) {
	maintest.Dispatch(main)
	os.Exit(m.Run())
}

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags, as every example does.
func TestExitStatus(t *testing.T) {
	t.Setenv(examplecli.PasswordEnv, "")
	for _, tc := range examplecli.UsageCases("Example 1 of Receive-PSSession") {
		code, _, stderr := maintest.Run(t, tc.Args...)
		if code != tc.Code || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.Args, code, stderr, tc.Code, tc.Stderr)
		}
	}
}

// Against the fake server: client A (another process) leaves ITTask
// disconnected; this client receives it by computer and name, the results
// on the command line.
func TestExample(t *testing.T) {
	code, stdout, stderr := maintest.Run(t)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	maintest.InOrder(t, stdout,
		"== Before the example: client A (pid ",
		"-Name ITTask -InDisconnectedSession",
		" 1 ITTask 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"== Example 1: a new client (pid ",
		"PS> Receive-PSSession -ConnectionUri http://127.0.0.1:",
		"ITTask step 1\nITTask step 2\nITTask step 3\n",
		"PS> Get-PSSession -Name ITTask\n",
		" ITTask 127.0.0.1    Opened Microsoft.PowerShell    Available\n",
		"PS> Remove-PSSession -Name ITTask\n")
}
