package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/internal/examplecli/exampletest"
	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention (-h exits 0, a usage
// error 2) and checks the common real-host flags.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "-name") }

// A failure is exit 1, reported by client A: here Basic over plain HTTP,
// which is refused before anything is sent.
func TestFailure(t *testing.T) {
	t.Setenv(examplecli.PasswordEnv, "secret-password")
	code, stdout, stderr := maintest.Run(t, "-uri", "http://127.0.0.1:1/wsman", "-user", "u", "-auth", "basic")
	if code != 1 || !strings.Contains(stderr, "refusing to send credentials") || !strings.Contains(stderr, "error: client A") {
		t.Fatalf("exit %d, stderr %q; want 1 and an error", code, stderr)
	}
	if strings.Contains(stdout+stderr, "secret-password") {
		t.Fatal("the password was printed")
	}
}

// The quickstart does what it promises, against the embedded fake server:
// client A is another process that creates the session, starts the
// command disconnected and exits; client B (this process) finds the
// session, receives every result with progress, and removes it.
func TestQuickstart(t *testing.T) {
	stdout, stderr := maintest.Succeed(t)
	pidA := regexp.MustCompile(`New-PSSession -Name Quickstart   # client A, pid (\d+)`).FindStringSubmatch(stdout)
	exited := regexp.MustCompile(`Client A \(pid (\d+)\) has exited`).FindStringSubmatch(stdout)
	pidB := regexp.MustCompile(`Client B: this process \(pid (\d+)\)`).FindStringSubmatch(stdout)
	if pidA == nil || exited == nil || pidB == nil || pidA[1] != exited[1] || pidA[1] == pidB[1] {
		t.Fatalf("client A and B are not two processes, A exiting first:\n%s", stdout)
	}
	// The steps, in order, each with the session's State and Availability.
	maintest.InOrder(t, stdout,
		"Started the embedded fake WinRM server at http://127.0.0.1:",
		"PS> $s = New-PSSession -Name Quickstart",
		"Id Name       ComputerName State  ConfigurationName    Availability\n-- ----       ------------ -----  -----------------    ------------\n",
		" Quickstart 127.0.0.1    Opened Microsoft.PowerShell    Available\n",
		"PS> Invoke-Command -Session $s -InDisconnectedSession",
		" Quickstart 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"Client A (pid ",
		"PS> Get-PSSession -ConnectionUri http://127.0.0.1:",
		" Quickstart 127.0.0.1    Disconnected Microsoft.PowerShell         None\n",
		"PS> Receive-PSSession -ConnectionUri http://127.0.0.1:",
		"Step 10 done\nStep 20 done\nStep 30 done\nStep 40 done\nStep 50 done\nStep 60 done\nStep 70 done\nStep 80 done\nStep 90 done\nStep 100 done\n",
		"PS> $s = Get-PSSession -Name Quickstart",
		" Quickstart 127.0.0.1    Opened Microsoft.PowerShell    Available\n",
		"PS> Remove-PSSession $s",
		" Quickstart 127.0.0.1    Closed Microsoft.PowerShell         None\n")
	// Progress is drawn on stderr (one line per change: not a terminal).
	for _, w := range []string{"Counting [##------------------]  10% 10 percent\n", "Counting [####################] 100% 100 percent\n"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks the progress bar %q:\n%s", w, stderr)
		}
	}
}
