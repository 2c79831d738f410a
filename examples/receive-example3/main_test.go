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
	for _, tc := range examplecli.UsageCases("Example 3 of Receive-PSSession") {
		code, _, stderr := maintest.Run(t, tc.Args...)
		if code != tc.Code || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.Args, code, stderr, tc.Code, tc.Stderr)
		}
	}
}

// Against the fake server: the session is received as a job named
// ITTaskJob01, still running, whose results Receive-Job gets.
func TestExample(t *testing.T) {
	code, stdout, stderr := maintest.Run(t)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	maintest.InOrder(t, stdout,
		"== Before the example: client A (pid ",
		" 1 ITTask 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"== Example 3: a new client (pid ",
		"-Name ITTask -OutTarget Job -JobName ITTaskJob01 -Credential demo\n",
		"Id Name        State   HasMoreData Location\n-- ----        -----   ----------- --------\n 1 ITTaskJob01 Running True        127.0.0.1\n",
		"PS> Receive-Job -Name ITTaskJob01 -Wait\n",
		"ITTask step 1\nITTask step 2\nITTask step 3\nITTask step 4\nITTask step 5\n",
		" 1 ITTaskJob01 Completed False       127.0.0.1\n",
		"PS> Remove-PSSession -Name ITTask\n")
}
