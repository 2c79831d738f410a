// Package maintest runs a command's main function in a child process of its
// test binary, so that tests can check what the real program does: its exit
// status and what it prints. It is for tests only.
//
// A command's test file calls Main (or Dispatch) from TestMain, and Run
// (or ExitStatus, Succeed) from tests:
//
//	func TestMain(m *testing.M) { maintest.Main(m, main) }
//
//	code, stdout, stderr := maintest.Run(t, "-h")
package maintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// envArgs carries the child's command-line arguments (JSON) and marks the
// process as a child.
const envArgs = "PSREMOTING_MAINTEST_ARGS"

// Dispatch runs mainFunc with the arguments Run passed, and exits the
// process with status 0 when it returns, if the process is a child started
// by Run; otherwise it returns at once.
func Dispatch(mainFunc func()) {
	raw, ok := os.LookupEnv(envArgs)
	if !ok {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		os.Stderr.WriteString("maintest: bad " + envArgs + ": " + err.Error() + "\n")
		os.Exit(125)
	}
	os.Args = append([]string{os.Args[0]}, args...)
	mainFunc()
	os.Exit(0)
}

// Run runs the command's main with args in a child process and returns its
// exit status and output. The child is killed after a minute (a hang
// guard), which fails the test.
func Run(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := Command(t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !timer.Stop() {
		t.Fatalf("%v: killed after a minute; stderr:\n%s", args, errOut.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}
