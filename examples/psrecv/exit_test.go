package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/maintest"
	"github.com/psremoting/psremoting/session"
)

func TestMain(m *testing.M) { maintest.Main(m, main) }

// The program follows the flag package's convention: -h prints the usage
// and exits 0, a usage error exits 2; the other codes are documented.
func TestExitStatus(t *testing.T) {
	srv := startServer(t)
	maintest.ExitStatus(t, []maintest.Case{
		{Args: []string{"-h"}, Code: 0, Stderr: "Exit codes:"},
		{Args: []string{"help"}, Code: 0, Stderr: "receive"},
		{Args: []string{"help", "receive"}, Code: 0, Stderr: "-out-target"},
		{Args: []string{}, Code: 2, Stderr: "Usage: psrecv"},
		{Args: []string{"nope"}, Code: 2, Stderr: `unknown subcommand "nope"`},
		{Args: []string{"receive", "-nope"}, Code: 2, Stderr: "flag provided but not defined: -nope"},
		{Args: []string{"receive"}, Code: 2, Stderr: "give -name or -instance-id"},
		{Args: []string{"receive", "-name", "a", "extra"}, Code: 2, Stderr: "unexpected arguments"},
		{Args: []string{"receive", "-name", "a", "-out-target", "file"}, Code: 2, Stderr: "unknown -out-target"},
		{Args: []string{"receive", "-name", "a", "-instance-id", "zz"}, Code: 2, Stderr: "-instance-id"},
		{Args: []string{"get"}, Code: 2, Stderr: "give -computer or -uri"},
		{Args: []string{"get", "-uri", srv.URL, "-auth", "digest"}, Code: 2, Stderr: "unsupported -auth"},
		{Args: []string{"invoke", "-uri", srv.URL}, Code: 2, Stderr: "give -script or -file"},
		{Args: []string{"invoke", "-uri", srv.URL, "-script", "1", "-as-job", "-in-disconnected-session"}, Code: 2, Stderr: "exclude each other"},
		{Args: []string{"disconnect", "-name", "a", "-idle-timeout", "5s"}, Code: 2, Stderr: "at least 60s"},
		{Args: []string{"job"}, Code: 2, Stderr: "Usage: psrecv job"},
		{Args: []string{"job", "-h"}, Code: 0, Stderr: "Usage: psrecv job"},
		{Args: []string{"job", "receive", "-h"}, Code: 0, Stderr: "-keep"},
		{Args: []string{"job", "receive"}, Code: 2, Stderr: "give -name or -id"},
		{Args: []string{"job", "receive", "-name", "nosuchjob"}, Code: 5, Stderr: "no job named"},
		{Args: []string{"receive", "-name", "nosuchsession"}, Code: 5, Stderr: "token store"},
		{Args: []string{"receive", "-uri", srv.URL, "-name", "nosuchsession"}, Code: 5, Stderr: "no matching session"},
		{Args: []string{"get", "-uri", "http://127.0.0.1:1/wsman", "-reconnect-timeout", "1s"}, Code: 3, Stderr: "connection refused"},
	})
}

// Every subcommand's -h prints its flags (all of them: the flag package
// prints every defined flag) and exits 0.
func TestSubcommandHelp(t *testing.T) {
	for _, c := range subcommands() {
		code, _, stderr := maintest.Run(t, c.name, "-h")
		if code != 0 || !strings.Contains(stderr, "Usage: psrecv "+c.name) {
			t.Errorf("%s -h: exit %d, stderr %q", c.name, code, stderr)
		}
	}
	_, _, stderr := maintest.Run(t, "receive", "-h")
	for _, f := range []string{"-computer", "-uri", "-port", "-ssl", "-application-name", "-configuration-name", "-auth",
		"-user", "-cert", "-allow-redirection", "-skip-ca-check", "-name", "-instance-id", "-out-target", "-job-name",
		"-whatif", "-confirm", "-json", "-keep-session", "Exit codes:"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("receive -h does not document %s", f)
		}
	}
}

// Wrong credentials exit 4, a session connected to another client 6.
func TestExitAuthAndBusy(t *testing.T) {
	srv := startServer(t)
	t.Setenv(passwordEnv, "wrong")
	code, _, stderr := maintest.Run(t, "get", "-uri", srv.URL)
	require.Equal(t, exitAuth, code, stderr)
	require.NotContains(t, stderr, "wrong", "the password never shows")
	t.Setenv(passwordEnv, testPassword)
	code, _, stderr = maintest.Run(t, "get", "-uri", srv.URL, "-v")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "level=DEBUG", "-v logs")
	require.NotContains(t, stderr, testPassword, "never logged")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := session.New(ctx, session.NewOptions{ConnectionOptions: testConn(srv.URL), Name: "Held", Table: &session.Table{}})
	require.NoError(t, err)
	defer s.Close(ctx)
	code, stdout, stderr := maintest.Run(t, "get", "-uri", srv.URL)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `Held +\S+ +RemoteMachine +Disconnected +Microsoft.PowerShell +Busy`, stdout)
	code, _, stderr = maintest.Run(t, "receive", "-uri", srv.URL, "-name", "Held")
	require.Equal(t, exitBusy, code, stderr)
}
