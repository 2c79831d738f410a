// Package wsmantest provides a fake WinRM server for tests and demos, in the
// spirit of net/http/httptest: NewServer and NewTLSServer start a server on
// a loopback address that speaks WS-Management and the PowerShell Remoting
// Protocol the way a Windows server does, including disconnected sessions.
//
// Commands run Go handlers registered by name, exact script text or pattern
// (Mux, Handler, Invocation); a small built-in script subset serves common
// demo scripts when no handler matches; anything else fails with
// CommandNotFoundException as PowerShell does.
//
// Tests can control time (ManualClock), inject faults, delays and dropped
// connections per action (Server.Inject, Server.Outage), and inspect the
// requests the server received (Server.Requests).
//
// Production code never imports this package.
package wsmantest
