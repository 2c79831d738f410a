package examplecli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// RunClient runs this program again as a child process in the given role
// (Env.Role in the child) with the same flags, and waits for it to exit:
// the child is a real, separate client that goes away before the parent
// goes on. Its output is copied to the parent's, each line as it comes.
// The child gets the fake servers' addresses and the password through its
// environment, never through its argv (which the process list shows).
func (e *Env) RunClient(ctx context.Context, role string) (pid int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find this program to start client %s: %w", role, err)
	}
	cmd := exec.CommandContext(ctx, exe, e.args...)
	cmd.Env = append(os.Environ(), e.env...)
	cmd.Env = append(cmd.Env, envRole+"="+role)
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start client %s: %w", role, err)
	}
	if err := cmd.Wait(); err != nil {
		return cmd.Process.Pid, fmt.Errorf("client %s (pid %d): %w", role, cmd.Process.Pid, err)
	}
	return cmd.Process.Pid, nil
}

// Printf writes to the example's standard output.
func (e *Env) Printf(format string, args ...any) { fmt.Fprintf(e.Stdout, format, args...) }

// Step prints the PowerShell command a step of the example does, as a
// PowerShell prompt shows it.
func (e *Env) Step(command string) { fmt.Fprintf(e.Stdout, "\nPS> %s\n", command) }
