//go:build linux || darwin

package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/maintest"
)

// ptyOutput collects what a pseudo-terminal's master reads, safe for
// concurrent use.
type ptyOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func readPTY(master *os.File) *ptyOutput {
	o := &ptyOutput{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			o.mu.Unlock()
			if err != nil { // EIO once the child has closed the terminal
				return
			}
		}
	}()
	return o
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor polls until the terminal shows s (a hang guard, not a timing
// assertion).
func (o *ptyOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(o.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q; it shows %q", s, o.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runOnTerminal starts psrecv with stderr (and stdin when withStdin) on a
// pseudo-terminal and stdout on a pipe.
func runOnTerminal(t *testing.T, withStdin bool, args ...string) (cmd interface{ Wait() error }, term *ptyOutput, master *os.File, stdout *bytes.Buffer) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	c := maintest.Command(t, args...)
	stdout = &bytes.Buffer{}
	c.Stdout, c.Stderr = stdout, tty
	if withStdin {
		c.Stdin = tty
	}
	require.NoError(t, c.Start())
	tty.Close() // the child holds it now; the master reads EIO when the child exits
	timer := time.AfterFunc(time.Minute, func() { _ = c.Process.Kill() })
	t.Cleanup(func() { timer.Stop() })
	return c, readPTY(master), master, stdout
}

// On a terminal, progress records are drawn as a progress bar on stderr
// (github.com/schollz/progressbar/v3), not written as lines.
func TestProgressBarOnTerminal(t *testing.T) {
	srv := startServer(t)
	cmd, term, _, stdout := runOnTerminal(t, false, "invoke", "-uri", srv.URL, "-script",
		`Write-Progress -Activity Copying -Status Files -PercentComplete 50; Start-Sleep -Milliseconds 200; `+
			`Write-Progress -Activity Copying -Status Files -PercentComplete 75; Start-Sleep -Milliseconds 200; 'done'`)
	require.NoError(t, cmd.Wait())
	<-term.done
	screen := term.String()
	t.Logf("terminal: %q", screen)
	assert.Contains(t, screen, "Copying: Files")
	assert.Contains(t, screen, "50%")
	assert.Contains(t, screen, "75%")
	assert.Contains(t, screen, "|", "a bar")
	assert.Contains(t, screen, "\r", "redrawn in place")
	assert.NotContains(t, screen, "PROGRESS:", "no progress lines on a terminal")
	assert.Equal(t, "done\n", stdout.String(), "stdout stays clean")
}

// Without $PSREMOTING_PASSWORD the password is asked for on the terminal,
// without echo, and never shown.
func TestPasswordPromptWithoutEcho(t *testing.T) {
	srv := startServer(t)
	t.Setenv(passwordEnv, "")
	cmd, term, master, stdout := runOnTerminal(t, true, "invoke", "-uri", srv.URL, "-script", "'logged in'")
	term.waitFor(t, "Password for demo: ")
	_, err := io.WriteString(master, testPassword+"\n")
	require.NoError(t, err)
	require.NoError(t, cmd.Wait())
	<-term.done
	assert.Equal(t, "logged in\n", stdout.String())
	assert.NotContains(t, term.String(), testPassword, "no echo")
}
