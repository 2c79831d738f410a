package maintest

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Command returns an unstarted child process that runs the command's main
// with args, for tests that need its standard streams, a terminal or a
// signal (Run covers the rest). The caller sets its streams, starts it and
// waits for it; WaitDelay is set so that a Wait cannot hang on a stream.
func Command(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envArgs+"="+string(raw))
	cmd.WaitDelay = time.Second
	return cmd
}
