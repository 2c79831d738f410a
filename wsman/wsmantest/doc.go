// Package wsmantest provides a fake WinRM server for tests and demos, in the
// spirit of net/http/httptest: NewServer and NewTLSServer start a server on a
// loopback address that speaks WS-Management and the PowerShell Remoting
// Protocol the way a Windows server does, including disconnected sessions.
// Production packages never import it.
//
//	srv := wsmantest.NewServer(wsmantest.Options{Users: map[string]string{"alice": "pw"}})
//	defer srv.Close()
//	srv.HandleScript("Get-Thing", wsmantest.HandlerFunc(func(ctx context.Context, inv *wsmantest.Invocation) error {
//		return inv.WriteOutput(clixml.String("thing"))
//	}))
//	// point a client at srv.URL ("http://127.0.0.1:PORT/wsman")
//
// # What it serves
//
// Every shell action: Create, Command, Send, Receive, Signal, Delete, Get,
// Enumerate and Pull, Disconnect, Reconnect and Connect, for PowerShell
// shells (resource URI http://schemas.microsoft.com/powershell/<name>, one
// per Options.ConfigurationNames) and WinRS cmd shells
// (http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd). Responses
// are built with the wsman package in the shape of the recorded Windows
// responses (TestReplayRecordings replays the client side of 66 recordings
// of real servers and compares); every response echoes the request's
// MessageID in RelatesTo; faults are HTTP 500 with Windows's WSManFault
// codes (Fault and its constructors). A Receive long-polls until output is
// available or the request's OperationTimeout (capped by
// Options.MaxOperationTimeout) passes, then answers the w:TimedOut fault
// 2150858793. Get of http://schemas.microsoft.com/wbem/wsman/1/config returns
// the WinRM configuration, so clients can read MaxEnvelopeSizekb. As on
// Windows, each rsp:Stream of a PowerShell Receive carries one PSRP fragment
// (Options.PackFragments packs several), Owner is MACHINE\user or
// DOMAIN\user, and an Enumerate with no items leaves w:Items out.
//
// The PowerShell side runs on psrp.ServerPool: capability negotiation,
// runspace pool open (APPLICATION_PRIVATE_DATA carries a Windows
// PowerShell 5.1 PSVersionTable), pipelines with all seven streams, input,
// host calls, stop (only PowerShell's exact powershell/signal/crtl_c code:
// any other Signal code closes the command), SET_MAX/MIN_RUNSPACES and the
// session key exchange, command metadata (GET_COMMAND_METADATA answered with
// a count and one CommandMetadata per built-in cmdlet, alias or command
// registered by name that matches the request's filters), and connect from
// a new client (CONNECT_RUNSPACEPOOL answered with SESSION_CAPABILITY and
// RUNSPACEPOOL_INIT_DATA; the next pool Receive gets APPLICATION_PRIVATE_DATA
// when the pool has pipelines, else RUNSPACEPOOL_STATE Opened again, as
// Windows does).
//
// # Disconnected sessions
//
// A shell is Connected to one client session (wsmv:SessionId) or
// Disconnected. While connected to one session, Connect and Reconnect from
// any other session are refused with the busy fault
// (ERROR_WINRS_SHELL_CONNECTED_TO_DIFFERENT_CLIENT); Reconnect is accepted
// only from the session that disconnected the shell (otherwise
// ERROR_WINRS_SHELL_CLIENTSESSIONID_MISMATCH); Connect takes a disconnected
// shell over from a new session. Requests without a SessionId are not
// checked (clients such as masterzen/winrm send none).
//
// Commands keep running while their shell is disconnected and their output
// is buffered, up to Options.OutputBufferSize bytes per command. In
// BufferMode Block (the default) a handler's writes block while the buffer
// is full, connected or not, and resume when a Receive takes output; in
// BufferMode Drop, on a disconnected shell, the oldest whole messages are
// discarded instead. BufferMode and IdleTimeOut can be set at Disconnect
// (and BufferMode at Reconnect). IdleTimeOut is clamped to at least 60 s
// and at most Options.MaxIdleTimeout; when a disconnected shell's idle time
// passes, the shell and its commands are deleted (handlers see their context
// cancelled). A connected shell with no Receive outstanding and no request
// for Options.InactivityWindow turns Disconnected, as Windows does with
// clients that went away; its client can Reconnect.
//
// Robust connections: a request carrying wsmv:OperationID and
// wsmv:SequenceId that repeats an earlier one is answered with the
// remembered response instead of being run again, so a retransmitted
// Receive whose response was lost loses no output (see robust.go).
//
// # Commands
//
// Commands run Go handlers (Handler, Invocation) registered on the Mux by
// command name, exact script text or regular expression. When none
// matches, the built-in script subset (Write-Output, Start-Sleep,
// 1..N | ForEach-Object { ... } and a few more; a convenience, not a
// PowerShell interpreter) gets a chance (a script outside the subset that
// PowerShell would run fails with a NotSupportedException record), and
// anything else fails as PowerShell does: an error record with
// CommandNotFoundException (a non-terminating error inside a script; a
// failed pipeline, with no error record, for a command added with
// AddCommand). A pipeline of several
// statements (AddStatement) runs each statement on its own, in order, with
// its own handler (Invocation.Statements). On cmd shells an unknown program
// writes cmd.exe's "is not recognized" message to stderr and exits with 1.
//
// # Authentication
//
// With Options.Users empty, no authentication is required. Otherwise Basic,
// NTLM (NTLMv2, checked by auth/ntlm, with WinRM message encryption over
// plain HTTP and channel binding over HTTPS) and, on TLS servers, client
// certificates mapped to users by their subject common name
// (Options.CertificateUsers) are accepted; anything else gets 401. Like a
// default Windows server (AllowUnencrypted=false), a plain HTTP server
// refuses Basic and NTLM-authenticated messages without WinRM message
// encryption with 401, so that a client that stopped sealing fails its
// tests; Options.AllowUnencrypted accepts them (and the winrm/config the
// server returns says which). SPNEGO-wrapped tokens (Kerberos) are not
// supported.
//
// # Tests
//
// Tests control time with a ManualClock (every timeout of the server and
// Invocation.Sleep use Options.Clock), inject faults, delays, dropped
// connections and outages per action (Server.Inject, DropConnections,
// RefuseConnections, Outage), inspect shells and buffers (Server.Shell) and
// read the request log (Server.Requests). Close cancels every command and
// long poll and waits for all of the server's goroutines.
//
// # Not modelled, or not verified against Windows
//
// Command metadata has no HelpUri or OutputType, and commands registered by
// name are described as functions without parameters. The envelopes of the busy,
// session-mismatch, disconnected-shell, access-denied, unknown-resource and
// quota faults use Windows's codes (wsmerror constants) but no recording
// holds them. The output buffer size of Windows is not documented;
// the default here is 1 MiB. The inactivity window default (4 minutes) is a
// guess within the 1–4 minutes reported by users. Shell Name is echoed for
// PowerShell shells only. The 401 (empty body) for Basic and for unsealed
// NTLM messages over plain HTTP without AllowUnencrypted follows public
// reports of Windows's answer (hashicorp/packer#6205 for unsealed NTLM,
// masterzen/winrm#75 for Basic; diyan/pywinrm#129 saw a 500 for unsealed
// Kerberos, which the fake server does not offer), not a recording.
package wsmantest
