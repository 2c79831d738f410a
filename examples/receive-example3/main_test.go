package main

import (
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli/exampletest"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags, as every example does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 3 of Receive-PSSession") }

// Against the fake server: the session is received as a job named
// ITTaskJob01, still running, whose results Receive-Job gets.
func TestExample(t *testing.T) {
	exampletest.Example(t,
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
