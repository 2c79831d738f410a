// Package exampletest is the test support of the example programs built
// on package examplecli: the checks every such program's tests make, run
// on the real program in a child process (package maintest). It is for
// tests only.
package exampletest

import (
	"testing"

	"github.com/psremoting/psremoting/internal/examplecli"
	"github.com/psremoting/psremoting/internal/maintest"
)

// UsageCases are the command lines that check the flag convention and the
// common flags of an example whose usage mentions usageWord: the command
// lines every example must treat the same way.
func UsageCases(usageWord string) []maintest.Case {
	return []maintest.Case{
		{Args: []string{"-h"}, Code: 0, Stderr: usageWord},
		{Args: []string{"-help"}, Code: 0, Stderr: "-insecure-skip-verify"},
		{Args: []string{"-nope"}, Code: 2, Stderr: "flag provided but not defined: -nope"},
		{Args: []string{"extra"}, Code: 2, Stderr: "unexpected arguments"},
		{Args: []string{"-user", "u"}, Code: 2, Stderr: "-user needs -computer or -uri"},
		{Args: []string{"-computer", "server01"}, Code: 2, Stderr: "-computer needs -user"},
		{Args: []string{"-computer", "a", "-uri", "http://a:5985/wsman", "-user", "u"}, Code: 2, Stderr: "not both"},
		{Args: []string{"-uri", "ftp://a/wsman", "-user", "u"}, Code: 2, Stderr: "is not an http or https URL"},
		{Args: []string{"-uri", "http://a:5985/wsman", "-port", "1", "-user", "u"}, Code: 2, Stderr: "put them in the -uri"},
		{Args: []string{"-computer", "a", "-port", "70000", "-user", "u"}, Code: 2, Stderr: "out of range"},
		{Args: []string{"-computer", "a", "-user", "u", "-auth", "digest"}, Code: 2, Stderr: "unsupported -auth"},
		// No $PSREMOTING_PASSWORD and no terminal to prompt on.
		{Args: []string{"-computer", "a", "-user", "u"}, Code: 2, Stderr: "PSREMOTING_PASSWORD"},
	}
}

// ExitStatus checks that the example follows the flag package's
// convention (-h exits 0, a usage error 2) and checks the common real-host
// flags (UsageCases), with no password in the environment.
func ExitStatus(t *testing.T, usageWord string) {
	t.Helper()
	t.Setenv(examplecli.PasswordEnv, "")
	maintest.ExitStatus(t, UsageCases(usageWord))
}

// Example runs the example against its embedded fake server(s), fails the
// test unless it exits 0 with want in its stdout (in this order), and
// returns its stdout.
func Example(t *testing.T, want ...string) string {
	t.Helper()
	stdout, _ := maintest.Succeed(t)
	maintest.InOrder(t, stdout, want...)
	return stdout
}
