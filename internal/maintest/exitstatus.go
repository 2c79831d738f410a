package maintest

import (
	"os"
	"strings"
	"testing"
)

// Main is a command's TestMain: it runs the command's main when the
// process is a child started by Run (Dispatch), else the tests.
func Main(m *testing.M, mainFunc func()) {
	Dispatch(mainFunc)
	os.Exit(m.Run())
}

// Case is a command line and what the command must do with it: exit with
// Code and print Stderr (a part of it) on stderr.
type Case struct {
	Args   []string
	Code   int
	Stderr string
}

// ExitStatus runs each case's command line (Run) and reports those whose
// exit status or stderr is not what the case says.
func ExitStatus(t testing.TB, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		code, _, stderr := Run(t, tc.Args...)
		if code != tc.Code || !strings.Contains(stderr, tc.Stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.Args, code, stderr, tc.Code, tc.Stderr)
		}
	}
}

// Succeed runs the command with args (Run) and returns its output; it
// fails the test, showing both streams, unless the exit status is 0.
func Succeed(t testing.TB, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := Run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	return stdout, stderr
}
