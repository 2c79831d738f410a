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
	for _, tc := range examplecli.UsageCases("Example 5 of Receive-PSSession") {
		code, _, stderr := maintest.Run(t, tc.Args...)
		if code != tc.Code || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.Args, code, stderr, tc.Code, tc.Stderr)
		}
	}
}

// Against two fake computers: the BugStatus sessions client A left are
// got by computer and name, received, Opened, and their results shown.
func TestExample(t *testing.T) {
	code, stdout, stderr := maintest.Run(t)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	maintest.InOrder(t, stdout,
		"== Client A (pid ",
		"-Name BugStatus -SessionOption @{IdleTimeout = 86400000} -ConfigurationName ITTasks",
		"PS> Exit\n",
		"== The next day: a new client (pid ",
		" 1 BugStatus 127.0.0.1    Disconnected ITTasks                   None\n",
		" 2 BugStatus localhost    Disconnected ITTasks                   None\n",
		"PS> $Results = Receive-PSSession -Session $s\n",
		" 1 BugStatus 127.0.0.1    Opened ITTasks              Available\n",
		" 2 BugStatus localhost    Opened ITTasks              Available\n",
		"PSComputerName Value\n-------------- -----\n")
	for _, w := range []string{"127.0.0.1      Bug Report - Domain 01\n", "127.0.0.1      121\n",
		"localhost      Bug Report - Domain 01\n", "localhost      121\n"} {
		if strings.Count(stdout, w) != 1 {
			t.Errorf("the results lack %q, or have it twice:\n%s", w, stdout)
		}
	}
}
