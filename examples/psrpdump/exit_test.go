package main

import (
	"path/filepath"
	"testing"

	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention: -h prints the usage
// and exits 0, a usage error exits 2, a failure exits 1.
func TestExitStatus(t *testing.T) {
	maintest.ExitStatus(t, []maintest.Case{
		{Args: []string{"-h"}, Code: 0, Stderr: "usage: psrpdump"},
		{Args: []string{"-nope"}, Code: 2, Stderr: "flag provided but not defined: -nope"},
		{Args: []string{"-format", "json"}, Code: 2, Stderr: "unknown format"},
		{Args: []string{filepath.Join(t.TempDir(), "absent.yml")}, Code: 1, Stderr: "no such file"},
	})
}
