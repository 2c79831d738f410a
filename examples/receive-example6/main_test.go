package main

import (
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli/exampletest"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags, as every example does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 6 of Receive-PSSession") }

// Against the fake server: the job goes Disconnected with its session,
// keeps what it had, and is reused by Receive-PSSession, which resumes it.
func TestExample(t *testing.T) {
	exampletest.Example(t,
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
