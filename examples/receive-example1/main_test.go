package main

import (
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli/exampletest"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags, as every example does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 1 of Receive-PSSession") }

// Against the fake server: client A (another process) leaves ITTask
// disconnected; this client receives it by computer and name, the results
// on the command line.
func TestExample(t *testing.T) {
	exampletest.Example(t,
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
