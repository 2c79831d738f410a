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
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 2 of Receive-PSSession") }

// Against two fake computers: both commands' results come back, merged,
// and every session, the idle one too, ends Opened.
func TestExample(t *testing.T) {
	stdout := exampletest.Example(t,
		"== Before the example: client A (pid ",
		" 1 Nightly 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		" 2 Report  localhost    Disconnected Microsoft.PowerShell         None\n",
		" 3 Idle    127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"== Example 2: a new client (pid ",
		"PS> $s = Get-PSSession -ConnectionUri http://127.0.0.1:",
		", http://localhost:",
		"Disconnected Microsoft.PowerShell         None\n",
		"PS> $s | Receive-PSSession\n",
		"PS> $s\n",
		" 1 Nightly 127.0.0.1    Opened Microsoft.PowerShell    Available\n",
		" 2 Idle    127.0.0.1    Opened Microsoft.PowerShell    Available\n",
		" 3 Report  localhost    Opened Microsoft.PowerShell    Available\n",
		"PS> $s | Remove-PSSession\n")
	results := stdout[strings.Index(stdout, "PS> $s | Receive-PSSession\n"):strings.LastIndex(stdout, "PS> $s\n")]
	for _, w := range []string{"nightly part 1", "nightly part 2", "nightly part 3", "report part 1", "report part 2", "report part 3"} {
		if strings.Count(results, w+"\n") != 1 {
			t.Errorf("the results lack %q, or have it twice:\n%s", w, results)
		}
	}
	maintest.InOrder(t, results, "nightly part 1", "nightly part 2", "nightly part 3")
	maintest.InOrder(t, results, "report part 1", "report part 2", "report part 3")
}
