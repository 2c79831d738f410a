package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psremoting/psremoting/internal/maintest"
	"github.com/psremoting/psremoting/session"
)

func TestMain(m *testing.M) {
	maintest.Dispatch(main)
	os.Exit(m.Run())
}

// The program follows the flag package's convention: -h prints the usage
// and exits 0, a usage error exits 2; the other codes are documented.
func TestExitStatus(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, 0, "Exit codes:"},
		{[]string{"help"}, 0, "receive"},
		{[]string{"help", "receive"}, 0, "-out-target"},
		{[]string{}, 2, "Usage: psrecv"},
		{[]string{"nope"}, 2, `unknown subcommand "nope"`},
		{[]string{"receive", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"receive"}, 2, "give -name or -instance-id"},
		{[]string{"receive", "-name", "a", "extra"}, 2, "unexpected arguments"},
		{[]string{"receive", "-name", "a", "-out-target", "file"}, 2, "unknown -out-target"},
		{[]string{"receive", "-name", "a", "-instance-id", "zz"}, 2, "-instance-id"},
		{[]string{"get"}, 2, "give -computer or -uri"},
		{[]string{"get", "-uri", srv.URL, "-auth", "digest"}, 2, "unsupported -auth"},
		{[]string{"invoke", "-uri", srv.URL}, 2, "give -script or -file"},
		{[]string{"invoke", "-uri", srv.URL, "-script", "1", "-as-job", "-in-disconnected-session"}, 2, "exclude each other"},
		{[]string{"disconnect", "-name", "a", "-idle-timeout", "5s"}, 2, "at least 60s"},
		{[]string{"job"}, 2, "Usage: psrecv job"},
		{[]string{"job", "-h"}, 0, "Usage: psrecv job"},
		{[]string{"job", "receive", "-h"}, 0, "-keep"},
		{[]string{"job", "receive"}, 2, "give -name or -id"},
		{[]string{"job", "receive", "-name", "nosuchjob"}, 5, "no job named"},
		{[]string{"receive", "-name", "nosuchsession"}, 5, "token store"},
		{[]string{"receive", "-uri", srv.URL, "-name", "nosuchsession"}, 5, "no matching session"},
		{[]string{"get", "-uri", "http://127.0.0.1:1/wsman", "-reconnect-timeout", "1s"}, 3, "connection refused"},
	} {
		code, _, stderr := maintest.Run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
	}
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
