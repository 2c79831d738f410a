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
		{Args: []string{"-h"}, Code: 0, Stderr: "-addr"},
		{Args: []string{"-nope"}, Code: 2, Stderr: "flag provided but not defined: -nope"},
		{Args: []string{"extra"}, Code: 2, Stderr: "unexpected arguments"},
		{Args: []string{"-user", "x"}, Code: 2, Stderr: "-user needs its password in $PSREMOTING_PASSWORD"},
		{Args: []string{"-auth", "kerberos"}, Code: 2, Stderr: "unknown -auth method"},
		{Args: []string{"-auth", "certificate"}, Code: 2, Stderr: "-auth certificate needs -tls"},
		{Args: []string{"-addr", "256.0.0.1:99999"}, Code: 1, Stderr: "fakeserver:"},
	})
}
