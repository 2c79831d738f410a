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
		{[]string{"-h"}, 0, "-addr"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-user", "x"}, 2, "-user needs its password in $PSREMOTING_PASSWORD"},
		{[]string{"-auth", "kerberos"}, 2, "unknown -auth method"},
		{[]string{"-auth", "certificate"}, 2, "-auth certificate needs -tls"},
		{[]string{"-addr", "256.0.0.1:99999"}, 1, "fakeserver:"},
	} {
		code, _, stderr := maintest.Run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}
