package main

import (
	"testing"

	"github.com/psremoting/psremoting/internal/maintest"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention: -h prints the usage
// and exits 0, a usage error exits 2, a failure exits 1.
func TestExitStatus(t *testing.T) {
	maintest.ExitStatus(t, []maintest.Case{
		{Args: []string{"-h"}, Code: 0, Stderr: "-script"},
		{Args: []string{"-help"}, Code: 0, Stderr: "-script"},
		{Args: []string{"-nope"}, Code: 2, Stderr: "flag provided but not defined: -nope"},
		{Args: []string{"extra"}, Code: 2, Stderr: "unexpected arguments"},
		{Args: []string{"-url", "http://127.0.0.1:1/wsman"}, Code: 2, Stderr: "-url needs -user"},
		{Args: []string{"-url", "http://127.0.0.1:1/wsman", "-user", "u", "-auth", "digest"}, Code: 2, Stderr: "unsupported -auth"},
		{Args: []string{"-url", "http://127.0.0.1:1/wsman", "-user", "u", "-auth", "basic", "-name", "x"}, Code: 1, Stderr: "error:"},
	})
}
