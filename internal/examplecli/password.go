package examplecli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/psremoting/psremoting/internal/examplecli/flagexit"
)

// PasswordEnv is the environment variable the password is read from. A
// password is never a flag: flag values are visible in the process list.
const PasswordEnv = "PSREMOTING_PASSWORD"

// password returns the password of user: $PSREMOTING_PASSWORD when set,
// else what is typed at a prompt with echo off when stdin is a terminal.
func password(user string, getenv func(string) string, stdin *os.File, stderr io.Writer) (string, error) {
	if p := getenv(PasswordEnv); p != "" {
		return p, nil
	}
	if stdin == nil || !term.IsTerminal(int(stdin.Fd())) {
		return "", flagexit.Usagef("-user needs its password in $%s (stdin is not a terminal to prompt on)", PasswordEnv)
	}
	fmt.Fprintf(stderr, "Password for %s: ", user)
	b, err := term.ReadPassword(int(stdin.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("empty password")
	}
	return string(b), nil
}
