// Package examplecli holds what the example programs under examples/ share,
// so that each example shows only its own steps:
//
//   - Main: the flag convention of every example (-h prints the usage and
//     exits 0, a usage error exits 2, a failure exits 1), from package
//     flagexit, which the examples not built on examplecli use too;
//   - Common: the flags that point an example at a real host (computer
//     name or URI, port, SSL, an explicit TLS skip-verify, authentication
//     method, user, configuration name), with the password read from
//     $PSREMOTING_PASSWORD or a prompt that does not echo, never from a
//     flag;
//   - the embedded fake WinRM server (package wsman/wsmantest) every example
//     runs against when no host is named;
//   - RunClient, which runs a client of the example as a child process, so
//     that "client A went away" is a real process exit;
//   - SessionTable and JobTable, which print sessions and jobs in the
//     columns PowerShell's Format-Table view shows;
//   - Progress, a progress bar for PROGRESS_RECORD results.
//
// Package exampletest holds the checks the examples' tests share. It is for
// the example programs only and may change with them.
package examplecli
