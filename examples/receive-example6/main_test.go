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
	for _, tc := range examplecli.UsageCases("Example 6 of Receive-PSSession") {
		code, _, stderr := maintest.Run(t, tc.Args...)
		if code != tc.Code || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.Args, code, stderr, tc.Code, tc.Stderr)
		}
	}
}

// Against the fake server: the job goes Disconnected with its session,
// keeps what it had, and is reused by Receive-PSSession, which resumes it.
func TestExample(t *testing.T) {
	code, stdout, stderr := maintest.Run(t)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	maintest.InOrder(t, stdout,
		"PS> $s = New-PSSession -ConnectionUri",
		" 1 Job1 Running True        127.0.0.1\n",
		"PS> $s | Disconnect-PSSession\n",
		" 1 Test 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		" 1 Job1 Disconnected True        127.0.0.1\n",
		"PS> Receive-Job $j -Keep\nReturn 1\nReturn 2\n",
		"PS> $s2 = Connect-PSSession",
		" 1 Test 127.0.0.1    Opened",
		"$j2 is $j: True (OutTarget Job)\n",
		"PS> Receive-Job $j -Wait\nReturn 1\nReturn 2\nReturn 3\nReturn 4\nReturn 5\nReturn 6\n",
		" 1 Job1 Completed False       127.0.0.1\n",
		"PS> Remove-PSSession $s\n")
}
