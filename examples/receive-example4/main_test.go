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
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Example 4 of Receive-PSSession") }

// Against the fake server: client A dies during its command without
// disconnecting; the server turns its session Disconnected; a new client
// receives it as the job ADJob and gets the rest of the output.
func TestExample(t *testing.T) {
	stdout := exampletest.Example(t,
		"== Client A (pid ",
		" 1 Backup 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"-Name AD -ConfigurationName ADEndpoint\n",
		" 2 AD   127.0.0.1    Opened ADEndpoint           Available\n",
		"PS> Invoke-Command -Session $s -FilePath New-ADResolve.ps1\nRunning New-ADResolve.ps1\n",
		"# Network outage",
		"== After the restart: a new client (pid ",
		"PS> Get-PSSession -ConnectionUri",
		" Backup 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		" AD     127.0.0.1    Disconnected ADEndpoint                   None\n",
		"-Name AD -OutTarget Job -JobName ADJob\n",
		" 1 ADJob Running True        127.0.0.1\n",
		"PS> Get-PSSession -ConnectionUri",
		" Backup 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"PS> Receive-Job -Name ADJob -Wait\n",
		"Resolved site 1\nResolved site 2\nResolved site 3\nResolved site 4\n",
		" 1 ADJob Completed False       127.0.0.1\n")
	if strings.Count(stdout, "Running New-ADResolve.ps1") != 1 {
		t.Errorf("the output client A received came again:\n%s", stdout)
	}
	if !strings.Contains(stdout, " AD     127.0.0.1    Opened       ADEndpoint") {
		t.Errorf("AD is not Opened after Receive-PSSession:\n%s", stdout)
	}
}
