// Package wsman is a WS-Management (MS-WSMV) client for WinRM shells: SOAP
// envelopes, every shell action PowerShell remoting uses (Create, Command,
// Send, Receive, Signal, Delete, Get, Enumerate/Pull, Disconnect, Reconnect,
// Connect), typed faults and an HTTP transport with context cancellation.
//
// PSRP payloads are opaque bytes at this layer.
package wsman
