// Command psrecv is a command-line tool for operators that does what
// PowerShell's session cmdlets do, from Linux or macOS: list the sessions
// on Windows hosts, start work in a disconnected session, and receive its
// results later from any shell.
//
//	psrecv get         Get-PSSession -ComputerName (one or many computers)
//	psrecv receive     Receive-PSSession
//	psrecv connect     Connect-PSSession
//	psrecv disconnect  Disconnect-PSSession
//	psrecv invoke      Invoke-Command (-in-disconnected-session, -as-job)
//	psrecv remove      Remove-PSSession
//	psrecv job         Get-Job, Receive-Job (-keep, -wait), Wait-Job, Stop-Job, Remove-Job
//	psrecv fake-server the embedded fake WinRM server, to try psrecv without Windows
//
// Try it without Windows (two shells):
//
//	export PSREMOTING_PASSWORD=demo-pw PSREMOTING_USER=demo
//	go run ./examples/psrecv fake-server                 # shell 1: serves 127.0.0.1:5985
//
//	go run ./examples/psrecv invoke -computer 127.0.0.1 -in-disconnected-session -name Nightly \
//	    -script '1..5 | % { "Return $_"; Start-Sleep 1 }'
//	go run ./examples/psrecv get -computer 127.0.0.1
//	go run ./examples/psrecv receive -name Nightly      # later, from any shell
//
// Against a real host, over HTTPS, for a session any client started:
//
//	PSREMOTING_USER='CONTOSO\ops' psrecv receive -computer server01 -ssl -name Nightly
//
// The password comes from $PSREMOTING_PASSWORD or a prompt without echo,
// never from a flag (flag values show in the process list);
// -auth kerberos-ccache uses the Kerberos ticket cache ($KRB5CCNAME) instead.
// Credentials are never logged or stored.
//
// # Output
//
// Sessions and jobs are printed as PowerShell's tables (column widths from
// the data), or as JSON lines with -json. Received output objects are
// printed one per line on stdout (with -json, one JSON object per result of
// any kind: output, error, warning, verbose, debug, information, state).
// Error records go to stderr in PowerShell's style (message, CategoryInfo,
// FullyQualifiedErrorId, PSComputerName), warnings, verbose and debug
// records as "WARNING: ..." lines. Progress records are drawn as a progress
// bar on stderr when stderr is a terminal, and written as
// "PROGRESS: Activity: Status (40%)" lines otherwise.
//
// # Reattach tokens
//
// Sessions psrecv disconnects (invoke -in-disconnected-session, disconnect,
// connect, an interrupted receive, receive -keep-session) and jobs it keeps
// are recorded with their reattach tokens (endpoint, shell and command ids;
// never credentials or user names) in psrecv/sessions.json under the
// user's config directory ($XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS; $PSRECV_STATE_DIR overrides it),
// mode 0600 in a 0700 directory. receive, connect, disconnect and remove
// look a -name or -instance-id up there when no -computer or -uri is
// given; with one, they find the session on the server whichever client
// started it. Results that "job receive -keep" or "job wait" keep are
// stored there too, until a receive without -keep takes them.
//
// # Exit codes
//
//	0    success
//	1    a remote command failed or wrote error records; any other failure
//	2    usage error (-h exits 0), as the flag package does
//	3    connection failed
//	4    authentication failed
//	5    not found (no such session or job, or it expired on the server)
//	6    busy (the session is connected to another client)
//	130  interrupted (Ctrl+C): the session was left disconnected and its
//	     token saved; receive gets the rest, nothing is lost
//
// # Not done
//
// The -Id parameter set of Receive-PSSession (a local session Id) has no
// meaning across processes: -name and -instance-id cover it. A job kept
// through a token belongs to one session (receive -out-target job of several
// sessions is refused). "job list" shows the last state psrecv saw, without
// asking the server. Two psrecv processes that change the token store at the
// same moment may lose one change (the file is replaced whole, without a
// lock). Kerberos (-auth kerberos, kerberos-ccache) and client certificates
// are passed to the SDK as they are but are not exercised by psrecv's tests
// (the fake server speaks NTLM and Basic only over HTTP).
package main
