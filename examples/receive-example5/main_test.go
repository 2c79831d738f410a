package main

import (
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli/exampletest"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags, as every example does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 5 of Receive-PSSession") }

// Against two fake computers: the BugStatus sessions client A left are
// got by computer and name, received, Opened, and their results shown.
func TestExample(t *testing.T) {
	stdout := exampletest.Example(t,
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
