package main

import (
	"os"
	"path/filepath"
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
		{[]string{"-h"}, 0, "usage: psrpdump"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"-format", "json"}, 2, "unknown format"},
		{[]string{filepath.Join(t.TempDir(), "absent.yml")}, 1, "no such file"},
	} {
		code, _, stderr := maintest.Run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
}
