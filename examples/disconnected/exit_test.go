package main

import (
	"os"
	"strings"
	"testing"

	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) {
	maintest.Dispatch(main)
	os.Exit(m.Run())
}

// The program follows the flag package's convention: -h prints the usage
// and exits 0, a usage error exits 2, a failure exits 1.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, 0, "-script"},
		{[]string{"-help"}, 0, "-script"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-url", "http://127.0.0.1:1/wsman"}, 2, "-url needs -user"},
		{[]string{"-url", "http://127.0.0.1:1/wsman", "-user", "u", "-auth", "digest"}, 2, "unsupported -auth"},
		{[]string{"-url", "http://127.0.0.1:1/wsman", "-user", "u", "-auth", "basic", "-name", "x"}, 1, "error:"},
	} {
		code, _, stderr := maintest.Run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}
